#!/usr/bin/env bash
# t_ctl_limit -- mxgatectl limit show / reset / top through the real
# harness, against the memory store and then against Redis (an ACL user
# with the rights mxgate.conf(5) documents):
# - a sender sends until the limit defers it (the real SMTP reply);
# - `limit show` gives used = max and a future next-allowed time (text,
#   and --json read by python3's json); the sender typed in capitals
#   names the same key; `limit top` lists it first (text and JSON);
# - `limit reset` exits 0, says what it reset, logs the peer's uid 0
#   (root); the next message from that sender goes through, decided by
#   mxgate (its header in the maillog), and show then counts it;
# - KEY forms of a client_ip/24 key: an address and its /24 name the
#   same network, another prefix length is refused (65);
# - an unknown limit: exit 65 naming the limits; bad command lines: 64;
# - Redis: the key mxgate:per_sender:1h:SENDER is gone after a reset;
#   Redis stopped: show gives the local fallback counters, labelled so;
#   reset exits 69 and says Redis was not reset.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/test.rules" <<'RULES'
limit per_sender { count messages; key sender; rate 3/1h }
limit per_net { count messages; key client_ip/24 /64; rate 1000/1d }
rule sender-quota at mail {
	if limit per_sender exceeded
	tempfail 451 4.7.1 "Too many messages from ${mail_from}; retry in ${retry_after}s"
}
rule net-quota at mail {
	if limit per_net exceeded
	tempfail 451 4.7.1 "Too many messages from your network"
}
# add_auth_results = no: this header is mxgate's decision on a message
rule seen at eom {
	header "X-Mxgate-Seen" "decided by ${rule}"
}
RULES
E2E_DECISION='X-Mxgate-Seen: decided by seen'
h_netns
h_postfix_up

# msg SENDER RCPT -- one message from 203.0.113.40; prints smtpc output
msg() {
	smtp 127.0.0.1:2525 --bind 203.0.113.40 <<S
cmd EHLO client.test
cmd MAIL FROM:<$1>
cmd RCPT TO:<$2>
cmd DATA
data Subject: limit\r\n\r\nlimit
cmd QUIT
S
}

# run OUTVAR ERRVAR RCVAR ARGS... -- ctl ARGS, its stdout, stderr and exit
run() {
	local __o=$1 __e=$2 __r=$3 __rc=0
	shift 3
	ctl "$@" >"$H/ctl.out" 2>"$H/ctl.err" || __rc=$?
	printf -v "$__o" '%s' "$(cat "$H/ctl.out")"
	printf -v "$__e" '%s' "$(cat "$H/ctl.err")"
	printf -v "$__r" '%s' "$__rc"
}

