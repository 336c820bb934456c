import socket

try:
    with socket.create_connection(("127.0.0.1", 65432), timeout=30) as sock:
        sock.sendall(b"Hello, server")
        print("Received from server:", sock.recv(1024).decode())
except TimeoutError:
    print("Socket timed out")
except OSError as exc:
    print("Error occurred:", exc)
