"""Right: a graceful client close, reported with logging."""

import logging
import socket

logging.basicConfig(level=logging.INFO)

with socket.create_connection(("127.0.0.1", 65432), timeout=5) as sock:
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(1024):
        pass
logging.info("Connection closed gracefully")
