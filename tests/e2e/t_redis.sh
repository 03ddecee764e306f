#!/usr/bin/env bash
# t_redis -- rate counters shared by two mxgate instances (two Postfix
# submission listeners, 2587 -> mxgate A, 2588 -> mxgate B) through one
# real redis-server with a password (an ACL user limited to mxgate's keys
# and commands, as mxgate.conf(5) documents):
# - a customer limit of 3 recipients an hour holds across both hosts: the
#   4th recipient is deferred whichever host it reaches; the key in Redis
#   is mxgate:cust_hour:1h:acme and expires on its own;
# - Redis stopped: mail keeps flowing through A (store_error = fallback),
#   limits still hold on A's local counters, one log line; B (store_error
#   = tempfail) defers only what needs a limit, with 451 4.3.0;
# - Redis back: one log line each, counters shared again;
# - a restart of A with state_file (memory store) keeps a connection-rate
#   block in force; a damaged state file is reported and ignored.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/customers.map" <<'MAP'
alice   customer=acme
bob     customer=acme
dave    customer=beta
eve     customer=gamma
frank   customer=gamma
MAP
cat >"$H/rules/test.rules" <<'RULES'
table customers "customers.map"
list blocktest { 203.0.113.77 }
limit cust_hour { count recipients; key customer; rate 3/1h }
limit conn      { count connections; key client_ip; rate 2/1h }
rule conn-block at connect {
	if client_ip in blocktest and limit conn exceeded
	tempfail 421 4.7.0 "Too many connections from ${client_ip}; retry in ${retry_after}s"
}
rule quota at rcpt {
	if customer and limit cust_hour exceeded
	tempfail 451 4.7.0 "Customer ${customer} reached ${limit.max} recipients per ${limit.window}; retry in ${retry_after}s"
}
# add_auth_results = no here: this header is mxgate's decision on a message
rule seen at eom {
	header "X-Mxgate-Seen" "decided by ${rule}"
}
RULES
E2E_DECISION='X-Mxgate-Seen: decided by seen'
h_netns
h_postfix_up

# redis with an admin password, and a user that may run mxgate's script
# on mxgate's keys only
redis_up() {
	h_redis --requirepass adminpw
	nsx redis-cli -p 6390 -a adminpw --no-auth-warning ACL SETUSER mxgate on \
	    '>mx pw' '~mxgate:*' +evalsha +eval '+script|load' +select +get +set \
	    +time >/dev/null || die "redis ACL SETUSER failed"
}
rcli() { nsx redis-cli -p 6390 -a adminpw --no-auth-warning -n 3 "$@"; }
redis_up
printf 'mxgate mx pw\n' >"$H/redis.pass"
chmod 600 "$H/redis.pass"

h_mxgate_conf "store = redis://127.0.0.1:6390/3" \
    "store_password_file = $H/redis.pass" "add_auth_results = no"
sed -e "s|$H/run/mxgate.sock|$H/run/mxgate2.sock|" \
    -e "s|$H/run/mxgate.pid|$H/run/mxgate2.pid|" \
    -e "s|$H/run/control.sock|$H/run/control2.sock|" "$H/mxgate.conf" >"$H/mxgate2.conf"
echo "store_error = tempfail" >>"$H/mxgate2.conf"
h_mxgate_start
h_mxgate2_start "$H/mxgate2.conf"
log2() { cat "$H/log/mxgate2.log" 2>/dev/null || true; }
wait_log "$H/log/mxgate.log" 'connected; rate counters are shared' || true
wait_log "$H/log/mxgate2.log" 'connected; rate counters are shared' || true
check_grep "A: connected to redis as the ACL user" \
	'store: redis 127\.0\.0\.1:6390/3: connected; rate counters are shared' "$(mxlog)"
check_grep "B: connected to redis" \
	'store: redis 127\.0\.0\.1:6390/3: connected; rate counters are shared' "$(log2)"

