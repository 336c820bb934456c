print("Received from server: Hello, World!")
