#!/usr/bin/env bash
# bench_auth.sh -- what message authentication costs Postfix: the same
# DKIM-signed 10 KiB message (RSA 2048, relaxed/relaxed, From: a domain
# with p=reject whose SPF lists the client) sent by smtp-source through
# one private Postfix on three listeners, interleaved over several rounds:
#   2527  no milter
#   2525  mxgate: the shipped default rules (limits raised) with SPF,
#         DKIM, DMARC and the Authentication-Results header
#   2528  Debian's opendkim + opendmarc doing the same checks (DKIM
#         verification and A-R; SPF self-validation, DMARC and A-R)
# Prints msg/s for each, their ratios to Postfix alone, and the milter
# CPU time per message (utime+stime of the milter processes from /proc
# over their runs, divided by the messages). DNS is warm: NSD in the
# namespace serves every record and the warm-up round fills the caches.
# mxgate logs to syslog (log = syslog), into the harness's syslog
# listener (lib.sh h_syslog: /dev/log in mxgate's private mount
# namespace), as a production install would: the syslog lines per message
# are counted over the timed rounds. After them, one more round of
# $MESSAGES with strace attached to mxgate (all threads) counts its
# system calls: writev (libmilter's replies to the MTA, one call each)
# and sendto (syslog lines); that round is not timed.
# Measures only: it asserts nothing.
#
#   tests/bench/bench_auth.sh [ROUNDS] [MESSAGES] [SESSIONS]
#
# Runs as root in the e2e harness (tests/e2e/lib.sh). Use an optimised
# build without sanitizers (MXGATE=...). Needs dkimpy (python3-dkim) to
# sign; the opendkim + opendmarc column needs the opendkim and opendmarc
# packages and is left out without them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_NAME=bench-auth
. "$here/../e2e/lib.sh"
rounds=${1:-3} msgs=${2:-2000} sess=${3:-20}
PY=/usr/bin/python3
command -v smtp-source >/dev/null || { echo "SKIP: no smtp-source (postfix)"; exit 77; }
$PY -c 'import dkim' 2>/dev/null || { echo "SKIP: no dkimpy (python3-dkim)"; exit 77; }
others=1
[[ -x /usr/sbin/opendkim && -x /usr/sbin/opendmarc ]] || others=0
h_setup

bench_rules "$H/rules/test.rules"

# the key, the zones, the signed message
bench_sender_zones
{
	printf 'From: News <news@sender.example>\nTo: <bench@rcpt.test>\nSubject: bench\n'
	printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <bench@sender.example>\n\n'
	for ((i = 0; i < 160; i++)); do
		printf 'line %03d of the benchmark message, signed with DKIM, 64 byt\n' "$i"
	done
} | $PY "$here/../e2e/dkimsign.py" sign "$H/keys/s1.key" rsa s1 sender.example |
	tr -d '\r' >"$H/message"

h_netns
h_dns
h_postfix_conf
bench_listen 2525 -o milter_macro_daemon_name=smtp
bench_listen 2527 -o smtpd_milters=
bench_listen 2528 -o smtpd_milters=inet:127.0.0.1:8891,inet:127.0.0.1:8893
bench_postfix_start
h_syslog
h_mxgate_conf "authserv_id = mx.bench.test" "log = syslog"
sed -i 's/^log = stderr$//' "$H/mxgate.conf"
h_mxgate_start

OKPID= ODPID= STRACEPID=
stop_others() {
	[[ -z $STRACEPID ]] || stop_pid "$STRACEPID" 5
	[[ -z $OKPID ]] || stop_pid "$OKPID" 5
	[[ -z $ODPID ]] || stop_pid "$ODPID" 5
}
trap 'stop_others; h_down' EXIT
if ((others)); then
	cat >"$H/opendkim.conf" <<EOF
Mode v
Socket inet:8891@127.0.0.1
AuthservID mx.bench.test
Nameservers 127.0.0.1
Syslog no
PidFile $H/run/opendkim.pid
EOF
	cat >"$H/opendmarc.conf" <<EOF
Socket inet:8893@127.0.0.1
AuthservID mx.bench.test
TrustedAuthservIDs mx.bench.test
SPFSelfValidate true
SPFIgnoreResults true
RejectFailures false
Syslog false
PidFile $H/run/opendmarc.pid
EOF
	(exec ip netns exec "$NS" /usr/sbin/opendkim -f -x "$H/opendkim.conf" \
	    >>"$H/log/opendkim.log" 2>&1) &
	OKPID=$!
	(exec ip netns exec "$NS" /usr/sbin/opendmarc -f -c "$H/opendmarc.conf" \
	    >>"$H/log/opendmarc.log" 2>&1) &
	ODPID=$!
	wait_until 10 nsx bash -c 'exec 3<>/dev/tcp/127.0.0.1/8891' || die "opendkim does not listen"
	wait_until 10 nsx bash -c 'exec 3<>/dev/tcp/127.0.0.1/8893' || die "opendmarc does not listen"
