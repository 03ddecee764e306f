#!/usr/bin/env bash
# t_soak -- the soak with faults, short: 2,000 messages (SOAK_COUNT) over
# 10 sessions, 30 a second, through Postfix (milter_default_action =
# tempfail) and mxgate with every check (SPF, DKIM, DMARC, a DNS list,
# rate limits in Redis), while one fault after another hits it
# (soaklib.sh): a DNS server black-holed, SERVFAIL bursts, the DNS list's
# zone black-holed, Redis stopped and started, mxgate SIGKILLed in the
# middle of DATA and restarted on its stale socket, a storm of
# SIGHUP/SIGUSR1.
# Checks: every message has an outcome and every fault ran; no message
# was delivered without mxgate's decision; none was lost (neither
# delivered nor refused with a 4xx the client saw); none was both refused
# and delivered; each queue id belongs to one message (the counts are
# exact); the probe in DATA at the SIGKILL got a 4xx, and client messages
# were in DATA too; mxgate never stopped on its own; its restart replaced
# the stale socket (logged: `replacing stale socket`); it fell back from
# Redis and reconnected; the faults really hit (the relays dropped and
# failed queries, mxgate logged the DNS list's failure); afterwards a
# message is accepted and decided again; mxgate then stops with status 0
# and (in a sanitizer build) no sanitizer report came from any of its
# instances. RSS and open fds are printed (every 10 s, and per instance
# at the end), not asserted.
# On the libmilter build two checks fail: the stale socket is replaced
# without a word, and the reload storm stops the daemon (libmilter's
# signal thread takes SIGHUP for "stop"; most runs).
#
#   MXGATE=... bash tests/e2e/run.sh t_soak.sh
#
# The long version, not in CI: tests/bench/soak.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/soaklib.sh"
h_setup
trap 'soak_down; h_down' EXIT
count=${SOAK_COUNT:-2000}
soak_up
# soaklib.sh reads these
export SOAK_STORM=200 SOAK_RATE=30 SOAK_SLOW_EVERY=50
# one fault every 250 messages from the 150th on: six faults by the 1400th
soak_run "$count" 10 150 250 4
soak_count

sent=$(soak_field sent)
check "every message has an outcome ($sent of $count)" test "${sent:-0}" -eq "$count"
check "mail was delivered ($(soak_field delivered) queue ids)" test "$(soak_field delivered)" -gt 0
check_grep "no message delivered without mxgate's decision" '^delivered without mxgate.s decision: 0$' \
	"$(cat "$H/log/count")"
check_grep "no message lost" '^lost \(neither delivered nor refused with a 4xx the client saw\): 0$' \
	"$(cat "$H/log/count")"
check "no message both refused with a 4xx and delivered" test "$(soak_field dup)" -eq 0
check "every queue id belongs to one message (the counts are exact)" test "$(soak_field reused)" -eq 0
check "every fault ran ($SOAK_FAULTS_DONE of ${#SOAK_FAULTS[@]})" test "$SOAK_FAULTS_DONE" -ge "${#SOAK_FAULTS[@]}"
check "SIGKILL mid-DATA: the probe in DATA got a 4xx ($SOAK_PROBE_4XX of $SOAK_PROBES)" \
	test "$SOAK_PROBES" -ge 1 -a "$SOAK_PROBE_4XX" -eq "$SOAK_PROBES"
check "SIGKILL mid-DATA: client messages were in DATA too ($(soak_field in_data_at_kill))" \
	test "$(soak_field in_data_at_kill)" -ge 1
check "mxgate never stopped on its own ($SOAK_EXITS times)" test "$SOAK_EXITS" -eq 0
check "restart after SIGKILL: started on the stale socket file" test "$SOAK_RESTART_FAIL" -eq 0
check_grep "restart after SIGKILL: the stale socket replaced (logged)" 'replacing stale socket' "$(mxlog)"
check_grep "reload storm: reloads logged" 'reload: ok' "$(mxlog)"
check_grep "Redis down: mxgate fell back to local counters" \
	'store: redis .*using local counters until it is back' "$(mxlog)"
check_grep "Redis back: mxgate uses it again" \
	'store: redis .*reachable again; rate counters are shared again' "$(mxlog)"

# after every fault, the same mxgate and DNS relays: a message is
# accepted and mxgate decided on it
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.8 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<ann@sender.example>
cmd RCPT TO:<after@rcpt.test>
cmd DATA
data From: Ann <ann@sender.example>\r\nSubject: after\r\n\r\nafter the soak
cmd QUIT
S
)
check_grep "after the soak: accepted" '^<- 250 2\.0\.0 Ok: queued' "$out"
check_decided "after the soak: delivered, decided by mxgate" after@rcpt.test
check_alive "mxgate still running"
# a sanitizer build reports leaks and memory errors when it exits
h_mxgate_stop
check "SIGTERM after the soak: exit status 0 ($MXRC)" test "$MXRC" = 0
check_nogrep "no sanitizer report from any mxgate of the soak" 'Sanitizer|runtime error:' "$(mxlog)"

soak_down	# the relays write their counts when they stop
check_grep "the black holes dropped queries" 'faultdns 5301: .*dropped [1-9]' "$(cat "$H/log/faultdns-a.log")"
check_grep "the bursts answered SERVFAIL" 'faultdns 5302: .*servfail [1-9]' "$(cat "$H/log/faultdns-b.log")"
check_grep "the DNS list's failure was logged" 'Soak List' "$(mxlog)"
h_done
