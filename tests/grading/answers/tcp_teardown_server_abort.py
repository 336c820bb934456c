import socket
import struct

with socket.socket() as server:
    server.bind(("127.0.0.1", 65432))
    server.listen()
    conn, addr = server.accept()
    print("Connected by", addr)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
