"""Right: asyncio streams, with drain() for backpressure."""

import asyncio


async def echo(reader, writer):
    while data := await reader.read(4096):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 65432)
    async with server:
        await server.serve_forever()


asyncio.run(main())
