#!/usr/bin/env python3
"""check.py -- report_check.sh's helpers: the report expected from
genlog.py's records, the report read back from its three forms, and a
look at a PNG screenshot. Every form becomes one flat dict of
"KIND:NAME" -> value (the data-k names of the HTML page), so that the
forms can be compared key by key.

  check.py expect DIR FILE... [--since T] [--until T] [-n N]
                               (T: seconds since the epoch)
  check.py verify TEXT JSON DIR FILE... [--since T] [--until T] [-n N]
                               both reports against expect's; exit 0 when
                               both are right, else 1 (text), 2 (JSON), 3
  check.py text REPORT          the text report, as the dict
  check.py json REPORT          the --json report, as the dict
  check.py dom DOM              data-k elements of the page's DOM
  check.py same A.json B.json   exit 1 and say where A and B differ
  check.py page TEXT DOM        the DOM's data-k values equal the text
                                report's (and there are more than 50)
  check.py png FILE.png         exit 1 unless the picture shows something
"""
import html.parser
import json
import struct
import sys
import zlib

COLS = ["tempfail", "would_tempfail", "reject", "would_reject"]
RULE_KEYS = ["rule:", "rule-would:", "rule-reject:", "rule-would-reject:"]
INPUT = {"files": "files", "lines": "lines", "decision lines": "decision_lines",
         "other lines": "other_lines", "malformed (skipped)": "malformed",
         "over 8 KiB (skipped)": "too_long",
         "decisions without a time": "no_time",
         "decisions outside the period": "outside_period"}
DECISIONS = {"deferred (tempfail)": "tempfail",
             "would defer (monitor mode)": "would_tempfail",
             "rejected": "reject", "would reject (monitor mode)": "would_reject",
             "other (accept, log, header)": "other"}
TABLES = {"deferrals per DNS list": "list",
          "deferrals per login (sasl)": "login",
          "deferrals per client network (/24, /64)": "net",
          "deferrals per hour": "hour"}


def lists_of(dnsbl):
    names = []
    for item in dnsbl.split(",") if dnsbl else []:
        n = item.split(":")[0].split("(")[0]
        if n and n not in names:
            names.append(n)
    return names


def hour_of(t):
    import time
    return time.strftime("%Y-%m-%d %H:00", time.localtime(t))


def expect(argv):
    d, files, since, until, top = argv[0], [], None, None, 20
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("--since", "--until", "-n"):
            v = int(argv[i + 1])
            i += 2
            if a == "--since":
                since = v
            elif a == "--until":
                until = v
            else:
                top = v
            continue
        files.append(a)
        i += 1
    data = json.load(open(d + "/records.json"))
    out = {}

    def add(k, n=1):
        out[k] = out.get(k, 0) + n

    for k in ["files", "lines", "decision_lines", "other_lines", "malformed",
              "too_long", "no_time", "outside_period"]:
        out["input:" + k] = 0
    for k in COLS + ["other"]:
        out["decisions:" + k] = 0
    add("input:files", len(files))
    for f in files:
        for k, v in data["files"][f].items():
            add("input:" + k, v)
    deferrals = []
    for r in data["records"]:
        if r["file"] not in files:
            continue
        t = r["t"]
        if (since is not None and t < since) or (until is not None and t >= until):
            add("input:outside_period")
            continue
        if r["action"] not in COLS:
            add("decisions:other")
            continue
        c = COLS.index(r["action"])
        add("decisions:" + r["action"])
        for j, p in enumerate(RULE_KEYS):
            add(p + r["rule"], 1 if j == c else 0)
        if r["action"] != "tempfail":
            continue
        for n in lists_of(r["dnsbl"]):
            add("list:" + n)
        if r["sasl"]:
            add("login:" + r["sasl"])
        add("net:" + r["net"])
        add("hour:" + hour_of(t))
        deferrals.append(r)
    deferrals.sort(key=lambda r: (r["t"], r["usec"]), reverse=True)
    for i, r in enumerate(deferrals[:top]):
        out["ref:%d" % (i + 1)] = r["ref"]
    return out


def unescape(s):
    """A value as log_escape writes it, back to text."""
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        s = s[1:-1]
    b = bytearray()
    i = 0
    while i < len(s):
        if s[i] == "\\" and s[i + 1] == "x":
            b.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif s[i] == "\\":
            b.append(ord(s[i + 1]))
            i += 2
        else:
            b.extend(s[i].encode())
            i += 1
    return b.decode("utf-8", "replace")


