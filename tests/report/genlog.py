#!/usr/bin/env python3
"""genlog.py DIR -- syslog files of mxgate with known counts, for
report_check.sh.

Writes into DIR four rotated logs of one mail server over 36 hours
(2026-11-20 06:00Z to 2026-11-21 18:00Z, with empty hours), in the forms
mxgatectl report must read:

  mxgate.log.3.gz  classic syslog ("Nov 20 06:01:02 mx1 mxgate[PID]: ..."),
                   gzip, mtime 2027-01-01: its November lines are 2026's
  mxgate.log.2.gz  RFC 3339 with microseconds and +00:00, gzip
  mxgate.log.1     classic syslog, plain, mtime 2026-11-21
  mxgate.log       RFC 3339 with +01:00 and journalctl's +0000, plus a few
                   decision lines in the standard error form (no time)

Decision lines are written the way verdict.c's log_decision() writes them
(log_escape: quoted with spaces or '"', \\xHH outside printable ASCII):
several rules and actions (tempfail, would_tempfail, reject,
would_reject, accept, log), DNS lists (listed, allow-listed, failed),
logins (one with a space, one with a quote, one not ASCII), client /24s
and /64s, and hours. Between them: other programs' lines, mxgate's lines
that are not decisions (start, reload, warnings), malformed decision
lines and lines over 8 KiB. DIR/records.json holds every decision and, per
file, the counts of its lines; check.py computes the expected report
from it.
"""
import calendar
import gzip
import json
import os
import random
import sys
import time

START = calendar.timegm((2026, 11, 20, 6, 0, 0))
HOURS = 36
GAP = range(19, 23)          # hours (from START) without any decision
PID = 4242
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

RULES = [
    # rule, stage, weight, code, ecode
    ("listed", "rcpt", 30, "451", "4.7.1"),
    ("too-many-connections", "connect", 14, "421", "4.7.0"),
    ("customer-quota", "rcpt", 12, "451", "4.7.1"),
    ("spf-fail", "rcpt", 9, "451", "4.7.23"),
    ("dmarc-reject", "eom", 6, "451", "4.7.1"),
    ("dnsbl-error", "rcpt", 3, "451", "4.4.3"),
    ("strict-helo", "helo", 2, "550", "5.7.1"),
]
LOGINS = ["alice", "bob@example.com", "j\u00e9r\u00f4me", "carol smith",
          "o\"neil"]
NETS4 = ["192.0.2.", "198.51.100.", "203.0.113."]
NETS6 = ["2001:db8:1::", "2001:db8:2:0:"]


def log_escape(s):
    """verdict.c's log_escape() of a text value (UTF-8 bytes)."""
    b = s.encode("utf-8")
    out = []
    for c in b:
        if c < 0x20 or c > 0x7e:
            out.append("\\x%02X" % c)
        elif c in (0x22, 0x5c):
            out.append("\\" + chr(c))
        else:
            out.append(chr(c))
    v = "".join(out)
    if s == "" or " " in s or '"' in s:
        v = '"' + v + '"'
    return v


def client(rng):
    """A client: (name, ip, net key of the report)."""
    if rng.random() < 0.25:
        p = rng.choice(NETS6)
        ip = p + "%x" % rng.randint(1, 0xfff)
        net = {"2001:db8:1::": "2001:db8:1::/64",
               "2001:db8:2:0:": "2001:db8:2::/64"}[p]
        if p == "2001:db8:2:0:":
            ip = p + "0:0:0:%x" % rng.randint(1, 0xfff)
    else:
        p = rng.choice(NETS4)
        ip = p + str(rng.randint(1, 254))
        net = p + "0/24"
    name = rng.choice(["unknown", "mail.example.net", "mx%d.example.org" %
                       rng.randint(1, 9), "bad host"])
    return name, ip, net


def dnsbl_field(rng, rule):
    """The dnsbl= value and the list names the report counts."""
    if rule == "listed":
        v = ["zen:SBL/XBL(+8)"] if rng.random() < 0.6 else ["zen:PBL(+4)"]
        if rng.random() < 0.4:
            v.append("sorbs(+1)")
        if rng.random() < 0.2:
            v.append("dnswl(-5)")
        return ",".join(v)
    if rule == "dnsbl-error":
        return "zen:failed" if rng.random() < 0.7 else "sorbs:error=127.255.255.254"
    if rule in ("too-many-connections", "spf-fail") and rng.random() < 0.3:
        return "sorbs(+1)"
    return ""


