#!/usr/bin/env bash
# bench_dnsbl.sh -- what DNS lists add to the time from connect to the
# decision: a client connects, says EHLO, MAIL and RCPT, and the time to
# the RCPT reply is measured with no list, one list and five lists, each
# behind an authoritative server (NSD) made slow on purpose (a relay that
# holds every answer DELAY ms). The lists are asked in parallel at
# connect, so five lists should cost about one answer time, not five.
# Measures only: it asserts nothing.
#
#   tests/bench/bench_dnsbl.sh [SESSIONS] [DELAY_MS]
#
# Every session comes from a new IPv6 address, so no answer comes from
# mxgate's cache. Runs as root in the e2e harness (tests/e2e/lib.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_NAME=bench-dnsbl
. "$here/../e2e/lib.sh"
sessions=${1:-40} delay=${2:-50}
h_setup
for i in 1 2 3 4 5; do
	printf '$ORIGIN l%d.example.\n$TTL 1\n@ SOA ns hostmaster 1 3600 600 86400 1\n@ NS ns\nns A 127.0.0.1\n* A 127.0.0.2\n' "$i" \
	    >"$H/dns/l$i.example.zone"
done
h_netns
h_dns
ip netns exec "$NS" python3 "$here/slowdns.py" 5301 53 "$delay" &
relay=$!
trap 'stop_pid $relay 5; h_down' EXIT
h_postfix_up

# rules N -- N lists, and a rule that needs them all at rcpt
rules() {
	local i
	for ((i = 1; i <= $1; i++)); do
		printf 'dnsbl l%d { zone l%d.example; timeout 10s }\n' "$i" "$i"
	done
	printf 'rule listed at rcpt {\n'
	(($1 > 0)) && printf '\tif dnsbl.score >= 1\n'
	(($1 == 0)) && printf '\tif rcpt_domain is never.test\n'
	printf '\ttempfail 451 4.7.1 "listed on ${dnsbl.names}"\n}\n'
}

# measure N BASE -- median and mean ms from connect to the RCPT reply
measure() {
	nsx python3 - "$sessions" "$2" <<'PY'
import socket, statistics, sys, time
n, base = int(sys.argv[1]), int(sys.argv[2], 16)
times = []
for i in range(n):
    src = "2001:db8::%x:%x" % (base, i + 1)
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind((src, 0))
    t0 = time.monotonic()
    s.connect(("::1", 2525))
    f = s.makefile("rb")
    def reply():
        while True:
            line = f.readline()
            if not line or line[3:4] != b"-":
                return line
    reply()
    for cmd in (b"EHLO c.test", b"MAIL FROM:<s@c.test>", b"RCPT TO:<r@rcpt.test>"):
        s.sendall(cmd + b"\r\n")
        last = reply()
    times.append((time.monotonic() - t0) * 1000)
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()
print("%.1f %.1f %s" % (statistics.median(times), statistics.mean(times), last[:3].decode()))
PY
}

E2E_DNS=127.0.0.1@5301
base=100
for n in 0 1 5; do
	[[ -n $MXPID ]] && h_mxgate_stop
	rules "$n" >"$H/rules/test.rules"
	h_mxgate_conf
	h_mxgate_start
	read -r med mean code < <(measure "$n" "$base")
	base=$((base + 1))
	printf '%d list%s (answers delayed %d ms): connect to RCPT reply median %s ms, mean %s ms (reply %s)\n' \
	    "$n" "$([[ $n == 1 ]] || echo s)" "$delay" "$med" "$mean" "$code"
done
h_done
