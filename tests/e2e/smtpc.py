#!/usr/bin/env python3
"""smtpc -- a small scriptable SMTP client for the mxgate end-to-end tests.

Connects (optionally from a chosen source address) to one SMTP server,
reads the greeting, then runs a script read from stdin, one statement a
line, and prints everything the server said, verbatim, so that a test can
grep exact codes and texts.

Script statements (TEXT may use escapes: \\r \\n \\t \\\\ \\xNN):
    cmd TEXT      send TEXT CRLF, read its reply (and any pending ones)
    pipe TEXT     send TEXT CRLF now, read its reply later (pipelining)
    raw TEXT      send the bytes of TEXT as they are (no CRLF), no reply
    read [N]      read N replies (default: all pending, at least one)
    data TEXT     send TEXT as a message body (dot-stuffed, CRLF line
                  ends), then CRLF.CRLF, and read the reply
    sleep SECS    pause
    # ...         comment; blank lines are ignored

Output, one line each:
    -> TEXT       what was sent (escaped, long lines shortened)
    <- LINE       a reply line, as received (CR LF removed)
    == closed     the server closed the connection
    == open       the script ended, the connection was still open
    == timeout    no (complete) reply within --timeout seconds
    == error MSG  a socket error (e.g. connection refused)

After a 421 or 221 reply the client waits up to --close-wait seconds for
the server to close. The exit status is 0 when the script ran (whatever
the server replied), 2 on usage errors, 3 when the connection failed.
Python 3 standard library only.
"""

import argparse
import re
import select
import socket
import sys
import time

MAX_SHOW = 300          # sent lines longer than this are shortened in the output
MAX_LINE = 64 * 1024    # a reply line longer than this is a protocol error


class Closed(Exception):
    """The server closed the connection."""


class Timeout(Exception):
    """No complete reply in time."""


def unescape(text):
    """Decode \\r \\n \\t \\\\ and \\xNN in a script argument to bytes."""
    out = bytearray()
    i = 0
    raw = text.encode("latin-1", "replace")
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\" and i + 1 < len(raw):
            n = raw[i + 1:i + 2]
            if n == b"x" and re.match(rb"[0-9A-Fa-f]{2}", raw[i + 2:i + 4]):
                out += bytes([int(raw[i + 2:i + 4], 16)])
                i += 4
                continue
            simple = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}
            if n in simple:
                out += simple[n]
                i += 2
                continue
        out += c
        i += 1
    return bytes(out)


def show(data):
    """Printable form of bytes we sent: escapes, shortened when long."""
    text = data.decode("latin-1")
    text = "".join(ch if 32 <= ord(ch) < 127 else "\\x%02x" % ord(ch)
                   for ch in text)
    if len(text) > MAX_SHOW:
        text = "%s...(%d bytes)" % (text[:MAX_SHOW], len(data))
    return text


class Client:
    """One SMTP connection and its reply reader."""

    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.pending = 0
        self.closed = False
        self.last_code = None

    def _fill(self, deadline):
        """Read more bytes into the buffer, or raise Closed/Timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            raise Timeout()
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed()
        self.buf += chunk

    def line(self, deadline):
        """One reply line, without its CRLF."""
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                break
            self._fill(deadline)
        idx = self.buf.find(b"\n")
        if idx < 0:
            idx = len(self.buf)
        out, self.buf = self.buf[:idx], self.buf[idx + 1:]
        return out.rstrip(b"\r")

    def reply(self):
        """Read one (possibly multi-line) reply and print its lines."""
        deadline = time.monotonic() + self.timeout
        while True:
            ln = self.line(deadline)
            print("<- " + ln.decode("latin-1"), flush=True)
            if len(ln) >= 3 and ln[:3].isdigit():
                self.last_code = ln[:3].decode()
            # a continuation line is "NNN-"; anything else ends the reply
            if not (len(ln) >= 4 and ln[:3].isdigit() and ln[3:4] == b"-"):
                return

    def send(self, data):
        """Send bytes; a broken connection counts as closed."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True
            raise Closed()

    def read_pending(self, at_least=1):
        """Read every reply still owed (at least `at_least`)."""
        n = max(self.pending, at_least)
        for _ in range(n):
            self.reply()
            self.pending = max(0, self.pending - 1)

    def wait_close(self, secs):
        """True when the server closes within secs (data is printed)."""
        deadline = time.monotonic() + secs
        try:
            while True:
                if self.buf:
                    ln = self.line(deadline)
                    print("<- " + ln.decode("latin-1"), flush=True)
                    continue
                self._fill(deadline)
        except Closed:
            return True
        except Timeout:
            return False


def dot_stuff(body):
    """The body with CRLF line ends, dot-stuffed, ending in CRLF.CRLF."""
    lines = body.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n"
                   for ln in lines)
    return out + b".\r\n"


def run_statement(cl, verb, arg):
    """Execute one script statement."""
    if verb == "cmd":
        data = unescape(arg)
        print("-> " + show(data), flush=True)
        cl.send(data + b"\r\n")
        cl.pending += 1
        cl.read_pending()
    elif verb == "pipe":
        data = unescape(arg)
        print("-> " + show(data), flush=True)
        cl.send(data + b"\r\n")
        cl.pending += 1
    elif verb == "raw":
        data = unescape(arg)
        print("-> " + show(data), flush=True)
        cl.send(data)
    elif verb == "read":
        cl.read_pending(int(arg) if arg else 1)
    elif verb == "data":
        data = dot_stuff(unescape(arg))
        print("-> (body, %d bytes)" % len(data), flush=True)
        cl.send(data)
        cl.pending += 1
        cl.read_pending()
    elif verb == "sleep":
        time.sleep(float(arg))
    else:
        raise ValueError("unknown statement: " + verb)


def connect(args):
    """Open the connection (bound to --bind when given)."""
    host, port = args.server
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    if args.bind:
        sock.bind((args.bind, 0))
    sock.connect((host, port))
    sock.settimeout(None)
    return sock


def server_arg(text):
    """Parse HOST:PORT or [V6]:PORT."""
    m = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:\[\]]+):(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError("want HOST:PORT or [V6]:PORT")
    if m.group(1):
        return m.group(1), int(m.group(2))
    return m.group(3), int(m.group(4))


def main():
    """Parse options, connect, run the script from stdin."""
    ap = argparse.ArgumentParser(description="scriptable SMTP client")
    ap.add_argument("server", type=server_arg, help="HOST:PORT or [V6]:PORT")
    ap.add_argument("--bind", help="source address")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds to wait for one reply (default 20)")
    ap.add_argument("--close-wait", type=float, default=3.0,
                    help="seconds to wait for a close after 421/221")
    args = ap.parse_args()
    script = sys.stdin.read().splitlines()

    try:
        sock = connect(args)
    except OSError as e:
        print("== error connect: %s" % e, flush=True)
        return 3
    cl = Client(sock, args.timeout)
    try:
        cl.reply()                      # the greeting
        for stmt in script:
            stmt = stmt.lstrip()
            if not stmt or stmt.startswith("#"):
                continue
            verb, _, arg = stmt.partition(" ")
            run_statement(cl, verb, arg)
        if cl.pending:
            cl.read_pending(0)
        wait = args.close_wait if cl.last_code in ("421", "221") else 0.05
        print("== closed" if cl.wait_close(wait) else "== open", flush=True)
    except Closed:
        print("== closed", flush=True)
    except Timeout:
        print("== timeout", flush=True)
    except OSError as e:
        print("== error %s" % e, flush=True)
    except ValueError as e:
        print("smtpc: %s" % e, file=sys.stderr)
        return 2
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