def decision(rng, t, refs):
    rule, stage, _, code, ecode = rng.choices(RULES, [r[2] for r in RULES])[0]
    kind = rng.random()
    perm = code.startswith("5")
    if kind < 0.08:
        action = "would_reject" if perm else "would_tempfail"
    elif kind < 0.14:
        action = "accept"
    elif kind < 0.18:
        action = "log"
    else:
        action = "reject" if perm else "tempfail"
    while True:
        ref = "".join(rng.choice(B32) for _ in range(12))
        if ref not in refs:
            refs.add(ref)
            break
    name, ip, net = client(rng)
    rec = {"t": t, "usec": rng.randint(0, 999999), "ref": ref, "rule": rule,
           "stage": stage, "action": action, "client_name": name,
           "client_ip": ip, "net": net, "sasl": "", "dnsbl": ""}
    if stage != "connect":
        rec["helo"] = rng.choice(["mail.example.net", "[192.0.2.1]",
                                  "caf\u00e9.example", "two words"])
    if stage in ("rcpt", "eom"):
        rec["from"] = rng.choice(["", "a@example.net", "x y@example.org"])
        rec["rcpt"] = "postmaster@example.com"
        if rule == "customer-quota" or rng.random() < 0.2:
            rec["sasl"] = rng.choice(LOGINS)
    rec["dnsbl"] = dnsbl_field(rng, rule)
    if action.endswith(("tempfail", "reject")):
        rec["reply"] = "%s %s %s (ref %s)" % (code, ecode,
                                              "Policy says no, 100% sure", ref)
    elif action == "log":
        rec["text"] = "saw \"%s\" here" % rule
    if rule == "customer-quota":
        rec["limit"] = "user_hour:500/500/1h"
    return rec


def message(rec):
    """The message part of the decision line, as log_decision() writes it."""
    qid = "NOQUEUE" if rec["stage"] in ("connect", "helo") else "4dLk%s" % rec["ref"][:8]
    m = ["%s: ref=%s rule=%s stage=%s action=%s" % (
        qid, rec["ref"], log_escape(rec["rule"]), rec["stage"], rec["action"])]
    if "reply" in rec:
        m.append("reply=" + log_escape(rec["reply"]))
    if "text" in rec:
        m.append("text=" + log_escape(rec["text"]))
    m.append("client=%s[%s]" % (log_escape(rec["client_name"]),
                                log_escape(rec["client_ip"])))
    if "helo" in rec:
        m.append("helo=" + log_escape(rec["helo"]))
    if "from" in rec:
        m.append("from=<%s>" % log_escape(rec["from"]))
        m.append("rcpt=<%s>" % log_escape(rec["rcpt"]))
    if rec["sasl"]:
        m.append("sasl=" + log_escape(rec["sasl"]))
    if rec["stage"] in ("rcpt", "eom"):
        m.append("spf=pass")
    if rec["stage"] == "eom":
        m.append("dkim=fail dmarc=fail")
    if rec["dnsbl"]:
        m.append("dnsbl=" + log_escape(rec["dnsbl"]))
    if "limit" in rec:
        m.append("limit=" + rec["limit"])
    return " ".join(m)


def stamp(form, t, usec):
    """The syslog prefix of a line at t in one of the forms (UTC)."""
    y, mo, d, h, mi, s = time.gmtime(t)[:6]
    if form == "classic":
        return "%s %2d %02d:%02d:%02d mx1 " % (MONTHS[mo - 1], d, h, mi, s)
    if form == "classic0":
        return "%s %02d %02d:%02d:%02d mx1 " % (MONTHS[mo - 1], d, h, mi, s)
    if form == "rfc":
        return "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00 mx1 " % (
            y, mo, d, h, mi, s, usec)
    if form == "rfc+1":
        y, mo, d, h, mi, s = time.gmtime(t + 3600)[:6]
        return "%04d-%02d-%02dT%02d:%02d:%02d.%06d+01:00 mx1 " % (
            y, mo, d, h, mi, s, usec)
    if form == "iso":      # journalctl -o short-iso
        return "%04d-%02d-%02dT%02d:%02d:%02d+0000 mx1 " % (y, mo, d, h, mi, s)
    raise ValueError(form)


