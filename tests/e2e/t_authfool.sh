#!/usr/bin/env bash
# t_authfool -- authentication results that cannot be fooled (issue 12
# item 4, and on_internal_error for DKIM), through the shipped default
# rules, keys made by the test (dkimpy signs, mxgate's libopendkim
# verifies) and zones served by NSD in the namespace:
#   - a signature whose l= leaves text appended after signing unsigned is
#     dkim=policy (with a reason), never a pass: under p=reject the DMARC
#     rule defers it; under p=none the header says so;
#   - rsa-sha1 never passes (RFC 8301): under p=reject the DMARC rule;
#   - a bounce (MAIL FROM:<>) from a host whose HELO name is in the From
#     domain and passes SPF passes DMARC by SPF alignment (RFC 9989);
#   - a record with a bad sp= and no rua= is not applied (RFC 9989 4.10.1);
#   - a From domain in U-labels is checked in A-labels: unsigned under the
#     IDN domain's p=reject, the DMARC rule; signed by it, dmarc=pass; one
#     with a trailing dot is the same domain (the DMARC rule);
#   - forged Authentication-Results claiming our authserv-id with a
#     trailing dot, in upper case, or unreadable after the id are removed;
#   - forged Authentication-Results, Received-SPF and ARC results are never
#     inputs: the unsigned message gets the DMARC rule's reply;
#   - on one connection a signed aligned message, then an unsigned one with
#     the same From: the second is judged alone;
#   - libopendkim failing to make a handle (dkim_verify made to fail by an
#     LD_PRELOAD shim) is an internal error: 451 4.3.0 with a ref, or with
#     on_internal_error = accept the message is accepted and logged; never
#     dkim=none.
# Every accepted message is held and its Authentication-Results header
# (mxgate's decision) is read back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

PY=/usr/bin/python3
$PY -c 'import dkim, nacl' 2>/dev/null ||
	{ echo "SKIP: no dkimpy (Debian: python3-dkim python3-nacl)"; exit 77; }
command -v cc >/dev/null || { echo "SKIP: no C compiler for the shim"; exit 77; }
SIGN=$E2E_DIR/dkimsign.py
mkdir -p "$H/keys"
$PY "$SIGN" genkey rsa "$H/keys/rsa"
IDN=xn--bcher-kva.example	# bücher.example

zone_head zen.spamhaus.org >"$H/dns/zen.spamhaus.org.zone"
zone_head example >"$H/dns/example.zone"
{
	zone_head dk.example
	echo '@ TXT "v=spf1 ip4:203.0.113.30 -all"'
	echo 'mail TXT "v=spf1 ip4:203.0.113.11 -all"'
	echo '_dmarc TXT "v=DMARC1; p=reject"'
	zone_txt s1._domainkey "$H/keys/rsa.txt"
} >"$H/dns/dk.example.zone"
{
	zone_head nopol.example
	echo '_dmarc TXT "v=DMARC1; p=none"'
	zone_txt s1._domainkey "$H/keys/rsa.txt"
} >"$H/dns/nopol.example.zone"
{
	zone_head badsp.example
	echo '_dmarc TXT "v=DMARC1; p=reject; sp=bogus"'
} >"$H/dns/badsp.example.zone"
{
	zone_head $IDN
	echo '_dmarc TXT "v=DMARC1; p=reject"'
	zone_txt s1._domainkey "$H/keys/rsa.txt"
} >"$H/dns/$IDN.zone"
{
	zone_head other.example
	echo '@ TXT "v=spf1 ip4:203.0.113.0/24 -all"'
} >"$H/dns/other.example.zone"
E2E_RULES=$E2E_DIR/../../rules/default.rules
export E2E_RULES
h_netns
h_dns
h_postfix_up
h_mxgate_start

