"""Right: an asyncio streams client."""

import asyncio


async def main():
    reader, writer = await asyncio.open_connection("127.0.0.1", 65432)
    message = b"Hello, World!"
    writer.write(message)
    await writer.drain()
    reply = await reader.readexactly(len(message))
    print(f"Received from server: {reply.decode()}")
    writer.close()
    await writer.wait_closed()


asyncio.run(main())
