#!/usr/bin/env python3
"""faultdns.py PORT UPSTREAM_PORT CONTROL_FILE -- a DNS relay with faults
on demand, for the soak tests (tests/e2e/t_soak.sh, tests/bench/soak.sh).

Listens on 127.0.0.1:PORT (UDP and TCP) and passes every query to the
authoritative server on 127.0.0.1:UPSTREAM_PORT, unless CONTROL_FILE says
otherwise. CONTROL_FILE holds one line, re-read whenever it changes:

    normal              relay everything (also: no file, or an empty one)
    blackhole [ZONE]    read queries and never answer them
    servfail [ZONE]     answer SERVFAIL at once, ask nobody

With ZONE, the fault hits only names at or under ZONE; the others are
relayed. Write the file atomically (write a temporary file, rename it).

On SIGTERM it writes one line to stderr: how many queries it relayed,
dropped and answered with SERVFAIL. Loopback only; standard library only.
"""
import asyncio
import os
import signal
import struct
import sys

UPSTREAM_WAIT = 3.0     # seconds to wait for the upstream's answer


class Control:
    """The fault mode, from CONTROL_FILE (re-read when its mtime changes)."""

    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.mode = "normal"
        self.zone = b""
        self.counts = {"relayed": 0, "dropped": 0, "servfail": 0}

    def refresh(self):
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self.stamp:
            return
        self.stamp = stamp
        words = []
        if stamp is not None:
            with open(self.path, encoding="ascii") as f:
                words = f.read().split()
        self.mode = words[0] if words else "normal"
        self.zone = words[1].strip(".").lower().encode() if len(words) > 1 else b""

    def action(self, query):
        """'relay', 'drop' or 'servfail' for this query (counted)."""
        self.refresh()
        act = "relay"
        if self.mode != "normal" and in_zone(qname(query), self.zone):
            act = "drop" if self.mode == "blackhole" else "servfail"
        self.counts[{"relay": "relayed", "drop": "dropped",
                     "servfail": "servfail"}[act]] += 1
        return act


def qname(msg):
    """The question's name, lower case, without the final dot (b'' if bad)."""
    labels, i = [], 12
    while i < len(msg):
        n = msg[i]
        if n == 0:
            return b".".join(labels).lower()
        if n > 63 or i + 1 + n > len(msg):
            return b""
        labels.append(msg[i + 1:i + 1 + n])
        i += 1 + n
    return b""


def in_zone(name, zone):
    """NAME is ZONE or below it; every name is in the empty zone."""
    return not zone or name == zone or name.endswith(b"." + zone)


def servfail(query):
    """A SERVFAIL answer to QUERY: its id and question, no records."""
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", query[:6])
    end = 12
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    end += 5            # the root label, type and class
    if qd != 1 or end > len(query):
        return None
    flags = 0x8000 | (flags & 0x0100) | 0x0080 | 2     # QR, RD copied, RA, SERVFAIL
    return struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 0) + query[12:end]


async def ask_udp(query, upstream):
    """The upstream's UDP answer to QUERY, or None after UPSTREAM_WAIT."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    class Up(asyncio.DatagramProtocol):
        def datagram_received(self, data, _addr):
            if not fut.done():
                fut.set_result(data)

    tr, _ = await loop.create_datagram_endpoint(
        Up, remote_addr=("127.0.0.1", upstream))
    try:
        tr.sendto(query)
        return await asyncio.wait_for(fut, UPSTREAM_WAIT)
    except asyncio.TimeoutError:
        return None
    finally:
        tr.close()


async def ask_tcp(query, upstream):
    """The upstream's TCP answer to QUERY, or None."""
    try:
        r, w = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", upstream), UPSTREAM_WAIT)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        w.write(struct.pack(">H", len(query)) + query)
        n = struct.unpack(">H", await asyncio.wait_for(
            r.readexactly(2), UPSTREAM_WAIT))[0]
        return await asyncio.wait_for(r.readexactly(n), UPSTREAM_WAIT)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        return None
    finally:
        w.close()


class Udp(asyncio.DatagramProtocol):
    """The UDP listener."""

    def __init__(self, ctl, upstream):
        self.ctl = ctl
        self.upstream = upstream
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        act = self.ctl.action(data)
        if act == "servfail":
            ans = servfail(data)
            if ans:
                self.transport.sendto(ans, addr)
        elif act == "relay":
            asyncio.get_running_loop().create_task(self.relay(data, addr))

    async def relay(self, data, addr):
        ans = await ask_udp(data, self.upstream)
        if ans is not None:
            self.transport.sendto(ans, addr)


def tcp_handler(ctl, upstream):
    """The TCP listener's per-connection coroutine."""
    async def serve(r, w):
        try:
            while True:
                n = struct.unpack(">H", await r.readexactly(2))[0]
                query = await r.readexactly(n)
                act = ctl.action(query)
                if act == "drop":
                    continue
                ans = servfail(query) if act == "servfail" else \
                    await ask_tcp(query, upstream)
                if ans is not None:
                    w.write(struct.pack(">H", len(ans)) + ans)
                    await w.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            w.close()
    return serve


async def main():
    port, upstream, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ctl = Control(path)
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(
        lambda: Udp(ctl, upstream), local_addr=("127.0.0.1", port))
    server = await asyncio.start_server(tcp_handler(ctl, upstream),
                                        "127.0.0.1", port)
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGINT, done.set)
    await done.wait()
    server.close()
    c = ctl.counts
    print(f"faultdns {port}: relayed {c['relayed']}, dropped {c['dropped']},"
          f" servfail {c['servfail']}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
