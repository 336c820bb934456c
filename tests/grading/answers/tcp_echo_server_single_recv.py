import socket

with socket.socket() as server:
    server.bind(("127.0.0.1", 65432))
    server.listen()
    conn, _ = server.accept()
    with conn:
        conn.sendall(conn.recv(1024))
