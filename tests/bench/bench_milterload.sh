#!/usr/bin/env bash
# bench_milterload.sh -- mxgate measured on its own, without Postfix:
# milterload (tests/bench/milterload.c) speaks the MTA side of the milter
# protocol to mxgate's unix socket as CONNS concurrent Postfix smtpd
# processes would, and sends MESSAGES copies of a realistic message: 20
# header fields, about 10 KiB, DKIM-signed (RSA 2048, relaxed/relaxed)
# by a domain with SPF and DMARC p=reject. mxgate runs the shipped
# default.rules with limits no benchmark client reaches (lib.sh
# bench_rules), SPF, DKIM, DMARC and add_auth_results (its default), and
# asks NSD in the namespace for every record (an empty Spamhaus zone: no
# client is listed). Client addresses cycle over 203.0.113.2-254, all
# inside the sender's SPF range. A warm-up run of 200 messages fills the
# caches first; the timed run prints msg/s, p50/p99 latency per message,
# the decisions, the milter round trips per message and mxgate's CPU per
# message (/proc/PID/stat). Measures only: it asserts nothing.
#
#   tests/bench/bench_milterload.sh [CONNS] [MESSAGES] [PER_CONNECTION]
#
# Runs as root in the e2e harness (tests/e2e/lib.sh). MXGATE is the
# daemon of an optimised build without sanitizers; milterload is taken
# from the same build tree ($MXGATE/../../tests/bench/milterload; built
# there with make when missing) or from $MILTERLOAD. Needs dkimpy
# (python3-dkim) to sign.
#
# BENCH_PERF=FILE records a CPU profile of mxgate (perf) over the timed
# run. BENCH_CLIENTS=FIRST[-LAST] replaces the client address range (one
# address: every connection from the same client); BENCH_RULES=shipped
# keeps default.rules' own limits (then a single client meets them and
# gets 421 at connect, counted under "refused").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_NAME=bench-milterload
. "$here/../e2e/lib.sh"
conns=${1:-10} msgs=${2:-2000} per=${3:-1}
PY=/usr/bin/python3
$PY -c 'import dkim' 2>/dev/null || { echo "SKIP: no dkimpy (python3-dkim)"; exit 77; }
build=$(cd "$(dirname "$MXGATE")/.." && pwd)
ML=${MILTERLOAD:-$build/tests/bench/milterload}
if [[ ! -x $ML ]]; then
	make -C "$build" tests/bench/milterload >/dev/null ||
	    { echo "FAIL: cannot build $ML"; exit 1; }
fi
h_setup
if [[ ${BENCH_RULES:-} == shipped ]]; then
	cp "$here/../../rules/default.rules" "$H/rules/test.rules"
else
	bench_rules "$H/rules/test.rules"
fi

# the key, the zones, the signed message
bench_sender_zones
# 19 header fields here, the DKIM-Signature makes 20; 150 body lines of
# 64 bytes: about 10 KiB in all
{
	for i in 1 2 3; do
		printf 'Received: from relay%d.sender.example (relay%d.sender.example [203.0.113.%d])\n\tby mx%d.sender.example (Postfix) with ESMTPS id 4Bx%dQz0kYz1xY\n\tfor <bench@rcpt.test>; Mon, 23 Nov 2026 10:00:0%d +0000 (UTC)\n' \
		    "$i" "$i" "$((i + 10))" "$i" "$i" "$i"
	done
	printf 'From: News <news@sender.example>\nTo: <bench@rcpt.test>\n'
	printf 'Cc: <archive@rcpt.test>\nReply-To: <support@sender.example>\n'
	printf 'Subject: bench: the monthly newsletter of sender.example\n'
	printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\n'
	printf 'Message-ID: <bench.20261123100000@sender.example>\n'
	printf 'In-Reply-To: <prev.20261023100000@sender.example>\n'
	printf 'References: <first.20260923100000@sender.example>\n\t<prev.20261023100000@sender.example>\n'
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
	printf 'Content-Transfer-Encoding: 8bit\n'
	printf 'List-Id: Newsletter <news.sender.example>\n'
	printf 'List-Unsubscribe: <mailto:unsubscribe@sender.example>\n'
	printf 'X-Mailer: bench_milterload\nX-Campaign: 2026-11\n'
	printf '\n'
	for ((i = 0; i < 150; i++)); do
		printf 'line %03d of the benchmark message, signed with DKIM, 64 byt\n' "$i"
	done
} | $PY "$here/../e2e/dkimsign.py" sign "$H/keys/s1.key" rsa s1 sender.example |
	tr -d '\r' >"$H/message"

h_netns
h_dns
h_mxgate_conf "authserv_id = mx.bench.test" "add_auth_results = yes"
h_mxgate_start
wait_until 15 test -s "$H/run/mxgate.pid" || true

# ml ARGS... -- milterload in the namespace against mxgate's socket
ml() {
	nsx "$ML" -s "unix:$H/run/mxgate.sock" -F "$H/message" \
	    -H mail.sender.example -f bounce@sender.example -r bench@rcpt.test \
	    -i "${BENCH_CLIENTS:-203.0.113.2-203.0.113.254}" "$@"
}
ml -c "$conns" -n 200 -m "$per" >"$H/log/warmup" 2>&1 ||
	die "milterload warm-up failed: $(tail -n 3 "$H/log/warmup" | tr '\n' '|')"
printf 'message: %d bytes, %d header fields, DKIM rsa-sha256 2048 bits, relaxed/relaxed\n' \
    "$(wc -c <"$H/message")" "$(grep -c '^[A-Za-z-]*:' <(sed '/^$/q' "$H/message"))"
# BENCH_PERF=FILE: a CPU profile of mxgate over the timed run (perf record)
perf_pid=
if [[ -n ${BENCH_PERF:-} ]] && command -v perf >/dev/null; then
	perf record -q -F 999 ${BENCH_PERF_CG:--g} -p "$MXPID" -o "$BENCH_PERF" 2>/dev/null &
	perf_pid=$!
	sleep 1
fi
ml -c "$conns" -n "$msgs" -m "$per" -p "$MXPID" ||
	note "milterload failed"
if [[ -n $perf_pid ]]; then
	kill -INT "$perf_pid" 2>/dev/null || true
	wait "$perf_pid" 2>/dev/null || true
	echo "profile: $BENCH_PERF (perf report -i $BENCH_PERF)"
fi
echo "mxgate log lines at warn or worse: $(grep -ciE 'warn|error|fatal' "$H/log/mxgate.log" || true)"
h_done
