#!/usr/bin/env bash
# t_deadline -- one deadline per SMTP stage (stage_timeout), well inside
# Postfix's milter timeouts. mxgate's only DNS forwarder never answers
# (h_silent), so every check waits its whole dns_timeout; before the
# shared deadline those waits added up past the MTA's timeout and Postfix
# applied its default action.
#   - RCPT: a rule needs a DNS list (on_error ignore: it waits its whole
#     dns_timeout, then goes on), the next one the sender's SPF result:
#     the client gets mxgate's own 451 4.4.3 with a reference, logged
#     with rule=stage-timeout stage=rcpt, and the maillog has no milter
#     timeout line;
#   - end of message: a DKIM-signed message whose key server never
#     answers, from a domain whose _dmarc server never answers: mxgate's
#     own 451 4.4.3 at end of message, no milter timeout;
#     the same when only the Authentication-Results header needs them;
#   - mode = monitor: the RCPT stage logs would_tempfail and the mail
#     goes on (found delivered with mxgate's decision for its queue id).
#   - mxgate -n refuses a dns_timeout above stage_timeout (exit 78).
# The elapsed times are printed as notes, never asserted beyond "mxgate
# answered, not Postfix's timeout".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

PY=/usr/bin/python3
DNS_TIMEOUT=6
STAGE_TIMEOUT=7
PF_TIMEOUT=10	# Postfix's milter_command_timeout and milter_content_timeout here

h_netns
h_postfix_up
# both Postfix milter timeouts above stage_timeout, below the waits added up
postconf -c "$PF" -e "milter_command_timeout = ${PF_TIMEOUT}s" \
    "milter_content_timeout = ${PF_TIMEOUT}s"
nsx postfix -c "$PF" reload >/dev/null 2>&1 || die "postfix reload failed"
h_silent 5300
export E2E_DNS=127.0.0.1@5300

# conf [LINE...] -- mxgate.conf with the two timeouts and extra lines
conf() { h_mxgate_conf "dns_timeout = ${DNS_TIMEOUT}s" "stage_timeout = ${STAGE_TIMEOUT}s" "$@"; }

# now -- seconds since the epoch, with decimals
now() { date +%s.%N; }

# milter_timeouts [FROM] -- the maillog's lines (from line FROM on) of
# Postfix giving up on a milter
milter_timeouts() { maillog | tail -n "+${1:-1}" | grep -Ei 'milter .*time(d)? ?out' || true; }

# maillog_next -- the number of the maillog's next line
maillog_next() { echo $(($(maillog | wc -l) + 1)); }

# -------- RCPT: a DNS list, then SPF
# rcpt_rules -- the RCPT-stage rules: a DNS list, then SPF
rcpt_rules() {
	cat >"$H/rules/test.rules" <<'RULES'
dnsbl slow {
	zone bl.example
	on_error ignore
	public_name "Slow List"
}
rule slow-listed at rcpt {
	if dnsbl.slow
	reject 554 5.7.1 "listed on ${dnsbl.names}"
}
rule spf-fail at rcpt {
	if spf is fail
	tempfail 451 4.7.23 "SPF of ${spf.domain}: ${spf.reason}"
}
RULES
}
rcpt_rules
# -n (and the daemon, through the same cfg_load) refuses a dns_timeout
# longer than stage_timeout
printf '%s\n' "rules = $H/rules/test.rules" "dns_timeout = 30s" >"$H/long.conf"
rc=0
out=$("$MXGATE" -n -c "$H/long.conf" 2>&1) || rc=$?
check "mxgate -n: dns_timeout above stage_timeout exits 78" test "$rc" -eq 78
check_grep "mxgate -n: dns_timeout above stage_timeout is an error at file:line:col" \
	'long\.conf:2:15: error: dns_timeout \(30s\) is longer than stage_timeout \(20s\)' "$out"
conf
# a first session before mxgate listens starts Postfix's smtpd (reused
# below), so that the time measured is the SMTP session's
smtp 127.0.0.1:2525 --bind 203.0.113.12 <<<"cmd QUIT" >/dev/null
h_mxgate_start

# (no QUIT: the time is the session's up to the RCPT reply)
t0=$(now)
out=$(printf '%s\n' "cmd EHLO client.test" "cmd MAIL FROM:<alice@slow.example>" \
	"cmd RCPT TO:<a@rcpt.test>" |
	smtp 127.0.0.1:2525 --bind 203.0.113.10 --timeout 60)
t1=$(now)
r=$(reply_to "$out" "RCPT TO:<a@")
note "RCPT: the session took $(calc "$t1 - $t0") s up to the RCPT reply (dns_timeout ${DNS_TIMEOUT} s, stage_timeout ${STAGE_TIMEOUT} s, milter_command_timeout ${PF_TIMEOUT} s)"
check_reply "RCPT: mxgate's own tailored 451 4.4.3 when the stage runs out of time" \
	451 4.4.3 "$r" 'Checks for this message took too long'
check_logref "RCPT: one decision line, rule=stage-timeout stage=rcpt" "$(ref_of "$r")" \
	'rule=stage-timeout stage=rcpt action=tempfail .*from=<alice@slow\.example> rcpt=<a@rcpt\.test>'
check_nogrep "RCPT: not Postfix's reply for a milter that timed out" \
	'Service unavailable|try again later$' "$r"
