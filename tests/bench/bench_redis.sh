#!/usr/bin/env bash
# bench_redis.sh -- what the Redis store costs against the memory store.
# Measures only: it asserts nothing.
#
#   tests/bench/bench_redis.sh [ROUNDS MESSAGES SESSIONS [DECISIONS THREADS]]
#                              (3 2000 20 20000 16)
#
# 1. Decisions: bench_redis.c (compiled here with cc -O2 against the
#    sources and hiredis) against a redis-server this script starts on a
#    free loopback port: decisions/s and check latency, memory store and
#    Redis store, one thread and THREADS threads, and the round trips per
#    decision counted by the server.
# 2. Postfix (as root, with smtp-source; else skipped): the e2e harness
#    (a private network namespace, Postfix, redis-server on
#    127.0.0.1:6390) with two mxgate instances running the same rules --
#    the shipped default.rules with limits raised so that nothing is
#    deferred, as in bench_smtp.sh (2 round trips per message: the
#    connection's check and count); with SENDER_LIMIT=1 also a per-sender
#    recipient limit at RCPT (4: plus the recipient's check and the
#    message's count) -- one with store = memory (port 2525), one with
#    store = redis:// (port 2588), and Postfix without a milter (2527),
#    interleaved over ROUNDS rounds of MESSAGES messages over SESSIONS
#    sessions. Prints msg/s of each, the Redis/memory ratio, the time
#    Redis adds per message, and each mxgate's CPU per message.
#    Use an optimised build without sanitizers (MXGATE=...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${1:-3} msgs=${2:-2000} sess=${3:-20} decisions=${4:-20000} threads=${5:-16}
command -v redis-server >/dev/null || { echo "SKIP: no redis-server"; exit 77; }

