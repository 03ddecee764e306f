#!/usr/bin/env bash
# t_dnsbl -- DNS lists answered by a real authoritative server (NSD) in
# the namespace: listed IPv4 and IPv6 clients get the tailored 451 with
# the list's public name and its TXT; an allow-listed client passes; an
# error answer (127.255.255.254) never blocks and is logged; postmaster@
# gets through from a listed client; a list that fails (SERVFAIL, or a
# forwarder that never answers) gives the configured behaviour with the
# tailored 4.4.3 text within the deadline, never Postfix's generic reply.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

# rev6 ADDR -- the reversed nibbles of an IPv6 address
rev6() {
	python3 -c 'import ipaddress, sys
print(".".join(reversed(ipaddress.ip_address(sys.argv[1]).exploded.replace(":", ""))))' "$1"
}

{
	zone_head bl.example
	echo '10.113.0.203 A 127.0.0.2'
	echo '10.113.0.203 TXT "See https://bl.example/lookup?ip=203.0.113.10" " to get delisted"'
	echo '11.113.0.203 A 127.255.255.254'
	echo '12.113.0.203 A 127.0.0.2'
	echo '12.113.0.203 A 127.0.0.3'
	echo '20.113.0.203 A 127.0.0.2'
	echo "$(rev6 2001:db8::10) A 127.0.0.3"
} >"$H/dns/bl.example.zone"
{
	zone_head wl.example
	echo '20.113.0.203 A 127.0.10.1'
} >"$H/dns/wl.example.zone"

cat >"$H/rules/test.rules" <<'RULES'
list always_deliver { postmaster@*, abuse@* }
dnsbl bl {
	zone bl.example
	answer 127.0.0.2 label SBL weight 4
	answer 127.0.0.3 label XBL weight 4
	public_name "Example Block List"
}
dnsbl wl {
	zone wl.example
	answer 127.0.10.0/24 label trusted weight -5
	public_name "Example Allow List"
}
rule listed at rcpt {
	if not sasl_user and not rcpt in always_deliver and dnsbl.score >= 4
	tempfail 451 4.7.1 "${client_ip} is listed on ${dnsbl.names} (${dnsbl.bl.label}). ${dnsbl.txt}"
}
RULES
h_netns
h_dns
h_postfix_up
h_mxgate_start

send() {	# SERVER SOURCE RCPT...
	local server=$1 src=$2 r
	shift 2
	{
		echo "cmd EHLO client.test"
		echo "cmd MAIL FROM:<s@client.test>"
		for r in "$@"; do echo "cmd RCPT TO:<$r>"; done
		echo "cmd DATA"
		echo "data Subject: x\\r\\n\\r\\nbody"
		echo "cmd QUIT"
	} | smtp "$server" --bind "$src"
}

out=$(send 127.0.0.1:2525 203.0.113.10 a@rcpt.test)
r=$(reply_to "$out" RCPT)
check_reply "listed IPv4: tailored 451 with the public name" 451 4.7.1 "$r" \
	'^203\.0\.113\.10 is listed on Example Block List \(SBL\)\.'
check_grep "listed IPv4: the list's TXT is shown" 'See https://bl\.example/lookup\?ip=203\.0\.113\.10 to get delisted' "$r"
check_nogrep "the zone is never shown" 'bl\.example[^/]' "$(sed 's|https://bl\.example/||' <<<"$r")"
check_logref "listed IPv4: log line with dnsbl=" "$(ref_of "$r")" \
	'rule=listed stage=rcpt action=tempfail .*dnsbl=bl:SBL\(\+4\)'

out=$(send '[::1]:2525' 2001:db8::10 b@rcpt.test)
r=$(reply_to "$out" RCPT)
check_reply "listed IPv6: tailored 451" 451 4.7.1 "$r" \
	'^2001:db8::10 is listed on Example Block List \(XBL\)\.'

out=$(send 127.0.0.1:2525 203.0.113.12 c@rcpt.test)
r=$(reply_to "$out" RCPT)
check_reply "two answers: both labels" 451 4.7.1 "$r" 'listed on Example Block List \(SBL,XBL\)'
check_logref "two answers: weights summed in the log" "$(ref_of "$r")" 'dnsbl=bl:SBL/XBL\(\+8\)'

out=$(send 127.0.0.1:2525 203.0.113.20 d@rcpt.test)
check_grep "listed but allow-listed: accepted" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "listed but allow-listed: mxgate decided" d@rcpt.test

