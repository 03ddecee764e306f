#!/usr/bin/env bash
# t_conn_headers -- `header` actions of connect- and helo-stage rules are
# added to every message of the connection: two messages on one
# connection (through the listener whose milter_default_action is
# tempfail) both carry the connect-stage and the helo-stage header, and
# each message's own eom-stage header; a second connection gets its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

cat >"$H/rules/test.rules" <<'RULES'
rule conn-stamp at connect {
	header "X-Conn-Stamp" "client ${client_ip}"
}
rule helo-stamp at helo {
	if helo is client.test
	header "X-Helo-Stamp" "helo ${helo}"
}
rule msg-stamp at eom {
	header "X-Msg-Stamp" "from ${mail_from}"
}
RULES
h_up

out=$(smtp 127.0.0.1:2526 --bind 203.0.113.31 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<one@client.test>
cmd RCPT TO:<first@rcpt.test>
cmd DATA
data Subject: first\r\n\r\nfirst message
cmd MAIL FROM:<two@client.test>
cmd RCPT TO:<second@rcpt.test>
cmd DATA
data Subject: second\r\n\r\nsecond message
cmd QUIT
S
)
qids=$(grep -oE 'queued as [0-9A-Za-z]+' <<<"$out" | awk '{print $3}' | tr '\n' ' ')
read -r q1 q2 _ <<<"$qids"
check "two messages queued on one connection" test -n "${q1:-}" -a -n "${q2:-}"
n=0
for q in "${q1:-NOQID1}" "${q2:-NOQID2}"; do
	n=$((n + 1))
	wait_log "$H/log/maillog" "$q: milter-header-warning: header X-Msg-Stamp" 10 || true
	check_grep "message $n: mxgate decided (its Authentication-Results)" \
		"$q: milter-header-warning: header Authentication-Results: mx\\.e2e\\.test" "$(maillog)"
	check_grep "message $n: the connect-stage header" \
		"$q: milter-header-warning: header X-Conn-Stamp: client 203\\.0\\.113\\.31" "$(maillog)"
	check_grep "message $n: the helo-stage header" \
		"$q: milter-header-warning: header X-Helo-Stamp: helo client\\.test" "$(maillog)"
	check "message $n: each connection header once" test \
		"$(grep -c "$q: milter-header-warning: header X-\(Conn\|Helo\)-Stamp" "$H/log/maillog")" -eq 2
done
check_grep "message 1: its own eom header" \
	"${q1:-NOQID1}: milter-header-warning: header X-Msg-Stamp: from one@client\\.test" "$(maillog)"
check_grep "message 2: its own eom header" \
	"${q2:-NOQID2}: milter-header-warning: header X-Msg-Stamp: from two@client\\.test" "$(maillog)"
check_nogrep "message 2: not the first message's eom header" \
	"${q2:-NOQID2}: milter-header-warning: header X-Msg-Stamp: from one@" "$(maillog)"

# another connection, another HELO: its own values, no helo header when
# the helo rule does not match
out=$(smtp 127.0.0.1:2526 --bind 203.0.113.32 <<'S'
cmd EHLO other.test
cmd MAIL FROM:<three@client.test>
cmd RCPT TO:<third@rcpt.test>
cmd DATA
data Subject: third\r\n\r\nthird message
cmd QUIT
S
)
q3=$(queued_as "$out")
wait_log "$H/log/maillog" "${q3:-NOQID3}: milter-header-warning: header X-Msg-Stamp" 10 || true
check_grep "another connection: its own connect-stage header" \
	"${q3:-NOQID3}: milter-header-warning: header X-Conn-Stamp: client 203\\.0\\.113\\.32" "$(maillog)"
check_nogrep "another connection: no helo-stage header where the rule did not match" \
	"${q3:-NOQID3}: milter-header-warning: header X-Helo-Stamp" "$(maillog)"
check_alive "mxgate still running"

# rules of the connect stage alone (and no Authentication-Results): the
# header still needs the end of message, so mxgate must not answer
# accept at connect
h_mxgate_stop
cat >"$H/rules/test.rules" <<'RULES'
rule conn-stamp at connect {
	header "X-Conn-Stamp" "client ${client_ip}"
}
RULES
h_mxgate_conf "add_auth_results = no"
h_mxgate_start
out=$(smtp 127.0.0.1:2526 --bind 203.0.113.33 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<four@client.test>
cmd RCPT TO:<fourth@rcpt.test>
cmd DATA
data Subject: fourth\r\n\r\nfourth message
cmd QUIT
S
)
q4=$(queued_as "$out")
wait_log "$H/log/maillog" "${q4:-NOQID4}: milter-header-warning: header X-Conn-Stamp" 10 || true
check_grep "connect-stage rules only: the header is added (mxgate decided)" \
	"${q4:-NOQID4}: milter-header-warning: header X-Conn-Stamp: client 203\\.0\\.113\\.33" "$(maillog)"
h_done