# ---------------------------------------------------------------- 1
tmp=$(mktemp -d)
rpid=
cleanup1() {
	[[ -n $rpid ]] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup1 EXIT
printf '#define _GNU_SOURCE 1\n#define HAVE_EXPLICIT_BZERO 1\n' >"$tmp/config.h"
compat=
printf '#include <string.h>\nint main(void){char b[2];return (int)strlcpy(b,"x",2);}\n' >"$tmp/t.c"
if cc -D_GNU_SOURCE -o "$tmp/t" "$tmp/t.c" 2>/dev/null; then
	printf '#define HAVE_STRLCPY 1\n#define HAVE_STRLCAT 1\n' >>"$tmp/config.h"
else
	compat="$top/compat/strlcpy.c $top/compat/strlcat.c"
fi
m=$top/milter
# shellcheck disable=SC2086
cc ${CFLAGS:--O2} -I"$tmp" -I"$m" -I"$top/compat" -o "$tmp/bench_redis" \
	"$here/bench_redis.c" "$top/tests/unit/table_none.c" "$m/ratelimit.c" "$m/store_memory.c" \
	"$m/store_redis.c" "$m/store_redis_admin.c" "$m/store_redis_cfg.c" "$m/ipaddr.c" "$m/buf.c" "$m/xalloc.c" "$m/log.c" \
	"$m/num.c" $compat -lhiredis -lpthread
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
	--dir "$tmp" --logfile "$tmp/redis.log" >/dev/null &
rpid=$!
for _ in $(seq 100); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.05
done
echo "bench_redis: decisions against redis-server $(redis-server --version | grep -oE 'v=[0-9.]+') on 127.0.0.1:$port (TCP loopback)"
"$tmp/bench_redis" "$port" "$decisions" "$threads" 2>&1 | grep -v 'connected; rate counters'
cleanup1
rpid=
trap - EXIT

# ---------------------------------------------------------------- 2
if [[ $(id -u) -ne 0 ]] || ! command -v smtp-source >/dev/null; then
	echo "SKIP: the Postfix part needs root and smtp-source"
	exit 0
fi
E2E_NAME=bench
. "$here/../e2e/lib.sh"
h_setup
bench_rules "$H/rules/test.rules"
[[ ${SENDER_LIMIT:-0} == 1 ]] && cat >>"$H/rules/test.rules" <<'RULES'

# bench_redis: a per-sender recipient limit, checked at RCPT, counted at end of message
limit sender_rcpt { count recipients; key sender; rate 100000000/1h }
rule sender-rcpt at rcpt {
	if limit sender_rcpt exceeded
	tempfail 451 4.7.0 "Sender ${mail_from} reached ${limit.max} recipients per ${limit.window}"
}
RULES
if [[ ${SENDER_LIMIT:-0} == 1 ]]; then
	echo "bench_redis: Postfix, default.rules (limits raised) + a per-sender recipient limit: 4 round trips a message"
else
	echo "bench_redis: Postfix, default.rules (limits raised): 2 round trips a message"
fi
printf '$ORIGIN zen.spamhaus.org.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n' \
    >"$H/dns/zen.spamhaus.org.zone"
h_netns
h_dns
h_redis
h_postfix_conf
bench_listen 2525 -o milter_macro_daemon_name=smtp
bench_listen 2588 -o milter_macro_daemon_name=smtp -o smtpd_milters=unix:$H/run/mxgate2.sock
bench_listen 2527 -o smtpd_milters=
bench_postfix_start
h_mxgate_conf
sed -e "s|$H/run/mxgate.sock|$H/run/mxgate2.sock|" \
    -e "s|$H/run/mxgate.pid|$H/run/mxgate2.pid|" "$H/mxgate.conf" >"$H/mxgate2.conf"
echo "store = redis://127.0.0.1:6390" >>"$H/mxgate2.conf"
h_mxgate_start
h_mxgate2_start "$H/mxgate2.conf"
wait_log "$H/log/mxgate2.log" 'connected; rate counters are shared' 10 ||
	die "mxgate2 did not reach redis: $(tail -n 3 "$H/log/mxgate2.log")"

ticks=$(getconf CLK_TCK)
rpid=$(pid_of "$H/run/redis.pid")
# run PORT -- seconds (with decimals) to send $msgs messages
run() { bench_send "$1" -l 2000 -f bench@client.test; }
run 2527 >/dev/null
run 2525 >/dev/null
run 2588 >/dev/null
ta=0 tm=0 tr=0 cm=0 cr=0 cs=0
for ((i = 1; i <= rounds; i++)); do
	a=$(run 2527)
	c0=$(cpu_ticks "$MXPID")
	mm=$(run 2525)
	c1=$(cpu_ticks "$MXPID")
	d0=$(cpu_ticks "$MX2PID")
	s0=$(cpu_ticks "$rpid")
	rr=$(run 2588)
	d1=$(cpu_ticks "$MX2PID")
	s1=$(cpu_ticks "$rpid")
	cm=$((cm + c1 - c0))
	cr=$((cr + d1 - d0))
	cs=$((cs + s1 - s0))
	printf 'round %d: Postfix alone %.0f msg/s, memory store %.0f msg/s, redis store %.0f msg/s\n' \
	    "$i" "$(calc "$msgs / $a")" "$(calc "$msgs / $mm")" "$(calc "$msgs / $rr")"
	ta=$(calc "$ta + $a")
	tm=$(calc "$tm + $mm")
	tr=$(calc "$tr + $rr")
done
n=$((rounds * msgs))
printf 'Postfix alone:        %.0f msg/s\n' "$(calc "$n / $ta")"
printf 'mxgate, memory store: %.0f msg/s (%.3f x Postfix alone)\n' "$(calc "$n / $tm")" "$(calc "$ta / $tm")"
printf 'mxgate, redis store:  %.0f msg/s (%.3f x Postfix alone)\n' "$(calc "$n / $tr")" "$(calc "$ta / $tr")"
printf 'redis / memory:       %.3f (throughput cost %.1f%%); %.3f ms more wall time per message at %d sessions\n' \
    "$(calc "$tm / $tr")" "$(calc "(1 - $tm / $tr) * 100")" "$(calc "($tr - $tm) * 1000 / $n")" "$sess"
printf 'mxgate CPU per message: memory %.4f ms, redis %.4f ms; redis-server %.4f ms\n' \
    "$(calc "$cm * 1000 / $ticks / $n")" "$(calc "$cr * 1000 / $ticks / $n")" \
    "$(calc "$cs * 1000 / $ticks / $n")"
echo "deferred: memory $(grep -c 'action=tempfail' "$H/log/mxgate.log" || true), redis $(grep -c 'action=tempfail' "$H/log/mxgate2.log" || true)"
echo "fallbacks to local counters: $(grep -c 'using local counters' "$H/log/mxgate2.log" || true)"
echo "keys in redis: $(nsx redis-cli -p 6390 DBSIZE); EVALSHA calls: $(nsx redis-cli -p 6390 INFO commandstats | tr -d '\r' | grep -oE 'cmdstat_evalsha:calls=[0-9]+' | cut -d= -f2) for $(((rounds + 1) * msgs)) messages through the Redis instance"
h_done
