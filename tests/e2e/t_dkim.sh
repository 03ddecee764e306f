#!/usr/bin/env bash
# t_dkim -- DKIM, DMARC and the Authentication-Results header through the
# shipped default rules, with keys the test generates (RSA 2048 and
# Ed25519, signed by dkimpy, verified by mxgate's libopendkim) published
# by a real authoritative server (NSD) in the namespace:
#   - RSA (relaxed) and Ed25519 (simple/simple) signed mail arrives with
#     dkim=pass and dmarc=pass in an Authentication-Results header at the
#     top of the delivered message (read back from the hold queue);
#   - a tampered body gives dkim=fail;
#   - a spoofed From: under p=reject gets the DMARC rule's tailored 451;
#   - forged Authentication-Results headers claiming our authserv-id are
#     gone from the delivered message, others are kept;
#   - a _dmarc SERVFAIL is a temporary result (451 4.4.3), never a pass;
#   - several From: fields give dmarc=permerror with the reason.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

PY=/usr/bin/python3
$PY -c 'import dkim, nacl' 2>/dev/null ||
	{ echo "SKIP: no dkimpy (Debian: python3-dkim python3-nacl)"; exit 77; }
SIGN=$E2E_DIR/dkimsign.py
mkdir -p "$H/keys"
$PY "$SIGN" genkey rsa "$H/keys/rsa"
$PY "$SIGN" genkey ed25519 "$H/keys/ed"

zone_head zen.spamhaus.org >"$H/dns/zen.spamhaus.org.zone"
# the TLD: the DMARC tree walk asks _dmarc.example, which does not exist
zone_head example >"$H/dns/example.zone"
{
	zone_head dk.example
	echo '@ TXT "v=spf1 ip4:203.0.113.30 -all"'
	echo '_dmarc TXT "v=DMARC1; p=reject"'
	zone_txt s1._domainkey "$H/keys/rsa.txt"
	zone_txt s2._domainkey "$H/keys/ed.txt"
} >"$H/dns/dk.example.zone"
{
	zone_head nopol.example
	echo '_dmarc TXT "v=DMARC1; p=none"'
	zone_txt s1._domainkey "$H/keys/rsa.txt"
} >"$H/dns/nopol.example.zone"
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

