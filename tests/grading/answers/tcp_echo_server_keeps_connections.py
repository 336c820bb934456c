"""Wrong: echoes correctly, but keeps every connection in a list and never closes it, so a
client waiting for the server's close waits forever."""

import socket
import threading

connections = []


def handle(conn):
    connections.append(conn)
    while data := conn.recv(4096):
        conn.sendall(data)


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 65432))
server.listen()
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
