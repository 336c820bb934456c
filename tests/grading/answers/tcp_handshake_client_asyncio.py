"""Right: an asyncio client that says when it connects and when it is connected."""

import asyncio


async def main():
    print("Connecting to localhost:65432 ...")
    reader, writer = await asyncio.open_connection("localhost", 65432)
    print("Connected.")
    message = b"Hello, TCP server"
    writer.write(message)
    await writer.drain()
    reply = await reader.readexactly(len(message))
    print(f"Received: {reply.decode()}")
    writer.close()
    await writer.wait_closed()


asyncio.run(main())
