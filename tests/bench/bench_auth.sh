#!/usr/bin/env bash
# bench_auth.sh -- what message authentication costs Postfix: the same
# DKIM-signed 10 KiB message (RSA 2048, relaxed/relaxed, From: a domain
# with p=reject whose SPF lists the client) sent by smtp-source through
# one private Postfix on four listeners, interleaved over several rounds:
#   2527  no milter (Postfix alone)
#   2525  mxgate: the shipped default rules (limits raised): SPF, DKIM,
#         DMARC, one DNS list (zen.spamhaus.org), two limits (connection
#         rate and open connections per /24), the Authentication-Results
#         header; memory store
#   2528  Debian's opendkim + opendmarc doing what they can of the same
#         (DKIM verification and A-R; SPF self-validation, DMARC and A-R):
#         no DNS list, no rate limit
#   2530  Debian's rspamd as a milter (rspamd_proxy, milter = yes, scanning
#         itself) with only its spf, dkim, dmarc, rbl (one list:
#         zen.spamhaus.org, the client address) and ratelimit (two limits
#         on the client address, in the harness's Redis) modules; its
#         configuration is written by rspamd_conf.sh beside this file
# Every limit is far above what the bench sends; the client (203.0.113.1)
# is not listed, but every filter with a DNS list looks it up. DNS is
# NSD in the namespace, the only name server any filter asks; the warm-up
# round fills the caches (mxgate's; rspamd caches SPF and DKIM records,
# not its other DNS answers).
#
# Prints msg/s for each, their ratios to Postfix alone, the filter's CPU
# time per message (utime+stime from /proc of the filter's processes, all
# threads, over the timed rounds, divided by the messages; Redis's own CPU
# for rspamd's limits is printed beside it) and, from one more untimed
# round per filter with `strace -f -c` attached to its processes, its
# system calls per message; then the same as a Markdown table and the
# ratio of mxgate's CPU per message to rspamd's.
# mxgate logs to syslog (log = syslog), into the harness's syslog
# listener (lib.sh h_syslog: /dev/log in mxgate's private mount
# namespace), as a production install would: its syslog lines per message
# are counted over the timed rounds, its writev (libmilter's replies, one
# call each), sendto (syslog) and write calls over the strace round.
#
# What shows that each filter did its checks (listener milters run with
# milter_default_action = tempfail: a filter that fails defers instead of
# passing mail): per listener, the messages delivered and refused (from
# the maillog: each listener logs as postfix/NAME), the
# Authentication-Results headers that mxgate and opendkim + opendmarc
# added (as the maillog shows them, cut short by Postfix) and, for
# rspamd, which adds no header (milter_headers is not among its five
# modules), its log: SPF, DKIM and DMARC symbols per scanned message, DNS
# requests per message, its rate-limit buckets in Redis and the Redis
# scripts it ran per message. Last, one message from 203.0.113.66, an
# address the list does name, through mxgate and rspamd: mxgate refuses it
# (451 at RCPT), rspamd's log shows the list's symbol.
# Measures only: it asserts nothing.
#
#   tests/bench/bench_auth.sh [ROUNDS] [MESSAGES] [SESSIONS]
#
# Runs as root in the e2e harness (tests/e2e/lib.sh). Use an optimised
# build without sanitizers (MXGATE=...). Needs dkimpy (python3-dkim) to
# sign; the opendkim + opendmarc column needs the opendkim and opendmarc
# packages, the rspamd column the rspamd and redis-server packages; each
# is left out (said so) without them (RSPAMD: the rspamd binary, default
# /usr/bin/rspamd). rspamd's first start compiles the
# public suffix list into a Hyperscan database (about a minute); the bench
# keeps it in $RSPAMD_HS_CACHE (default /var/cache/mxgate-bench/rspamd,
# the one thing it leaves behind) for the next runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_NAME=bench-auth
. "$here/../e2e/lib.sh"
. "$here/rspamd_conf.sh"
rounds=${1:-3} msgs=${2:-2000} sess=${3:-20}
# rspamd's compiled Hyperscan databases, kept between runs (as an
# installed rspamd keeps them in /var/lib/rspamd)
RSPAMD_HS_CACHE=${RSPAMD_HS_CACHE:-/var/cache/mxgate-bench/rspamd}
PY=/usr/bin/python3
command -v smtp-source >/dev/null || { echo "SKIP: no smtp-source (postfix)"; exit 77; }
$PY -c 'import dkim' 2>/dev/null || { echo "SKIP: no dkimpy (python3-dkim)"; exit 77; }
others=1 rsp=1
[[ -x /usr/sbin/opendkim && -x /usr/sbin/opendmarc ]] || others=0
RSPAMD=${RSPAMD:-/usr/bin/rspamd}
[[ -x $RSPAMD ]] && command -v redis-server >/dev/null || rsp=0
((others)) || echo "opendkim + opendmarc: not installed (packages opendkim, opendmarc), column left out"
((rsp)) || echo "rspamd: not installed (packages rspamd, redis-server), column left out"
h_setup

