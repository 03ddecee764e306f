#!/usr/bin/env bash
# t_connect -- a connect-stage limit: the client sees the tailored 421 (at
# EHLO; when it skips EHLO, at MAIL, or at RCPT once RCPT rules make RCPT
# answered anyway) with a reference that is in the log, and the
# connection is closed; IPv4 /24 and IPv6 /64 keys; a
# concurrent-connections limit that is released when connections close.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/test.rules" <<'RULES'
list held { 2001:db8:0:5::/64 }
limit conn_rate { count connections; key client_ip/24 /64; rate 2/1h }
limit conn_open { count concurrent; key client_ip/24 /64; max 2 }
rule too-many-open at connect {
	if client_ip in held and limit conn_open exceeded
	tempfail 421 4.7.0 "Too many open connections from ${client_net} (at most ${limit.max} at once)"
}
rule too-fast at connect {
	if not client_ip in held and limit conn_rate exceeded
	tempfail 421 4.7.0 "Too many connections from ${client_net} (${limit.max} per ${limit.window}); retry in ${retry_after} seconds"
}
RULES
h_up

session() {	# SOURCE RCPT [SERVER] -- EHLO, one message to RCPT, QUIT
	smtp "${3:-127.0.0.1:2525}" --bind "$1" <<S
cmd EHLO client.test
cmd MAIL FROM:<a@client.test>
cmd RCPT TO:<$2>
cmd DATA
data Subject: connect\r\n\r\nadmitted
cmd QUIT
S
}
session6() { session "$1" "$2" '[::1]:2525'; }

out1=$(session 203.0.113.10 c1@rcpt.test)
out2=$(session 203.0.113.11 c2@rcpt.test)
check_grep "first connection accepted" '^<- 250 ' "$out1"
check_grep "second connection from the /24 accepted" '^<- 250 2.1.0' "$out2"
check_decided "first and second connection: mxgate decided their messages" \
	c1@rcpt.test c2@rcpt.test
out3=$(session 203.0.113.12 c3@rcpt.test)
r=$(reply_to "$out3" "EHLO")
check_reply "third connection: tailored 421 at EHLO" 421 4.7.0 "$r" \
	'Too many connections from 203\.0\.113\.0/24 \(2 per 1h\); retry in 1[0-9]{3} seconds'
check_grep "421 closes the connection" '^== closed' "$out3"
check_nogrep "nothing is accepted after the 421" '^<- 250' "$(sed -n '/^<- 421 /,$p' <<<"$out3")"
check_logref "the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=too-fast stage=connect action=tempfail reply="421 4\.7\.0 .*client=.*\[203\.0\.113\.12\] limit=conn_rate:[0-9]+/2/1h'

# a client that sends MAIL without EHLO gets it at MAIL
out4=$(smtp 127.0.0.1:2525 --bind 203.0.113.13 <<'S'
cmd MAIL FROM:<a@client.test>
cmd QUIT
S
)
r=$(reply_to "$out4" "MAIL")
check_reply "no EHLO: tailored 421 at MAIL" 421 4.7.0 "$r" 'Too many connections'
check_grep "no EHLO: 421 closes the connection" '^== closed' "$out4"
check_logref "no EHLO: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=too-fast stage=connect action=tempfail .*\[203\.0\.113\.13\]'

# HELO (not EHLO) gets it too
out5=$(smtp 127.0.0.1:2525 --bind 203.0.113.14 <<'S'
cmd HELO client.test
cmd MAIL FROM:<a@client.test>
S
)
check_reply "HELO: tailored 421" 421 4.7.0 "$(reply_to "$out5" "HELO")" 'Too many connections'
check_grep "HELO: 421 closes the connection" '^== closed' "$out5"

# IPv6: counted per /64
o1=$(session6 2001:db8::10 c61@rcpt.test)
o2=$(session6 2001:db8::11 c62@rcpt.test)
o3=$(session6 2001:db8::12 c63@rcpt.test)
check_grep "IPv6: first accepted" '^<- 250 2.1.0' "$o1"
check_grep "IPv6: second accepted" '^<- 250 2.1.0' "$o2"
check_decided "IPv6: mxgate decided the first and second messages" \
	c61@rcpt.test c62@rcpt.test
