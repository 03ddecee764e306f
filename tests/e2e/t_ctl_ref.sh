#!/usr/bin/env bash
# t_ctl_ref -- mxgatectl ref through the real harness: a client listed on
# a DNS list (NSD) is deferred by a rule; the ref is taken from the SMTP
# reply the client got; `ctl ref REF` finds the decision in the daemon's
# memory with its time, stage, rule, reply, client, envelope and every
# fact the rule used (values asserted), in text and in JSON (parsed by
# python3); `ctl ref REF --log` finds it in the log file, plain and
# gzipped, without the daemon; an unknown ref is 66, a malformed one 64;
# with ref_history = 2, after three deferrals the first ref has left the
# ring (66, with a hint to --log) while --log still finds it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

{
	zone_head bl.example
	echo '10.113.0.203 A 127.0.0.2'
	echo '10.113.0.203 TXT "See https://bl.example/ip=203.0.113.10"'
} >"$H/dns/bl.example.zone"

cat >"$H/rules/test.rules" <<'RULES'
dnsbl bl {
	zone bl.example
	answer 127.0.0.2 label SBL weight 4
	public_name "Example Block List"
}
rule listed at rcpt {
	if dnsbl.score >= 4 and rcpt_domain is rcpt.test and mail_domain is client.test
	tempfail 451 4.7.1 "${client_ip} is listed on ${dnsbl.names} (${dnsbl.bl.label})."
}
RULES
h_netns
h_dns
h_postfix_up
h_mxgate_start

send() {	# RCPT -- one transaction from the listed 203.0.113.10
	smtp 127.0.0.1:2525 --bind 203.0.113.10 <<S
cmd EHLO client.test
cmd MAIL FROM:<s@client.test>
cmd RCPT TO:<$1>
cmd QUIT
S
}

# field NAME TEXT -- the value of "NAME: value" in ref's text output
field() { sed -n "s/^$1: //p" <<<"$2" | head -n 1; }

# check_field NAME FIELD WANT TEXT -- the field has exactly that value
check_field() {
	local got
	got=$(field "$2" "$4")
	if [[ $got == "$3" ]]; then
		pass "$1"
	else
		fail "$1" "$2: want '$3', got '$got'"
	fi
}

before=$(date +%s)
out=$(send a@rcpt.test)
r=$(reply_to "$out" RCPT)
check_reply "a listed client is deferred by rule listed" 451 4.7.1 "$r" \
	'^203\.0\.113\.10 is listed on Example Block List \(SBL\)\.'
ref=$(ref_of "$r")
check "the reply holds a ref" test -n "$ref"
check_logref "the decision is logged" "$ref" 'rule=listed stage=rcpt action=tempfail'
reply=$(sed -E 's/^[0-9]{3}[- ][0-9.]+ //' <<<"$r" | tr '\n' ' ' | sed 's/ $//')

# --- the daemon's memory ---------------------------------------------------
rc=0
t=$(ctl ref "$ref" 2>&1) || rc=$?
check "ctl ref REF: found (exit 0)" test "$rc" = 0
check_field "ref" ref "$ref" "$t"
check_field "stage" stage rcpt "$t"
check_field "rule" rule listed "$t"
check_field "action" action tempfail "$t"
check_field "queue id (before DATA)" queue_id NOQUEUE "$t"
check_field "reply: what the client got" reply "451 4.7.1 $reply" "$t"
check_field "client ip" client_ip 203.0.113.10 "$t"
check_field "helo" helo client.test "$t"
check_field "mail from" from s@client.test "$t"
check_field "rcpt" rcpt a@rcpt.test "$t"
check_field "dnsbl field" dnsbl 'bl:SBL(+4)' "$t"
check_grep "client name is shown" '^client_name: ' "$t"
# the time: RFC 3339, within the test's seconds
ts=$(field time "$t")
secs=$(date -d "$ts" +%s 2>/dev/null || echo 0)
check "time: $ts is when the client was deferred" \
	test "$secs" -ge "$before" -a "$secs" -le "$(date +%s)"
facts=$(sed -n '/^facts:$/,$p' <<<"$t")
check_grep "fact dnsbl.score: 4" '^    dnsbl\.score: 4$' "$facts"
check_grep "fact rcpt_domain: rcpt.test" '^    rcpt_domain: rcpt\.test$' "$facts"
check_grep "fact mail_domain: client.test" '^    mail_domain: client\.test$' "$facts"
check_grep "fact client_ip (template): 203.0.113.10" '^    client_ip: 203\.0\.113\.10$' "$facts"
check_grep "fact dnsbl.names (template): the public name" \
	'^    dnsbl\.names: Example Block List$' "$facts"
check_grep "fact dnsbl.bl.label (template): SBL" '^    dnsbl\.bl\.label: SBL$' "$facts"
check "exactly the facts the rule used (6)" \
	test "$(grep -c '^    ' <<<"$facts")" = 6
lower=$(tr 'A-Z' 'a-z' <<<"$ref")
check "a ref typed in lower case is found" ctl ref "$lower"

