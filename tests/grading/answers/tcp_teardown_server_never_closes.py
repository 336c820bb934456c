import socket
import time

with socket.socket() as server:
    server.bind(("127.0.0.1", 65432))
    server.listen()
    conn, addr = server.accept()
    print("Connected by", addr)
    time.sleep(3600)
