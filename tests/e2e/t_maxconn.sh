#!/usr/bin/env bash
# t_maxconn -- max_connections = 2: with two SMTP sessions held open
# through Postfix (each one a milter connection to mxgate), the next
# session gets the tailored `421 4.3.2 Too many connections ... (ref REF)`
# at EHLO (at MAIL when it skips EHLO), never Postfix's generic
# milter_default_action text, and the ref is logged with
# rule=max-connections; the held sessions still deliver with mxgate's
# decision, and once they are gone a new session does too; mxgate lives
# on and stops with exit 0.
#
#   MXGATE=.../milter/mxgate tests/e2e/run.sh t_maxconn.sh     (root)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
h_own_pids

cat >"$H/rules/test.rules" <<'RULES'
rule stamp at eom {
	header "X-Maxconn-Test" "checked"
}
RULES
h_mxgate_conf "max_connections = 2"
if ! out=$("$MXGATE" -n -c "$H/mxgate.conf" 2>&1); then
	fail "mxgate.conf accepts max_connections = 2" "$(tr '\n' '|' <<<"$out")"
	h_done
fi
pass "mxgate.conf accepts max_connections = 2"
h_up

# hold SOURCE RCPT -- an SMTP session held open after RCPT (smtphold.py),
# output in $H/hold-RCPT.out, its pid in OWN_PIDS
hold() {
	# ip netns exec execs python: $! is the session itself
	ip netns exec "$NS" python3 "$E2E_DIR/smtphold.py" 127.0.0.1:2525 "$1" "$2" \
	    "$H/release" >"$H/hold-$2.out" 2>&1 &
	OWN_PIDS+=("$!")
}

# session SOURCE RCPT [SKIP-EHLO] -- one message to RCPT, then QUIT
session() {
	local ehlo='cmd EHLO client.test'
	[[ -n ${3:-} ]] && ehlo='# no EHLO'
	smtp 127.0.0.1:2525 --bind "$1" <<S
$ehlo
cmd MAIL FROM:<m@client.test>
cmd RCPT TO:<$2>
cmd DATA
data Subject: maxconn\r\n\r\nmax_connections
cmd QUIT
S
}

hold 203.0.113.71 held-1@rcpt.test
hold 203.0.113.72 held-2@rcpt.test
for r in held-1@rcpt.test held-2@rcpt.test; do
	wait_log "$H/hold-$r.out" '^== held' 20 || true
	check_grep "session to $r held open after RCPT" '^== held' "$(cat "$H/hold-$r.out")"
done

out=$(session 203.0.113.73 third@rcpt.test)
r=$(reply_to "$out" EHLO)
check_reply "third session: tailored 421 4.3.2 at EHLO" 421 4.3.2 "$r" '^Too many connections'
check_grep "third session: the 421 closes the connection" '^== closed' "$out"
check_nogrep "third session: nothing accepted after the 421" '^<- 250' \
	"$(sed -n '/^<- 421 /,$p' <<<"$out")"
check_logref "third session: its ref is logged with rule=max-connections" "$(ref_of "$r")" \
	'rule=max-connections stage=connect action=tempfail'

out=$(session 203.0.113.74 fourth@rcpt.test no-ehlo)
r=$(reply_to "$out" MAIL)
check_reply "a session without EHLO: tailored 421 4.3.2 at MAIL" 421 4.3.2 "$r" '^Too many connections'
check_logref "a session without EHLO: its ref is logged with rule=max-connections" \
	"$(ref_of "$r")" 'rule=max-connections stage=connect action=tempfail'
check_nogrep "Postfix never fell back to milter_default_action" \
	'Service unavailable - try again later|warning: (milter |connect to Milter service)' "$(maillog)"
check_alive "mxgate alive with the limit reached"

# the held sessions were not disturbed: they deliver, decided by mxgate
touch "$H/release"
for p in "${OWN_PIDS[@]}"; do wait "$p" || true; done
OWN_PIDS=()
for r in held-1@rcpt.test held-2@rcpt.test; do
	check_grep "held session to $r: message accepted" '^<- 250 2\.0\.0 Ok: queued' \
		"$(cat "$H/hold-$r.out")"
done
check_decided "held sessions: decided by mxgate" held-1@rcpt.test held-2@rcpt.test

# once the held sessions are gone there is room again (Postfix closes
# their milter connections just after the QUIT: a few tries)
for i in 1 2 3 4 5 6 7 8 9 10; do
	out=$(session 203.0.113.75 "after-$i@rcpt.test")
	grep -q '^<- 250 2\.0\.0 Ok: queued' <<<"$out" && break
	sleep 1
done
note "room again at try $i"
check_grep "after the held sessions quit: a new session delivers" '^<- 250 2\.0\.0 Ok: queued' "$out"
check_decided "after the held sessions quit: decided by mxgate" "after-$i@rcpt.test"

check_alive "mxgate still running"
check_nogrep "no crash or sanitizer report" \
	'AddressSanitizer|LeakSanitizer|runtime error:|panic|stopped on its own' "$(mxlog)"
h_mxgate_stop
check "SIGTERM: exit status 0" test "$MXRC" = 0
check_grep "SIGTERM: mxgate stopped" 'mxgate stopped$' "$(mxlog)"
h_done
