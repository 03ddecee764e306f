#!/usr/bin/env bash
# t_changed -- a rules file whose content is not what its size said (here
# an include of a procfs file: size 0, content "Linux") is an error, never
# a partial load: `mxgate -n` refuses it with "changed while being read"
# and exit 78, and a reload (SIGHUP) to it keeps the old rules in force.
# (tests/unit/test_rules: test_changed_while_read covers files that grow,
# shrink or are replaced while read, for rules, includes, lists, tables.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

cat >"$H/rules/test.rules" <<'RULES'
rule blocked at rcpt {
	if rcpt_domain is example.com
	tempfail 451 4.7.1 "old rules: example.com is deferred"
}
RULES
h_up

send() {	# RCPT
	smtp 127.0.0.1:2526 --bind 203.0.113.40 <<S
cmd EHLO client.test
cmd MAIL FROM:<s@client.test>
cmd RCPT TO:<$1>
cmd QUIT
S
}

out=$(send a@example.com)
check_reply "old rules in force" 451 4.7.1 "$(reply_to "$out" RCPT)" 'old rules'

# the new rules drop the rule, and include a file whose size lies
cat >"$H/rules/test.rules" <<'RULES'
include "/proc/sys/kernel/ostype"
rule note at rcpt {
	log "new rules"
}
RULES
rc=0
nout=$("$MXGATE" -n -c "$H/mxgate.conf" 2>&1) || rc=$?
check "mxgate -n refuses it (exit 78)" test "$rc" -eq 78
check_grep "mxgate -n names the file that changed" \
	'^/proc/sys/kernel/ostype: error: changed while being read' "$nout"

kill -HUP "$MXPID"
wait_log "$H/log/mxgate.log" 'reload: .*the old rules stay in force' 10 || true
check_grep "reload refused: logged" 'reload: .* has 1 error; the old rules stay in force' "$(mxlog)"
check_grep "reload refused: the file that changed is named" \
	'/proc/sys/kernel/ostype: error: changed while being read' "$(mxlog)"
out=$(send b@example.com)
check_reply "after the refused reload the old rules are still in force" 451 4.7.1 \
	"$(reply_to "$out" RCPT)" 'old rules'
check_alive "mxgate still running"
h_done
