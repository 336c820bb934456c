"""Right: socketserver handles one connection, closes it gracefully and exits."""

import socket
import socketserver


class Closer(socketserver.BaseRequestHandler):
    def handle(self):
        print("peer:", self.client_address, flush=True)
        self.request.shutdown(socket.SHUT_WR)  # our FIN
        while self.request.recv(1024):  # until the client's FIN
            pass


socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", 65432), Closer) as server:
    server.handle_request()
