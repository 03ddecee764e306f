#!/usr/bin/env bash
# t_sendmail -- mxgate behind a real Sendmail 8.17 (issue 13 item 5): a
# private Sendmail (Debian's sendmail-bin unpacked by quickstart into
# $E2E_SENDMAIL, default /var/cache/mxgate-e2e/sendmail; it conflicts
# with the installed postfix) runs in the test namespace on 127.0.0.1:2530
# with its own .cf built from an .mc with INPUT_MAIL_FILTER (F=T), queues
# every message (DeliveryMode=queue) and never delivers: a message's qf
# file is what a delivery would carry, headers and all.
# Checks: tailored replies at connect (delivered at HELO), HELO, MAIL, RCPT
# (one recipient refused, the others kept), DATA and end of message, each
# with its ref in mxgate's log; header insert (A-R on top, a rules header)
# and delete (a forged A-R claiming mxgate's authserv-id); a third
# transaction on one SMTP session, after a DATA and an end-of-message
# refusal, still decided by mxgate (Sendmail keeps one milter connection,
# with the options negotiated at connect, per SMTP session: each session
# opened and negotiated a new one when traced; QUIT_NC was not seen);
# mxgate stopped: F=T gives a 451 4.3.2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SM=${E2E_SENDMAIL:-/var/cache/mxgate-e2e/sendmail}
[[ -x $SM/usr/libexec/sendmail/sendmail ]] ||
	{ echo "SKIP: no Sendmail in $SM (./quickstart test unpacks it)"; exit 77; }
command -v m4 >/dev/null || { echo "SKIP: no m4"; exit 77; }
# Sendmail refuses a milter socket with a group- or world-writable
# directory anywhere on its path (/tmp is one): the harness lives in a
# private directory under /run instead, removed with everything else
SMTOP=$(mktemp -d /run/mxe2e-sm.XXXXXX)
chmod 755 "$SMTOP"
E2E_TMP=$SMTOP
SMPID=
h_setup
sm_down() {
	local rc=$?
	[[ -n $SMPID ]] && stop_pid "$SMPID" 10
	SMPID=
	h_down || true
	rm -rf "$SMTOP"
	exit "$rc"
}
trap sm_down EXIT

cat >"$H/rules/test.rules" <<'RULES'
footer "Questions? Write to postmaster@e2e.test."
rule conn-refused at connect {
	if client_ip is 203.0.113.40
	tempfail 421 4.7.0 "Client ${client_ip} is paused at connect."
}
rule helo-refused at helo {
	if helo is bad-helo.test
	tempfail 451 4.7.1 "HELO ${helo} is paused."
}
rule mail-refused at mail {
	if mail_from =~ "^defer-"
	tempfail 451 4.7.0 "Sender ${mail_from} is deferred for a while."
}
rule rcpt-refused at rcpt {
	if rcpt_domain is blocked.rcpt.test
	tempfail 451 4.7.1 "Mail to ${rcpt_domain} is paused; please retry later."
}
rule data-refused at data {
	if mail_from =~ "^data-"
	tempfail 451 4.7.0 "Data from ${mail_from} is deferred."
}
rule eom-refused at eom {
	if mail_from =~ "^later-"
	tempfail 451 4.7.0 "Message ${queue_id} from ${mail_from} is deferred."
}
rule stamp at eom {
	header "X-Mxgate-Test" "checked by ${rule} for ${mail_from}"
}
RULES

h_netns
# Sendmail wants its own name qualified (else it sleeps a minute)
printf '127.0.0.1\tlocalhost mx.sm.test %s\n::1\tlocalhost\n' "$(hostname)" \
    >"/etc/netns/$NS/hosts"
h_mxgate_conf
h_mxgate_start

