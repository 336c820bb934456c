"""Right: reports through logging (standard error) instead of print."""

import logging
import socket

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
log = logging.getLogger("client")

with socket.create_connection(("127.0.0.1", 65432)) as sock:
    sock.sendall(b"Hello, World!")
    reply = b""
    while len(reply) < len(b"Hello, World!"):
        chunk = sock.recv(1024)
        if not chunk:
            break
        reply += chunk
    log.info("Received from server: %s", reply.decode())
