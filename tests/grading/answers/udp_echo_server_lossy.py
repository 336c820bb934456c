"""Wrong: drops about a third of the datagrams (a bug that only shows now and then)."""

import random
import socket

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("127.0.0.1", 65432))
    while True:
        data, address = sock.recvfrom(65535)
        if random.random() < 0.36:
            continue
        sock.sendto(b"ACK: " + data, address)