# ---------------------------------------------------------------- Sendmail
SMC=$H/sm
SMQ=$H/smq
mkdir -p "$SMC" "$SMQ"
chmod 700 "$SMQ"
cat >"$SMC/sendmail.mc" <<MC
divert(-1)
include(\`$SM/usr/share/sendmail/cf/m4/cf.m4')
divert(0)dnl
VERSIONID(\`mxgate e2e')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.sm.test')dnl
define(\`QUEUE_DIR', \`$SMQ')dnl
define(\`confPID_FILE', \`$SMC/sendmail.pid')dnl
define(\`HELP_FILE', \`$SM/etc/mail/helpfile')dnl
define(\`STATUS_FILE', \`')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confCW_FILE', \`-o $SMC/local-host-names')dnl
define(\`confDELIVERY_MODE', \`queue')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confMILTER_LOG_LEVEL', \`14')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confPRIVACY_FLAGS', \`goaway')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`promiscuous_relay')dnl
DAEMON_OPTIONS(\`Port=2530, Addr=127.0.0.1, Name=MTA')dnl
INPUT_MAIL_FILTER(\`mxgate', \`S=unix:$H/run/mxgate.sock, F=T, T=C:10s;S:30s;R:30s;E:1m')dnl
MAILER(\`smtp')dnl
MC
: >"$SMC/local-host-names"
m4 "$SMC/sendmail.mc" >"$SMC/sendmail.cf" 2>"$H/log/m4.err" ||
	die "m4: $(tr '\n' '|' <"$H/log/m4.err")"

# sm_start -- Sendmail as a daemon in the namespace (as root, as it
# expects), its log through the syslog listener; its pid in SMPID
sm_start() {
	rm -f "$SMC/sendmail.pid"
	# shellcheck disable=SC2046
	nsx $(devlog_wrap) env LD_LIBRARY_PATH="$SM/usr/lib/x86_64-linux-gnu" \
	    "$SM/usr/libexec/sendmail/sendmail" -C "$SMC/sendmail.cf" -bd \
	    </dev/null >"$H/log/sendmail-start" 2>&1 ||
		die "sendmail: $(tr '\n' '|' <"$H/log/sendmail-start")"
	wait_until 10 test -s "$SMC/sendmail.pid" ||
		die "sendmail wrote no pid file: $(tr '\n' '|' <"$H/log/sendmail-start"; syslog_lines | tail -n 5 | tr '\n' '|')"
	SMPID=$(head -n1 "$SMC/sendmail.pid" | tr -dc '0-9')
	wait_until 10 nsx bash -c 'exec 3<>/dev/tcp/127.0.0.1/2530' ||
		die "sendmail does not listen on 127.0.0.1:2530: $(syslog_lines | tail -n 5 | tr '\n' '|')"
}
h_syslog
sm_start

# qf QID -- Sendmail's queue file of message QID (the message as it
# would be delivered: H lines are its header fields)
qf() { [[ -n $1 ]] && cat "$SMQ/qf$1" 2>/dev/null || true; }
# sm_qid OUT -- the queue id of "250 2.0.0 QID Message accepted for delivery"
sm_qid() { sed -nE 's/^<- 250 2\.0\.0 ([0-9A-Za-z]+) Message accepted.*/\1/p' <<<"$1" | tail -n1; }
# qf_headers QID -- the header fields of the queued message, in order
# (without the ?P? Return-Path template, which only mailers with the P
# flag write, not the esmtp mailer this message would leave by)
qf_headers() { qf "$1" | sed -nE '/^H\?P\?Return-Path:/d; s/^H(\?[^?]*\?)?//p'; }
smtp_sm() { smtp 127.0.0.1:2530 "$@"; }

# ---------------------------------------------------------------- checks
# connect: mxgate answers the connection with a 421 that libmilter keeps
# until HELO; what the client sees is Sendmail's rendering of it
out=$(smtp_sm --bind 203.0.113.40 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<a@client.test>
cmd QUIT
S
)
echo "$out" >"$H/log/connect.out"
r=$(reply_to "$out" "EHLO")
check_reply "connect: tailored 421 at EHLO" 421 4.7.0 "$r" \
	'Client 203\.0\.113\.40 is paused at connect\. \(ref [0-9A-Z]{12}\) Questions\? Write to postmaster@e2e\.test\.'
check_logref "connect: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=conn-refused stage=connect action=tempfail .*\[203\.0\.113\.40\]'
check_grep "connect: 421 closes the connection" '^== closed' "$out"
check_nogrep "connect: nothing accepted after the 421" '^<- 250 ' "$(sed -n '/^<- 421/,$p' <<<"$out")"

out=$(smtp_sm --bind 203.0.113.41 <<'S'
cmd EHLO bad-helo.test
cmd MAIL FROM:<a@client.test>
cmd QUIT
S
)
echo "$out" >"$H/log/helo.out"
# Sendmail answers EHLO itself and gives a HELO-stage milter refusal to
# the next MAIL
check_grep "helo: Sendmail accepts the EHLO" '^250 ' "$(reply_to "$out" "EHLO")"
r=$(reply_to "$out" "MAIL")
check_reply "helo: tailored 451 at the next MAIL" 451 4.7.1 "$r" 'HELO bad-helo\.test is paused\.'
check_logref "helo: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=helo-refused stage=helo action=tempfail'

# MAIL, RCPT (one of three refused), DATA accepted: the message is queued
# with mxgate's A-R on top and the rules' header; a forged A-R that claims
# mxgate's authserv-id is removed, a foreign one kept
out=$(smtp_sm --bind 203.0.113.42 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<defer-me@client.test>
cmd RSET
cmd MAIL FROM:<alice@client.test>
cmd RCPT TO:<one@rcpt.test>
cmd RCPT TO:<two@blocked.rcpt.test>
cmd RCPT TO:<three@rcpt.test>
cmd DATA
data Authentication-Results: mx.e2e.test; spf=pass smtp.mailfrom=forged.test\r\nAuthentication-Results: other.test; spf=none\r\nFrom: <alice@client.test>\r\nSubject: t\r\n\r\nhello
cmd QUIT
S
)
echo "$out" >"$H/log/msg.out"
r=$(reply_to "$out" "MAIL FROM:<defer-me")
check_reply "mail: tailored 451 at MAIL" 451 4.7.0 "$r" 'Sender defer-me@client\.test is deferred'
check_logref "mail: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=mail-refused stage=mail action=tempfail .*from=<defer-me@client\.test>'
r=$(reply_to "$out" "RCPT TO:<two@")
check_reply "rcpt: tailored 451 for the blocked recipient" 451 4.7.1 "$r" \
	'Mail to blocked\.rcpt\.test is paused; please retry later\.'
check_logref "rcpt: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=rcpt-refused stage=rcpt action=tempfail .*rcpt=<two@blocked\.rcpt\.test>'
check_grep "rcpt: the first recipient kept" '^250 ' "$(reply_to "$out" "RCPT TO:<one@")"
check_grep "rcpt: the third recipient kept" '^250 ' "$(reply_to "$out" "RCPT TO:<three@")"
qid=$(sm_qid "$out")
hdrs=$(qf_headers "$qid")
echo "$hdrs" >"$H/log/msg.hdrs"
check_grep "message queued" '^[0-9A-Za-z]+$' "${qid:-none}"
check_grep "queued for one@ and three@ only" 'one@rcpt\.test' "$(qf "$qid" | grep '^R' | tr '\n' ' ')"
check_grep "queued for three@" 'three@rcpt\.test' "$(qf "$qid" | grep '^R')"
check_nogrep "blocked recipient not queued" 'two@blocked' "$(qf "$qid" | grep '^R')"
check_grep "A-R: mxgate's header is the first field" \
	'^Authentication-Results: mx\.e2e\.test;' "$(head -n1 <<<"$hdrs")"
check_grep "header action: the rules' header is added" \
	'^X-Mxgate-Test: checked by stamp for alice@client\.test' "$hdrs"
check_nogrep "A-R: the forged mxgate A-R is removed" 'forged\.test' "$hdrs"
check_grep "A-R: a foreign A-R is kept" '^Authentication-Results: other\.test; spf=none' "$hdrs"

# DATA and end of message refused, then a third transaction on the same
# SMTP session (and so the same milter connection) still decided by mxgate
out=$(smtp_sm --bind 203.0.113.43 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<data-1@client.test>
cmd RCPT TO:<d1@rcpt.test>
cmd DATA
cmd RSET
cmd MAIL FROM:<later-1@client.test>
cmd RCPT TO:<e1@rcpt.test>
cmd DATA
data Subject: first\r\n\r\nfirst message
cmd MAIL FROM:<now@client.test>
cmd RCPT TO:<e2@rcpt.test>
cmd DATA
data Subject: second\r\n\r\nsecond message
cmd QUIT
S
)
echo "$out" >"$H/log/data.out"
r=$(reply_to "$out" "DATA")
check_reply "data: tailored 451 at DATA" 451 4.7.0 "$r" 'Data from data-1@client\.test is deferred\.'
check_logref "data: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=data-refused stage=data action=tempfail .*from=<data-1@client\.test>'
r=$(reply_to "$out" "(body")
check_reply "eom: tailored 451 at end of message" 451 4.7.0 "$r" \
	'Message [0-9A-Za-z]+ from later-1@client\.test is deferred\.'
check_logref "eom: the reply's ref is in the log" "$(ref_of "$r")" \
	'rule=eom-refused stage=eom action=tempfail .*from=<later-1@client\.test>'
qid=$(sm_qid "$out")
hdrs=$(qf_headers "$qid")
check_grep "same session: the third transaction is queued" '^[0-9A-Za-z]+$' "${qid:-none}"
check_grep "same session: mxgate decided it (its A-R on top)" \
	'^Authentication-Results: mx\.e2e\.test;' "$(head -n1 <<<"$hdrs")"
check_grep "same session: the rules' header for the third sender" \
	'^X-Mxgate-Test: checked by stamp for now@client\.test' "$hdrs"
check_nogrep "refused messages are not queued" '(d1|e1)@rcpt\.test' "$(cat "$SMQ"/qf* 2>/dev/null | grep '^R')"
check_alive "mxgate still running"

# mxgate stopped: F=T makes Sendmail tempfail the client (451 4.3.2)
h_mxgate_stop
out=$(smtp_sm --bind 203.0.113.44 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<down@client.test>
cmd RCPT TO:<down@rcpt.test>
cmd QUIT
S
)
echo "$out" >"$H/log/down.out"
check_grep "mxgate down, F=T: the client gets a 4xx at MAIL" '^4[0-9][0-9] 4\.' "$(reply_to "$out" "MAIL")"
check_nogrep "mxgate down: nothing accepted" '^<- 250 2\.[01]\.[05] <down@' "$out"
h_done
