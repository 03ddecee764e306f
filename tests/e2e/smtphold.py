#!/usr/bin/env python3
"""smtphold -- one SMTP session that stays open until the test releases
it (mxgate end-to-end tests: connections held open).

    smtphold.py HOST:PORT SOURCE RCPT RELEASEFILE [--max-seconds S]

Connects from SOURCE, sends EHLO, MAIL FROM and RCPT TO:<RCPT>, prints
"== held" and waits until RELEASEFILE exists (at most S seconds, default
120); then sends one message (DATA) and QUIT. Output in the form of
smtpc.py, flushed line by line so a test can wait for it:

    -> TEXT     a command sent
    <- LINE     a reply line
    == held     the session is open, the message not yet sent
    == closed   the server closed the connection
    == timeout  no release within S seconds (the message is not sent)
    == error M  a socket error

A reply other than 2xx/3xx ends the script (after QUIT). Exit status 0
when the session ran, 3 when the connection failed, 2 on usage errors.
Python 3 standard library only.
"""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
import smtpline  # noqa: E402 (after the line above)


class Session:
    """One SMTP connection that prints what it sends and receives."""

    def __init__(self, host, port, source):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.lines = smtpline.Reader(self.sock)

    def reply(self):
        """Read and print one (possibly multi-line) reply; its code."""
        return self.lines.reply(lambda t: print("<- " + t, flush=True))[0]

    def cmd(self, text):
        """Send one command, print it and its reply; the reply code."""
        print("-> " + text, flush=True)
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()


def released(path, deadline):
    """Wait for path to exist; False when the deadline passes first."""
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def run(s, rcpt, release, max_seconds):
    """The session's script."""
    if s.reply() != "220":
        return
    for command in ("EHLO hold.client.test", "MAIL FROM:<hold@client.test>",
                    "RCPT TO:<%s>" % rcpt):
        if s.cmd(command)[0] != "2":
            s.cmd("QUIT")
            return
    print("== held", flush=True)
    if not released(release, time.monotonic() + max_seconds):
        print("== timeout", flush=True)
        return
    if s.cmd("DATA") != "354":
        s.cmd("QUIT")
        return
    print("-> (body)", flush=True)
    s.sock.sendall(b"Subject: held\r\nFrom: <hold@client.test>\r\n\r\n"
                   b"held open\r\n.\r\n")
    s.reply()
    s.cmd("QUIT")


def main():
    """Parse arguments, run the session."""
    args = sys.argv[1:]
    max_seconds = 120.0
    if len(args) == 6 and args[4] == "--max-seconds":
        max_seconds = float(args[5])
        args = args[:4]
    if len(args) != 4 or ":" not in args[0]:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    host, port = args[0].rsplit(":", 1)
    host = host.strip("[]")
    try:
        s = Session(host, int(port), args[1])
    except OSError as e:
        print("== error connect: %s" % e, flush=True)
        return 3
    try:
        run(s, args[2], args[3], max_seconds)
    except smtpline.Closed:
        print("== closed", flush=True)
    except OSError as e:
        print("== error %s" % e, flush=True)
    finally:
        s.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
