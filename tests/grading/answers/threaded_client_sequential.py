import socket

with socket.create_connection(("127.0.0.1", 65432)) as sock:
    print("Connected to the server.")
    while True:
        line = input("Enter message to send: ")
        sock.sendall(line.encode())
        data = sock.recv(1024)
        if not data:
            break
        print("Received from server:", data.decode())
