#!/usr/bin/env bash
# t_stop -- mxgate stopped while Postfix runs: mail follows
# milter_default_action: tempfail on :2525 and :2526 (the suite's
# default), accept on :2529 (the one listener set so, for this test); SIGTERM
# lets a connection in flight finish, then mxgate exits 0 and removes its
# pid file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/test.rules" <<'RULES'
rule all at rcpt {
	tempfail 451 4.7.1 "Everything is deferred."
}
RULES
h_up
send() {	# PORT RCPT
	smtp "127.0.0.1:$1" --bind 203.0.113.60 <<S
cmd EHLO client.test
cmd MAIL FROM:<s@client.test>
cmd RCPT TO:<$2>
cmd DATA
data Subject: s\r\n\r\nstop
cmd QUIT
S
}
out=$(send 2525 before@rcpt.test)
check_reply "running: tailored 451" 451 4.7.1 "$(reply_to "$out" RCPT)" 'Everything is deferred'
check "pid file names the running mxgate" test "$(pid_of "$H/run/mxgate.pid")" = "$MXPID"

# SIGTERM while a connection is in flight: that connection is still
# served (its RCPT gets the tailored reply), then mxgate exits 0
smtp 127.0.0.1:2525 --bind 203.0.113.61 >"$H/inflight.out" <<'S' &
cmd EHLO client.test
cmd MAIL FROM:<s@client.test>
sleep 2
cmd RCPT TO:<inflight@rcpt.test>
cmd QUIT
S
inflight=$!
wait_log "$H/inflight.out" '^<- 250 2\.1\.0' 10 || true
h_mxgate_stop
wait "$inflight" || true
out=$(cat "$H/inflight.out")
check_reply "in flight at SIGTERM: still served" 451 4.7.1 "$(reply_to "$out" RCPT)" 'Everything is deferred'
check "stopped cleanly (exit 0)" test "$MXRC" = 0
check "pid file removed" test ! -e "$H/run/mxgate.pid"
check_grep "stop logged with the connection in flight" 'stop: signal 15, waiting for 1 connection$' "$(mxlog)"
check_grep "stopped logged" 'mxgate stopped$' "$(mxlog)"
out=$(send 2529 after@rcpt.test)
check_grep "stopped, default_action=accept (:2529): recipient accepted" '^250 ' "$(reply_to "$out" RCPT)"
check "stopped, default_action=accept (:2529): delivered" delivered after@rcpt.test
check_nogrep "stopped, default_action=accept (:2529): no header from mxgate" \
	'milter-header-warning' "$(maillog)"
for port in 2525 2526; do
	out=$(send $port "after-$port@rcpt.test")
	check_grep "stopped, default_action=tempfail (:$port): 4xx" '^<- 4[0-9][0-9] ' "$out"
	check_nogrep "stopped, default_action=tempfail (:$port): nothing queued" 'Ok: queued' "$out"
done
h_done
