#!/usr/bin/env python3
"""promscrape -- scrape mxgate's metrics for the end-to-end tests.

    promscrape.py get URL
        GET URL with urllib; the Content-Type must be the Prometheus text
        format 0.0.4. The body is parsed with prometheus_client's own
        exposition parser (Debian's python3-prometheus-client), never by
        hand, and printed one line each:
            family NAME TYPE
            sample NAME{k="v",...} VALUE      (labels sorted by name)
        Exit status 1 when the request, the Content-Type or the parse
        fails (the reason on stderr).

    promscrape.py status METHOD URL
        the HTTP status code a request gets (also for 4xx answers)

    promscrape.py rawline HOST PORT N
        send a request line with an N-byte path, print the status code
        of the answer (or "closed" when none came)
"""

import socket
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

WANT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def labels(d):
    """the labels as name="value" pairs sorted by name, escaped again"""
    out = []
    for k in sorted(d):
        v = d[k].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append('%s="%s"' % (k, v))
    return "{" + ",".join(out) + "}" if out else ""


def number(v):
    """an integral value without a fraction"""
    return str(int(v)) if v == int(v) else repr(v)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        ctype = r.headers.get("Content-Type")
        body = r.read().decode("utf-8")
    if ctype != WANT_TYPE:
        sys.stderr.write("Content-Type %r, not %r\n" % (ctype, WANT_TYPE))
        return 1
    try:
        fams = list(text_string_to_metric_families(body))
    except Exception as e:  # the parser's own complaint
        sys.stderr.write("the exposition parser refused it: %s\n" % e)
        return 1
    for f in fams:
        print("family %s %s" % (f.name, f.type))
        for s in f.samples:
            print("sample %s%s %s" % (s.name, labels(s.labels), number(s.value)))
    return 0


def status(method, url):
    req = urllib.request.Request(url, method=method,
                                 data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            print(r.status)
    except urllib.error.HTTPError as e:
        print(e.code)
    return 0


def rawline(host, port, n):
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(b"GET /" + b"a" * int(n) + b" HTTP/1.1\r\n\r\n")
    except OSError:
        pass
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    line = data.split(b"\r\n", 1)[0].split()
    print(line[1].decode() if len(line) >= 2 else "closed")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "get":
        return get(argv[2])
    if len(argv) == 4 and argv[1] == "status":
        return status(argv[2], argv[3])
    if len(argv) == 5 and argv[1] == "rawline":
        return rawline(argv[2], argv[3], argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