fi

ticks=$(getconf CLK_TCK)
# run PORT -- seconds (with decimals) to send $msgs messages
run() { bench_send "$1" -F "$H/message" -f bounce@sender.example; }
run 2527 >/dev/null
run 2525 >/dev/null
((others)) && run 2528 >/dev/null
t_none=0 t_mx=0 t_od=0 c_mx=0 c_od=0 l_mx=0
for ((i = 1; i <= rounds; i++)); do
	s=$(run 2527)
	l0=$(wc -l <"$H/log/syslog")
	c0=$(cpu_ticks "$MXPID"); w=$(run 2525); c1=$(cpu_ticks "$MXPID")
	sleep 0.5	# the last lines may trail the last message
	l_mx=$((l_mx + $(wc -l <"$H/log/syslog") - l0))
	c_mx=$((c_mx + c1 - c0))
	line=$(printf 'round %d: postfix alone %.0f msg/s, mxgate %.0f msg/s' "$i" \
	    "$(calc "$msgs / $s")" "$(calc "$msgs / $w")")
	t_none=$(calc "$t_none + $s") t_mx=$(calc "$t_mx + $w")
	if ((others)); then
		c0=$(cpu_ticks "$OKPID" "$ODPID"); o=$(run 2528); c1=$(cpu_ticks "$OKPID" "$ODPID")
		c_od=$((c_od + c1 - c0))
		t_od=$(calc "$t_od + $o")
		line+=$(printf ', opendkim+opendmarc %.0f msg/s' "$(calc "$msgs / $o")")
	fi
	echo "$line"
done
n=$((rounds * msgs))
printf 'message: %d bytes, DKIM rsa-sha256 2048 bits, relaxed/relaxed\n' "$(wc -c <"$H/message")"
printf 'postfix alone:        %.0f msg/s\n' "$(calc "$n / $t_none")"
printf 'mxgate:               %.0f msg/s (%.3f x postfix alone), CPU %.4f ms/msg\n' \
    "$(calc "$n / $t_mx")" "$(calc "$t_none / $t_mx")" "$(calc "$c_mx * 1000 / $ticks / $n")"
if ((others)); then
	printf 'opendkim+opendmarc:   %.0f msg/s (%.3f x postfix alone), CPU %.4f ms/msg\n' \
	    "$(calc "$n / $t_od")" "$(calc "$t_none / $t_od")" "$(calc "$c_od * 1000 / $ticks / $n")"
fi
printf 'mxgate syslog lines:  %.2f per message (%d over %d messages), %d at err or worse in all\n' \
    "$(calc "$l_mx / $n")" "$l_mx" "$n" \
    "$(awk 'match($0, /^<[0-9]+>/) && substr($0, 2, RLENGTH - 2) % 8 <= 3' "$H/log/syslog" | wc -l)"
# one untimed round under strace: mxgate's writev (libmilter's replies)
# and sendto (syslog) calls
if command -v strace >/dev/null; then
	strace -f -qq -c -e trace=writev,write,sendto,sendmsg -o "$H/log/strace" \
	    -p "$MXPID" &
	STRACEPID=$!
	sleep 1
	run 2525 >/dev/null
	sleep 0.5
	kill -INT "$STRACEPID" 2>/dev/null || true
	wait "$STRACEPID" 2>/dev/null || true
	STRACEPID=
	# strace -c: % time, seconds, usecs/call, calls, [errors,] syscall
	calls() { awk -v s="$1" '$NF == s { print $4 }' "$H/log/strace" | head -n1; }
	w=$(calls writev); t=$(calls sendto); o=$(calls write)
	printf 'mxgate system calls:  %.2f writev (milter replies), %.2f sendto (syslog), %.2f write per message (strace, %d messages)\n' \
	    "$(calc "${w:-0} / $msgs")" "$(calc "${t:-0} / $msgs")" "$(calc "${o:-0} / $msgs")" "$msgs"
else
	echo "mxgate system calls: no strace"
fi
# under p=reject, a message mxgate did not find DKIM- or SPF-aligned is deferred
echo "deferred by mxgate: $(grep -c 'action=tempfail' "$H/log/syslog" || true)"
stop_others
h_done