r=$(reply_to "$o3" "EHLO")
check_reply "IPv6: third gets the tailored 421" 421 4.7.0 "$r" \
	'Too many connections from 2001:db8::/64 \(2 per 1h\); retry in 1[0-9]{3} seconds'
check_grep "IPv6: 421 closes the connection" '^== closed' "$o3"
check_logref "IPv6: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=too-fast stage=connect action=tempfail reply="421 4\.7\.0 .*client=.*\[2001:db8::12\] limit=conn_rate:[0-9]+/2/1h'
o4=$(session6 2001:db8:0:1::10 c64@rcpt.test)
check_grep "IPv6: another /64 is accepted" '^<- 250 2.1.0' "$o4"
check_decided "IPv6: another /64: mxgate decided its message" c64@rcpt.test

# concurrent connections: two held open, the third is refused, and once
# they are closed a new one is admitted again (the count is released)
held=()
for i in 1 2; do
	smtp '[::1]:2525' --bind "2001:db8:0:5::$i" >"$H/held$i.out" <<'S' &
cmd EHLO client.test
sleep 4
cmd QUIT
S
	held+=("$!")
done
wait_log "$H/held1.out" '^<- 250 ' 15 || true
wait_log "$H/held2.out" '^<- 250 ' 15 || true
o5=$(session6 2001:db8:0:5::3 c65@rcpt.test)
r=$(reply_to "$o5" "EHLO")
check_reply "concurrent: the third open connection gets the tailored 421" 421 4.7.0 "$r" \
	'Too many open connections from 2001:db8:0:5::/64 \(at most 2 at once\)'
check_grep "concurrent: 421 closes the connection" '^== closed' "$o5"
check_logref "concurrent: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=too-many-open stage=connect action=tempfail .*limit=conn_open:2/2'
wait "${held[@]}" || true
check_grep "concurrent: the held connections were served" '^<- 221 ' "$(cat "$H/held1.out" "$H/held2.out")"
o6=$(session6 2001:db8:0:5::4 c66@rcpt.test)
check_grep "concurrent: admitted again after they closed" '^<- 250 2\.1\.0' "$o6"
check_decided "concurrent: mxgate decided the admitted message" c66@rcpt.test
check_nogrep "refused connections delivered nothing" \
	'to=<c(3|63|65)@rcpt\.test>.*status=sent' "$(maillog)"

# with an RCPT rule loaded, RCPT is answered anyway and MAIL is negotiated
# without a reply: a client that skips EHLO hears the 421 at RCPT, and
# MAIL costs no round trip
cat >>"$H/rules/test.rules" <<'RULES'
rule no-rcpt at rcpt {
	if rcpt_domain is "refused.test"
	tempfail 451 4.7.1 "not here"
}
RULES
kill -HUP "$MXPID"
wait_log "$H/log/mxgate.log" 'reload: ok' 10 || true
out7=$(smtp 127.0.0.1:2525 --bind 203.0.113.15 <<'S'
cmd MAIL FROM:<a@client.test>
cmd RCPT TO:<c7@rcpt.test>
cmd QUIT
S
)
check_grep "RCPT rules: no EHLO: MAIL goes through" '^250 ' "$(reply_to "$out7" MAIL)"
r=$(reply_to "$out7" "RCPT")
check_reply "RCPT rules: no EHLO: tailored 421 at RCPT" 421 4.7.0 "$r" 'Too many connections'
check_logref "RCPT rules: no EHLO: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=too-fast stage=connect action=tempfail .*\[203\.0\.113\.15\]'
out8=$(smtp 127.0.0.1:2525 --bind 203.0.113.16 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<a@client.test>
S
)
check_reply "RCPT rules: EHLO still gets the 421" 421 4.7.0 "$(reply_to "$out8" EHLO)" \
	'Too many connections'
check_alive "mxgate still running"
h_done