def text(s):
    out, sect = {}, None
    for line in s.splitlines():
        if not line.strip():
            continue
        if not line.startswith("  "):
            sect = line
            continue
        row = line[2:]
        if row == "(none)" or sect is None:
            continue
        if sect == "input":
            k, n = row.rsplit(None, 1)
            out["input:" + INPUT[k]] = int(n)
        elif sect == "decisions in the period":
            k, n = row.rsplit(None, 1)
            out["decisions:" + DECISIONS[k]] = int(n)
        elif sect.startswith("deferrals per rule"):
            f = row.rsplit(None, 4)
            for j, p in enumerate(RULE_KEYS):
                out[p + unescape(f[0])] = int(f[j + 1])
        elif sect in TABLES:
            k, n = row.rsplit(None, 1)
            kind = TABLES[sect]
            key = k if kind in ("net", "hour") else unescape(k)
            out["%s:%s" % (kind, key)] = int(n)
        elif sect.startswith("most recent deferrals"):
            if row.startswith("time "):
                continue
            n = sum(1 for k in out if k.startswith("ref:"))
            out["ref:%d" % (n + 1)] = row.split()[2]
    return out


def from_json(s):
    j = json.loads(s)
    out = {}
    for k, v in j["input"].items():
        out["input:" + k] = v
    for k, v in j["decisions"].items():
        out["decisions:" + k] = v
    for r in j["per_rule"]:
        for c, p in zip(COLS, RULE_KEYS):
            out[p + r["rule"]] = r[c]
    for name, kind in (("per_list", "list"), ("per_login", "login"),
                       ("per_client_net", "net"), ("per_hour", "hour")):
        for r in j[name]:
            out["%s:%s" % (kind, r[kind])] = r["tempfail"]
    for i, r in enumerate(j["refs"]):
        out["ref:%d" % (i + 1)] = r["ref"]
    return out


class DataK(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.cur, self.buf = {}, None, ""

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "data-k":
                self.cur, self.buf = v, ""

    def handle_data(self, d):
        if self.cur is not None:
            self.buf += d

    def handle_endtag(self, tag):
        if self.cur is not None:
            v = self.buf.strip()
            self.out[self.cur] = v if self.cur.startswith("ref:") else int(v)
            self.cur = None


def dom(s):
    p = DataK()
    p.feed(s)
    return p.out


def same(a, b):
    bad = 0
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            if bad < 20:
                print("  %s: %r != %r" % (k, a.get(k), b.get(k)))
            bad += 1
    if bad:
        print("  %d keys differ (of %d)" % (bad, len(set(a) | set(b))))
    return bad == 0


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
        elif typ == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("PNG type %d depth %d interlace %d" % (ctype, depth, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def png(path, want_colours):
    w, h, rows = png_pixels(path)
    count = {}
    for row in rows:
        for p in row:
            count[p] = count.get(p, 0) + 1
    bg, nbg = max(count.items(), key=lambda kv: kv[1])
    share = 1 - nbg / (w * h)
    print("  %dx%d, %d colours, background %02x%02x%02x, %.1f%% other pixels"
          % (w, h, len(count), bg[0], bg[1], bg[2], 100 * share))
    ok = len(count) > 1 and share >= 0.03
    for c in want_colours:
        rgb = tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
        n = sum(v for p, v in count.items()
                if all(abs(p[i] - rgb[i]) <= 4 for i in range(3)))
        print("  %s: %d pixels" % (c, n))
        ok = ok and n >= 200
    return ok


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "expect":
        json.dump(expect(args), sys.stdout, sort_keys=True)
    elif cmd in ("text", "json", "dom"):
        s = open(args[0], encoding="utf-8").read()
        f = {"text": text, "json": from_json, "dom": dom}[cmd]
        json.dump(f(s), sys.stdout, sort_keys=True)
    elif cmd == "same":
        a, b = (json.load(open(p)) for p in args[:2])
        sys.exit(0 if same(a, b) else 1)
    elif cmd == "verify":
        want = expect(args[2:])
        rc = 0
        for bit, path, f in ((1, args[0], text), (2, args[1], from_json)):
            print("%s:" % ("text" if bit == 1 else "JSON"))
            try:
                got = f(open(path, encoding="utf-8").read())
            except (ValueError, KeyError, IndexError) as e:
                print("  unreadable: %r" % e)
                got = {}
            if not same(want, got):
                rc |= bit
        sys.exit(rc)
    elif cmd == "page":
        t = text(open(args[0], encoding="utf-8").read())
        d = dom(open(args[1], encoding="utf-8").read())
        print("  %d data-k values in the DOM, %d in the text report" % (len(d), len(t)))
        sys.exit(0 if same(t, d) and len(d) > 50 else 1)
    elif cmd == "png":
        sys.exit(0 if png(args[0], args[1:]) else 1)
    else:
        sys.exit("check.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
