#!/usr/bin/env bash
# t_message -- decisions within one SMTP session: a per-recipient 451
# that leaves the other recipients delivered; two messages on one
# connection where only the first is deferred; a header action.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/test.rules" <<'RULES'
footer "Questions? Write to postmaster@e2e.test."
rule blocked-domain at rcpt {
	if rcpt_domain is blocked.rcpt.test
	tempfail 451 4.7.1 "Mail to ${rcpt_domain} is paused; please retry later."
}
rule first-only at mail {
	if mail_from =~ "^defer-"
	tempfail 451 4.7.0 "Sender ${mail_from} is deferred for a while."
}
rule note-size at eom {
	log "checked ${size} bytes from ${mail_from}"
}
RULES
h_up

out=$(smtp 127.0.0.1:2525 --bind 203.0.113.20 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<alice@client.test>
cmd RCPT TO:<one@rcpt.test>
cmd RCPT TO:<two@blocked.rcpt.test>
cmd RCPT TO:<three@rcpt.test>
cmd DATA
data Subject: t\r\n\r\nhello
cmd QUIT
S
)
r=$(reply_to "$out" "RCPT TO:<two@")
check_reply "blocked recipient: tailored 451" 451 4.7.1 "$r" \
	'Mail to blocked\.rcpt\.test is paused; please retry later\. \(ref [0-9A-Z]{12}\)'
check_grep "footer is the last line" '^451 4\.7\.1 Questions\? Write to postmaster@e2e\.test\.$' "$r"
check_grep "first recipient accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<one@")"
check_grep "third recipient accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<three@")"
check_grep "message accepted" '^<- 250 2\.0\.0 Ok: queued' "$out"
check "one@ delivered" delivered one@rcpt.test
check "three@ delivered" delivered three@rcpt.test
check_nogrep "two@ not delivered" 'to=<two@blocked.*status=sent' "$(maillog)"
check_logref "rcpt log line" "$(ref_of "$r")" \
	'stage=rcpt action=tempfail .*from=<alice@client\.test> rcpt=<two@blocked\.rcpt\.test>'

out=$(smtp 127.0.0.1:2525 --bind 203.0.113.21 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<defer-me@client.test>
cmd RSET
cmd MAIL FROM:<fine@client.test>
cmd RCPT TO:<second@rcpt.test>
cmd DATA
data Subject: two\r\n\r\nsecond message
cmd QUIT
S
)
check_reply "first message deferred at MAIL" 451 4.7.0 "$(reply_to "$out" "MAIL FROM:<defer-me")" \
	'Sender defer-me@client\.test is deferred'
check_grep "second message on the same connection accepted" '^250 ' \
	"$(reply_to "$out" "MAIL FROM:<fine@")"
check "second message delivered" delivered second@rcpt.test
qid=$(grep -oE 'queued as [0-9A-Za-z]+' <<<"$out" | awk '{print $3}')
check_grep "log action at eom" 'rule=note-size stage=eom action=log text="checked [0-9]+ bytes from fine@client\.test"' "$(mxlog)"
check_alive "mxgate still running"
h_done
