#!/usr/bin/env python3
"""syslogd -- the e2e harness's syslog listener (see lib.sh, h_syslog).

    syslogd.py SOCKET LOGFILE

Binds an AF_UNIX datagram socket at SOCKET (mode 0666: mxgate writes to
it after dropping to nobody) and appends every datagram to LOGFILE as one
line, exactly as received ("<PRI>TIMESTAMP IDENT[PID]: TEXT"), flushed at
once so that a test can grep it. Runs until killed. Python 3 standard
library only.
"""

import os
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: syslogd.py SOCKET LOGFILE\n")
        return 2
    path, logfile = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(logfile, "ab", buffering=0) as out:
        while True:
            data = s.recv(65536)
            out.write(data.replace(b"\n", b" ").rstrip(b"\0") + b"\n")


if __name__ == "__main__":
    sys.exit(main())
