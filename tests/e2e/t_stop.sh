#!/usr/bin/env bash
# t_stop -- mxgate stopped while Postfix runs: mail follows
# milter_default_action (accept on :2525, tempfail on :2526).
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
h_mxgate_stop
check "stopped cleanly (exit 0)" test "$MXRC" = 0
check "pid file removed" test ! -e "$H/run/mxgate.pid"
out=$(send 2525 after@rcpt.test)
check_grep "stopped, default_action=accept: recipient accepted" '^250 ' "$(reply_to "$out" RCPT)"
check "stopped, default_action=accept: delivered" delivered after@rcpt.test
out=$(send 2526 after2@rcpt.test)
check_grep "stopped, default_action=tempfail: 4xx" '^<- 4[0-9][0-9] ' "$out"
check_nogrep "stopped, default_action=tempfail: nothing queued" 'Ok: queued' "$out"
h_done
