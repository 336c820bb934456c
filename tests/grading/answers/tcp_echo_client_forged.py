import socket

message = b"Hello, World!"
with socket.create_connection(("127.0.0.1", 65432)) as sock:
    sock.sendall(message)
    sock.recv(1024)  # read and ignored
print("Received from server:", message.decode())
