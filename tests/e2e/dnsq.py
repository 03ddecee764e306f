#!/usr/bin/env python3
"""dnsq.py SERVER PORT NAME TYPE -- ask one DNS question over UDP and
print the answer's rcode and answer count; exit 0 on NOERROR with at least
one answer, 1 otherwise (timeout 1 s). The e2e harness uses it to wait
until its authoritative server is up; it asks only the given server."""
import random
import socket
import struct
import sys

TYPES = {"A": 1, "NS": 2, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}


def query(name, qtype):
    qid = random.randrange(65536)
    head = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split("."))
    return qid, head + q + b"\0" + struct.pack(">HH", TYPES[qtype], 1)


def main():
    server, port, name, qtype = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    qid, pkt = query(name, qtype)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(pkt, (server, port))
    try:
        data = s.recv(4096)
    except socket.timeout:
        print("timeout")
        return 1
    rid, flags, _qd, an = struct.unpack(">HHHH", data[:8])
    if rid != qid:
        print("wrong id")
        return 1
    print("rcode %d answers %d" % (flags & 15, an))
    return 0 if flags & 15 == 0 and an > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
