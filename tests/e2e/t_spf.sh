#!/usr/bin/env bash
# t_spf -- SPF through the shipped default rules, with the senders'
# records served by a real authoritative server (NSD) in the namespace
# and clients on TEST-NET addresses: a client the record does not list
# gets the tailored 451 4.7.23 naming the domain, the address and the
# term that refused it, and the log line carries spf=fail; a listed
# client, a softfail, postmaster@ and an authenticated user pass; <> is
# checked against the HELO name; a record that cannot be read (SERVFAIL)
# gets 451 4.7.24, never a pass.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

zone_head zen.spamhaus.org >"$H/dns/zen.spamhaus.org.zone"	# lists nobody
{
	zone_head spf.example
	echo '@ TXT "v=spf1 ip4:203.0.113.20 ip6:2001:db8:20::/48 -all"'
	echo 'soft TXT "v=spf1 ip4:203.0.113.20 ~all"'
	echo 'helo TXT "v=spf1 a:mx.spf.example -all"'
	echo 'mx A 203.0.113.20'
	echo 'inc TXT "v=spf1 include:spf.example -all"'
} >"$H/dns/spf.example.zone"
E2E_RULES=$E2E_DIR/../../rules/default.rules
export E2E_RULES
h_netns
h_dns
h_postfix_up
h_mxgate_start

send() {	# SERVER SOURCE HELO SENDER RCPT...
	local server=$1 src=$2 helo=$3 from=$4 r
	shift 4
	{
		echo "cmd EHLO $helo"
		echo "cmd MAIL FROM:<$from>"
		for r in "$@"; do echo "cmd RCPT TO:<$r>"; done
		echo "cmd DATA"
		echo "data Subject: x\\r\\n\\r\\nbody"
		echo "cmd QUIT"
	} | smtp "$server" --bind "$src"
}

out=$(send 127.0.0.1:2525 203.0.113.10 client.test alice@spf.example a@rcpt.test postmaster@rcpt.test)
r=$(reply_to "$out" "RCPT TO:<a@")
check_reply "SPF fail: tailored 451 4.7.23" 451 4.7.23 "$r" \
	'the SPF record of spf\.example does not allow 203\.0\.113\.10 to send its mail \(spf\.example matched -all\)'
check_logref "SPF fail: logged with spf=fail" "$(ref_of "$r")" \
	'rule=spf-fail stage=rcpt action=tempfail .*from=<alice@spf\.example> rcpt=<a@rcpt\.test> spf=fail'
check_grep "SPF fail: postmaster@ still accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<postmaster@")"
check_decided "SPF fail: mxgate decided the message to postmaster@" postmaster@rcpt.test

out=$(send 127.0.0.1:2525 203.0.113.20 client.test alice@spf.example b@rcpt.test)
check_grep "SPF pass: accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<b@")"
check_decided "SPF pass: mxgate decided" b@rcpt.test

out=$(send '[::1]:2525' 2001:db8:20::5 client.test alice@spf.example c@rcpt.test)
check_grep "SPF pass over IPv6 (ip6:/48): accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<c@")"
check_decided "SPF pass over IPv6: mxgate decided" c@rcpt.test
out=$(send '[::1]:2525' 2001:db8:21::5 client.test alice@spf.example d@rcpt.test)
check_reply "SPF fail over IPv6: 451 4.7.23" 451 4.7.23 "$(reply_to "$out" "RCPT TO:<d@")" \
	'does not allow 2001:db8:21::5'

out=$(send 127.0.0.1:2525 203.0.113.10 client.test alice@soft.spf.example e@rcpt.test)
check_grep "SPF softfail: accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<e@")"
check_decided "SPF softfail: mxgate decided" e@rcpt.test

out=$(send 127.0.0.1:2525 203.0.113.10 client.test alice@inc.spf.example f@rcpt.test)
check_reply "SPF fail through include: 451 4.7.23" 451 4.7.23 "$(reply_to "$out" "RCPT TO:<f@")" \
	'inc\.spf\.example'

# <>: the HELO identity (postmaster@HELO)
out=$(send 127.0.0.1:2525 203.0.113.10 helo.spf.example '' g@rcpt.test)
check_reply "null sender: HELO checked, 451 4.7.23" 451 4.7.23 "$(reply_to "$out" "RCPT TO:<g@")" \
	'SPF record of helo\.spf\.example does not allow 203\.0\.113\.10'
out=$(send 127.0.0.1:2525 203.0.113.20 helo.spf.example '' h@rcpt.test)
check_grep "null sender from the HELO's own address: accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<h@")"
check_decided "null sender from the HELO's own address: mxgate decided" h@rcpt.test

# a zone nobody serves: SERVFAIL, so the record cannot be read now
out=$(send 127.0.0.1:2525 203.0.113.10 client.test alice@broken.example i@rcpt.test)
r=$(reply_to "$out" "RCPT TO:<i@")
check_reply "SPF temperror: 451 4.7.24" 451 4.7.24 "$r" 'could not be completed: DNS error'
check_logref "SPF temperror: logged with spf=temperror" "$(ref_of "$r")" \
	'rule=spf-temperror .*spf=temperror'

# a domain with no SPF record: none, accepted
out=$(send 127.0.0.1:2525 203.0.113.10 client.test alice@ns.spf.example j@rcpt.test)
check_grep "no SPF record: accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<j@")"
check_decided "no SPF record: mxgate decided" j@rcpt.test

# an authenticated user is not judged by SPF
out=$(printf '%s\n' "cmd EHLO client.test" "cmd XCLIENT LOGIN=carol" "cmd EHLO client.test" \
	"cmd MAIL FROM:<carol@spf.example>" "cmd RCPT TO:<k@rcpt.test>" "cmd DATA" \
	'data Subject: x\r\n\r\nbody' "cmd QUIT" |
	smtp 127.0.0.1:2587 --bind 203.0.113.10)
check_grep "authenticated user: accepted despite SPF fail" '^250 ' "$(reply_to "$out" "RCPT TO:<k@")"
check_decided "authenticated user: mxgate decided" k@rcpt.test
check_alive "mxgate still running"

# rules that use spf and nothing of connect or HELO: the HELO name must
# still reach mxgate, for <>
h_mxgate_stop
cat >"$H/rules/test.rules" <<'RULES'
rule spf-only at rcpt {
	if spf is fail
	tempfail 451 4.7.23 "SPF of ${spf.domain}: ${spf.reason}"
}
RULES
E2E_RULES=$H/rules/test.rules h_mxgate_conf
h_mxgate_start
out=$(send 127.0.0.1:2525 203.0.113.10 helo.spf.example '' l@rcpt.test)
check_reply "spf-only rules: null sender checked against HELO" 451 4.7.23 \
	"$(reply_to "$out" "RCPT TO:<l@")" 'SPF of helo\.spf\.example: helo\.spf\.example matched -all'
h_done