# send LOGIN PORT RCPT... -- one message as LOGIN through PORT
send() {
	local login=$1 port=$2 r script
	shift 2
	script="cmd EHLO client.test"
	[[ -n $login ]] && script+=$'\n'"cmd XCLIENT LOGIN=$login"$'\n'"cmd EHLO client.test"
	script+=$'\n'"cmd MAIL FROM:<${login:-anon}@client.test>"
	for r in "$@"; do script+=$'\n'"cmd RCPT TO:<$r>"; done
	script+=$'\n'"cmd DATA"$'\n'"data Subject: r\\r\\n\\r\\nbody"$'\n'"cmd QUIT"
	smtp "127.0.0.1:$port" --bind 203.0.113.30 <<<"$script"
}
# accepted NAME OUT RCPT / deferred NAME OUT RCPT CODE ECODE REGEX
# (accepted: RCPT got 250, and the message was delivered with mxgate's
# decision on it)
accepted() {
	local r why
	r=$(reply_to "$2" "RCPT TO:<$3>")
	if ! grep -q '^250 ' <<<"$r"; then
		fail "$1" "RCPT TO:<$3> got: $(tr '\n' '|' <<<"$r")"
	elif ! why=$(decided "$3"); then
		fail "$1" "$why"
	else
		pass "$1"
	fi
}
deferred() { check_reply "$1" "$4" "$5" "$(reply_to "$2" "RCPT TO:<$3>")" "$6"; }

# --- one customer, two hosts, one counter
out=$(send alice 2587 a1@rcpt.test a2@rcpt.test)
accepted "acme via A: 1st recipient" "$out" a1@rcpt.test
accepted "acme via A: 2nd recipient" "$out" a2@rcpt.test
out=$(send bob 2588 b1@rcpt.test)
accepted "acme via B: 3rd recipient (another login, same customer)" "$out" b1@rcpt.test
out=$(send alice 2588 a3@rcpt.test)
r=$(reply_to "$out" "RCPT TO:<a3@rcpt.test>")
deferred "acme via B: 4th recipient deferred (counted on A and B)" "$out" \
	a3@rcpt.test 451 4.7.0 'Customer acme reached 3 recipients per 1h; retry in (119[0-9]|1200)s'
wait_log "$H/log/mxgate2.log" "ref=$(ref_of "$r")" 5 || true
check_grep "B's log line names the shared limit" \
	"ref=$(ref_of "$r") rule=quota stage=rcpt action=tempfail .*limit=cust_hour:3/3/1h" "$(log2)"
out=$(send bob 2587 b2@rcpt.test)
deferred "acme via A: deferred too" "$out" b2@rcpt.test 451 4.7.0 'Customer acme reached 3'
check_decided "the three accepted recipients are delivered, decided by mxgate" a1@rcpt.test \
	a2@rcpt.test b1@rcpt.test
check_nogrep "the deferred ones are not" 'to=<(a3|b2)@rcpt\.test>.*status=sent' "$(maillog)"
ttl=$(rcli PTTL mxgate:cust_hour:1h:acme 2>/dev/null || echo -2)
check "redis holds mxgate:cust_hour:1h:acme, expiring in about 1 h ($ttl ms)" \
	test "$ttl" -gt 3500000 -a "$ttl" -le 3601000
check "no key without an expiry" test "$(rcli EVAL \
	"local n=0 for _,k in ipairs(redis.call('KEYS','mxgate:*')) do if redis.call('PTTL',k) < 0 then n=n+1 end end return n" 0)" = 0

# --- redis stopped: A falls back to local counters, B defers what needs a limit
h_redis_stop
out=$(send dave 2587 d1@rcpt.test d2@rcpt.test d3@rcpt.test d4@rcpt.test)
accepted "redis down: mail keeps flowing through A" "$out" d1@rcpt.test
accepted "redis down: A's 3rd recipient" "$out" d3@rcpt.test
deferred "redis down: A's local counters still hold the limit" "$out" \
	d4@rcpt.test 451 4.7.0 'Customer beta reached 3 recipients per 1h'
out=$(send dave 2587 d5@rcpt.test)
deferred "redis down: still limited locally" "$out" d5@rcpt.test 451 4.7.0 'Customer beta'
check_decided "d1 delivered while redis is down, decided by mxgate" d1@rcpt.test
check "A logged the fall-back once" test "$(grep -c 'using local counters until it is back' \
	"$H/log/mxgate.log")" -eq 1
check_grep "A's line says why" 'store: redis 127\.0\.0\.1:6390/3: .*; using local counters' "$(mxlog)"
out=$(send eve 2588 e1@rcpt.test)
r=$(reply_to "$out" "RCPT TO:<e1@rcpt.test>")
deferred "redis down, store_error = tempfail: B defers with 451 4.3.0" "$out" \
	e1@rcpt.test 451 4.3.0 'Sending limits cannot be checked right now'
