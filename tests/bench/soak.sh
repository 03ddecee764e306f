#!/usr/bin/env bash
# soak.sh -- the soak with faults, long: MESSAGES (default 100,000) over
# SESSIONS (default 20) concurrent SMTP sessions, at most RATE (default
# 120) messages a second, through Postfix
# (milter_default_action = tempfail) and mxgate with every check (SPF,
# DKIM, DMARC, a DNS list, rate limits; store = redis), while faults come
# round and round (tests/e2e/soaklib.sh): a DNS server black-holed,
# SERVFAIL bursts, the DNS list's zone black-holed, Redis stopped and
# started, mxgate SIGKILLed in the middle of DATA and restarted on its
# stale socket, storms of SIGHUP/SIGUSR1. The first fault comes after a
# tenth of the messages (at most 2,000: the warm-up), then one every
# MESSAGES/60 messages (at least 1,200: 10 s at RATE 120), each lasting FAULT_SECS (default
# 10) seconds; the SIGKILL comes in every 4th round only (SOAK_KILL_EVERY)
# so that one mxgate runs long enough to show whether its RSS and fds stay
# flat.
#
#   tests/bench/soak.sh [MESSAGES] [SESSIONS] [RATE] [FAULT_SECS]
#
# RATE 0 sends as fast as replies come; but then a fault that makes
# mxgate defer at once (SERVFAIL, mxgate down) lets the client burn
# through thousands of messages in seconds, so the default paces it a
# little below what Postfix and mxgate take on a 2-core machine.
#
# Prints, as it goes, each fault and mxgate's RSS and open file
# descriptors every 10 s ("sample" lines); at the end the accounting
# (tests/e2e/soakcount.py): messages delivered without mxgate's decision
# and messages lost (neither delivered nor refused with a 4xx the client
# saw), both must be 0; RSS and fds per mxgate instance (first sample
# after warm-up -> last); mxgate exits nobody caused; restarts refused on
# the stale socket. Exits 1 when a message was delivered undecided or
# lost, or mxgate stopped on its own.
#
# Runs as root in the e2e harness (tests/e2e/lib.sh), not in CI (too
# long: RATE 120 makes 100,000 messages about 15 minutes).
# Use an optimised build without sanitizers (MXGATE=...). Needs dkimpy
# (python3-dkim) and redis-server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_NAME=soak	# lib.sh prints it in PASS/FAIL lines
. "$here/../e2e/lib.sh"
. "$here/../e2e/soaklib.sh"
count=${1:-100000} sess=${2:-20} rate=${3:-120} dur=${4:-10}
first=$((count / 10 < 2000 ? count / 10 : 2000))
every=$((count / 60 > 1200 ? count / 60 : 1200))
h_setup
trap 'soak_down; h_down' EXIT
soak_up
say "mxgate $MXGATE (pid $MXPID); $count messages over $sess sessions at most $rate a second; faults from message $first on, every $every messages, $dur s each"
SOAK_DRAIN=600 SOAK_RATE=$rate SOAK_KILL_EVERY=${SOAK_KILL_EVERY:-4} soak_run "$count" "$sess" "$first" "$every" "$dur"
soak_count
echo "faults: $SOAK_FAULTS_DONE; SIGKILLs $SOAK_KILLS (probes answered 4xx: $SOAK_PROBE_4XX of $SOAK_PROBES); $SOAK_STORMS reload storms of ${SOAK_STORM:-200} signals"
echo "mxgate exits nobody caused: $SOAK_EXITS; restarts refused on the stale socket: $SOAK_RESTART_FAIL"
echo "stale socket replaced, logged: $(grep -c 'replacing stale socket' "$H/log/mxgate.log" || true) times;" \
    "reloads logged ok: $(grep -c 'reload: ok' "$H/log/mxgate.log" || true)"
soak_down
cat "$H/log/faultdns-a.log" "$H/log/faultdns-b.log"
rc=0
[[ $(soak_field undecided) == 0 && $(soak_field lost) == 0 && $(soak_field reused) == 0 ]] || rc=1
[[ $SOAK_EXITS -eq 0 ]] || rc=1
echo "soak: $([[ $rc -eq 0 ]] && echo ok || echo FAILED)"
exit "$rc"
