"""Right: socketserver's UDP server."""

import socketserver


class AckHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        print(f"Received from {self.client_address}: {data!r}", flush=True)
        sock.sendto(b"ACK: " + data, self.client_address)


with socketserver.UDPServer(("127.0.0.1", 65432), AckHandler) as server:
    server.serve_forever()
