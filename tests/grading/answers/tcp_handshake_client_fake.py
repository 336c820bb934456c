print("Initiating a connection to the server...")
print("Connection established.")
print("Received: Hello, TCP server")
