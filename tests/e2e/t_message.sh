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
rule eom-defer at eom {
	if mail_from =~ "^later-"
	tempfail 451 4.7.0 "Message ${queue_id} from ${mail_from} (${size} bytes) is deferred."
}
rule stamp at eom {
	if mail_from =~ "^fine@"
	header "X-Mxgate-Test" "checked by ${rule} for ${mail_from}"
}
rule author at eom {
	if mail_from =~ "^author@"
	header "X-Author-Domain" "[${from_domain}]"
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
check_decided "one@ delivered, decided by mxgate" one@rcpt.test
check_decided "three@ delivered, decided by mxgate" three@rcpt.test
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
check_decided "second message delivered, decided by mxgate" second@rcpt.test
qid=$(grep -oE 'queued as [0-9A-Za-z]+' <<<"$out" | awk '{print $3}')
check_grep "log action at eom, with the queue id" \
	"^mxgate\\[[0-9]+\\]: ${qid:-NOQID}: .*rule=note-size stage=eom action=log text=\"checked [0-9]+ bytes from fine@client\\.test\"" "$(mxlog)"
check_grep "header action: the header is added to the message" \
	"${qid:-NOQID}: milter-header-warning: header X-Mxgate-Test: checked by .* for fine@client\\.test from " "$(maillog)"
check_grep "header action: \${rule} is expanded in the header text" \
	"${qid:-NOQID}: milter-header-warning: header X-Mxgate-Test: checked by stamp for " "$(maillog)"
check_nogrep "header action: only where the rule matched" \
	'header X-Mxgate-Test: .*(alice|later-1)@' "$(maillog)"

# two complete messages on one connection: the first is deferred at the
# end of DATA, the second is accepted and delivered
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.22 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<later-1@client.test>
cmd RCPT TO:<eom-first@rcpt.test>
cmd DATA
data Subject: first\r\n\r\nfirst message
cmd MAIL FROM:<now@client.test>
cmd RCPT TO:<eom-second@rcpt.test>
cmd DATA
data Subject: second\r\n\r\nsecond message
cmd QUIT
S
)
r=$(reply_to "$out" "(body")
check_reply "first message deferred at end of DATA" 451 4.7.0 "$r" \
	'Message [0-9A-Za-z]+ from later-1@client\.test \([0-9]+ bytes\) is deferred\.'
check_grep "second message: MAIL accepted after the deferral" '^250 ' \
	"$(reply_to "$out" "MAIL FROM:<now@")"
check_grep "second message queued" '^<- 250 2\.0\.0 Ok: queued' "$out"
check_decided "second message delivered, decided by mxgate" eom-second@rcpt.test
check_nogrep "first message not delivered" 'to=<eom-first@rcpt\.test>.*status=sent' "$(maillog)"
qid=$(grep -oE 'Message [0-9A-Za-z]+ from' <<<"$r" | awk '{ print $2 }')
check_logref "eom log line: the queue id of the reply, then the ref" "$(ref_of "$r")" \
	"^mxgate\\[[0-9]+\\]: ${qid:-NOQID}: ref=[0-9A-Z]+ rule=eom-defer stage=eom action=tempfail .*from=<later-1@client\\.test>( |\$)"
# from_domain follows RFC 5322: a quoted "<x@y>" is text, comments are not
# addresses, and a From with two addresses has no single author domain
author() {	# FROM-VALUE RCPT
	smtp 127.0.0.1:2525 --bind 203.0.113.23 <<S
cmd EHLO client.test
cmd MAIL FROM:<author@client.test>
cmd RCPT TO:<$2>
cmd DATA
data From: $1\r\nSubject: a\r\n\r\nauthor
cmd QUIT
S
}
author '"Someone <someone@junk.example>"@mydomain.example' author1@rcpt.test >/dev/null
author 'Foo (foo@bar.example) <baz@Baz.Example>' author2@rcpt.test >/dev/null
author 'a@x.example, b@y.example' author3@rcpt.test >/dev/null
check_decided "author messages delivered, decided by mxgate" author1@rcpt.test \
	author2@rcpt.test author3@rcpt.test
check_grep "from_domain: a quoted <x@y> in the local part is text" \
	'header X-Author-Domain: \[mydomain\.example\]' "$(maillog)"
check_grep "from_domain: a comment is not the address" \
	'header X-Author-Domain: \[baz\.example\]' "$(maillog)"
check_grep "from_domain: two authors, no single domain" \
	'header X-Author-Domain: \[\]' "$(maillog)"
check_nogrep "from_domain: never the junk of a quoted string or comment" \
	'header X-Author-Domain: \[(junk|bar)\.example\]' "$(maillog)"
check_alive "mxgate still running"
h_done
