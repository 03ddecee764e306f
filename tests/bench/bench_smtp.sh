#!/usr/bin/env bash
# bench_smtp.sh -- what mxgate costs Postfix: Postfix's smtp-source sends
# the same load through a private Postfix with mxgate (the shipped
# default rules, unix socket) and without it, interleaved over several
# rounds. Prints msg/s for both, their ratio, and mxgate's CPU time per
# message (utime+stime from /proc over the runs with mxgate, divided by
# their messages). Measures only: it asserts nothing.
#
#   tests/bench/bench_smtp.sh [ROUNDS] [MESSAGES] [SESSIONS]
#
# Runs as root in the e2e harness (tests/e2e/lib.sh): a private network
# namespace, a private Postfix, the real mxgate; everything is removed
# afterwards. Use an optimised build without sanitizers (MXGATE=...).
#
# smtp-source cannot pick its source address, and default.rules exempts
# 127.0.0.0/8 (trusted relays), so both Postfix listeners of the bench
# also listen on 203.0.113.1, and smtp-source connects there: the client
# address is then 203.0.113.1, so every connection goes through the
# list lookup, both limits and the DNS list. The rates of the bench copy of
# default.rules are raised (one client sends thousands of connections a
# minute) so that nothing is deferred and every message is measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_NAME=bench
. "$here/../e2e/lib.sh"
rounds=${1:-5} msgs=${2:-2000} sess=${3:-20}
command -v smtp-source >/dev/null || { echo "SKIP: no smtp-source (postfix)"; exit 77; }
h_setup
bench_rules "$H/rules/test.rules"
# default.rules asks Spamhaus ZEN: NSD serves an empty zen.spamhaus.org
# (every client unlisted, as most are) and mxgate forwards to it
printf '$ORIGIN zen.spamhaus.org.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n' \
    >"$H/dns/zen.spamhaus.org.zone"
h_netns
h_dns
h_postfix_conf
bench_listen 2525 -o milter_macro_daemon_name=smtp
bench_listen 2527 -o smtpd_milters=
bench_postfix_start
h_mxgate_start

ticks=$(getconf CLK_TCK)
# run PORT -- seconds (with decimals) to send $msgs messages
run() { bench_send "$1" -l 2000 -f bench@client.test; }
# warm up both paths
run 2527 >/dev/null
run 2525 >/dev/null
tw=0 to=0 c=0
for ((i = 1; i <= rounds; i++)); do
	s=$(run 2527)
	c0=$(cpu_ticks "$MXPID")
	w=$(run 2525)
	c1=$(cpu_ticks "$MXPID")
	c=$((c + c1 - c0))
	printf 'round %d: without %.0f msg/s, with %.0f msg/s\n' "$i" \
	    "$(calc "$msgs / $s")" "$(calc "$msgs / $w")"
	to=$(calc "$to + $s")
	tw=$(calc "$tw + $w")
done
n=$((rounds * msgs))
deferred=$(grep -c 'action=tempfail' "$H/log/mxgate.log" || true)
printf 'without mxgate: %.0f msg/s\n' "$(calc "$n / $to")"
printf 'with mxgate:    %.0f msg/s\n' "$(calc "$n / $tw")"
printf 'ratio with/without: %.3f (cost %.1f%%)\n' "$(calc "$to / $tw")" \
    "$(calc "(1 - $to / $tw) * 100")"
printf 'mxgate CPU:     %.4f ms per message (%d ticks of 1/%d s over %d messages)\n' \
    "$(calc "$c * 1000 / $ticks / $n")" "$c" "$ticks" "$n"
echo "deferred by mxgate: $deferred"
sent=$(((rounds + 1) * 2 * msgs))
queued=$(grep -c 'smtpd\[[0-9]*\]: [0-9A-F]*: client=unknown\[203\.0\.113\.1\]' "$H/log/maillog" || true)
echo "queued by Postfix: $queued of $sent sent (warm-up included)"
h_done
