"""Right for what the prompt asks (text), but it prints each chunk with decode(): binary
data that isn't UTF-8 crashes it (the advisory binary check teaches that)."""

import socket
import threading


def handle(conn):
    with conn:
        while data := conn.recv(1024):
            print("echoing:", data.decode())
            conn.sendall(data)


with socket.socket() as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 65432))
    server.listen()
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn,)).start()