wait_log "$H/log/mxgate2.log" "ref=$(ref_of "$r")" 5 || true
check_grep "B logs it as rule=store-error" \
	"ref=$(ref_of "$r") rule=store-error stage=rcpt action=tempfail" "$(log2)"
out=$(send "" 2588 n1@rcpt.test)
accepted "redis down, tempfail: mail that needs no limit still passes B" "$out" n1@rcpt.test
check "B logged the outage once" test "$(grep -c '(store_error = tempfail)' \
	"$H/log/mxgate2.log")" -eq 1

# --- redis back (empty: no persistence): shared again
redis_up
wait_log "$H/log/mxgate.log" 'reachable again' 40 || true
wait_log "$H/log/mxgate2.log" 'reachable again' 40 || true
check "A logged the return once" test "$(grep -c 'reachable again; rate counters are shared again' \
	"$H/log/mxgate.log")" -eq 1
check "B logged the return once" test "$(grep -c 'reachable again' "$H/log/mxgate2.log")" -eq 1
out=$(send frank 2587 f1@rcpt.test f2@rcpt.test)
accepted "redis back: gamma via A, 2nd recipient" "$out" f2@rcpt.test
out=$(send eve 2588 f3@rcpt.test)
accepted "redis back: gamma via B, 3rd recipient" "$out" f3@rcpt.test
out=$(send frank 2588 f4@rcpt.test)
deferred "redis back: the 4th is deferred across hosts again" "$out" \
	f4@rcpt.test 451 4.7.0 'Customer gamma reached 3'
check "redis back: the counter is in redis" test "$(rcli EXISTS mxgate:cust_hour:1h:gamma)" = 1

# --- state_file: a connection-rate block survives a restart of A
h_mxgate_stop
mkdir -p "$H/state"
chown nobody:nogroup "$H/state"
h_mxgate_conf "add_auth_results = no" "state_file = $H/state/mxgate.state"
h_mxgate_start
# conn RCPT -- one connection from the listed client, a message to RCPT;
# its EHLO reply
conn() {
	reply_to "$(smtp 127.0.0.1:2525 --bind 203.0.113.77 <<<"cmd EHLO c.test
cmd MAIL FROM:<c@c.test>
cmd RCPT TO:<$1>
cmd DATA
data Subject: c\\r\\n\\r\\nconn
cmd QUIT")" "EHLO"
}
check_grep "1st connection accepted" '^250' "$(conn conn1@rcpt.test)"
check_grep "2nd connection accepted" '^250' "$(conn conn2@rcpt.test)"
check_decided "1st and 2nd connection: delivered, decided by mxgate" \
	conn1@rcpt.test conn2@rcpt.test
r=$(conn conn3@rcpt.test)
check_reply "3rd connection refused" 421 4.7.0 "$r" \
	'Too many connections from 203\.0\.113\.77; retry in (179[0-9]|1800)s'
h_mxgate_stop
check "A stopped cleanly (exit 0)" test "$MXRC" = 0
check_grep "the state was saved at stop" 'state_file .*mxgate\.state: [0-9]+ counters? saved' "$(mxlog)"
check "the state file is mode 0600, owned by the mxgate user" test \
	"$(stat -c '%a %U' "$H/state/mxgate.state")" = "600 nobody"
h_mxgate_start
wait_log "$H/log/mxgate.log" 'counters? restored' 5 || true
check_grep "the state was read at start" 'state_file .*: [0-9]+ counters? restored, 0 expired' "$(mxlog)"
r=$(conn conn4@rcpt.test)
check_reply "after the restart the block is still in force" 421 4.7.0 "$r" \
	'Too many connections from 203\.0\.113\.77; retry in (17[0-9][0-9]|1800)s'
# a damaged file is reported and ignored: counters start afresh
h_mxgate_stop
truncate -s 40 "$H/state/mxgate.state"
h_mxgate_start
wait_log "$H/log/mxgate.log" 'ignored, counters start afresh' 5 || true
check_grep "a truncated state file is reported" \
	'state_file: .*mxgate\.state: truncated or damaged.*; ignored, counters start afresh' "$(mxlog)"
check_grep "... and not trusted: the client is let in" '^250' "$(conn conn5@rcpt.test)"
check_decided "... its message delivered, decided by mxgate" conn5@rcpt.test
check_nogrep "refused connections delivered nothing" 'to=<conn[34]@rcpt\.test>.*status=sent' "$(maillog)"
check_alive "mxgate still running"
h_done