# phase LABEL SENDER OTHER -- the whole sequence on the store in force
phase() {
	local p=$1 s=$2 t=$3 i out r rc err code n
	# until deferred: 3 accepted, the 4th deferred by the limit
	for i in 1 2 3; do
		out=$(msg "$s" "$p-$i@rcpt.test")
		check_grep "$p: message $i from $s accepted" '^250 ' \
			"$(reply_to "$out" "RCPT TO:<$p-$i@")"
	done
	out=$(msg "$t" "$p-t@rcpt.test")
	out=$(msg "$s" "$p-4@rcpt.test")
	r=$(reply_to "$out" "MAIL FROM:<$s>")
	check_reply "$p: the 4th is deferred by the limit" 451 4.7.1 "$r" \
		"Too many messages from $s; retry in (11[0-9][0-9]|1200)s"

	# show: used = max, next allowed in the future
	run out err rc limit show per_sender "$s"
	check "$p: show exits 0 ($rc: $err)" test "$rc" = 0
	check_grep "$p: show names the limit and the store" \
		"^limit per_sender: count messages; key sender$" "$out"
	check_grep "$p: show: used 3 of 3, next allowed at a time, in about 1200 s" \
		'^  window 1h +used 3 of 3; next allowed 20[0-9-]+ [0-9:]+ [A-Z]+ \(in (11[0-9][0-9]|1200) s\)$' "$out"
	note "$p: limit show:"$'\n'"$out"
	run out err rc limit show per_sender "${s^^}"
	check_grep "$p: the sender typed in capitals is the same key" \
		"^key $s\$" "$out"
	check_grep "$p: ... with the same count" 'used 3 of 3' "$out"
	ctl --json limit show per_sender "$s" >"$H/show.json" 2>&1 || true
	check "$p: show --json: used = max = 3, next allowed in the future" \
		python3 - "$H/show.json" "$s" <<'PY'
import datetime, json, sys
j = json.load(open(sys.argv[1]))
assert j["limit"] == "per_sender" and j["fallback"] is False, j
k = j["keys"][0]
assert k["key"] == sys.argv[2], k
w = k["windows"][0]
assert w["window"] == "1h" and w["seconds"] == 3600, w
assert w["used"] == 3 and w["max"] == 3, w
assert 1000 < w["next_allowed_in"] <= 1200, w
t = datetime.datetime.strptime(w["next_allowed"], "%Y-%m-%dT%H:%M:%SZ")
now = datetime.datetime.utcnow()
assert t > now + datetime.timedelta(seconds=1000), (t, now)
PY

	# top: the blocked sender first, the other after it
	run out err rc limit top per_sender
	check "$p: top exits 0 ($rc: $err)" test "$rc" = 0
	check_grep "$p: top counts the keys" '^[2-9] keys holding state; nearest their limit first:$' "$out"
	check "$p: top lists $s first" test \
		"$(sed -n 5p <<<"$out" | awk '{ print $1, $2, $3, $5 }')" = "$s 1h 3 3"
	check_grep "$p: ... and $t after it, 1 of 3" "^  $t +1h +1 of 3 +now\$" "$(sed -n '6,$p' <<<"$out")"
	note "$p: limit top:"$'\n'"$out"
	ctl --json limit top per_sender -n 1 >"$H/top.json" 2>&1 || true
	check "$p: top --json -n 1: one key, $s, used 3 of 3" \
		python3 - "$H/top.json" "$s" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["keys_found"] >= 2 and j["scan_cut"] is False, j
assert len(j["keys"]) == 1, j
k = j["keys"][0]
assert k["key"] == sys.argv[2] and k["used"] == 3 and k["max"] == 3, k
assert k["next_allowed_in"] > 1000, k
PY

	# reset: exit 0, said, logged with uid 0 (root); the next message passes
	run out err rc limit reset per_sender "$s"
	check "$p: reset exits 0 ($rc: $err)" test "$rc" = 0
	check_grep "$p: reset says what it reset" \
		"^limit per_sender: key $s reset in .*: every window forgotten \\(1 counter held state\\)$" "$out"
	wait_log "$H/log/mxgate.log" "limit reset: per_sender $s by" 5 || true
	check_grep "$p: the reset is logged with uid 0 (root)" \
		"limit reset: per_sender $s by uid 0 \\(root\\)" "$(mxlog)"
	out=$(msg "$s" "$p-5@rcpt.test")
	check_grep "$p: after the reset the next message is accepted" '^250 ' \
		"$(reply_to "$out" "RCPT TO:<$p-5@")"
	check_decided "$p: ... delivered, decided by mxgate" "$p-5@rcpt.test"
	run out err rc limit show per_sender "$s"
	check_grep "$p: show after the reset: used 1 of 3, next allowed now" \
		'^  window 1h +used 1 of 3; next allowed now$' "$out"

	# KEY forms of client_ip/24: the address or its /24 (a day's window:
	# the count decays by one every 86.4 s)
	run out err rc limit show per_net 203.0.113.40
	n=$(sed -nE 's/^  window 1d +used ([0-9]+) of 1000.*/\1/p' <<<"$out")
	check "$p: per_net by address: key 203.0.113.0/24, some messages" \
		test "$(sed -n 's/^key //p' <<<"$out")" = 203.0.113.0/24 -a "${n:-0}" -ge 5
	run out err rc limit show per_net 203.0.113.0/24
	check_grep "$p: per_net by network: the same count" "used $n of 1000" "$out"
	run out err rc limit show per_net 203.0.113.0/25
	check "$p: per_net with another prefix length: exit 65" test "$rc" = 65
	check_grep "$p: ... says how it is counted" 'counted per /24, not /25' "$err"

	# errors
	run out err rc limit show nosuch "$s"
	check "$p: unknown limit: exit 65" test "$rc" = 65
	check_grep "$p: ... naming the limits" 'no limit nosuch; the limits are: per_sender, per_net' "$err"
	for code in "show per_sender" "top per_sender -n 0" "top per_sender -n 1001" \
	    "frob" "reset per_sender a b" "top"; do
		# shellcheck disable=SC2086
		run out err rc limit $code
		check "$p: limit $code: exit 64" test "$rc" = 64
	done
	check_grep "$p: ... with a usage line" '^usage: mxgatectl limit show\|reset LIMIT KEY' "$err"
}

