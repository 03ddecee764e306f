#!/usr/bin/env bash
# t_signals -- the signals belong to mxgate: while mail flows through
# Postfix (4 concurrent sessions, milter_default_action = tempfail),
# 2,000 SIGHUP and SIGUSR1 at random intervals (bursts, back-to-back
# USR1+HUP pairs, gaps; sigstorm.py), with the rules file replaced by
# valid variants between some of them. The same mxgate process lives
# through it; every message sent meanwhile was delivered with mxgate's
# decision (its Authentication-Results and the rules' X-Rules-Version
# header), none was refused; reloads were logged; the last variant is in
# force afterwards; SIGTERM then stops mxgate with exit 0.
#
#   MXGATE=.../milter/mxgate tests/e2e/run.sh t_signals.sh     (root)
#   (env STORM_SIGNALS: how many signals, default 2000)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
h_own_pids

STORM_SIGNALS=${STORM_SIGNALS:-2000}

variant() {	# NAME [EXTRA-RULE...] -- a valid rules file $H/rules/NAME.rules
	{
		printf 'rule tag at eom {\n\theader "X-Rules-Version" "%s"\n}\n' "$1"
		shift
		printf '%s\n' "$@"
	} >"$H/rules/$1.rules"
}
variant v1
variant v2 'rule never at rcpt {' '	if rcpt_domain is never.rcpt.test' \
	'	tempfail 451 4.7.1 "never used"' '}'
variant v3 'list nobody { 192.0.2.0/24 }' 'rule listed at connect {' \
	'	if client_ip in nobody' '	tempfail 421 4.7.1 "not you"' '}'
# shellcheck disable=SC2016 # ${mail_from} is for mxgate, not the shell
variant v4 'rule note at mail {' '	log "mail from ${mail_from}"' '}'
variant final
cp "$H/rules/v1.rules" "$H/rules/test.rules"
h_up

# flow_problems RESULTS -- one line for each message of RESULTS ("OK QID
# RCPT" lines of mailflow.py) that the maillog does not show delivered
# with mxgate's decision (E2E_DECISION) and the rules' X-Rules-Version
flow_problems() {
	E2E_DECISION=$E2E_DECISION awk '
		FNR == NR { if ($1 == "OK") want[$2] = $3; next }
		match($0, / [0-9A-Za-z]+: milter-header-warning: header /) {
			id = substr($0, RSTART + 1)
			sub(/:.*/, "", id)
			rest = substr($0, RSTART + RLENGTH)
			if (rest ~ ENVIRON["E2E_DECISION"])
				ar[id] = 1
			if (rest ~ /^X-Rules-Version: /)
				tag[id] = 1
		}
		match($0, / [0-9A-Za-z]+: to=<[^>]*>,.* status=sent /) {
			id = substr($0, RSTART + 1)
			sub(/:.*/, "", id)
			sent[id] = 1
		}
		END {
			for (id in want) {
				if (!(id in sent))
					print id " (" want[id] "): not delivered"
				else if (!(id in ar))
					print id " (" want[id] "): no decision by mxgate"
				else if (!(id in tag))
					print id " (" want[id] "): no X-Rules-Version header"
			}
		}' "$1" "$H/log/maillog"
}

# reload_lines -- how many reload lines mxgate logged so far
reload_lines() { grep -c 'reload: ' "$H/log/mxgate.log" || true; }

# settled -- the count of reload lines did not change for 2 s (the
# signals still queued have been handled)
settled() {
	local a b
	a=$(reload_lines)
	sleep 2
	b=$(reload_lines)
	[[ $a == "$b" ]]
}

pid0=$MXPID
check "the pid file names the mxgate we started" test "$(pid_of "$H/run/mxgate.pid")" = "$pid0"

# ip netns exec execs python: $! is the flow itself
ip netns exec "$NS" python3 "$E2E_DIR/mailflow.py" 127.0.0.1:2525 "$H/flow.stop" "$H/flow.out" \
	--workers 4 --max-seconds 150 2>"$H/log/mailflow.err" &
