print("Connected to the server.")
for n in (1, 2, 3):
    print(f"Received from server: tick {n}")