# JSON: parsed, the same values
rc=0
j=$(ctl --json ref "$ref" 2>&1) || rc=$?
check "ctl --json ref REF: exit 0" test "$rc" = 0
rc=0
jv=$(python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
f = d["facts"]
print(d["ref"], d["stage"], d["rule"], d["action"], d["queue_id"],
      d["client_ip"], d["helo"], d["from"], d["rcpt"], d["dnsbl"],
      f["dnsbl.score"], f["rcpt_domain"], f["mail_domain"], f["client_ip"],
      f["dnsbl.bl.label"], len(f), d["sasl"], sep="|")
print(d["reply"])
print(d["time"])' <<<"$j" 2>&1) || rc=$?
check "JSON parses" test "$rc" = 0
check "JSON: the same fields and facts" test "$(head -n 1 <<<"$jv")" = \
	"$ref|rcpt|listed|tempfail|NOQUEUE|203.0.113.10|client.test|s@client.test|a@rcpt.test|bl:SBL(+4)|4|rcpt.test|client.test|203.0.113.10|SBL|6|None"
check "JSON: the reply" test "$(sed -n 2p <<<"$jv")" = "451 4.7.1 $reply"
check "JSON: the same time" test "$(sed -n 3p <<<"$jv")" = "$ts"

# unknown and malformed refs
unknown=ZZZZZZZZZZZZ
[[ $ref == "$unknown" ]] && unknown=YYYYYYYYYYYY
rc=0
e=$(ctl ref "$unknown" 2>&1) || rc=$?
check "an unknown ref: exit 66" test "$rc" = 66
check_grep "... says how many are kept and suggests --log" \
	'not among the 100000 most recent decisions.*' "$e"
check_grep "... with the command to search the logs" \
	"mxgatectl ref $unknown --log /var/log/mail.log" "$e"
rc=0
e=$(ctl ref NOT-A-REF 2>&1) || rc=$?
check "a malformed ref: exit 64" test "$rc" = 64

# --- the log file, without the daemon ------------------------------------
log=$H/log/mxgate.log
rc=0
l=$(ctl ref "$ref" --log "$log" 2>&1) || rc=$?
check "ref --log: found in the log file (exit 0)" test "$rc" = 0
check_field "--log: rule" rule listed "$l"
check_field "--log: stage" stage rcpt "$l"
check_field "--log: reply" reply "451 4.7.1 $reply" "$l"
check_field "--log: client ip" client_ip 203.0.113.10 "$l"
check_field "--log: from" from s@client.test "$l"
check_field "--log: rcpt" rcpt a@rcpt.test "$l"
check_field "--log: dnsbl" dnsbl 'bl:SBL(+4)' "$l"
check_grep "--log: names the file and line" "^log: $log:[0-9]+$" "$l"
mkdir -p "$H/gz"
grep -v "ref=$ref" "$log" | gzip >"$H/gz/without.log.gz" || true
gzip -c "$log" >"$H/gz/mxgate.log.1.gz"
rc=0
l=$(ctl ref "$ref" --log "$H/gz/without.log.gz" "$H/gz/mxgate.log.1.gz" 2>&1) || rc=$?
check "ref --log FILE.gz: found in the second, gzipped file" test "$rc" = 0
check_field "--log .gz: rule" rule listed "$l"
check_grep "--log .gz: names the .gz file" "^log: $H/gz/mxgate\.log\.1\.gz:" "$l"
rc=0
lj=$(ctl --json ref "$ref" --log "$H/gz/mxgate.log.1.gz" 2>&1) || rc=$?
check "ref --json --log: exit 0" test "$rc" = 0
check "ref --json --log: parses, same rule and reply" test \
	"$(python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); print(d["rule"], d["reply"], sep="|")' <<<"$lj" 2>&1)" = \
	"listed|451 4.7.1 $reply"
rc=0
e=$(ctl ref "$ref" --log "$H/gz/without.log.gz" 2>&1) || rc=$?
check "ref --log: not in the file: exit 66" test "$rc" = 66
rc=0
e=$(ctl ref "$ref" --log "$H/gz/nonexistent.log" 2>&1) || rc=$?
check "ref --log: a missing file: exit 66" test "$rc" = 66

# --- ref_history = 2: the ring forgets, the log does not ------------------
h_mxgate_stop
h_mxgate_conf "ref_history = 2"
h_mxgate_start
refs=()
for i in 1 2 3; do
	out=$(send "r$i@rcpt.test")
	r=$(reply_to "$out" RCPT)
	refs+=("$(ref_of "$r")")
	check_reply "ref_history = 2: deferral $i" 451 4.7.1 "$r" 'is listed'
done
rc=0
e=$(ctl ref "${refs[0]}" 2>&1) || rc=$?
check "ref_history = 2: the first of three has left the ring (66)" test "$rc" = 66
check_grep "... and the message says 2 are kept" 'not among the 2 most recent' "$e"
check "ref_history = 2: the second is kept" ctl ref "${refs[1]}"
t=$(ctl ref "${refs[2]}" 2>&1 || true)
check_field "ref_history = 2: the third is kept, rcpt r3" rcpt r3@rcpt.test "$t"
wait_log "$log" "ref=${refs[0]}( |$)" 5 || true
rc=0
l=$(ctl ref "${refs[0]}" --log "$log" 2>&1) || rc=$?
check "ref_history = 2: --log still finds the first" test "$rc" = 0
check_field "... with its rcpt" rcpt r1@rcpt.test "$l"
check_alive "mxgate still running"
h_done
