#!/usr/bin/env bash
# t_ctl_explain -- mxgatectl explain against real transactions through
# Postfix: for a client listed on a DNS list (NSD) refused at connect
# (told at EHLO), a rate limit exceeded at RCPT, an accepted message and
# a --message that an end-of-message rule refuses, explain's verdict
# (stage, rule, code, enhanced code, text without the ref) is the one a
# real transaction with the same facts gets. Explain counts nothing (a
# limit of 1 message an hour: explained twice, the first real message
# still passes), logs nothing and adds nothing to status's counts; every
# rule is shown with an outcome; a per-rule monitor shows what it would
# do; a bad --ip exits 64; --json is one valid JSON object.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

{
	zone_head bl.example
	echo '10.113.0.203 A 127.0.0.2'
} >"$H/dns/bl.example.zone"

cat >"$H/rules/test.rules" <<'RULES'
dnsbl bl {
	zone bl.example
	answer 127.0.0.2 label SBL weight 4
	public_name "Example Block List"
}
limit per_ip { count messages; key client_ip; rate 1/1h }
rule listed at connect {
	if dnsbl.score >= 4
	reject 554 5.7.1 "${client_ip} is listed on ${dnsbl.names}."
}
rule helo-note at helo {
	if helo is odd.client.test
	log "odd helo ${helo}"
}
rule watch at mail monitor {
	if mail_domain is watch.test
	tempfail 451 4.7.1 "Would be watched."
}
rule ip-rate at rcpt {
	if limit per_ip exceeded
	tempfail 451 4.7.1 "Too many messages from ${client_ip} (${limit.max} per ${limit.window})."
}
rule no-bad at rcpt {
	if rcpt_domain is bad.rcpt.test
	tempfail 451 4.7.1 "No mail for ${rcpt_domain} now."
}
rule spam-from at eom {
	if from_domain is spam.test
	reject 550 5.7.1 "No mail from ${from_domain} here."
}
RULES
RULE_IDS="listed helo-note watch ip-rate no-bad spam-from"
h_netns
h_dns
h_postfix_up
h_mxgate_start

# send SOURCE FROM RCPT FROMHDR -- one message from SOURCE; smtpc output
send() {
	smtp 127.0.0.1:2525 --bind "$1" <<S
cmd EHLO client.test
cmd MAIL FROM:<$2>
cmd RCPT TO:<$3>
cmd DATA
data From: <$4>\r\nSubject: explain\r\n\r\nhello
cmd QUIT
S
}

# norm -- reply lines (or explain's one-line reply) as "CODE ECODE TEXT",
# continuation prefixes and the "(ref ...)" removed
norm() {
	sed -E '1!s/^[0-9]{3}[- ][0-9]+\.[0-9]+\.[0-9]+ //; 1s/^([0-9]{3})[- ]/\1 /' |
	    tr '\n' ' ' | sed -E 's/ ?\(ref [0-9A-Z]+\)//; s/ +$//'
}

# field NAME TEXT -- the value of explain's final "NAME: value" line
field() { sed -n "s/^$1: //p" <<<"$2" | tail -n1; }

# same NAME EXPLAIN REAL-REPLY -- explain's reply is the real one, and its
# stage and rule those of the real decision's log line
same() {
	local er rr ref line
	er=$(field reply "$2" | norm)
	rr=$(norm <<<"$3")
	if [[ -z $er || $er != "$rr" ]]; then
		fail "$1: same reply" "explain [$er] real [$rr]"
	else
		pass "$1: same reply ($er)"
	fi
	ref=$(ref_of "$3" || true)
	wait_log "$H/log/mxgate.log" "ref=$ref " 5 || true
	line=$(grep -E "ref=$ref " "$H/log/mxgate.log" || true)
	if [[ -n $ref && $line == *" rule=$(field rule "$2") stage=$(field stage "$2" | cut -d' ' -f1) "* ]]; then
		pass "$1: same rule and stage ($(field rule "$2"), $(field stage "$2"))"
	else
		fail "$1: same rule and stage" "explain rule=$(field rule "$2") stage=$(field stage "$2"); real: $line"
	fi
}

