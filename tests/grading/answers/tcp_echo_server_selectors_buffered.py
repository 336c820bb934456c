"""Right: a selectors event loop that keeps what send() could not write and sends it when
the socket is writable again (the documentation's example, made safe under backpressure)."""

import selectors
import socket

sel = selectors.DefaultSelector()
pending = {}


def accept(server):
    conn, _ = server.accept()
    conn.setblocking(False)
    pending[conn] = bytearray()
    sel.register(conn, selectors.EVENT_READ, serve)


def serve(conn, mask):
    if mask & selectors.EVENT_READ:
        data = conn.recv(65536)
        if not data:
            closing[conn] = True
        pending[conn] += data
    if pending[conn]:
        try:
            sent = conn.send(pending[conn])
            del pending[conn][:sent]
        except BlockingIOError:
            pass
    if closing.get(conn) and not pending[conn]:
        sel.unregister(conn)
        conn.close()
        del pending[conn]
        return
    # Stop reading while the client is behind: wait for room to write instead.
    events = selectors.EVENT_WRITE if pending[conn] else selectors.EVENT_READ
    if closing.get(conn):
        events = selectors.EVENT_WRITE
    sel.modify(conn, events, serve)


closing = {}
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 65432))
server.listen()
server.setblocking(False)
sel.register(server, selectors.EVENT_READ, accept)
while True:
    for key, mask in sel.select():
        if key.fileobj is server:
            accept(server)
        else:
            key.data(key.fileobj, mask)
