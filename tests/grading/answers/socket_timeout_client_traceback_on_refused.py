import socket

sock = socket.socket()
sock.settimeout(3)
try:
    sock.connect(("127.0.0.1", 65432))
    sock.sendall(b"Hello, server")
    print("Received from server:", sock.recv(1024).decode())
except TimeoutError:
    print("Socket timed out")
finally:
    sock.close()
