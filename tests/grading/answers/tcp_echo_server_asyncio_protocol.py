"""Right: an asyncio Protocol; the transport buffers what the client has not read yet."""

import asyncio


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False  # close the transport once everything is written


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", 65432)
    async with server:
        await server.serve_forever()


asyncio.run(main())
