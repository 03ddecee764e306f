#!/usr/bin/env bash
# t_hostile -- HELO, sender and recipient with '%', printf directives,
# control bytes, template syntax and ~900-byte values (Postfix itself
# refuses '%' in a recipient: source routing), echoed by the rule's reply:
# the client gets a clean tailored reply (never Postfix's generic text,
# which would mean libmilter refused a malformed reply), the log keeps one
# line per decision without control bytes, and mxgate lives on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/test.rules" <<'RULES'
rule echo at rcpt {
	if rcpt_domain is echo.rcpt.test
	tempfail 451 4.7.1 "HELO ${helo} FROM ${mail_from} TO ${rcpt} 100%% sure, $$5"
}
rule echo-mail at mail {
	if mail_domain is long.evil.test
	tempfail 451 4.7.0 "Sender ${mail_from} (from ${helo}) is deferred"
}
rule echo-helo at helo {
	if helo =~ "^deny"
	tempfail 421 4.7.0 "HELO ${helo} is refused"
}
RULES
h_up
long=$(printf 'x%.0s' $(seq 1 900))
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.70 <<S
cmd EHLO evil%s%n%%.host$long
cmd MAIL FROM:<"a%n\x07b"@evil.test>
cmd RCPT TO:<"\${ref}.x"@echo.rcpt.test>
cmd RCPT TO:<${long}@echo.rcpt.test>
cmd RCPT TO:<"c\x01d\x1be\x7f"@echo.rcpt.test>
cmd RCPT TO:<ok@rcpt.test>
cmd DATA
data Subject: h\r\n\r\nhostile
cmd QUIT
S
)
r=$(reply_to "$out" 'RCPT TO:<"')
check_reply "control bytes and %: clean tailored 451" 451 4.7.1 "$r" \
	'HELO evil%s%n%%\.host.* FROM "?a%nb"?@evil\.test TO "?\$\{ref\}\.x"?@echo\.rcpt\.test 100%% sure, \$5'
r=$(reply_to "$out" "RCPT TO:<xxxx")
check_reply "~900-byte recipient: wrapped, clean tailored 451" 451 4.7.1 "$r" 'TO "?x'
check "long reply wraps onto several lines" test "$(wc -l <<<"$r")" -ge 2
r=$(reply_to "$out" 'RCPT TO:<"c')
check_reply "control bytes in the recipient: removed from the reply" 451 4.7.1 "$r" \
	'TO "?cde"?@echo\.rcpt\.test 100%% sure'
check_grep "other recipient still accepted" '^250 ' "$(reply_to "$out" "RCPT TO:<ok@")"
check_decided "other recipient: delivered, decided by mxgate" ok@rcpt.test
check_nogrep "never Postfix's generic milter text" 'Service unavailable|4\.3\.5|4\.7\.1 Error' "$out"
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.71 <<'S'
cmd HELO deny%n%s\x01\x02%
cmd MAIL FROM:<a@b.test>
S
)
check_reply "hostile HELO: tailored 421" 421 4.7.0 "$(reply_to "$out" HELO)" 'HELO deny%n%s% is refused'

# a ~900-byte sender with '%' and a control byte, echoed at MAIL
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.72 <<S
cmd EHLO %d%%\x1b[31m.client.test
cmd MAIL FROM:<%s${long}%%\x03@long.evil.test>
cmd QUIT
S
)
r=$(reply_to "$out" "MAIL")
check_reply "~900-byte sender with % and control bytes: clean tailored 451" 451 4.7.0 "$r" \
	'Sender %sx[x ]+%%@long\.evil\.test \(from %d%%\[31m\.client\.test\) is deferred'
check_nogrep "never Postfix's generic milter text (MAIL)" 'Service unavailable|4\.3\.5|4\.7\.1 Error' "$out"

# the log stays one line per decision: every line is mxgate's, and no
# control byte (CR, LF, ESC, NUL...) got through into it
n=$(grep -cv '^mxgate\[[0-9]*\]: ' "$H/log/mxgate.log" || true)
check "log: no line split by a hostile value" test "$n" -eq 0
if LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f]' "$H/log/mxgate.log"; then
	fail "log: no control bytes" "$(LC_ALL=C grep -naP '[\x00-\x08\x0b-\x1f\x7f]' "$H/log/mxgate.log" | head -c 300 | cat -v)"
else
	pass "log: no control bytes"
fi
check_alive "mxgate still running"
h_done