out=$(send 127.0.0.1:2525 203.0.113.11 e@rcpt.test)
check_grep "error answer 127.255.255.254: not a listing" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "error answer: mxgate decided" e@rcpt.test
check_grep "error answer: logged" 'dnsbl bl \(Example Block List\): error answer 127\.255\.255\.254 for client 203\.0\.113\.11' "$(mxlog)"
send 127.0.0.1:2525 203.0.113.11 e2@rcpt.test >/dev/null
check "error answer: logged once a minute" test "$(grep -c 'error answer 127\.255\.255\.254' "$H/log/mxgate.log")" -eq 1

out=$(send 127.0.0.1:2525 203.0.113.10 postmaster@rcpt.test other@rcpt.test)
check_grep "listed client: postmaster@ accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<postmaster@")"
check_decided "listed client: mxgate decided the message to postmaster@" postmaster@rcpt.test
check_grep "listed client: other recipient deferred" '^451 4\.7\.1 ' "$(reply_to "$out" "RCPT TO:<other@")"

out=$(send 127.0.0.1:2525 203.0.113.30 f@rcpt.test)
check_grep "unlisted client: accepted" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "unlisted client: mxgate decided" f@rcpt.test

# -------- a list that fails: SERVFAIL (a zone nobody serves)
h_mxgate_stop
cat >"$H/rules/test.rules" <<'RULES'
dnsbl broken {
	zone broken.example
	on_error tempfail
	public_name "Broken List"
}
dnsbl lax {
	zone lax.example
	public_name "Lax List"
}
rule own-text at rcpt {
	if rcpt_domain is e2e.test and dnsbl.error
	tempfail 451 4.4.3 "Our checks of ${dnsbl.error} failed; retry in a few minutes."
}
rule lax-listed at rcpt {
	if rcpt_domain is example.com and dnsbl.lax
	tempfail 451 4.7.1 "listed on ${dnsbl.names}"
}
rule broken-listed at rcpt {
	if rcpt_domain is rcpt.test and dnsbl.broken
	tempfail 451 4.7.1 "listed on ${dnsbl.names}"
}
RULES
h_mxgate_conf
h_mxgate_start
out=$(send 127.0.0.1:2525 203.0.113.10 g@example.com)
check_grep "SERVFAIL, on_error ignore: accepted" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "SERVFAIL, on_error ignore: mxgate decided" g@example.com
out=$(send 127.0.0.1:2525 203.0.113.10 h@rcpt.test)
r=$(reply_to "$out" RCPT)
check_reply "SERVFAIL, on_error tempfail: tailored 451 4.4.3" 451 4.4.3 "$r" \
	'could not be checked against Broken List'
check_logref "SERVFAIL: logged with rule dnsbl-error" "$(ref_of "$r")" \
	'rule=dnsbl-error stage=rcpt action=tempfail .*dnsbl=broken:failed'
out=$(send 127.0.0.1:2525 203.0.113.10 j@e2e.test)
check_reply "a rule testing dnsbl.error gives its own text first" 451 4.4.3 \
	"$(reply_to "$out" RCPT)" '^Our checks of Broken List, Lax List failed'

# monitor mode: the deferral is only logged
h_mxgate_stop
h_mxgate_conf "mode = monitor"
h_mxgate_start
out=$(send 127.0.0.1:2525 203.0.113.10 k@rcpt.test)
check_grep "SERVFAIL in monitor mode: accepted" '^250 ' "$(reply_to "$out" RCPT)"
check_decided "SERVFAIL in monitor mode: mxgate decided" k@rcpt.test
check_grep "SERVFAIL in monitor mode: logged would_tempfail" \
	'rule=dnsbl-error stage=rcpt action=would_tempfail reply="451 4\.4\.3 ' "$(mxlog)"

# -------- a forwarder that never answers
h_mxgate_stop
h_silent 5300
cat >"$H/rules/test.rules" <<'RULES'
dnsbl slow {
	zone bl.example
	timeout 2s
	on_error tempfail
	public_name "Slow List"
}
rule slow-listed at rcpt {
	if dnsbl.slow
	tempfail 451 4.7.1 "listed on ${dnsbl.names}"
}
RULES
E2E_DNS=127.0.0.1@5300 h_mxgate_conf
h_mxgate_start
t0=$SECONDS
out=$(send 127.0.0.1:2525 203.0.113.10 i@rcpt.test)
t1=$SECONDS
r=$(reply_to "$out" RCPT)
check_reply "silent server: tailored 451 4.4.3, not Postfix's generic reply" 451 4.4.3 "$r" \
	'could not be checked against Slow List'
check_nogrep "silent server: no 'Service unavailable'" 'Service unavailable' "$out"
note "silent server: the session took $((t1 - t0)) s (list timeout 2 s)"
check_alive "mxgate still running"
h_done
