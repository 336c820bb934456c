import socket

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("127.0.0.1", 65432))
    first = None
    while True:
        data, address = sock.recvfrom(1024)
        first = first or address  # answers everyone at the first sender's address
        sock.sendto(b"ACK: " + data, first)