check_nogrep "RCPT: no milter timeout in the maillog" '.' "$(milter_timeouts)"
check_alive "RCPT: mxgate still running"

# -------- end of message: DKIM key and _dmarc unanswered
h_mxgate_stop
if $PY -c 'import dkim, nacl' 2>/dev/null; then
	SIGN=$E2E_DIR/dkimsign.py
	mkdir -p "$H/keys"
	$PY "$SIGN" genkey rsa "$H/keys/rsa"
	cat >"$H/rules/test.rules" <<'RULES'
rule dmarc-reject at eom {
	if dmarc is fail and dmarc.policy is reject
	reject 550 5.7.1 "DMARC policy of ${from_domain} says reject"
}
rule dmarc-temperror at eom {
	if dmarc is temperror
	tempfail 451 4.7.5 "DMARC could not be checked"
}
RULES
	conf
	h_mxgate_start
	from=$(maillog_next)
	msg=$(printf 'From: Alice <alice@slowdk.example>\r\nTo: <b@rcpt.test>\r\nSubject: deadline\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@e2e.test>\r\n\r\nHello,\r\n\r\nsigned by a domain whose DNS never answers.\r\n' "$RANDOM$RANDOM" |
		$PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 slowdk.example |
		$PY -c 'import sys; d=sys.stdin.buffer.read().decode("latin-1"); sys.stdout.write(d.replace("\\","\\\\").replace("\r","\\r").replace("\n","\\n"))')
	t0=$(now)
	out=$(printf '%s\n' "cmd EHLO client.test" "cmd MAIL FROM:<alice@slowdk.example>" \
		"cmd RCPT TO:<b@rcpt.test>" "cmd DATA" "data $msg" |
		smtp 127.0.0.1:2525 --bind 203.0.113.10 --timeout 60)
	t1=$(now)
	r=$(reply_to "$out" "(body,")
	note "end of message: the session took $(calc "$t1 - $t0") s up to the reply to the message (milter_content_timeout ${PF_TIMEOUT} s)"
	check_reply "EOM: mxgate's own tailored 451 4.4.3 when the stage runs out of time" \
		451 4.4.3 "$r" 'Checks for this message took too long'
	check_logref "EOM: one decision line, rule=stage-timeout stage=eom" "$(ref_of "$r")" \
		'rule=stage-timeout stage=eom action=tempfail .*from=<alice@slowdk\.example>'
	check_nogrep "EOM: no milter timeout in the maillog" '.' "$(milter_timeouts "$from")"
	check_alive "EOM: mxgate still running"
	h_mxgate_stop

	# no rule asks: the Authentication-Results header's own checks (DKIM
	# key, SPF, _dmarc) run out of the stage's time: the same 451, never
	# a header with results cut short
	cat >"$H/rules/test.rules" <<'RULES'
rule big at eom {
	if size > 50000000
	reject 552 5.3.4 "Too big."
}
RULES
	conf
	h_mxgate_start
	from=$(maillog_next)
	out=$(printf '%s\n' "cmd EHLO client.test" "cmd MAIL FROM:<alice@slowdk.example>" \
		"cmd RCPT TO:<c@rcpt.test>" "cmd DATA" "data $msg" |
		smtp 127.0.0.1:2525 --bind 203.0.113.10 --timeout 60)
	r=$(reply_to "$out" "(body,")
	check_reply "EOM, header only: mxgate's own tailored 451 4.4.3" \
		451 4.4.3 "$r" 'Checks for this message took too long'
	check_logref "EOM, header only: logged rule=stage-timeout stage=eom" "$(ref_of "$r")" \
		'rule=stage-timeout stage=eom action=tempfail .*from=<alice@slowdk\.example>'
	check_nogrep "EOM, header only: no milter timeout in the maillog" '.' "$(milter_timeouts "$from")"
	h_mxgate_stop
else
	note "SKIP end of message: no dkimpy (Debian: python3-dkim python3-nacl)"
fi

# -------- mode = monitor: would_tempfail, and the mail goes on
rcpt_rules
conf "mode = monitor"
h_mxgate_start
from=$(maillog_next)
out=$(printf '%s\n' "cmd EHLO client.test" "cmd MAIL FROM:<carol@slow.example>" \
	"cmd RCPT TO:<mon@rcpt.test>" "cmd DATA" 'data Subject: m\r\n\r\nmonitor' "cmd QUIT" |
	smtp 127.0.0.1:2525 --bind 203.0.113.11 --timeout 60)
check_grep "monitor: the recipient is accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<mon@")"
qid=$(queued_as "$out")
check_decided "monitor: the message is delivered, decided by mxgate" mon@rcpt.test
check_grep "monitor: would_tempfail logged, rule=stage-timeout stage=rcpt" \
	'ref=[0-9A-Z]+ rule=stage-timeout stage=rcpt action=would_tempfail .*from=<carol@slow\.example> rcpt=<mon@rcpt\.test>' "$(mxlog)"
check_grep "monitor: mxgate's header on the message (its decision at end of message)" \
	"${qid:-none}: milter-header-warning: header Authentication-Results: mx\.e2e\.test" "$(maillog)"
check_nogrep "monitor: no milter timeout in the maillog" '.' "$(milter_timeouts "$from")"
check_alive "monitor: mxgate still running"
h_done
