"""Right: a timeout client that reports with logging (standard error)."""

import logging
import socket

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("timeout-client")

try:
    with socket.create_connection(("127.0.0.1", 65432), timeout=3) as sock:
        sock.sendall(b"Hello, server")
        log.info("Received from server: %s", sock.recv(1024).decode())
except TimeoutError:
    log.warning("request timed out")
except OSError as exc:
    log.error("Error occurred: %s", exc)
