#!/usr/bin/env python3
"""slowdns.py LISTEN_PORT UPSTREAM_PORT DELAY_MS -- a UDP DNS relay on
127.0.0.1 that passes every query to 127.0.0.1:UPSTREAM_PORT and sends
the answer back DELAY_MS milliseconds later: an authoritative server made
slow on purpose, for tests/bench/bench_dnsbl.sh. Loopback only."""
import asyncio
import sys


class Relay(asyncio.DatagramProtocol):
    def __init__(self, upstream, delay):
        self.upstream = upstream
        self.delay = delay
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        asyncio.get_running_loop().create_task(self.relay(data, addr))

    async def relay(self, data, addr):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        class Up(asyncio.DatagramProtocol):
            def datagram_received(self, answer, _addr):
                if not fut.done():
                    fut.set_result(answer)

        up, _ = await loop.create_datagram_endpoint(
            Up, remote_addr=("127.0.0.1", self.upstream))
        try:
            up.sendto(data)
            answer = await asyncio.wait_for(fut, 2.0)
            await asyncio.sleep(self.delay)
            self.transport.sendto(answer, addr)
        except asyncio.TimeoutError:
            pass
        finally:
            up.close()


async def main():
    port, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(
        lambda: Relay(upstream, delay / 1000.0), local_addr=("127.0.0.1", port))
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
