"""Right: the socketserver module's echo server (threaded, one handler per connection)."""

import socketserver


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(4096):
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", 65432), EchoHandler) as server:
        server.serve_forever()