# message FROM-HEADER [EXTRA-HEADER] -- a plain message on stdout
message() {
	printf 'From: %s\r\nTo: <hold@rcpt.test>\r\nSubject: dkim test\r\n' "$1"
	printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@e2e.test>\r\n' "$RANDOM$RANDOM"
	[[ -z ${2:-} ]] || printf '%s\r\n' "$2"
	printf '\r\nHello,\r\n\r\nthis is a signed test message.\r\n.leading dot line\r\n'
}
# esc -- stdin as one smtpc TEXT argument
esc() { $PY -c 'import sys; d=sys.stdin.buffer.read().decode("latin-1"); sys.stdout.write(d.replace("\\","\\\\").replace("\r","\\r").replace("\n","\\n"))'; }
# send MAILFROM RCPT < MESSAGE -- one transaction from 203.0.113.10
send() {
	local body
	body=$(esc)
	printf '%s\n' "cmd EHLO client.test" "cmd MAIL FROM:<$1>" "cmd RCPT TO:<$2>" \
		"cmd DATA" "data $body" "cmd QUIT" | smtp 127.0.0.1:2525 --bind 203.0.113.10
}
# ar HEADERS -- our Authentication-Results field, unfolded
ar() { $PY -c '
import sys, re
text = sys.stdin.read()
fields = re.split(r"\n(?![ \t])", text)
for f in fields:
    if f.lower().startswith("authentication-results:") and "mx.e2e.test" in f.split(";")[0]:
        print(re.sub(r"\s+", " ", f))
' <<<"$1"; }

# RSA, relaxed/relaxed
out=$(message 'Alice <alice@dk.example>' | $PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 dk.example |
	send bounce@other.example hold-rsa@rcpt.test)
check_grep "RSA-signed message accepted" '^250 .*queued as' "$(replies "$out")"
check_decided_qid "RSA-signed message: mxgate's A-R in the maillog" "$(queued_as "$out")"
hdrs=$(held_headers "$(queued_as "$out")")
a=$(ar "$hdrs")
check_grep "RSA: dkim=pass with header.d, header.s, header.a" \
	'dkim=pass header\.d=dk\.example header\.s=s1 header\.a=rsa-sha256' "$a"
check_grep "RSA: dmarc=pass, header.from, policy.dmarc=reject" \
	'dmarc=pass header\.from=dk\.example policy\.dmarc=reject' "$a"
check_grep "RSA: spf=pass for the MAIL FROM" 'spf=pass smtp\.mailfrom=bounce@other\.example' "$a"
check_grep "A-R is the first header of the delivered message" \
	'^Authentication-Results: mx\.e2e\.test;' "$(head -n1 <<<"$hdrs")"

# Ed25519, simple/simple (needs the header values' leading space as sent)
out=$(message 'alice@dk.example' | $PY "$SIGN" sign "$H/keys/ed.key" ed25519 s2 dk.example simple/simple |
	send bounce@other.example hold-ed@rcpt.test)
a=$(ar "$(held_headers "$(queued_as "$out")")")
check_grep "Ed25519 (simple/simple): dkim=pass" \
	'dkim=pass header\.d=dk\.example header\.s=s2 header\.a=ed25519-sha256' "$a"
check_grep "Ed25519: dmarc=pass" 'dmarc=pass header\.from=dk\.example' "$a"

# tampered body under p=none: delivered, dkim=fail, dmarc=fail
out=$(message 'alice@nopol.example' | $PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 nopol.example |
	sed 's/signed test message/signed TEST message/' | send bounce@other.example hold-tamper@rcpt.test)
a=$(ar "$(held_headers "$(queued_as "$out")")")
check_grep "tampered body: dkim=fail (body hash)" \
	'dkim=fail reason="body hash mismatch" header\.d=nopol\.example' "$a"
check_grep "tampered body: dmarc=fail, policy none: delivered" \
	'dmarc=fail .*header\.from=nopol\.example policy\.dmarc=none' "$a"
check_decided_qid "tampered body, policy none: mxgate's A-R in the maillog" "$(queued_as "$out")"

# tampered body under p=reject: the DMARC rule defers, the log says why
out=$(message 'alice@dk.example' | $PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 dk.example |
	sed 's/signed test message/signed TEST message/' | send bounce@other.example t2@rcpt.test)
r=$(reply_to "$out" "(body,")
check_reply "tampered body under p=reject: DMARC rule reply" 451 4.7.1 "$r" \
	'dk\.example publishes a DMARC policy of reject.*\(SPF pass, DKIM fail\)'
check_logref "tampered body: logged with dkim=fail dmarc=fail" "$(ref_of "$r")" \
	'rule=dmarc-reject stage=eom action=tempfail .*spf=pass dkim=fail dmarc=fail'

# spoofed From: under p=reject, no signature
out=$(message 'CEO <ceo@dk.example>' | send bounce@other.example t3@rcpt.test)
r=$(reply_to "$out" "(body,")
check_reply "spoofed From under p=reject: DMARC rule reply" 451 4.7.1 "$r" \
	'DMARC check failed: dk\.example publishes a DMARC policy of reject.*\(SPF pass, DKIM none\)'

# forged A-R fields: ours (two of them, not signed) go, another's stays
out=$(message 'alice@dk.example' "Authentication-Results: mx.e2e.test; dkim=pass header.d=forged1.example
Authentication-Results: other.example; spf=pass smtp.mailfrom=x@other.example
Authentication-Results: MX.E2E.TEST (comment); dmarc=pass header.from=forged2.example" |
	$PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 dk.example | send bounce@other.example hold-forged@rcpt.test)
hdrs=$(held_headers "$(queued_as "$out")")
check_nogrep "forged A-R with our authserv-id removed" 'forged1\.example|forged2\.example' "$hdrs"
check_grep "another authserv-id's A-R kept" '^Authentication-Results: other\.example; spf=pass' "$hdrs"
check "exactly one A-R of ours" test "$(ar "$hdrs" | wc -l)" -eq 1
check_grep "the signature still passes" 'dkim=pass header\.d=dk\.example' "$(ar "$hdrs")"

# _dmarc SERVFAIL (a zone nobody serves: REFUSED, so SERVFAIL from the
# engine): temporary, never a pass
out=$(message "alice@broken.example.net" | send bounce@other.example t4@rcpt.test)
r=$(reply_to "$out" "(body,")
check_reply "_dmarc SERVFAIL: 451 4.4.3" 451 4.4.3 "$r" 'DMARC policy of broken\.example\.net cannot be read'
check_logref "_dmarc SERVFAIL: logged dmarc=temperror" "$(ref_of "$r")" \
	'rule=dmarc-temperror .*dmarc=temperror'

# several From: fields: permerror, with the reason, delivered
out=$(message 'alice@dk.example' 'From: bob@other.example' | send bounce@other.example hold-2from@rcpt.test)
a=$(ar "$(held_headers "$(queued_as "$out")")")
check_decided_qid "two From fields: mxgate's A-R in the maillog" "$(queued_as "$out")"
check_grep "two From fields: dmarc=permerror, reason" \
	'dmarc=permerror reason="several From header fields"' "$a"
check_grep "unsigned: dkim=none" 'dkim=none' "$a"
check_alive "mxgate still running"

# dkim_max_signatures = 1: the second signature is not checked, and logged
h_mxgate_stop
h_mxgate_conf "dkim_max_signatures = 1"
h_mxgate_start
out=$(message 'alice@dk.example' | $PY "$SIGN" sign "$H/keys/rsa.key" rsa s1 dk.example |
	$PY "$SIGN" sign "$H/keys/ed.key" ed25519 s2 dk.example | send bounce@other.example hold-cap@rcpt.test)
qid=$(queued_as "$out")
a=$(ar "$(held_headers "$qid")")
check "dkim_max_signatures = 1: one signature checked" test "$(grep -o 'dkim=' <<<"$a" | wc -l)" -eq 1
check_grep "dkim_max_signatures: the one checked passes" 'dkim=pass header\.d=dk\.example header\.s=s2' "$a"
check_grep "dkim_max_signatures: the others are logged" \
	"$qid: 1 DKIM signature beyond dkim_max_signatures = 1 not checked" "$(mxlog)"

# add_auth_results = no: no header added, none removed; a rule's header
# action is then mxgate's decision on the message
h_mxgate_stop
{
	cat "$E2E_RULES"
	printf 'rule seen at eom {\n\theader "X-Mxgate-Seen" "decided by ${rule}"\n}\n'
} >"$H/rules/test.rules"
E2E_RULES=$H/rules/test.rules h_mxgate_conf "add_auth_results = no"
E2E_DECISION='X-Mxgate-Seen: decided by seen'
h_mxgate_start
out=$(message 'alice@nopol.example' "Authentication-Results: mx.e2e.test; dkim=pass header.d=kept.example" |
	send bounce@other.example hold-noar@rcpt.test)
hdrs=$(held_headers "$(queued_as "$out")")
check_grep "add_auth_results = no: delivered" '^250 .*queued as' "$(replies "$out")"
check_decided_qid "add_auth_results = no: mxgate's rule header in the maillog" "$(queued_as "$out")"
check "add_auth_results = no: no header of ours" test "$(grep -c '^Authentication-Results:' <<<"$hdrs")" -eq 1
check_grep "add_auth_results = no: the sender's header is left alone" 'kept\.example' "$hdrs"
h_done
