"""Right: an asyncio DatagramProtocol."""

import asyncio


class Ack(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        print(f"Received {data!r} from {addr}")
        self.transport.sendto(b"ACK: " + data, addr)


async def main():
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Ack, local_addr=("127.0.0.1", 65432))
    await asyncio.Event().wait()


asyncio.run(main())