def noise(rng, form, t):
    """Lines that are no decisions: (line, kind) with kind other/malformed/too_long."""
    p = stamp(form, t, 0)
    pick = rng.randrange(9)
    if pick == 0:
        return p + "postfix/smtpd[%d]: connect from unknown[192.0.2.9]" % rng.randint(100, 999), "other"
    if pick == 1:
        return p + "postfix/cleanup[77]: 4dLk0001: message-id=<x@y>", "other"
    if pick == 2:
        return p + "mxgate[%d]: mxgate 0.1.0 started: /etc/mxgate/default.rules: 7 rules" % PID, "other"
    if pick == 3:
        return p + "mxgate[%d]: warning: dnsbl zen: timeout" % PID, "other"
    if pick == 4:
        return p + "mxgate[%d]: reload: ok" % PID, "other"
    if pick == 5:
        return p + "kernel: [12345.678] eth0: link up", "other"
    if pick == 6:
        # a decision line cut in its reply: malformed
        return p + "mxgate[%d]: NOQUEUE: ref=ZZZZ rule=listed stage=rcpt action=tempfail reply=\"451 4.7.1 cut" % PID, "malformed"
    if pick == 7:
        return p + "mxgate[%d]: NOQUEUE: ref=ZZZZ rule=listed stage=rcpt action=tempfail client=x[1.2.3.4] helo=\\xZZ" % PID, "malformed"
    return p + "postfix/smtpd[5]: warning: " + "x" * 9000, "too_long"


def main():
    out = sys.argv[1]
    rng = random.Random(20261202)
    os.makedirs(out, exist_ok=True)
    # unique seconds, none in the gap hours
    secs = [s for s in range(HOURS * 3600) if s // 3600 not in GAP]
    times = sorted(START + s for s in rng.sample(secs, 640))
    refs = set()
    recs = [decision(rng, t, refs) for t in times]
    files = [("mxgate.log.3.gz", "classic", calendar.timegm((2027, 1, 1, 0, 10, 0))),
             ("mxgate.log.2.gz", "rfc", None),
             ("mxgate.log.1", "classic0", calendar.timegm((2026, 11, 21, 23, 0, 0))),
             ("mxgate.log", "rfc+1", None)]
    chunk = (len(recs) + 3) // 4
    stats = {}
    for i, (name, form, mtime) in enumerate(files):
        part = recs[i * chunk:(i + 1) * chunk]
        st = {"lines": 0, "decision_lines": 0, "other_lines": 0,
              "malformed": 0, "too_long": 0, "no_time": 0}
        lines = []
        for rec in part:
            rec["file"] = name
            f = "iso" if form == "rfc+1" and rng.random() < 0.3 else form
            lines.append(stamp(f, rec["t"], rec["usec"]) + "mxgate[%d]: " % PID + message(rec))
            if f == "iso":
                rec["usec"] = 0
            st["decision_lines"] += 1
            if rng.random() < 0.2:
                line, kind = noise(rng, form, rec["t"])
                lines.append(line)
                st[{"other": "other_lines"}.get(kind, kind)] += 1
        if name == "mxgate.log":
            # mxgate -f with log = stderr: decision lines without a time
            for j in range(3):
                lines.append("mxgate[%d]: NOQUEUE: ref=STDERR%06d rule=listed "
                             "stage=connect action=tempfail client=unknown[192.0.2.%d]"
                             % (PID, j, j + 1))
                st["decision_lines"] += 1
                st["no_time"] += 1
        st["lines"] = len(lines)
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path = os.path.join(out, name)
        if name.endswith(".gz"):
            with gzip.open(path, "wb") as g:
                g.write(data)
        else:
            with open(path, "wb") as g:
                g.write(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        stats[name] = st
    with open(os.path.join(out, "records.json"), "w") as f:
        json.dump({"files": stats, "records": recs}, f, indent=0)


if __name__ == "__main__":
    main()