bench_rules "$H/rules/test.rules"

# the key, the zones, the signed message; the list names one address,
# 203.0.113.66 (the probe at the end), never the bench's client
bench_sender_zones
echo '66.113.0.203 A 127.0.0.2' >>"$H/dns/zen.spamhaus.org.zone"
{
	printf 'From: News <news@sender.example>\nTo: <bench@rcpt.test>\nSubject: bench\n'
	printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <bench@sender.example>\n\n'
	for ((i = 0; i < 160; i++)); do
		printf 'line %03d of the benchmark message, signed with DKIM, 64 byt\n' "$i"
	done
} | $PY "$here/../e2e/dkimsign.py" sign "$H/keys/s1.key" rsa s1 sender.example |
	tr -d '\r' >"$H/message"

# the columns: listener port, maillog name (syslog_name postfix/NAME),
# label; pids are the filter's processes (filled in as each starts)
cols=(alone mxgate)
((others)) && cols+=(od)
((rsp)) && cols+=(rspamd)
declare -A port=([alone]=2527 [mxgate]=2525 [od]=2528 [rspamd]=2530)
declare -A label=([alone]="Postfix alone" [mxgate]="mxgate"
    [od]="opendkim + opendmarc (no DNS list, no rate limits)" [rspamd]="rspamd")
declare -A short=([alone]="postfix alone" [mxgate]="mxgate" [od]="opendkim+opendmarc"
    [rspamd]="rspamd")
declare -A pids=([alone]="" [mxgate]="" [od]="" [rspamd]="")

h_netns
h_dns
h_postfix_conf
bench_listen 2525 -o milter_macro_daemon_name=smtp -o syslog_name=postfix/mxgate
bench_listen 2527 -o smtpd_milters= -o syslog_name=postfix/alone
bench_listen 2528 -o smtpd_milters=inet:127.0.0.1:8891,inet:127.0.0.1:8893 -o syslog_name=postfix/od
bench_listen 2530 -o smtpd_milters=inet:127.0.0.1:11332 -o syslog_name=postfix/rspamd
bench_postfix_start
h_syslog
h_mxgate_conf "authserv_id = mx.bench.test" "log = syslog"
sed -i 's/^log = stderr$//' "$H/mxgate.conf"
h_mxgate_start
pids[mxgate]=$MXPID

