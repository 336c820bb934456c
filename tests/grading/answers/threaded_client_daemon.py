"""Right, advice included: stdin is read by a daemon thread; the program ends when the
server closes, and stops sending cleanly at end of input."""

import socket
import sys
import threading

sock = socket.create_connection(("127.0.0.1", 65432))
print("Connected to the server.", flush=True)


def send_lines():
    for line in sys.stdin:
        sock.sendall(line.rstrip("\n").encode())
    sock.shutdown(socket.SHUT_WR)


threading.Thread(target=send_lines, daemon=True).start()
while data := sock.recv(4096):
    print(f"Received from server: {data.decode()}", flush=True)
print("Server closed the connection.")
