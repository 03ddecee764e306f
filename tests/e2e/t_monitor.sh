#!/usr/bin/env bash
# t_monitor -- `mode = monitor` logs would_tempfail and lets mail through;
# a per-rule `monitor` does the same for one rule while others enforce.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/test.rules" <<'RULES'
rule conn-watch at connect {
	if client_ip in { 203.0.113.52, 2001:db8::52 }
	tempfail 421 4.7.0 "Would close the connection."
}
rule watch at rcpt {
	if rcpt_domain is rcpt.test
	tempfail 451 4.7.1 "Would be deferred."
}
RULES
h_mxgate_conf "mode = monitor"
h_up

send() {	# SOURCE RCPT
	smtp 127.0.0.1:2525 --bind "$1" <<S
cmd EHLO client.test
cmd MAIL FROM:<m@client.test>
cmd RCPT TO:<$2>
cmd DATA
data Subject: m\r\n\r\nmonitor
cmd QUIT
S
}
out=$(send 203.0.113.50 mon1@rcpt.test)
check_grep "monitor mode: recipient accepted" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "monitor mode: delivered, decided by mxgate" mon1@rcpt.test
check_grep "monitor mode: logged would_tempfail with the reply" \
	'rule=watch stage=rcpt action=would_tempfail reply="451 4\.7\.1 Would be deferred\. \(ref [0-9A-Z]{12}\)"' "$(mxlog)"

# a connect-stage 421 in monitor mode: nothing is refused or closed
out=$(send 203.0.113.52 mon3@rcpt.test)
check_grep "monitor mode, connect rule: EHLO accepted" '^250 ' "$(reply_to "$out" EHLO)"
check_grep "monitor mode, connect rule: message queued" '^<- 250 2\.0\.0 Ok: queued' "$out"
check_decided "monitor mode, connect rule: delivered, decided by mxgate" mon3@rcpt.test
check_grep "monitor mode, connect rule: logged would_tempfail" \
	'rule=conn-watch stage=connect action=would_tempfail reply="421 4\.7\.0 Would close the connection\. \(ref [0-9A-Z]{12}\)" client=[^ ]*\[203\.0\.113\.52\]' "$(mxlog)"
check_nogrep "monitor mode: no enforcing action logged" 'action=(tempfail|reject)' "$(mxlog)"

h_mxgate_stop
cat >"$H/rules/test.rules" <<'RULES'
rule watch at rcpt monitor {
	if rcpt_domain is rcpt.test
	tempfail 451 4.7.1 "Would be deferred."
}
rule enforce at rcpt {
	if rcpt =~ "^block"
	tempfail 451 4.7.1 "Deferred."
}
RULES
h_mxgate_conf
h_mxgate_start
out=$(send 203.0.113.51 mon2@rcpt.test)
check_grep "per-rule monitor: recipient accepted" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "per-rule monitor: delivered, decided by mxgate" mon2@rcpt.test
check_grep "per-rule monitor: logged would_tempfail" 'rcpt=<mon2@rcpt\.test>' \
	"$(grep 'action=would_tempfail' "$H/log/mxgate.log")"
out=$(send 203.0.113.51 block@rcpt.test)
check_reply "other rules still enforce" 451 4.7.1 "$(reply_to "$out" RCPT)" '^Deferred\.'
check_alive "mxgate still running"
h_done