flowpid=$!
OWN_PIDS+=("$flowpid")
# the storm starts once mail flows
wait_until 30 grep -q '^OK ' "$H/flow.out" || note "no message through yet: $(head -n 3 "$H/flow.out" 2>/dev/null | tr '\n' '|')"
python3 "$E2E_DIR/sigstorm.py" "$MXPID" "$STORM_SIGNALS" "$H/rules/test.rules" \
	"$H/rules/v1.rules" "$H/rules/v2.rules" "$H/rules/v3.rules" \
	"$H/rules/v4.rules" "$H/rules/final.rules" >"$H/storm.out" 2>&1 || true
storm=$(cat "$H/storm.out")
note "storm: $storm"
# mail goes on flowing a little after the last signal
sleep 1
touch "$H/flow.stop"
wait "$flowpid" || true
note "flow: $(tail -n 1 "$H/flow.out")"

check_grep "all $STORM_SIGNALS signals sent to a living mxgate" "^sent $STORM_SIGNALS " "$storm"
check_alive "mxgate still running after the storm"
check "the same process (pid $pid0) throughout" test "$MXPID" = "$pid0" -a \
	"$(pid_of "$H/run/mxgate.pid")" = "$pid0"
check_nogrep "no stop during the storm" 'stop: signal|stopped on its own|mxgate stopped' "$(mxlog)"
check_grep "reloads were logged" 'reload: ok: ' "$(mxlog)"
note "reload lines: $(reload_lines) for $STORM_SIGNALS signals"
check_nogrep "every reload read a whole, valid file" 'reload: .*error' "$(mxlog)"

ok=$(grep -c '^OK ' "$H/flow.out" || true)
err=$(grep -c '^ERR ' "$H/flow.out" || true)
check "mail flowed during the storm (at least 20 messages)" test "$ok" -ge 20
if [[ $err -eq 0 ]]; then
	pass "no message refused or broken off during the storm ($ok sent)"
else
	fail "no message refused or broken off during the storm" \
	    "$err of $((ok + err)): $(grep -m3 '^ERR ' "$H/flow.out" | tr '\n' '|')"
fi
wait_until 30 test -z "$(flow_problems "$H/flow.out")" || true
problems=$(flow_problems "$H/flow.out")
if [[ -z $problems ]]; then
	pass "every message of the storm delivered with mxgate's decision ($ok)"
else
	fail "every message of the storm delivered with mxgate's decision" \
	    "$(wc -l <<<"$problems") of $ok: $(head -n 3 <<<"$problems" | tr '\n' '|')"
fi
check_nogrep "Postfix never fell back to milter_default_action" \
	'milter-reject|Service unavailable - try again later|warning: (milter |connect to Milter service)' "$(maillog)"

# the last variant written is the one in force for a new connection
wait_until 30 settled || note "reload lines still changing: $(reload_lines)"
out=$(smtp 127.0.0.1:2525 --bind 203.0.113.90 <<'S'
cmd EHLO client.test
cmd MAIL FROM:<after@client.test>
cmd RCPT TO:<after-storm@rcpt.test>
cmd DATA
data Subject: after\r\n\r\nafter the storm
cmd QUIT
S
)
check_grep "after the storm: message accepted" '^<- 250 2\.0\.0 Ok: queued' "$out"
check_decided "after the storm: decided by mxgate" after-storm@rcpt.test
q=$(queued_as "$out" || true)
wait_log "$H/log/maillog" "${q:-NOQID}: milter-header-warning: header X-Rules-Version" 10 || true
check_grep "after the storm: the last rules variant is in force" \
	"${q:-NOQID}: milter-header-warning: header X-Rules-Version: final " "$(maillog)"

check_nogrep "no sanitizer report" 'AddressSanitizer|LeakSanitizer|runtime error:' "$(mxlog)"
h_mxgate_stop
check "SIGTERM after the storm: exit status 0" test "$MXRC" = 0
check_grep "SIGTERM after the storm: stop logged" 'stop: signal 15' "$(mxlog)"
check_grep "SIGTERM after the storm: mxgate stopped" 'mxgate stopped$' \
	"$(sed -n '/stop: signal 15/,$p' "$H/log/mxgate.log")"
h_done
