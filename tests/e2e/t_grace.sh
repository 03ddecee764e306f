#!/usr/bin/env bash
# t_grace -- after the stop grace period (30 s, mxgate(8)) no session
# reads freed configuration: four SMTP sessions are held open
# mid-transaction (after RCPT, mxgate's milter connections open), mxgate
# gets SIGTERM, the grace period runs out with them open, and then the
# clients go on (more recipients, DATA, end of message) while mxgate
# stops. mxgate must exit 0 at once, saying it leaves the open sessions,
# and its log (this is the ASan/UBSan build of the suite) must hold no
# sanitizer report: nothing is freed while a session may still run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

cat >"$H/rules/test.rules" <<'RULES'
rule stamp at rcpt {
	if rcpt_domain is example.com
	tempfail 451 4.7.1 "${hostname} defers ${rcpt}"
}
rule note at eom {
	header "X-Grace" "checked by ${hostname}"
}
RULES
h_up

# client N -- a session that stalls after RCPT past the grace period,
# then sends a recipient every 0.1 s for 5 s, DATA and the message
client() {
	{
		echo "cmd EHLO client.test"
		echo "cmd MAIL FROM:<s$1@client.test>"
		echo "cmd RCPT TO:<held$1@rcpt.test>"
		echo "sleep $((31 + $1))"
		for i in $(seq 1 50); do
			echo "pipe RCPT TO:<r$i@example.com>"
			echo "sleep 0.1"
		done
		echo "read"
		echo "cmd DATA"
		echo "data Subject: held\\r\\n\\r\\nheld past the grace period"
		echo "cmd QUIT"
	} | smtp 127.0.0.1:2526 --bind "203.0.113.5$1" --timeout 60 >"$H/log/client$1.out"
}
for n in 1 2 3 4; do
	client "$n" &
	eval "CPID$n=\$!"
done
wait_until 15 test "$(cat "$H"/log/client*.out 2>/dev/null | grep -c '^<- 250 2\.1\.5')" -ge 4 || true
check "four sessions held open after RCPT" \
	test "$(cat "$H"/log/client*.out | grep -c '^<- 250 2\.1\.5')" -ge 4
kill -TERM "$MXPID"
t0=$SECONDS
wait_log "$H/log/mxgate.log" 'still open after' 40 || true
end=$((SECONDS + 20))
while alive "$MXPID" && ((SECONDS < end)); do sleep 0.1; done
t1=$SECONDS
check "mxgate exited after the grace period" bash -c "! kill -0 $MXPID 2>/dev/null"
MXRC=0
wait "$MXPID" || MXRC=$?
MXPID=
for n in 1 2 3 4; do
	eval "wait \$CPID$n" || true
done
note "mxgate exit status $MXRC, $((t1 - t0)) s after SIGTERM"
check_grep "the grace period ran out with the sessions open" \
	'stop: 4 connections still open after 30 s' "$(mxlog)"
check_grep "mxgate says it leaves the open sessions (frees nothing they use)" \
	'mxgate stopped; 4 connections still open: exiting without waiting' "$(mxlog)"
check_nogrep "no sanitizer report (use after free, leak, UB) in mxgate's log" \
	'AddressSanitizer|LeakSanitizer|runtime error|use-after|SEGV' "$(mxlog)"
check "mxgate exit status 0" test "$MXRC" -eq 0
h_done
