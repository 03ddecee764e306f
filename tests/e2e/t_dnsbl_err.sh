#!/usr/bin/env bash
# t_dnsbl_err -- a DNS list's error answer (127.255.255.254, Spamhaus's
# "public resolver") never defers, even with `on_error tempfail`: the
# message is accepted on a listener whose milter_default_action is
# tempfail, mxgate's own Authentication-Results proves it decided, the
# list's error is logged once for several connections within a minute,
# and dnsbl.error is still set (a rule that tests it may act on it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

{
	zone_head bl.example
	echo '11.113.0.203 A 127.255.255.254'
	echo '12.113.0.203 A 127.0.0.2'
} >"$H/dns/bl.example.zone"

cat >"$H/rules/test.rules" <<'RULES'
dnsbl bl {
	zone bl.example
	on_error tempfail
	public_name "Error List"
}
rule error-noted at rcpt {
	if dnsbl.error
	log "dnsbl.error=${dnsbl.error}"
}
rule listed at rcpt {
	if dnsbl.score >= 1
	tempfail 451 4.7.1 "listed on ${dnsbl.names}"
}
RULES
h_netns
h_dns
h_postfix_up
h_mxgate_start

send() {	# SOURCE RCPT -- one message through the tempfail listener
	smtp 127.0.0.1:2526 --bind "$1" <<S
cmd EHLO client.test
cmd MAIL FROM:<s@client.test>
cmd RCPT TO:<$2>
cmd DATA
data Subject: t\r\n\r\nhello
cmd QUIT
S
}

for i in 1 2 3; do
	out=$(send 203.0.113.11 "err$i@rcpt.test")
	check_grep "error answer, on_error tempfail, connection $i: RCPT accepted" \
		'^250 ' "$(reply_to "$out" RCPT)"
	qid=$(queued_as "$out")
	check "error answer, connection $i: message queued" test -n "$qid"
	wait_log "$H/log/maillog" "${qid:-NOQID}: milter-header-warning: header Authentication-Results: mx\\.e2e\\.test" 10 || true
	check_grep "error answer, connection $i: mxgate decided (its Authentication-Results)" \
		"${qid:-NOQID}: milter-header-warning: header Authentication-Results: mx\\.e2e\\.test" "$(maillog)"
done
check_grep "error answer: logged" \
	'dnsbl bl \(Error List\): error answer 127\.255\.255\.254 for client 203\.0\.113\.11: not a listing' "$(mxlog)"
check "error answer: one log line for three connections within a minute" \
	test "$(grep -c 'error answer 127\.255\.255\.254' "$H/log/mxgate.log")" -eq 1
check_nogrep "error answer: no dnsbl-error deferral" 'rule=dnsbl-error' "$(mxlog)"
check_grep "error answer: dnsbl.error still names the list" \
	'rule=error-noted stage=rcpt action=log text="dnsbl\.error=Error List"' "$(mxlog)"

# the same list still lists
out=$(send 203.0.113.12 listed@rcpt.test)
check_reply "a listing of the same list still defers" 451 4.7.1 \
	"$(reply_to "$out" RCPT)" 'listed on Error List'
check_alive "mxgate still running"
h_done
