#!/usr/bin/python3
"""soakc.py -- the soak tests' SMTP load client: many messages over
several concurrent sessions, and for every message the outcome the client
saw (tests/e2e/t_soak.sh, tests/bench/soak.sh).

  soakc.py templates OUT.json KEYFILE SELECTOR
      the message variants (JSON): DKIM-signed with dkimpy (KEYFILE, an
      RSA key of sender.example published under SELECTOR), unsigned,
      with a broken signature, a spoofed sender (SPF fail), a sender under
      a tight rate limit, a DMARC failure, a big signed message. The
      signatures do not cover Message-ID, so each message gets its own.

  soakc.py send --server HOST:PORT --count N --templates T.json --out OUT.tsv
                [--sessions S] [--per-conn M] [--sources LIST] [--tag TAG]
                [--slow-every K] [--timeout SECS] [--progress FILE]
                [--rate R]
      sends N messages over S concurrent sessions (default 10), at most M
      messages a connection (default 20; after M, QUIT and a new one).
      Connection c binds source address c mod len(LIST) of LIST
      ("203.0.113.10-59,203.0.113.66"). Message i has Message-ID
      <TAG-i@soak.test> and the one recipient TAG-i@rcpt.test; its variant
      follows a fixed weighted pattern. Every K-th message's body is sent
      slowly (about 1.6 s), so that it is in DATA for a while.
      --progress FILE gets "DONE SLOW" every 0.5 s and whenever a slow
      message enters or leaves DATA: messages finished so far, slow
      messages in DATA now.
      With --rate, message i starts no earlier than i/R seconds after the
      start (R messages a second at most, whatever the replies).
      Each message is tried once: OUT.tsv gets one line per message,
          id variant source stage code class qid t_data t_end text
      where class is accepted (a 2xx to the end of DATA, qid = the queue
      id), tempfail (a 4xx the client saw, at stage connect, ehlo, mail,
      rcpt, data or eom), permfail (a 5xx) or noreply (the connection
      closed or timed out before the message's final reply: code "-").
      t_data and t_end: when DATA was sent (0 if never) and when the final
      reply came (seconds since the epoch). Prints a summary at the end.

Python 3 standard library (and dkimpy for `templates`); runs inside the
test's network namespace.
"""
import argparse
import asyncio
import ipaddress
import json
import os
import sys
import time

# (variant, weight) -- the pattern repeats every sum(weights) messages
PATTERN = [("signed", 40), ("plain", 24), ("badsig", 10), ("big", 2),
           ("spoof", 6), ("tight", 8), ("dmarcfail", 10)]


# ------------------------------------------------------------ templates