OKPID='' ODPID='' RSPID='' STRACEPID=''
stop_others() {
	[[ -z $STRACEPID ]] || stop_pid "$STRACEPID" 5
	[[ -z $OKPID ]] || stop_pid "$OKPID" 5
	[[ -z $ODPID ]] || stop_pid "$ODPID" 15
	# rspamd's main process stops its workers and waits for them
	[[ -z $RSPID ]] || stop_pid "$RSPID" 15
	STRACEPID='' OKPID='' ODPID='' RSPID=''
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
	pids[od]="$OKPID $ODPID"
fi
REDISPID=
if ((rsp)); then
	h_redis
	REDISPID=$(pid_of "$H/run/redis.pid")
	label[rspamd]="rspamd $("$RSPAMD" --version | awk '{ print $NF }') (spf, dkim, dmarc, rbl, ratelimit; Redis)"
	# one proxy process per core: each is one event loop
	rspamd_conf "$H/rspamd" 127.0.0.1:53 127.0.0.1:6390 127.0.0.1:11332 "$(nproc)" "$RSPAMD_HS_CACHE"
	(exec ip netns exec "$NS" "$RSPAMD" -f -u _rspamd -g _rspamd -c "$H/rspamd/rspamd.conf" \
	    </dev/null >>"$H/log/rspamd.out" 2>&1) &
	RSPID=$!
	# the first start compiles the public suffix list (about a minute)
	wait_until 300 nsx bash -c 'exec 3<>/dev/tcp/127.0.0.1/11332' ||
		die "rspamd does not listen: $(tail -n 5 "$H/rspamd/log/rspamd.log" "$H/log/rspamd.out" 2>/dev/null | tr '\n' '|')"
	# its main process and the workers it forked (they stay for the run)
	wait_until 30 test "$(pgrep -c -P "$RSPID" -f rspamd_proxy)" -ge "$(nproc)" ||
		die "rspamd started no workers: $(tail -n 5 "$H/rspamd/log/rspamd.log" | tr '\n' '|')"
	pids[rspamd]="$RSPID $(pgrep -P "$RSPID" | tr '\n' ' ')"
fi

ticks=$(getconf CLK_TCK)
# run PORT -- seconds (with decimals) to send $msgs messages
run() { bench_send "$1" -F "$H/message" -f bounce@sender.example; }
# warm-up round (caches, Postfix's processes)
for c in "${cols[@]}"; do run "${port[$c]}" >/dev/null; done
declare -A secs cpu
for c in "${cols[@]}"; do secs[$c]=0 cpu[$c]=0; done
l_mx=0 c_redis=0
for ((i = 1; i <= rounds; i++)); do
	line="round $i:"
	for c in "${cols[@]}"; do
		l0=$(wc -l <"$H/log/syslog")
		r0=0
		[[ $c == rspamd ]] && r0=$(cpu_ticks "$REDISPID")
		# shellcheck disable=SC2086 # a list of pids
		c0=$(cpu_ticks ${pids[$c]}); s=$(run "${port[$c]}"); c1=$(cpu_ticks ${pids[$c]})
		cpu[$c]=$((cpu[$c] + c1 - c0))
		secs[$c]=$(calc "${secs[$c]} + $s")
		if [[ $c == rspamd ]]; then
			c_redis=$((c_redis + $(cpu_ticks "$REDISPID") - r0))
		fi
		if [[ $c == mxgate ]]; then
			sleep 0.5	# the last lines may trail the last message
			l_mx=$((l_mx + $(wc -l <"$H/log/syslog") - l0))
		fi
		line+=$(printf ' %s %.0f msg/s,' "${short[$c]}" "$(calc "$msgs / $s")")
	done
	echo "${line%,}"
done
n=$((rounds * msgs))
for c in "${cols[@]}"; do
	for p in ${pids[$c]}; do
		alive "$p" || echo "note: process $p of $c ended during the run: its CPU is undercounted"
	done
done

# msg NAME -- msg/s of column NAME; ratio NAME -- its msg/s / Postfix alone's
msgps() { calc "$n / ${secs[$1]}"; }
ratio() { calc "${secs[alone]} / ${secs[$1]}"; }
# cpums NAME -- the filter's CPU per message, in ms
cpums() { calc "${cpu[$1]} * 1000 / $ticks / $n"; }
printf 'message: %d bytes, DKIM rsa-sha256 2048 bits, relaxed/relaxed; %d rounds of %d messages, %d sessions\n' \
    "$(wc -c <"$H/message")" "$rounds" "$msgs" "$sess"
printf 'postfix alone:        %.0f msg/s\n' "$(msgps alone)"
printf 'mxgate:               %.0f msg/s (%.3f x postfix alone), CPU %.4f ms/msg\n' \
    "$(msgps mxgate)" "$(ratio mxgate)" "$(cpums mxgate)"
if ((others)); then
	printf 'opendkim+opendmarc:   %.0f msg/s (%.3f x postfix alone), CPU %.4f ms/msg\n' \
	    "$(msgps od)" "$(ratio od)" "$(cpums od)"
fi
if ((rsp)); then
	printf 'rspamd:               %.0f msg/s (%.3f x postfix alone), CPU %.4f ms/msg (%d processes), Redis %.4f ms/msg more\n' \
	    "$(msgps rspamd)" "$(ratio rspamd)" "$(cpums rspamd)" "$(wc -w <<<"${pids[rspamd]}")" \
	    "$(calc "$c_redis * 1000 / $ticks / $n")"
fi
printf 'mxgate syslog lines:  %.2f per message (%d over %d messages), %d at err or worse in all\n' \
    "$(calc "$l_mx / $n")" "$l_mx" "$n" \
    "$(awk 'match($0, /^<[0-9]+>/) && substr($0, 2, RLENGTH - 2) % 8 <= 3' "$H/log/syslog" | wc -l)"

# one untimed round per filter under strace -f -c (every system call of
# every thread of its processes); the summary in $H/log/strace.NAME
declare -A sys
have_strace=0
command -v strace >/dev/null && have_strace=1
# calls NAME SYSCALL -- how many SYSCALL the strace summary of NAME counted
# (strace -c: % time, seconds, usecs/call, calls, [errors,] syscall)
calls() { awk -v s="$2" '$NF == s { print $4 }' "$H/log/strace.$1" | head -n1; }
# top NAME -- its five most frequent system calls, per message
top() {
	awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { print $4, $NF }' "$H/log/strace.$1" |
	    sort -rn | head -n5 |
	    awk -v m="$msgs" '{ printf "%s%s %.1f", (NR > 1 ? ", " : ""), $2, $1 / m }'
}
for c in "${cols[@]}"; do
	[[ $c != alone ]] && ((have_strace)) || continue
	args=()
	for p in ${pids[$c]}; do args+=(-p "$p"); done
	strace -f -qq -c -o "$H/log/strace.$c" "${args[@]}" &
	STRACEPID=$!
	sleep 1
	run "${port[$c]}" >/dev/null
	sleep 0.5
	kill -INT "$STRACEPID" 2>/dev/null || true
	wait "$STRACEPID" 2>/dev/null || true
	STRACEPID=
	sys[$c]=$(calc "$(calls "$c" total || true) / $msgs")
	printf '%-21s %.0f system calls per message (strace, %d messages): %s\n' "${short[$c]}:" \
	    "${sys[$c]}" "$msgs" "$(top "$c")"
done
if ((have_strace)); then
	w=$(calls mxgate writev) t=$(calls mxgate sendto) o=$(calls mxgate write)
	printf 'mxgate system calls:  %.2f writev (milter replies), %.2f sendto (syslog), %.2f write per message\n' \
	    "$(calc "${w:-0} / $msgs")" "$(calc "${t:-0} / $msgs")" "$(calc "${o:-0} / $msgs")"
else
	echo "system calls: no strace"
fi

# did they check? (delivered/refused: messages of all rounds, the
# warm-up and strace rounds included) Each listener logs as postfix/NAME: its queue ids map
# the delivery lines (status=sent) and the headers a milter added
# (milter-header-warning, logged by cleanup) to the listener
awk '
	match($0, / postfix\/[a-z]+\/smtpd\[[0-9]+\]: [0-9A-Za-z]+: client=/) {
		split(substr($0, RSTART + 9), a, /[\/: ]+/)
		own[a[3]] = a[1]
	}
	match($0, / postfix\/[a-z]+\/smtpd\[[0-9]+\]: .*reject: /) {
		split(substr($0, RSTART + 9), a, "/")
		ref[a[1]]++
	}
	/ status=sent / && match($0, / [0-9A-Za-z]+: to=</) {
		q = substr($0, RSTART + 1, RLENGTH - 7)
		if (q in own) dlv[own[q]]++
	}
	/: milter-header-warning: header Authentication-Results: / &&
	    match($0, / [0-9A-Za-z]+: milter-header-warning:/) {
		q = substr($0, RSTART + 1, RLENGTH - 25)
		if (q in own) ar[own[q]]++
	}
	END {
		for (l in own) seen[own[l]] = 1
		for (l in seen) printf "%s %d %d %d\n", l, dlv[l], ref[l], ar[l]
	}' "$H/log/maillog" >"$H/log/checked"
for c in "${cols[@]}"; do
	sent=$(((rounds + 1) * msgs))
	[[ $c != alone ]] && ((have_strace)) && sent=$((sent + msgs))
	read -r _ d r a < <(grep "^$c " "$H/log/checked" || echo "$c 0 0 0")
	line=$(printf '%-21s %d of %d sent delivered, %d refused' "${short[$c]}:" "$d" "$sent" "$r")
	[[ $c == mxgate || $c == od ]] && line+="; $a Authentication-Results headers added"
	if [[ $c == rspamd ]]; then
		# one log line per scanned message: "(default: ...) [SYMBOLS]" ... "dns req: N"
		line+=$(awk '
			/\(default: / { n++
				if (/R_SPF_ALLOW/) s++; if (/R_DKIM_ALLOW/) k++; if (/DMARC_POLICY_ALLOW/) d++
				if (match($0, /dns req: [0-9]+/)) q += substr($0, RSTART + 9, RLENGTH - 9)
			}
			END { printf "; its log: %d scanned, R_SPF_ALLOW %d, R_DKIM_ALLOW %d, DMARC_POLICY_ALLOW %d, %.1f DNS requests per message",
			    n, s, k, d, (n ? q / n : 0) }' "$H/rspamd/log/rspamd.log")
		buckets=$(nsx redis-cli -p 6390 --scan --pattern 'RL*' | wc -l)
		evals=$(nsx redis-cli -p 6390 info commandstats |
		    awk -F'[=,:]' '/^cmdstat_evalsha:/ { print $3 }' | tr -d '\r')
		line+=$(printf '; %d rate-limit buckets in Redis, %.1f Redis scripts per message' \
		    "$buckets" "$(calc "${evals:-0} / $sent")")
	fi
	echo "$line"
done
# under p=reject, a message mxgate did not find DKIM- or SPF-aligned is deferred
echo "deferred by mxgate: $(grep -c 'action=tempfail' "$H/log/syslog" || true)"

# send PORT SOURCE RCPT -- the signed message from SOURCE to RCPT through
# the listener PORT; the client's output (smtpc)
send() {
	{
		echo "cmd EHLO probe.sender.example"
		echo "cmd MAIL FROM:<bounce@sender.example>"
		echo "cmd RCPT TO:<$3>"
		echo "cmd DATA"
		printf 'data %s\n' "$(awk '{ printf "%s\\n", $0 }' "$H/message")"
		echo "cmd QUIT"
	} | smtp "203.0.113.1:$1" --bind "$2"
}
# the whole headers the milters added, which the maillog cuts short: one
# message each to hold-*@ (kept in the hold queue, headers as delivered)
for c in mxgate od; do
	[[ " ${cols[*]} " == *" $c "* ]] || continue
	qid=$(queued_as "$(send "${port[$c]}" 203.0.113.1 hold-check@rcpt.test)")
	held_headers "$qid" | awk '
		/^[ \t]/ { h = h " " $0; next }
		{ if (h ~ /^Authentication-Results:/) print h; h = $0 }
		END { if (h ~ /^Authentication-Results:/) print h }' |
	    sed -E 's/[ \t]+/ /g; s/(b=[A-Za-z0-9+\/]{8})[A-Za-z0-9+\/=]*/\1.../g' |
	    cut -c1-300 | sed "s/^/held by ${short[$c]}: /"
done
# the DNS list lookup happens: a client the list names (203.0.113.66)
out=$(send 2525 203.0.113.66 probe@rcpt.test)
echo "DNS list probe, mxgate: $(reply_to "$out" 'RCPT' | head -n1 | cut -c1-70)..."
if ((rsp)); then
	send 2530 203.0.113.66 probe@rcpt.test >/dev/null
	sleep 0.5
	probe=$(grep 'ip: 203.0.113.66' "$H/rspamd/log/rspamd.log" | tail -n1)
	echo "DNS list probe, rspamd: $(grep -oE 'RBL_ZEN[A-Z_]*\([^)]*\)(\{[^}]*\})?' <<<"$probe" ||
	    echo "no RBL_ZEN symbol"), action: $(grep -oE '\(default: [A-Z] \([a-z ]+\)' <<<"$probe" |
	    sed -E 's/.*\(([a-z ]+)\)$/\1/' || true)"
fi

# the table
dash=$'\u2013'
echo
echo '| | msg/s | × Postfix alone | filter CPU per message | syscalls per message |'
echo '|---|---:|---:|---:|---:|'
for c in "${cols[@]}"; do
	if [[ $c == alone ]]; then
		printf '| %s | %.0f | 1.00 | %s | %s |\n' "${label[$c]}" "$(msgps alone)" "$dash" "$dash"
		continue
	fi
	printf '| %s | %.0f | %.2f | %.2f ms | %s |\n' "${label[$c]}" "$(msgps "$c")" \
	    "$(ratio "$c")" "$(cpums "$c")" \
	    "$( [[ -n ${sys[$c]:-} ]] && printf '%.0f' "${sys[$c]}" || echo "$dash")"
done
echo
if ((rsp)) && ((cpu[rspamd] > 0)); then
	printf 'mxgate CPU/msg ÷ rspamd CPU/msg: %.2f (rspamd with Redis: %.2f)\n' \
	    "$(calc "${cpu[mxgate]} / ${cpu[rspamd]}")" \
	    "$(calc "${cpu[mxgate]} / (${cpu[rspamd]} + $c_redis)")"
else
	echo "mxgate CPU/msg ÷ rspamd CPU/msg: $dash (no rspamd column)"
fi
stop_others
h_done
