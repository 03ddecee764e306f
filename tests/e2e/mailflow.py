#!/usr/bin/env python3
"""mailflow -- keep mail flowing through one SMTP server over several
concurrent sessions until told to stop (mxgate end-to-end tests).

    mailflow.py HOST:PORT STOPFILE OUT [--workers N] [--max-seconds S]

Each worker binds its own source address (203.0.113.150 + worker number),
opens a session, sends 1 to 5 messages (EHLO once, then MAIL, RCPT, DATA
per message; each to its own recipient flow-W-N@rcpt.test) and QUITs,
then opens the next session -- until STOPFILE exists or S seconds have
passed. Every message gets one line in OUT:

    OK QID RCPT                 the server answered 250 ... queued as QID
    ERR RCPT STAGE REPLY        any other reply (or a broken session)

The last line is "DONE messages=N ok=N err=N sessions=N". Exit status 0
(whatever the server answered), 2 on usage errors. Run it inside the
test's network namespace. Python 3 standard library only.
"""

import random
import re
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
import smtpline  # noqa: E402 (after the line above)

TIMEOUT = 60.0          # seconds for one reply


class Session:
    """One SMTP connection with a line reader."""

    def __init__(self, host, port, source):
        self.sock = socket.create_connection((host, port), TIMEOUT,
                                             source_address=(source, 0))
        self.lines = smtpline.Reader(self.sock)

    def reply(self):
        """One (possibly multi-line) reply: (code, last line as text)."""
        return self.lines.reply()

    def cmd(self, text):
        """Send one command; its reply."""
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()

    def close(self):
        """QUIT politely, then close."""
        try:
            self.cmd("QUIT")
        except OSError:
            pass
        self.sock.close()


class Flow:
    """Shared state: counters and the output file."""

    def __init__(self, out, stopfile, deadline):
        self.lock = threading.Lock()
        self.out = out
        self.stopfile = stopfile
        self.deadline = deadline
        self.ok = self.err = self.sessions = 0

    def stopping(self):
        """True when the test asked to stop (or time is up)."""
        if time.monotonic() > self.deadline:
            return True
        try:
            with open(self.stopfile):
                return True
        except OSError:
            return False

    def record(self, line, ok):
        """Write one result line."""
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()
            if ok:
                self.ok += 1
            else:
                self.err += 1


def send_one(s, rcpt):
    """One message on an open session: ("OK", qid) or (stage, reply)."""
    for stage, command in (("MAIL", "MAIL FROM:<flow@client.test>"),
                           ("RCPT", "RCPT TO:<%s>" % rcpt)):
        code, text = s.cmd(command)
        if code != "250":
            return stage, text
    code, text = s.cmd("DATA")
    if code != "354":
        return "DATA", text
    body = ("Subject: flow %s\r\nFrom: <flow@client.test>\r\n\r\n"
            "signal storm flow\r\n.\r\n" % rcpt)
    s.sock.sendall(body.encode())
    code, text = s.reply()
    m = re.search(r"queued as ([0-9A-Za-z]+)", text)
    if code != "250" or not m:
        return "EOM", text
    return "OK", m.group(1)


def worker(flow, host, port, wid):
    """Sessions of 1..5 messages until the flow stops."""
    rng = random.Random(wid)
    source = "203.0.113.%d" % (150 + wid)
    n = 0
    while not flow.stopping():
        stage, s = "CONNECT", None
        try:
            s = Session(host, port, source)
            with flow.lock:
                flow.sessions += 1
            code, text = s.reply()
            if code != "220":
                flow.record("ERR - CONNECT %s" % text, False)
                continue
            stage = "EHLO"
            code, text = s.cmd("EHLO flow%d.client.test" % wid)
            if code != "250":
                flow.record("ERR - EHLO %s" % text, False)
                continue
            for _ in range(rng.randint(1, 5)):
                n += 1
                rcpt = "flow-%d-%d@rcpt.test" % (wid, n)
                stage = "MAIL"
                what, detail = send_one(s, rcpt)
                if what == "OK":
                    flow.record("OK %s %s" % (detail, rcpt), True)
                else:
                    flow.record("ERR %s %s %s" % (rcpt, what, detail), False)
                    break
                if flow.stopping():
                    break
        except OSError as e:
            flow.record("ERR - %s %s" % (stage, e), False)
        finally:
            if s is not None:
                s.close()


def main():
    """Parse arguments, run the workers, write the summary."""
    args = sys.argv[1:]
    workers, max_seconds = 4, 120.0
    pos = []
    while args:
        a = args.pop(0)
        if a == "--workers" and args:
            workers = int(args.pop(0))
        elif a == "--max-seconds" and args:
            max_seconds = float(args.pop(0))
        else:
            pos.append(a)
    if len(pos) != 3 or ":" not in pos[0]:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    host, port = pos[0].rsplit(":", 1)
    with open(pos[2], "w") as out:
        flow = Flow(out, pos[1], time.monotonic() + max_seconds)
        threads = [threading.Thread(target=worker,
                                    args=(flow, host, int(port), w))
                   for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out.write("DONE messages=%d ok=%d err=%d sessions=%d\n" %
                  (flow.ok + flow.err, flow.ok, flow.err, flow.sessions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