def body_lines(n, width=64):
    """N body lines of WIDTH octets, a few starting with a dot."""
    out = []
    for i in range(n):
        line = f"line {i:05d} of a soak test message "
        line = (line * (width // len(line) + 1))[:width]
        if i % 50 == 7:
            line = "." + line[1:]
        out.append(line)
    return "\n".join(out) + "\n"


def make_templates(out, keyfile, selector):
    """Write the message variants to OUT (JSON)."""
    import dkim
    with open(keyfile, "rb") as f:
        key = f.read().strip()
    date = "Date: Mon, 23 Nov 2026 10:00:00 +0000\n"

    def msg(frm, subject, body):
        return (f"From: {frm}\nTo: <soak@rcpt.test>\nSubject: {subject}\n"
                f"{date}\n{body}").replace("\n", "\r\n").encode()

    def sign(raw):
        return dkim.sign(raw, selector.encode(), b"sender.example", key,
                         canonicalize=(b"relaxed", b"relaxed"),
                         include_headers=[b"from", b"to", b"subject", b"date"]
                         ).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + raw

    signed = sign(msg("News <news@sender.example>", "signed", body_lines(40)))
    badsig = sign(msg("News <news@sender.example>", "badsig", body_lines(20)))
    badsig = badsig.replace(b"line 00003", b"line 0000X")
    variants = {
        "signed": ("bounce@sender.example", signed),
        "plain": ("ann@sender.example",
                  msg("Ann <ann@sender.example>", "plain", body_lines(15))),
        "badsig": ("bounce@sender.example", badsig),
        "big": ("bounce@sender.example",
                sign(msg("News <news@sender.example>", "big", body_lines(1600)))),
        "spoof": ("ceo@strict.example",
                  msg("CEO <ceo@strict.example>", "spoof", body_lines(10))),
        "tight": ("x@tight.example",
                  msg("X <x@tight.example>", "tight", body_lines(10))),
        "dmarcfail": ("bounce@other.example",
                      msg("Boss <boss@sender.example>", "dmarcfail",
                          body_lines(10))),
    }
    data = {}
    for name, (mail_from, raw) in variants.items():
        # dot-stuffed once here; each message only gets a Message-ID in front
        lines = raw.split(b"\r\n")
        if lines and lines[-1] == b"":
            lines.pop()
        stuffed = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n"
                           for ln in lines)
        data[name] = {"mail_from": mail_from, "data": stuffed.decode("latin-1")}
    with open(out, "w", encoding="ascii") as f:
        json.dump(data, f)


# ------------------------------------------------------------ sending

class Lost(Exception):
    """The connection closed or timed out: no (complete) reply."""


def expand_sources(text):
    """'203.0.113.10-59,203.0.113.66' -> the list of addresses."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            first, last = part.split("-", 1)
            a = ipaddress.ip_address(first)
            head = first.rsplit(".", 1)[0]
            for n in range(int(str(a).rsplit(".", 1)[1]), int(last) + 1):
                out.append(f"{head}.{n}")
        else:
            out.append(part)
    return out


class Conn:
    """One SMTP connection: commands and their replies."""

    def __init__(self, reader, writer, timeout):
        self.r, self.w, self.timeout = reader, writer, timeout

    async def reply(self):
        """(code, text) of the next reply, where text is its first line
        (and " ... " and its last line, if it has several); Lost on EOF or
        timeout."""
        first = text = None
        while True:
            try:
                line = await asyncio.wait_for(self.r.readline(), self.timeout)
            except (asyncio.TimeoutError, OSError, ValueError) as e:
                raise Lost(type(e).__name__) from e
            if not line.endswith(b"\n"):
                raise Lost("closed")
            text = line.rstrip(b"\r\n").decode("latin-1")
            if first is None:
                first = text
            if len(text) < 4 or text[3] != "-":
                break
        code = first[:3]
        if not (code.isdigit() and len(code) == 3):
            raise Lost("bad reply " + first[:40])
        if text is not first:
            return code, first[:150] + " ... " + text[-140:]
        return code, first

    async def cmd(self, text):
        """Send TEXT, return its reply."""
        try:
            self.w.write(text.encode() + b"\r\n")
            await self.w.drain()
        except OSError as e:
            raise Lost(type(e).__name__) from e
        return await self.reply()

    async def send_data(self, payload, slow):
        """The message and the final dot (slowly: in 16 pieces)."""
        try:
            if slow:
                step = len(payload) // 16 + 1
                for i in range(0, len(payload), step):
                    self.w.write(payload[i:i + step])
                    await self.w.drain()
                    await asyncio.sleep(0.1)
                self.w.write(b".\r\n")
            else:
                self.w.write(payload + b".\r\n")
            await self.w.drain()
        except OSError as e:
            raise Lost(type(e).__name__) from e

    def close(self):
        try:
            self.w.close()
        except OSError:
            pass


class Soak:
    """The shared state of all sessions: next message, results."""

    def __init__(self, a, templates):
        self.a = a
        self.templates = templates
        self.next = 0
        self.conns = 0
        self.sources = expand_sources(a.sources)
        self.pattern = [v for v, w in PATTERN for _ in range(w)]
        host, port = a.server.rsplit(":", 1)
        self.host, self.port = host.strip("[]"), int(port)
        self.out = open(a.out, "w", encoding="ascii")
        self.counts = {}
        self.done = 0
        self.slow_in_data = 0
        self.t0 = time.time()

    def take(self):
        """The index of the next message to send, or None."""
        if self.next >= self.a.count:
            return None
        self.next += 1
        return self.next - 1

    def record(self, i, src, stage, code, qid, t_data, text):
        """One result line."""
        cls = {"2": "accepted", "4": "tempfail", "5": "permfail"}.get(
            code[:1], "noreply")
        variant = self.pattern[i % len(self.pattern)]
        text = "".join(c if " " <= c <= "~" else "?" for c in text)[:300]
        self.out.write(f"{self.a.tag}-{i}\t{variant}\t{src}\t{stage}\t{code}\t"
                       f"{cls}\t{qid or '-'}\t{t_data:.3f}\t{time.time():.3f}\t"
                       f"{text}\n")
        self.counts[cls] = self.counts.get(cls, 0) + 1
        self.done += 1

    async def connect(self):
        """A new connection past EHLO: (Conn, source, None), or
        (None, source, (stage, code, text)) when it was refused."""
        src = self.sources[self.conns % len(self.sources)]
        self.conns += 1
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                self.host, self.port, local_addr=(src, 0),
                limit=1 << 20), self.a.timeout)
        except (OSError, asyncio.TimeoutError) as e:
            return None, src, ("connect", "-", "connect: " + str(e))
        c = Conn(r, w, self.a.timeout)
        try:
            code, text = await c.reply()
            if code[0] != "2":
                c.close()
                return None, src, ("connect", code, text)
            code, text = await c.cmd("EHLO client.soak.test")
            if code[0] != "2":
                c.close()
                return None, src, ("ehlo", code, text)
        except Lost as e:
            c.close()
            return None, src, ("connect", "-", str(e))
        return c, src, None

    async def message(self, c, i):
        """Send message I on C: (stage, code, text, qid, t_data, keep)."""
        variant = self.pattern[i % len(self.pattern)]
        t = self.templates[variant]
        mid = f"{self.a.tag}-{i}"
        t_data = 0.0
        stage = "mail"
        try:
            code, text = await c.cmd(f"MAIL FROM:<{t['mail_from']}>")
            if code[0] == "2":
                stage = "rcpt"
                code, text = await c.cmd(f"RCPT TO:<{mid}@rcpt.test>")
            if code[0] == "2":
                stage = "data"
                t_data = time.time()
                code, text = await c.cmd("DATA")
            if code == "354":
                stage = "eom"
                payload = f"Message-ID: <{mid}@soak.test>\r\n".encode() + t["data"]
                slow = self.a.slow_every > 0 and i % self.a.slow_every == 0
                self.slow_in_data += slow
                try:
                    if slow and self.a.progress:
                        self.write_progress()
                    await c.send_data(payload, slow)
                    code, text = await c.reply()
                finally:
                    self.slow_in_data -= slow
                    if slow and self.a.progress:
                        self.write_progress()
        except Lost as e:
            return stage, "-", str(e), None, t_data, False
        qid = None
        if stage == "eom" and code[0] == "2":
            words = text.split()
            qid = words[-1] if "queued" in text else None
        keep = code != "421"
        if keep and stage != "eom":
            try:
                rcode, _ = await c.cmd("RSET")
                keep = rcode[0] == "2"
            except Lost:
                keep = False
        return stage, code, text, qid, t_data, keep

    async def session(self):
        """Send messages until none are left."""
        c, src, n = None, None, 0
        while True:
            i = self.take()
            if i is None:
                break
            if self.a.rate > 0:
                delay = self.t0 + i / self.a.rate - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            if c is None:
                c, src, refused = await self.connect()
                n = 0
                if refused:
                    self.record(i, src, refused[0], refused[1], None, 0.0,
                                refused[2])
                    await asyncio.sleep(0.05)
                    continue
            stage, code, text, qid, t_data, keep = await self.message(c, i)
            self.record(i, src, stage, code, qid, t_data, text)
            n += 1
            if not keep or n >= self.a.per_conn:
                if keep:
                    try:
                        await c.cmd("QUIT")
                    except Lost:
                        pass
                c.close()
                c = None
        if c is not None:
            try:
                await c.cmd("QUIT")
            except Lost:
                pass
            c.close()

    async def progress(self):
        """Every 0.5 s: messages done so far, into --progress."""
        while True:
            self.write_progress()
            await asyncio.sleep(0.5)

    def write_progress(self):
        """Messages done so far and slow ones in DATA now, into
        --progress (replaced atomically)."""
        with open(self.a.progress + ".tmp", "w", encoding="ascii") as f:
            f.write(f"{self.done} {self.slow_in_data}\n")
        os.replace(self.a.progress + ".tmp", self.a.progress)


async def run(a):
    with open(a.templates, encoding="ascii") as f:
        templates = {k: {"mail_from": v["mail_from"],
                         "data": v["data"].encode("latin-1")}
                     for k, v in json.load(f).items()}
    s = Soak(a, templates)
    t0 = time.time()
    prog = asyncio.create_task(s.progress()) if a.progress else None
    await asyncio.gather(*(s.session() for _ in range(a.sessions)))
    if prog:
        prog.cancel()
        s.write_progress()
    s.out.close()
    dt = time.time() - t0
    summary = ", ".join(f"{k} {v}" for k, v in sorted(s.counts.items()))
    print(f"soakc: {s.done} messages in {dt:.1f} s ({s.done / dt:.0f}/s) "
          f"over {s.conns} connections: {summary}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "templates":
        if len(sys.argv) != 5:
            sys.exit("usage: soakc.py templates OUT.json KEYFILE SELECTOR")
        make_templates(*sys.argv[2:])
        return
    p = argparse.ArgumentParser(prog="soakc.py send")
    p.add_argument("cmd", choices=["send"])
    p.add_argument("--server", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--templates", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--per-conn", type=int, default=20)
    p.add_argument("--sources", default="203.0.113.10-59,203.0.113.66")
    p.add_argument("--tag", default="soak")
    p.add_argument("--slow-every", type=int, default=0)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--progress", default="")
    p.add_argument("--rate", type=float, default=0.0)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
