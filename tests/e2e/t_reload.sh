#!/usr/bin/env bash
# t_reload -- SIGHUP with a broken rules file keeps the old rules and logs
# every error; SIGUSR1 and SIGHUP with a valid file take effect for new
# connections (one in flight keeps its rules); counters survive.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
rules_v() {	# VERSION -- the same limit, a versioned text
	cat >"$H/rules/test.rules" <<RULES
limit per_ip { count messages; key client_ip; rate 1/1h }
rule one-an-hour at mail {
	if limit per_ip exceeded
	tempfail 451 4.7.0 "$1: one message an hour from \${client_ip}; retry in \${retry_after} s."
}
RULES
}
rules_v v1
h_up

msg() {	# RCPT -- one message from 203.0.113.40; prints smtpc output
	smtp 127.0.0.1:2525 --bind 203.0.113.40 <<S
cmd EHLO client.test
cmd MAIL FROM:<r@client.test>
cmd RCPT TO:<$1>
cmd DATA
data Subject: r\r\n\r\nreload
cmd QUIT
S
}

out=$(msg m1@rcpt.test)
check_grep "first message accepted" '^<- 250 2\.0\.0 Ok: queued' "$out"
check_decided "first message delivered, decided by mxgate" m1@rcpt.test
out=$(msg m2@rcpt.test)
check_reply "second message deferred (v1)" 451 4.7.0 "$(reply_to "$out" MAIL)" '^v1: '

cat >"$H/rules/test.rules" <<'RULES'
limit per_ip { count messages; key client_ip; rate 1/1h }
rule broken at mail {
	if nosuchfact is x
	tempfail 451 5.7.0 "broken"
}
RULES
kill -HUP "$MXPID"
wait_log "$H/log/mxgate.log" 'reload: .* 2 errors; the old rules stay in force' || true
check_grep "broken reload: refused and logged" 'reload: .*test\.rules has 2 errors; the old rules stay in force' "$(mxlog)"
check_grep "broken reload: errors with file:line:col" 'test\.rules:3:5: error: unknown fact' "$(mxlog)"
check_grep "broken reload: every error is logged" 'test\.rules:4:15: error: .*5\.7\.0' "$(mxlog)"
check_alive "mxgate survived SIGHUP"
out=$(msg m3@rcpt.test)
check_reply "old rules still in force" 451 4.7.0 "$(reply_to "$out" MAIL)" '^v1: '

rules_v v2
cat >>"$H/rules/test.rules" <<'RULES'
rule new-rule at rcpt {
	if rcpt_domain is new.rcpt.test
	tempfail 451 4.7.1 "new rule"
}
RULES
kill -USR1 "$MXPID"
wait_log "$H/log/mxgate.log" 'reload: ok' || true
check_grep "valid reload: ok" 'reload: ok: .*2 rules \(mail 1, rcpt 1\)' "$(mxlog)"
out=$(msg m4@rcpt.test)
check_reply "counter survived the reload (v2 text)" 451 4.7.0 "$(reply_to "$out" MAIL)" '^v2: one message an hour from 203\.0\.113\.40'
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.41 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<r@client.test>
cmd RCPT TO:<x@new.rcpt.test>
cmd QUIT
S
)
check_reply "the new rule is in force" 451 4.7.1 "$(reply_to "$out" "RCPT")" 'new rule'

# SIGHUP with a valid file while a connection is open: that connection
# finishes on the rules it started with, new ones get the new rules
smtp 127.0.0.1:2525 --bind 203.0.113.40 >"$H/inflight.out" <<'S' &
cmd EHLO client.test
sleep 3
cmd MAIL FROM:<r@client.test>
cmd QUIT
S
inflight=$!
wait_log "$H/inflight.out" '^<- 250 ' 10 || true
rules_v v3
kill -HUP "$MXPID"
wait_until 10 test "$(grep -c 'reload: ok' "$H/log/mxgate.log")" -ge 2 || true
check "valid SIGHUP reload: ok" test "$(grep -c 'reload: ok' "$H/log/mxgate.log")" -ge 2
out=$(msg m5@rcpt.test)
check_reply "SIGHUP: the changed rules are in force (v3), counter kept" 451 4.7.0 \
	"$(reply_to "$out" MAIL)" '^v3: one message an hour from 203\.0\.113\.40'
wait "$inflight" || true
out=$(cat "$H/inflight.out")
check_reply "a connection open during the reload keeps its rules (v2)" 451 4.7.0 \
	"$(reply_to "$out" MAIL)" '^v2: '
check_alive "mxgate still running"
h_mxgate_stop
check "SIGTERM: exit status 0" test "$MXRC" = 0
check "SIGTERM: pid file removed" test ! -e "$H/run/mxgate.pid"
check_grep "SIGTERM: stop logged" 'mxgate stopped' "$(mxlog)"
h_done
