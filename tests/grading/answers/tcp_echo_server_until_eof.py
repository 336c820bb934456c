"""Wrong: reads until the client's EOF, then echoes everything at once. A client that
waits for each echo before it sends more (a person at a terminal) hangs against it."""

import socket

with socket.socket() as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 65432))
    server.listen()
    while True:
        conn, _ = server.accept()
        with conn:
            received = b""
            while chunk := conn.recv(4096):
                received += chunk
            conn.sendall(received)