# --- the memory store
h_mxgate_conf "add_auth_results = no"
h_mxgate_start
phase memory m1@client.test m2@client.test
h_mxgate_stop

# --- Redis: an ACL user with the rights mxgate.conf(5) documents
h_redis --requirepass adminpw
nsx redis-cli -p 6390 -a adminpw --no-auth-warning ACL SETUSER mxgate on \
    '>mx pw' '~mxgate:*' +evalsha +eval '+script|load' +select +get +set \
    +time +del +scan >/dev/null || die "redis ACL SETUSER failed"
rcli() { nsx redis-cli -p 6390 -a adminpw --no-auth-warning -n 2 "$@"; }
printf 'mxgate mx pw\n' >"$H/redis.pass"
chmod 600 "$H/redis.pass"
h_mxgate_conf "add_auth_results = no" "store = redis://127.0.0.1:6390/2" \
    "store_password_file = $H/redis.pass"
: >"$H/log/mxgate.log"
h_mxgate_start
wait_log "$H/log/mxgate.log" 'connected; rate counters are shared' || true
check_grep "redis: connected" 'store: redis 127\.0\.0\.1:6390/2: connected' "$(mxlog)"
out=$(msg r0@client.test warm@rcpt.test)
check "redis: the counters are in redis" test \
	"$(rcli EXISTS mxgate:per_sender:1h:r0@client.test)" = 1
phase redis r1@client.test r2@client.test
run out err rc limit show per_sender r1@client.test
check_grep "redis: show names the store" '^store: redis 127\.0\.0\.1:6390/2$' "$out"
# r1 sent one message after its reset: block it again and reset it
for i in 6 7 8; do out=$(msg r1@client.test "redis-$i@rcpt.test"); done
check "redis: r1's key is in redis" test \
	"$(rcli EXISTS mxgate:per_sender:1h:r1@client.test)" = 1
run out err rc limit reset per_sender r1@client.test
check "redis: reset exits 0" test "$rc" = 0
check "redis: the reset deleted the key in redis" test \
	"$(rcli EXISTS mxgate:per_sender:1h:r1@client.test)" = 0
check "redis: and no other" test \
	"$(rcli EXISTS mxgate:per_sender:1h:r2@client.test)" = 1

# Redis stopped: the local fallback, labelled; a reset says Redis was not reset
h_redis_stop
out=$(msg r3@client.test down@rcpt.test)
wait_log "$H/log/mxgate.log" 'using local counters until it is back' 5 || true
run out err rc limit show per_sender r3@client.test
check "redis down: show exits 0 with the fallback" test "$rc" = 0
check_grep "redis down: ... labelled as the local fallback" 'LOCAL FALLBACK' "$out"
check_grep "redis down: ... with the local count" 'used 1 of 3' "$out"
ctl --json limit show per_sender r3@client.test >"$H/down.json" 2>&1 || true
check "redis down: --json says fallback and why" python3 - "$H/down.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["fallback"] is True and "redis" in j["fallback_reason"], j
assert j["keys"][0]["windows"][0]["used"] == 1, j
PY
run out err rc limit reset per_sender r3@client.test
check "redis down: reset exits 69" test "$rc" = 69
check_grep "redis down: ... saying Redis was not reset" \
	'local counters were reset; redis 127\.0\.0\.1:6390/2 was not' "$err"
check_alive "mxgate is still running"
h_done