# outcomes NAME TEXT -- every rule of the file is shown with an outcome
outcomes() {
	local id miss=""
	for id in $RULE_IDS; do
		grep -Eq "^  $id  [^ ]+test\.rules:[0-9]+  (matched|not matched|not reached|monitor|failed)" <<<"$2" ||
			miss+=" $id"
	done
	check "$1: every rule shown with an outcome" test -z "$miss"
	[[ -z $miss ]] || note "missing:$miss"
}

# 1. a listed client: refused at connect, replied to the MTA at HELO
ex=$(ctl explain --ip 203.0.113.10 --helo client.test --from s@client.test --rcpt a@rcpt.test)
check_grep "listed: explain says refused at connect, replied at helo" '^stage: connect \(replied at helo\)$' "$ex"
check_grep "listed: the rule matched with its facts" '^      dnsbl\.score = 4$' "$ex"
check_grep "listed: the log line it would write" '^log: NOQUEUE: ref=[0-9A-Z]{12} rule=listed stage=connect action=reject ' "$ex"
outcomes "listed" "$ex"
check_grep "listed: later rules not reached" '^  ip-rate  .*  not reached$' "$ex"
xref=$(ref_of "$(field reply "$ex")")
out=$(send 203.0.113.10 s@client.test a@rcpt.test x@client.test)
# Postfix (smtpd_delay_reject) gives a HELO-time milter refusal at MAIL
same "listed" "$ex" "$(reply_to "$out" "MAIL FROM")"
check "listed: explain's decision was not logged" test -n "$xref" -a \
    "$(grep -c "ref=$xref" "$H/log/mxgate.log")" = 0

# 2. explain counts nothing: twice, then the first real message passes
for i in 1 2; do
	ex=$(ctl explain --ip 203.0.113.30 --helo client.test --from s@client.test --rcpt b$i@rcpt.test --message /dev/null)
done
check_grep "limit: explain (twice) says accepted" '^accepted$' "$ex"
check_grep "limit: accepted at eom" '^stage: eom$' "$ex"
check_grep "limit: the limit rule was checked, not matched" '^  ip-rate  .*  not matched$' "$ex"
out=$(send 203.0.113.30 s@client.test b@rcpt.test x@client.test)
check_grep "limit: the first real message passes after two explains" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "limit: delivered, decided by mxgate" b@rcpt.test
# ... the second is over the limit at RCPT, for explain and for real
ex=$(ctl explain --ip 203.0.113.30 --helo client.test --from s@client.test --rcpt c@rcpt.test)
check_grep "limit: explain shows the exceeded limit" '^      limit per_ip = 1/1 per 1h \(exceeded\)$' "$ex"
out=$(send 203.0.113.30 s@client.test c@rcpt.test x@client.test)
same "limit exceeded" "$ex" "$(reply_to "$out" RCPT)"

# 3. accepted: explain and the real transaction
ex=$(ctl explain --ip 203.0.113.40 --helo odd.client.test --from s@watch.test --rcpt d@rcpt.test \
    --message <(printf 'From: <s@watch.test>\r\nSubject: explain\r\n\r\nhello\r\n'))
check_grep "accepted: explain says accepted" '^accepted$' "$ex"
check_grep "accepted: the log rule matched" '^  helo-note  .*  matched: log$' "$ex"
check_grep "accepted: the monitor rule shows what it would do" '^  watch  .*  monitor \(would TEMPFAIL 451 4\.7\.1\)$' "$ex"
check_grep "accepted: its would_tempfail line is shown" '^  log: .* rule=watch stage=mail action=would_tempfail ' "$ex"
outcomes "accepted" "$ex"
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.40 <<S
cmd EHLO odd.client.test
cmd MAIL FROM:<s@watch.test>
cmd RCPT TO:<d@rcpt.test>
cmd DATA
data From: <s@watch.test>\r\nSubject: explain\r\n\r\nhello
cmd QUIT
S
)
check_decided "accepted: the real message is delivered, decided by mxgate" d@rcpt.test

