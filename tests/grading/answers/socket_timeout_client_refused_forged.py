print("Error occurred: [Errno 111] Connection refused")
