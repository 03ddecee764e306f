#!/usr/bin/env bash
# t_quota -- per-customer recipient quota on the submission port: the
# login (XCLIENT LOGIN=, as a SASL login) is the key; customers.map
# overrides the rate for one login and lifts it for another; the reply's
# ${retry_after} is exact: a retry after that many seconds is accepted,
# and refused attempts do not extend the block; the table is re-read when
# its file changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/customers.map" <<'MAP'
# login        field=value
bigcorp        rcpt_per_min=4
@free.test     rcpt_per_min=unlimited
MAP
cat >"$H/rules/test.rules" <<'RULES'
table customers "customers.map"
limit user_min { count recipients; key sasl_user; rate 2/10s; override customers.rcpt_per_min }
rule quota at rcpt {
	if daemon_name is submission and sasl_user and limit user_min exceeded
	tempfail 451 4.7.0 "Account ${sasl_user} reached ${limit.max} recipients per ${limit.window}; retry in ${retry_after} seconds."
}
RULES
h_up

# send LOGIN RCPT... -- one message as LOGIN on the submission port
send() {
	local login=$1 r script
	shift
	script="cmd EHLO client.test
cmd XCLIENT LOGIN=$login
cmd EHLO client.test
cmd MAIL FROM:<$login@client.test>"
	for r in "$@"; do script+=$'\n'"cmd RCPT TO:<$r>"; done
	script+=$'\n'"cmd DATA"$'\n'"data Subject: q\\r\\n\\r\\nbody"$'\n'"cmd QUIT"
	smtp 127.0.0.1:2587 --bind 203.0.113.30 <<<"$script"
}

out=$(send carol a1@rcpt.test a2@rcpt.test a3@rcpt.test)
t_reply=$EPOCHREALTIME          # a little after the 451 was sent
check_grep "XCLIENT LOGIN accepted" '^220 ' "$(reply_to "$out" "XCLIENT")"
check_grep "carol: 1st recipient accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<a1@")"
check_grep "carol: 2nd recipient accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<a2@")"
r=$(reply_to "$out" "RCPT TO:<a3@")
check_reply "carol: 3rd recipient gets the quota reply" 451 4.7.0 "$r" \
	'Account carol reached 2 recipients per 10s; retry in [0-9]+ seconds\.'
wait_s=$(grep -oE 'retry in [0-9]+ seconds' <<<"$r" | grep -oE '[0-9]+' || echo 0)
check "retry_after is 1..5 s right after the burst" test "$wait_s" -ge 1 -a "$wait_s" -le 5
check_decided "first two recipients delivered, decided by mxgate" a1@rcpt.test a2@rcpt.test
check_logref "log line names the limit" "$(ref_of "$r")" \
	'rule=quota stage=rcpt action=tempfail .*sasl=carol limit=user_min:2/2/10s'

# refused attempts do not extend the block: three more refusals, then a
# retry exactly retry_after seconds after the first refusal is accepted
# (were refusals counted, each would push it back by another 5 s)
out=$(send carol b1@rcpt.test b2@rcpt.test b3@rcpt.test)
r=$(reply_to "$out" "RCPT TO:<b3@")
check_reply "carol: still refused before retry_after" 451 4.7.0 "$r" 'Account carol'
w2=$(grep -oE 'retry in [0-9]+ seconds' <<<"$r" | grep -oE '[0-9]+' || echo 99)
check "carol: retry_after does not grow with refusals" test "$w2" -le "$wait_s"
left=$(awk -v t="$t_reply" -v w="$wait_s" -v now="$EPOCHREALTIME" \
    'BEGIN { d = t + w - now; printf "%.3f", (d > 0 ? d : 0) }')
sleep "$left"
out=$(send carol c1@rcpt.test)
check_grep "carol: accepted retry_after seconds after the refusal" '^250 ' \
	"$(reply_to "$out" "RCPT TO:<c1@")"
check_decided "carol: the retried message is delivered, decided by mxgate" c1@rcpt.test
check_nogrep "carol: refused recipients are not delivered" \
	'to=<(a3|b[1-3])@rcpt\.test>.*status=sent' "$(maillog)"

# the override: bigcorp may send 4 per window, free.test logins anything
out=$(send bigcorp d1@rcpt.test d2@rcpt.test d3@rcpt.test d4@rcpt.test d5@rcpt.test)
check_grep "bigcorp: 4th recipient accepted (override 4)" '^250 ' "$(reply_to "$out" "RCPT TO:<d4@")"
check_decided "bigcorp: delivered, decided by mxgate" d4@rcpt.test
check_reply "bigcorp: 5th refused with its own limit" 451 4.7.0 \
	"$(reply_to "$out" "RCPT TO:<d5@")" 'Account bigcorp reached 4 recipients per 10s'
out=$(send joe@free.test e1@rcpt.test e2@rcpt.test e3@rcpt.test e4@rcpt.test e5@rcpt.test e6@rcpt.test)
check_grep "unlimited: 6th recipient accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<e6@")"
check_decided "unlimited: delivered, decided by mxgate" e6@rcpt.test

# the table is re-read when its file changes (no signal): carol becomes
# unlimited; a broken version is refused with its errors logged and the
# last good one stays in force
cat >"$H/rules/customers.map.new" <<'MAP'
bigcorp        rcpt_per_min=4
carol          rcpt_per_min=unlimited
@free.test     rcpt_per_min=unlimited
MAP
mv "$H/rules/customers.map.new" "$H/rules/customers.map"
sleep 1.2
out=$(send carol g1@rcpt.test g2@rcpt.test g3@rcpt.test g4@rcpt.test)
check_grep "changed table in force without a reload: carol unlimited" '^250 ' \
	"$(reply_to "$out" "RCPT TO:<g4@")"
check_decided "carol unlimited: delivered, decided by mxgate" g4@rcpt.test
printf 'carol rcpt_per_min\n' >"$H/rules/customers.map.new"
mv "$H/rules/customers.map.new" "$H/rules/customers.map"
sleep 1.2
out=$(send carol h1@rcpt.test h2@rcpt.test h3@rcpt.test h4@rcpt.test)
check_grep "broken table: the last good one stays in force" '^250 ' \
	"$(reply_to "$out" "RCPT TO:<h4@")"
check_decided "broken table: delivered, decided by mxgate" h4@rcpt.test
check_grep "broken table: its error is logged as FILE:LINE:COL" \
	'customers\.map:1:[0-9]+: error: ' "$(mxlog)"

# the same login on port 25 (daemon_name smtp) is not limited by this rule
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.31 <<'S'
cmd EHLO client.test
cmd XCLIENT LOGIN=carol
cmd EHLO client.test
cmd MAIL FROM:<carol@client.test>
cmd RCPT TO:<f1@rcpt.test>
cmd RCPT TO:<f2@rcpt.test>
cmd RCPT TO:<f3@rcpt.test>
cmd DATA
data Subject: q\r\n\r\nbody
cmd QUIT
S
)
check_grep "port 25: the submission rule does not apply" '^250 ' "$(reply_to "$out" "RCPT TO:<f3@")"
check_decided "port 25: delivered, decided by mxgate" f3@rcpt.test
check_alive "mxgate still running"
h_done