# 4. --message: an end-of-message rule on the From: header
printf 'From: Spammer <s@spam.test>\r\nSubject: explain\r\n\r\nhello\r\n' >"$H/spam.eml"
printf 'From: <s@client.test>\nSubject: explain\n\nhello\n' >"$H/ok.eml"
ex=$(ctl explain --ip 203.0.113.41 --helo client.test --from s@client.test --rcpt e@rcpt.test --message "$H/spam.eml")
check_grep "message: explain says refused at eom" '^stage: eom$' "$ex"
check_grep "message: the fact from the header" '^      from_domain = spam\.test$' "$ex"
out=$(send 203.0.113.41 s@client.test e@rcpt.test s@spam.test)
same "message" "$ex" "$(replies "$out" | grep -E '^5[0-9]{2}[ -]' | tail -n 3)"

# 5. two recipients: one refused at RCPT, the message goes on to the other
ex=$(ctl explain --ip 203.0.113.42 --helo client.test --from s@client.test \
    --rcpt x@bad.rcpt.test --rcpt y@rcpt.test --message "$H/ok.eml" 2>&1)
check_grep "two rcpts: the first refused by no-bad" '^  reply: 451 4\.7\.1 No mail for bad\.rcpt\.test now\. \(ref [0-9A-Z]{12}\)$' "$ex"
check_grep "two rcpts: a block for each recipient" '^rcpt <y@rcpt\.test>$' "$ex"
check_grep "two rcpts: the message accepted at eom" '^stage: eom$' "$ex"
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.42 <<S
cmd EHLO client.test
cmd MAIL FROM:<s@client.test>
cmd RCPT TO:<x@bad.rcpt.test>
cmd RCPT TO:<y@rcpt.test>
cmd DATA
data From: <s@client.test>\r\nSubject: explain\r\n\r\nhello
cmd QUIT
S
)
er=$(sed -n 's/^  reply: //p' <<<"$ex" | norm)
rr=$(reply_to "$out" "RCPT TO:<x@" | norm)
check "two rcpts: the same reply for the refused one ($rr)" test "$er" = "$rr"
check_decided "two rcpts: the other delivered, decided by mxgate" y@rcpt.test

# 6. --json; usage errors
js=$(ctl --json explain --ip 203.0.113.10 --helo client.test)
check "json: parses, with the verdict" python3 -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["result"] == "refused" and j["stage"] == "connect" and j["rule"] == "listed", j
assert j["reply"].startswith("554 5.7.1 203.0.113.10 is listed"), j
assert [e["stage"] for e in j["events"]][:2] == ["connect", "helo"], j
assert j["events"][0]["rules"][0]["facts"]["dnsbl.score"] == "4", j
' "$js"
rc=0; err=$(ctl explain --ip 300.1.2.3 2>&1) || rc=$?
check "bad --ip: exit 64" test "$rc" = 64
check_grep "bad --ip: says why" 'not an IPv4 or IPv6 address' "$err"
rc=0; err=$(ctl explain --helo x 2>&1) || rc=$?
check "no --ip: exit 64" test "$rc" = 64
rc=0; err=$(ctl explain --ip 203.0.113.9 --rcpt a@rcpt.test 2>&1) || rc=$?
check "--rcpt without --from: exit 64" test "$rc" = 64
# the log holds the six decisions of the real transactions, none of explain's
check "explain logged nothing: only the real transactions' 6 decision lines" \
    test "$(grep -c ' rule=' "$H/log/mxgate.log")" = 6
st=$(ctl status)
check_grep "status counts the real decision of listed, not explain's two" 'listed +connect +reject +1$' "$st"
check_alive "mxgate still running"
h_done
