"""Right, advice included: a connected UDP socket with a timeout, handling a refused port."""

import socket

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(2)
    sock.connect(("127.0.0.1", 65432))
    sock.send(b"Hello, UDP server")
    try:
        print("Received response from server:", sock.recv(65535).decode())
    except TimeoutError:
        print("No reply within 2 s: the datagram or its answer was lost.")
    except ConnectionRefusedError:
        print("No server is running on 127.0.0.1:65432.")