# message FROM-HEADER [EXTRA-HEADERS] -- a plain message on stdout
message() {
	printf 'From: %s\r\nTo: <hold@rcpt.test>\r\nSubject: auth test\r\n' "$1"
	printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@e2e.test>\r\n' "$RANDOM$RANDOM"
	[[ -z ${2:-} ]] || printf '%s\r\n' "${2//$'\n'/$'\r\n'}"
	printf '\r\nHello,\r\n\r\nplease pay the invoice below.\r\n'
}
# esc -- stdin as one smtpc TEXT argument (bytes outside ASCII as \xNN)
esc() { $PY -c '
import sys
d = sys.stdin.buffer.read()
out = []
for b in d:
    c = chr(b)
    if c == "\\": out.append("\\\\")
    elif c == "\r": out.append("\\r")
    elif c == "\n": out.append("\\n")
    elif b < 32 or b > 126: out.append("\\x%02x" % b)
    else: out.append(c)
sys.stdout.write("".join(out))'; }
# tx MAILFROM RCPT BODY-TEXT -- the smtpc lines of one transaction
tx() { printf '%s\n' "cmd MAIL FROM:<$1>" "cmd RCPT TO:<$2>" "cmd DATA" "data $3"; }
# send MAILFROM RCPT [HELO [SOURCE]] < MESSAGE -- one transaction
send() {
	local body
	body=$(esc)
	{ echo "cmd EHLO ${3:-client.test}"; tx "$1" "$2" "$body"; echo "cmd QUIT"; } |
		smtp 127.0.0.1:2525 --bind "${4:-203.0.113.10}"
}
# nth_reply OUT N -- the reply lines to the Nth message body of OUT
nth_reply() {
	awk -v n="$2" '
		f && /^(->|==)/ { exit }
		f && /^<- / { print substr($0, 4) }
		!f && index($0, "-> (body,") == 1 && ++k == n { f = 1 }
	' <<<"$1"
}
# ar HEADERS -- our Authentication-Results field, unfolded
ar() { $PY -c '
import sys, re
text = sys.stdin.read()
for f in re.split(r"\n(?![ \t])", text):
    if f.lower().startswith("authentication-results:") and "mx.e2e.test;" in f:
        print(re.sub(r"\s+", " ", f))
' <<<"$1"; }
# held_ar OUT -- our A-R of the message OUT queued (held)
held_ar() { ar "$(held_headers "$(queued_as "$1")")"; }
# dmarc_reply NAME OUT [N] -- the Nth message got the DMARC rule's reply
dmarc_reply() {
	check_reply "$1" 451 4.7.1 "$(nth_reply "$2" "${3:-1}")" \
		'DMARC check failed: .* publishes a DMARC policy of reject'
}
rsa_sign() { $PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 "$@"; }

# --- DKIM l=: text appended after signing ---------------------------------
out=$(message 'Billing <billing@dk.example>' | rsa_sign dk.example l |
	sed 's/^please pay the invoice below\.\r$/&\nAppended: pay to IBAN XX00 0000 instead.\r/' |
	send bounce@other.example t1@rcpt.test)
dmarc_reply "l= with text appended, p=reject: the DMARC rule's reply" "$out"
check_logref "l= appended: logged dkim=fail dmarc=fail" "$(ref_of "$(nth_reply "$out" 1)")" \
	'rule=dmarc-reject .*dkim=fail dmarc=fail'
out=$(message 'alice@nopol.example' | rsa_sign nopol.example l |
	sed 's/^please pay the invoice below\.\r$/&\nAppended after signing.\r/' |
	send bounce@other.example hold-l@rcpt.test)
check_grep "l= appended, p=none: dkim=policy with a reason, dmarc=fail" \
	'dkim=policy reason="l=[0-9]+ leaves [0-9]+ of [0-9]+ body bytes unsigned" header\.d=nopol\.example.*dmarc=fail' \
	"$(held_ar "$out")"
out=$(message 'alice@nopol.example' | rsa_sign nopol.example l | send bounce@other.example hold-l2@rcpt.test)
check_grep "l= covering the whole body: dkim=pass" 'dkim=pass header\.d=nopol\.example' "$(held_ar "$out")"

# --- RFC 8301: rsa-sha1 ---------------------------------------------------
out=$(message 'alice@dk.example' | rsa_sign dk.example sha1 | send bounce@other.example t2@rcpt.test)
dmarc_reply "rsa-sha1 under p=reject: the DMARC rule's reply" "$out"
out=$(message 'alice@nopol.example' | rsa_sign nopol.example sha1 | send bounce@other.example hold-sha1@rcpt.test)
check_grep "rsa-sha1: dkim=permerror with the reason" \
	'dkim=permerror reason="rsa-sha1 is not accepted \(RFC 8301\)" header\.d=nopol\.example' \
	"$(held_ar "$out")"

# --- RFC 9989: a bounce passes by its HELO identity ------------------------
out=$(message 'MAILER-DAEMON@dk.example' | send '' hold-bounce@rcpt.test mail.dk.example 203.0.113.11)
check_grep "bounce, HELO in the From domain passing SPF: accepted" '^250 .*queued as' "$(nth_reply "$out" 1)"
check_grep "bounce: spf=pass for the HELO, dmarc=pass by SPF" \
	'spf=pass smtp\.helo=mail\.dk\.example; dkim=none; dmarc=pass header\.from=dk\.example' \
	"$(held_ar "$out")"

# --- RFC 9989 4.10.1: a bad sp= without rua= is not applied --------------
out=$(message 'alice@badsp.example' | send bounce@other.example hold-badsp@rcpt.test)
check_grep "bad sp=, no rua=: dmarc=none, delivered" \
	'dmarc=none reason="DMARC record of badsp\.example: no valid p=' "$(held_ar "$out")"

# --- a From domain in U-labels --------------------------------------------
out=$(message $'CEO <ceo@b\xc3\xbccher.example>' | send bounce@other.example t3@rcpt.test)
dmarc_reply "U-label From domain under p=reject, unsigned: the DMARC rule's reply" "$out"
out=$(message $'Alice <alice@b\xc3\xbccher.example>' | rsa_sign $IDN | send bounce@other.example hold-idn@rcpt.test)
check_grep "U-label From domain signed by its A-label: dmarc=pass" \
	"dkim=pass header\.d=$IDN.*dmarc=pass .*header\.from=$IDN" "$(held_ar "$out")"

# --- a From domain with the root's dot is the same domain ------------------
out=$(message 'CEO <ceo@dk.example.>' | send bounce@other.example t7@rcpt.test)
dmarc_reply "From domain with a trailing dot under p=reject: the DMARC rule's reply" "$out"

# --- forged Authentication-Results claiming our authserv-id ----------------
out=$(message 'alice@nopol.example' "Authentication-Results: mx.e2e.test.; dkim=pass header.d=forgeddot.example
Authentication-Results: MX.E2E.TEST; dmarc=pass header.from=forgedcase.example
Authentication-Results: mx.e2e.test;;; ((( =pass header.d=forgedjunk.example
Authentication-Results: other.example; spf=pass smtp.mailfrom=kept@other.example" |
	rsa_sign nopol.example | send bounce@other.example hold-forged@rcpt.test)
hdrs=$(held_headers "$(queued_as "$out")")
check_nogrep "forged A-R with a trailing dot removed" 'forgeddot\.example' "$hdrs"
check_nogrep "forged A-R in upper case removed" 'forgedcase\.example' "$hdrs"
check_nogrep "forged A-R unreadable after the id removed" 'forgedjunk\.example' "$hdrs"
check_grep "another authserv-id's A-R kept" 'kept@other\.example' "$hdrs"
check "exactly one A-R of ours" test "$(ar "$hdrs" | wc -l)" -eq 1

# --- upstream results are never inputs -------------------------------------
out=$(message 'CEO <ceo@dk.example>' "Authentication-Results: mx.e2e.test; dkim=pass header.d=dk.example; spf=pass smtp.mailfrom=ceo@dk.example; dmarc=pass header.from=dk.example
Received-SPF: pass (mx.e2e.test: domain of ceo@dk.example designates 203.0.113.10 as permitted sender) client-ip=203.0.113.10; envelope-from=ceo@dk.example
ARC-Authentication-Results: i=1; mx.e2e.test; dkim=pass header.d=dk.example; spf=pass smtp.mailfrom=dk.example; dmarc=pass header.from=dk.example
ARC-Seal: i=1; a=rsa-sha256; cv=none; d=dk.example; s=s1; b=AAAA" |
	send bounce@other.example t4@rcpt.test)
dmarc_reply "forged A-R, Received-SPF and ARC results, unsigned, p=reject: the DMARC rule's reply" "$out"

# --- state between messages of one connection -----------------------------
m1=$(message 'alice@dk.example' | rsa_sign dk.example | esc)
m2=$(message 'alice@dk.example' | esc)
out=$({ echo "cmd EHLO client.test"; tx bounce@other.example hold-state1@rcpt.test "$m1"
	tx bounce@other.example t5@rcpt.test "$m2"; echo "cmd QUIT"; } |
	smtp 127.0.0.1:2525 --bind 203.0.113.10)
check_grep "one connection: the signed aligned message passes" \
	'dmarc=pass header\.from=dk\.example' "$(held_ar "$(nth_reply "$out" 1)")"
dmarc_reply "one connection: the unsigned one after it is judged alone" "$out" 2
check_alive "mxgate still running"

# --- on_internal_error: libopendkim cannot make a handle -------------------
cat >"$H/failverify.c" <<'EOF'
/* dkim_verify that always fails as out of memory (DKIM_STAT_NORESOURCE) */
void *dkim_verify(void *, const unsigned char *, void *, int *);
void *
dkim_verify(void *lib, const unsigned char *id, void *mc, int *st)
{
	(void)lib; (void)id; (void)mc;
	*st = 6;
	return (void *)0;
}
EOF
cc -shared -fPIC -o "$H/failverify.so" "$H/failverify.c"
h_mxgate_stop
export LD_PRELOAD=$H/failverify.so ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
h_mxgate_start
out=$(message 'alice@dk.example' | rsa_sign dk.example | send bounce@other.example t6@rcpt.test)
r=$(nth_reply "$out" 1)
check_reply "no libopendkim handle, on_internal_error = tempfail: 451 4.3.0" 451 4.3.0 "$r" 'Temporary local problem'
check_logref "no handle: logged as internal-error" "$(ref_of "$r")" 'rule=internal-error stage=eom action=tempfail'
check_grep "no handle: the cause is logged" 'DKIM: internal error: cannot make a verification handle' "$(mxlog)"
h_mxgate_stop
h_mxgate_conf "on_internal_error = accept"
h_mxgate_start
out=$(message 'alice@nopol.example' | rsa_sign nopol.example | send bounce@other.example hold-internal@rcpt.test)
qid=$(queued_as "$out")
check_grep "no handle, on_internal_error = accept: accepted" '^250 .*queued as' "$(nth_reply "$out" 1)"
check_grep "accepted: the decision is logged with the queue id" \
	"$qid: .*rule=internal-error stage=eom action=accept" "$(mxlog)"
check_grep "accepted: dkim=temperror (internal error), never none" \
	'dkim=temperror reason="internal error"; dmarc=temperror' "$(held_ar "$out")"
unset LD_PRELOAD
h_done
