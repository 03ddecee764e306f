#!/usr/bin/env bash
# t_syslog -- mxgate with `log = syslog` through normal traffic, its lines
# read from the harness's syslog listener (h_syslog: /dev/log in a private
# mount namespace of mxgate): the shipped default rules plus a connect
# refusal, DNS from NSD, a DKIM-signed message, SPF passes, an SPF-refused
# recipient and a refused connection. mxgate's start, decisions and stop
# arrive at facility mail; no line from mxgate or libmilter (same process,
# same ident) is at priority err or worse (libmilter's "milter claimed
# not to reply in state N but did anyway", once per header, was one).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

PY=/usr/bin/python3
$PY -c 'import dkim' 2>/dev/null ||
	{ echo "SKIP: no dkimpy (Debian: python3-dkim)"; exit 77; }
SIGN=$E2E_DIR/dkimsign.py
mkdir -p "$H/keys"
$PY "$SIGN" genkey rsa "$H/keys/rsa"
zone_head zen.spamhaus.org >"$H/dns/zen.spamhaus.org.zone"
zone_head example >"$H/dns/example.zone"
{
	zone_head sl.example
	echo '@ TXT "v=spf1 ip4:203.0.113.40 -all"'
	echo '_dmarc TXT "v=DMARC1; p=reject"'
	zone_txt s1._domainkey "$H/keys/rsa.txt"
} >"$H/dns/sl.example.zone"
zone_head plain.example >"$H/dns/plain.example.zone"	# no SPF, no DMARC
{
	cat "$E2E_DIR/../../rules/default.rules"
	cat <<'RULES'
list refused_clients { 203.0.113.49 }
rule refused-client at connect {
	if client_ip in refused_clients
	tempfail 421 4.7.0 "Connections from ${client_ip} are refused for now."
}
RULES
} >"$H/rules/test.rules"
h_netns
h_dns
h_postfix_up
h_syslog
h_mxgate_conf "log = syslog"
sed -i 's/^log = stderr$//' "$H/mxgate.conf"
h_mxgate_start

# message FROM SUBJECT -- a message of several header fields on stdout
message() {
	printf 'From: %s\r\nTo: <x@rcpt.test>\r\nSubject: %s\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n' "$1" "$2"
	printf 'Message-ID: <%s@sl.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n' "$RANDOM$RANDOM"
	printf '\r\nHello,\r\n\r\nthis is a syslog test message.\r\n'
	for ((i = 0; i < 40; i++)); do printf 'body line %02d of the message\r\n' "$i"; done
}
esc() { $PY -c 'import sys; d=sys.stdin.buffer.read().decode("latin-1"); sys.stdout.write(d.replace("\\","\\\\").replace("\r","\\r").replace("\n","\\n"))'; }
# send SOURCE MAILFROM RCPT... < MESSAGE -- one transaction
send() {
	local src=$1 from=$2 body r
	shift 2
	body=$(esc)
	{
		echo "cmd EHLO client.test"
		echo "cmd MAIL FROM:<$from>"
		for r in "$@"; do echo "cmd RCPT TO:<$r>"; done
		echo "cmd DATA"
		echo "data $body"
		echo "cmd QUIT"
	} | smtp 127.0.0.1:2525 --bind "$src"
}

out=$(message 'Ann <ann@sl.example>' signed | $PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 sl.example |
	send 203.0.113.40 ann@sl.example sl1@rcpt.test)
check_grep "DKIM-signed message queued" '^250 .*queued as' "$(replies "$out")"
for i in 2 3 4; do
	message 'Ann <ann@sl.example>' "plain $i" | send 203.0.113.40 ann@sl.example "sl$i@rcpt.test" >/dev/null
done
out=$(message 'Bob <bob@plain.example>' refused | send 203.0.113.41 ann@sl.example sl5@rcpt.test postmaster@rcpt.test)
r=$(reply_to "$out" "RCPT TO:<sl5@")
check_reply "SPF-refused recipient: 451 4.7.23" 451 4.7.23 "$r" 'does not allow 203\.0\.113\.41'
check_grep "postmaster@ of the same message accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<postmaster@")"
# an authenticated submission (XCLIENT LOGIN: Postfix starts the milter
# conversation of the new identity afresh)
body=$(message 'Carol <carol@plain.example>' submitted | esc)
out=$(printf '%s\n' "cmd EHLO client.test" "cmd XCLIENT LOGIN=carol" "cmd EHLO client.test" \
	"cmd MAIL FROM:<carol@plain.example>" "cmd RCPT TO:<sl6@rcpt.test>" "cmd DATA" "data $body" \
	"cmd QUIT" | smtp 127.0.0.1:2587 --bind 203.0.113.42)
check_grep "authenticated submission queued" '^250 .*queued as' "$(replies "$out")"
out=$(printf 'cmd EHLO client.test\ncmd QUIT\n' | smtp 127.0.0.1:2525 --bind 203.0.113.49)
check_grep "refused client: 421 at connect" '^<- 421 4\.7\.0 ' "$out"

check_decided "accepted messages carry mxgate's decision" sl1@rcpt.test sl2@rcpt.test \
	sl3@rcpt.test sl4@rcpt.test postmaster@rcpt.test sl6@rcpt.test
check_alive "mxgate still running"
h_mxgate_stop
check "stopped cleanly (exit 0)" test "$MXRC" = 0
wait_log "$H/log/syslog" 'mxgate stopped' 5 || true
sl=$(syslog_lines)
# <PRI>: facility mail is 2 (PRI 16..23); priority err or worse is PRI & 7 <= 3
mx=$(grep -E '^<[0-9]+>.{0,40} mxgate\[[0-9]+\]: ' <<<"$sl" || true)
check_grep "start line via syslog, facility mail" '^<(1[6-9]|2[0-3])>.* mxgate\[[0-9]+\]: mxgate .* starting: ' "$mx"
check_grep "SPF decision via syslog, facility mail, info" \
	'^<22>.* mxgate\[[0-9]+\]: [0-9A-Za-z]+: ref=[0-9A-Z]+ rule=spf-fail stage=rcpt action=tempfail .*rcpt=<sl5@rcpt\.test> spf=fail' "$mx"
check_grep "connect refusal via syslog, facility mail, info" \
	'^<22>.* mxgate\[[0-9]+\]: NOQUEUE: ref=[0-9A-Z]+ rule=refused-client stage=connect action=tempfail ' "$mx"
check_grep "stop line via syslog" '^<(1[6-9]|2[0-3])>.* mxgate\[[0-9]+\]: mxgate stopped$' "$mx"
check_nogrep "nothing from mxgate on stderr" '.' "$(grep -v '^$' "$H/log/mxgate.log" || true)"
bad=$(awk '{
	if (match($0, /^<[0-9]+>/)) {
		pri = substr($0, 2, RLENGTH - 2) + 0
		if (pri % 8 <= 3) print
	}
}' <<<"$sl")
check_nogrep "no line at priority err or worse (mxgate, libmilter)" '.' "$bad"
check "every syslog line is mxgate's" test "$(grep -vcE '^<[0-9]+>.{0,40} mxgate\[[0-9]+\]: ' <<<"$sl" || true)" = 0
h_done
