# shellcheck shell=bash
# soaklib.sh -- the soak run with faults shared by tests/e2e/t_soak.sh
# (2,000 messages, in CI) and tests/bench/soak.sh (100,000 by default).
#
# Sourced after lib.sh and h_setup (bash, root, `set -euo pipefail`).
# soak_up builds, inside the harness's namespace:
#   NSD on 127.0.0.1:53 with the zones of every check (SPF, DKIM key,
#   DMARC p=reject, the DNS list bl.example); two fault relays in front of
#   it (faultdns.py, 127.0.0.1:5301 "a" and :5302 "b"), mxgate's two
#   dns_forwarders; redis-server (lib.sh h_redis) as mxgate's store;
#   Postfix (lib.sh, milter_default_action = tempfail; no error tarpit,
#   long queue ids: see soak_up); mxgate with rules
#   doing everything default.rules does (connection limits, a DNS list
#   with on_error tempfail, SPF, DKIM, DMARC) plus a tight per-client
#   limit for one sender domain, all counters in Redis.
# soak_run COUNT SESSIONS FIRST EVERY DUR then sends COUNT messages with
# soakc.py while faults come one after another: fault k (from 0) starts
# once FIRST + k * EVERY messages are done (at once, if the one before
# ran past that), in this order, round and round until the client is
# done:
#   dns-server-down   relay "a" black-holes every query for DUR s
#   servfail-bursts   both relays answer SERVFAIL to everything, 3 bursts
#   list-blackhole    both relays black-hole the DNS list's zone for DUR s
#   redis-down        Redis stopped for DUR s, then started
#   sigkill-mid-data  a probe message streams its body slowly; mxgate is
#                     SIGKILLed while the probe and (waiting up to 8 s for
#                     one) a slow message of the client are in DATA, then
#                     restarted on its stale socket (no rm: lib.sh's start
#                     removes it)
#   reload-storm      SOAK_STORM (default 200) SIGHUP/SIGUSR1, mixed, in
#                     groups of 1-3 back to back, 0-9 ms apart
# SOAK_KILL_EVERY=K: the SIGKILL only in every K-th round (default 1:
# every round), so that one mxgate lives long enough to watch its RSS.
# SOAK_RATE, SOAK_PER_CONN, SOAK_SLOW_EVERY: soakc.py's --rate (default
# 0: as fast as it goes), --per-conn (10), --slow-every (100).
# A sampler prints mxgate's RSS and open file descriptors every 10 s
# ("sample ..." lines, also in $H/log/samples). After the client, every
# fault is undone, the queue drains, and soak_count prints the accounting
# (soakcount.py: delivered without mxgate's decision, lost).
#
# Variables for the caller after soak_run: SOAK_KILLS (kills done),
# SOAK_PROBE_4XX / SOAK_PROBES (probes answered 4xx / sent), SOAK_EXITS
# (mxgate exits nobody caused: each restarted, logged "UNEXPECTED"),
# SOAK_RESTART_FAIL (restarts refused on the stale socket: then the file
# is removed and it starts again), SOAK_RESULT (soakcount.py's RESULT
# line), SOAK_STORMS (reload storms sent), SOAK_FAULTS_DONE (faults
# started, skipped SIGKILLs included).

SOAK_PY=/usr/bin/python3
SOAK_DNSPIDS=()
SOAK_SAMPLERPID=
SOAK_CLIENTPID=
SOAK_PROBEPIDS=()
SOAK_KILLS=0
SOAK_PROBES=0
SOAK_PROBE_4XX=0
SOAK_EXITS=0
SOAK_RESTART_FAIL=0
SOAK_STORMS=0
SOAK_RESULT=
SOAK_FAULTS_DONE=0
SOAK_T0=$SECONDS

# say TEXT -- a progress line on stdout, with seconds since the start
say() { printf '[%4ds] %s\n' "$((SECONDS - SOAK_T0))" "$*"; }

# soak_zones -- the DKIM key and the zones NSD serves (TTL 2 s, so that
# faults reach every check, not only the DNS list)
soak_zones() {
	mkdir -p "$H/keys"
	$SOAK_PY "$E2E_DIR/dkimsign.py" genkey rsa "$H/keys/s1"
	zone_head example 2 >"$H/dns/example.zone"
	{
		zone_head sender.example 2
		echo '@ TXT "v=spf1 ip4:203.0.113.0/24 -all"'
		echo '_dmarc TXT "v=DMARC1; p=reject"'
		zone_txt s1._domainkey "$H/keys/s1.txt"
	} >"$H/dns/sender.example.zone"
	{
		zone_head strict.example 2
		echo '@ TXT "v=spf1 ip4:192.0.2.1 -all"'
		echo '_dmarc TXT "v=DMARC1; p=reject"'
	} >"$H/dns/strict.example.zone"
	{
		zone_head tight.example 2
		echo '@ TXT "v=spf1 ip4:203.0.113.0/24 -all"'
	} >"$H/dns/tight.example.zone"
	{
		zone_head other.example 2
		echo '@ TXT "v=spf1 ip4:203.0.113.0/24 -all"'
	} >"$H/dns/other.example.zone"
	{
		zone_head bl.example 2
		echo '66.113.0.203 A 127.0.0.2'
		echo '66.113.0.203 TXT "listed for the soak test"'
	} >"$H/dns/bl.example.zone"
}

# soak_rules -- every check of default.rules (limits raised so that the
# client's thousands of connections pass), the DNS list with on_error
# tempfail, and a tight limit on tight.example's mail per client
soak_rules() {
	cat >"$H/rules/test.rules" <<'RULES'
list trusted_relays { 127.0.0.0/8, ::1 }
list always_deliver { postmaster@*, abuse@* }
limit conn_rate { count connections; key client_ip/24 /64; rate 1000000/1m burst 1000000 }
limit conn_open { count concurrent; key client_ip/24 /64; max 1000 }
limit tight { count messages; key client_ip+sender_domain; rate 30/1m burst 3 }
dnsbl soakbl {
	zone bl.example
	answer 127.0.0.2 label LISTED weight 4
	public_name "Soak List"
	timeout 2s
	on_error tempfail
}
rule trusted at connect {
	if client_ip in trusted_relays
	accept
}
rule too-many-open at connect {
	if limit conn_open exceeded
	tempfail 421 4.7.0 "Too many open connections from ${client_net}."
}
rule too-fast at connect {
	if limit conn_rate exceeded
	tempfail 421 4.7.0 "Too many connections from ${client_net}; retry in ${retry_after} s."
}
rule tight at mail {
	if mail_domain is tight.example and limit tight exceeded
	tempfail 451 4.7.0 "${mail_domain} may send ${limit.max} messages per ${limit.window} from ${client_ip}; retry in ${retry_after} s."
}
rule listed at rcpt {
	if not rcpt in always_deliver and dnsbl.score >= 4
	tempfail 451 4.7.1 "${client_ip} is listed on ${dnsbl.names}. ${dnsbl.txt}"
}
rule spf-fail at rcpt {
	if not rcpt in always_deliver and spf is fail
	tempfail 451 4.7.23 "SPF of ${spf.domain} does not allow ${client_ip} (${spf.reason})."
}
rule spf-temperror at rcpt {
	if not rcpt in always_deliver and spf is temperror
	tempfail 451 4.7.24 "SPF check could not be completed: ${spf.reason}."
}
rule dmarc-reject at eom {
	if dmarc is fail and dmarc.policy is reject and not dmarc.testing
	tempfail 451 4.7.1 "DMARC policy of ${from_domain} rejects this message (SPF ${spf}, DKIM ${dkim})."
}
rule dmarc-temperror at eom {
	if dmarc is temperror
	tempfail 451 4.4.3 "DMARC policy of ${from_domain} cannot be read just now."
}
RULES
}

# soak_dns_start NAME PORT -- a fault relay (faultdns.py) in the namespace,
# its control file $H/dns-NAME.mode
soak_dns_start() {
	echo normal >"$H/dns-$1.mode"
	ip netns exec "$NS" $SOAK_PY "$E2E_DIR/faultdns.py" "$2" 53 "$H/dns-$1.mode" \
	    2>>"$H/log/faultdns-$1.log" &
	SOAK_DNSPIDS+=("$!")
	wait_until 10 nsx $SOAK_PY "$E2E_DIR/dnsq.py" 127.0.0.1 "$2" sender.example SOA ||
		die "faultdns $1 does not answer on $2"
}

# soak_dns NAME MODE [ZONE] -- set the fault mode of relay NAME (a, b)
soak_dns() {
	local name=$1
	shift
	echo "$*" >"$H/dns-$name.mode.tmp"
	mv "$H/dns-$name.mode.tmp" "$H/dns-$name.mode"
}

# soak_listening -- something listens on mxgate's socket path (a stale
# file left by a killed mxgate has no listener in /proc/net/unix)
soak_listening() {
	# shellcheck disable=SC2016 # an awk program
	nsx awk -v p="$H/run/mxgate.sock" '$4 == "00010000" && $NF == p { f = 1 } END { exit !f }' \
	    /proc/net/unix
}

# soak_mx_ready -- mxgate runs and listens on its socket
soak_mx_ready() { alive "$MXPID" && soak_listening; }

# soak_mx_start -- start mxgate WITHOUT removing its socket file first
# (after a SIGKILL it is stale); a start that fails on it is counted
# (SOAK_RESTART_FAIL), then the file is removed and it starts again
soak_mx_start() {
	local stale _try
	for _try in 1 2; do
		stale=
		[[ -e $H/run/mxgate.sock ]] && stale=1
		! soak_listening || die "something listens on mxgate's socket already"
		(cd "$H" && exec ip netns exec "$NS" "$MXGATE" -f \
		    -c "$H/mxgate.conf" </dev/null >>"$H/log/mxgate.log" 2>&1) &
		MXPID=$!
		wait_until 30 soak_mx_ready && return 0
		if alive "$MXPID"; then
			stop_pid "$MXPID" 5
		fi
		wait "$MXPID" 2>/dev/null || true
		MXPID=
		[[ -n $stale ]] || break
		SOAK_RESTART_FAIL=$((SOAK_RESTART_FAIL + 1))
		say "RESTART FAILED with a stale socket file: $(tail -n 3 "$H/log/mxgate.log" | tr '\n' '|'); removing it"
		rm -f "$H/run/mxgate.sock"
	done
	die "mxgate does not start: $(tail -n 5 "$H/log/mxgate.log" | tr '\n' '|')"
}

# soak_mx_watch -- if mxgate is gone and we did not kill it: count it,
# log it, restart it (the soak goes on; the caller reports SOAK_EXITS)
soak_mx_watch() {
	local rc=0
	alive "$MXPID" && return 0
	wait "$MXPID" 2>/dev/null || rc=$?
	SOAK_EXITS=$((SOAK_EXITS + 1))
	say "UNEXPECTED: mxgate (pid $MXPID) exited on its own, status $rc: $(tail -n 3 "$H/log/mxgate.log" | tr '\n' '|')"
	soak_mx_start
	say "mxgate restarted (pid $MXPID)"
}

# soak_up -- the whole set-up (see the header); SOAK_CONF: extra lines
# for mxgate.conf
soak_up() {
	$SOAK_PY -c 'import dkim' 2>/dev/null ||
		{ echo "SKIP: no dkimpy (Debian: python3-dkim)"; exit 77; }
	command -v redis-server >/dev/null ||
		{ echo "SKIP: no redis-server"; exit 77; }
	soak_zones
	soak_rules
	$SOAK_PY "$E2E_DIR/soakc.py" templates "$H/templates.json" "$H/keys/s1.key" s1
	h_netns
	h_dns
	soak_dns_start a 5301
	soak_dns_start b 5302
	h_redis
	h_postfix_up
	# no tarpit: a client whose connection keeps getting 4xx (a DNS list
	# failure is per connection) would otherwise slow down to 1 message
	# in 3 s, and be cut off after 20 errors. Long queue ids: a short
	# one (inode and microseconds) comes back within a few thousand
	# messages, and the accounting ties deliveries and decisions to
	# messages by queue id.
	postconf -c "$PF" -e "smtpd_error_sleep_time = 0" \
	    "smtpd_soft_error_limit = 1000" "smtpd_hard_error_limit = 1000" \
	    "enable_long_queue_ids = yes"
	nsx postfix -c "$PF" reload >/dev/null 2>&1
	E2E_DNS=127.0.0.1@5301,127.0.0.1@5302 h_mxgate_conf \
	    "store = redis://127.0.0.1:6390/0" "dns_timeout = 3s" \
	    "stage_timeout = 8s" ${SOAK_CONF:+"$SOAK_CONF"}
	soak_mx_start
}

# soak_down -- stop what soak_up and soak_run started (then h_down);
# returns the status it was called with (an EXIT trap passes it on)
soak_down() {
	local rc=$? p
	for p in "$SOAK_SAMPLERPID" "$SOAK_CLIENTPID" "${SOAK_PROBEPIDS[@]}" \
	    "${SOAK_DNSPIDS[@]}"; do
		[[ -n $p ]] || continue
		stop_pid "$p" 5
		wait "$p" 2>/dev/null || true
	done
	SOAK_SAMPLERPID='' SOAK_CLIENTPID='' SOAK_PROBEPIDS=() SOAK_DNSPIDS=()
	return "$rc"
}

# soak_sample -- one line: time, messages done, mxgate's pid, RSS, fds
soak_sample() {
	local pid rss fds n line
	pid=$(pid_of "$H/run/mxgate.pid")
	n=$(soak_done_count)
	if [[ -n $pid ]] && alive "$pid"; then
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo -)
		fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		line="sample t=$((SECONDS - SOAK_T0))s done=$n pid=$pid rss_kb=$rss fds=$fds"
	else
		line="sample t=$((SECONDS - SOAK_T0))s done=$n mxgate down"
	fi
	echo "$line"
	echo "$line" >>"$H/log/samples"
}

# soak_sampler -- soak_sample every 10 s (run in the background; on
# SIGTERM it stops its sleep too)
soak_sampler() {
	local sp=
	trap '[[ -z $sp ]] || kill "$sp" 2>/dev/null; exit 0' TERM
	while :; do
		soak_sample
		sleep 10 &
		sp=$!
		wait "$sp" || true
	done
}

# soak_done_count -- messages the client has finished so far
soak_done_count() {
	local n
	read -r n _ <"$H/progress" 2>/dev/null || true
	echo "${n:-0}"
}

# soak_slow_in_data -- the client has a slow message in DATA now
soak_slow_in_data() {
	local s
	read -r _ s <"$H/progress" 2>/dev/null || true
	((${s:-0} > 0))
}

# soak_client_running -- the client has not finished yet
soak_client_running() { [[ -n $SOAK_CLIENTPID ]] && alive "$SOAK_CLIENTPID"; }

# soak_wait_progress N -- wait (watching mxgate) until N messages are
# done; false when the client finished first
soak_wait_progress() {
	while soak_client_running; do
		(($(soak_done_count) >= $1)) && return 0
		soak_mx_watch
		sleep 0.2
	done
	return 1
}

# soak_for SECS -- wait SECS seconds watching mxgate
soak_for() {
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do
		soak_mx_watch
		sleep 0.2
	done
}

# fault_dns_server_down DUR
fault_dns_server_down() {
	soak_dns a blackhole
	soak_for "$1"
	soak_dns a normal
}

# fault_servfail_bursts DUR -- three bursts of SERVFAIL on both relays
fault_servfail_bursts() {
	local i len
	len=$(((${1} + 2) / 3))
	for i in 1 2 3; do
		soak_dns a servfail
		soak_dns b servfail
		sleep 1.5
		soak_dns a normal
		soak_dns b normal
		soak_for "$len"
	done
}

# fault_list_blackhole DUR -- the DNS list's zone unanswered on both relays
fault_list_blackhole() {
	soak_dns a blackhole bl.example
	soak_dns b blackhole bl.example
	soak_for "$1"
	soak_dns a normal
	soak_dns b normal
}

# soak_redis_lines -- mxgate's log lines saying Redis is in use
soak_redis_lines() { grep -cE 'store: redis .*(connected|reachable again); rate counters' "$H/log/mxgate.log" || true; }

# fault_redis_down DUR -- Redis stopped for DUR s; then wait (up to 40 s:
# mxgate probes with a backoff of up to 30 s) until mxgate uses it again
fault_redis_down() {
	local n end
	h_redis_stop
	soak_for "$1"
	n=$(soak_redis_lines)
	h_redis
	end=$((SECONDS + 40))
	while (($(soak_redis_lines) <= n && SECONDS < end)); do
		soak_mx_watch
		sleep 0.2
	done
}

# probe_script N -- the smtpc script of probe N: its body streams in two
# halves 12 s apart, so it is in DATA when mxgate is killed
probe_script() {
	local head="From: News <news@sender.example>\\r\\nTo: <probe@rcpt.test>\\r\\nSubject: probe\\r\\nMessage-ID: <probe-$1@soak.test>\\r\\n\\r\\n"
	printf '%s\n' "cmd EHLO probe.soak.test" "cmd MAIL FROM:<bounce@sender.example>" \
	    "cmd RCPT TO:<probe-$1@rcpt.test>" "cmd DATA" \
	    "raw ${head}first half of the probe\\r\\n" "sleep 12" \
	    "raw second half of the probe\\r\\n.\\r\\n" "read" "cmd QUIT"
}

# fault_sigkill_mid_data -- SIGKILL mxgate while a probe (and the client's
# messages in flight) are in DATA, then restart it on the stale socket
fault_sigkill_mid_data() {
	local n=$((SOAK_PROBES + 1)) out pid
	out=$H/log/probe-$n.out
	SOAK_PROBES=$n
	probe_script "$n" | ip netns exec "$NS" $SOAK_PY "$E2E_DIR/smtpc.py" \
	    127.0.0.1:2525 --bind 203.0.113.9 --timeout 60 >"$out" 2>&1 &
	pid=$!
	SOAK_PROBEPIDS+=("$pid")
	if ! wait_log "$out" '^<- 354' 30; then
		say "probe $n did not reach DATA: $(tr '\n' '|' <"$out")"
	fi
	# and one of the client's slow messages too, if one comes in 8 s
	wait_until 8 soak_slow_in_data || say "  no slow client message in DATA"
	soak_mx_watch
	date +%s.%N >>"$H/kills"
	kill -KILL "$MXPID"
	wait "$MXPID" 2>/dev/null || true
	SOAK_KILLS=$((SOAK_KILLS + 1))
	soak_mx_start
	wait "$pid" 2>/dev/null || true
	SOAK_PROBEPIDS=()
	# the reply to the final dot (sent with the body's second half)
	if reply_to "$(cat "$out")" "second half" | grep -Eq '^4[0-9][0-9] '; then
		SOAK_PROBE_4XX=$((SOAK_PROBE_4XX + 1))
	fi
	say "  probe $n: $(reply_to "$(cat "$out")" "second half" | head -n1); mxgate restarted (pid $MXPID)"
}

# fault_reload_storm -- SOAK_STORM signals, SIGHUP and SIGUSR1 mixed at
# random: one to three back to back (the race that stops libmilter's
# engine), then a random pause of 0-9 ms
fault_reload_storm() {
	local i=0 j
	SOAK_STORMS=$((SOAK_STORMS + 1))
	while ((i < ${SOAK_STORM:-200})) && alive "$MXPID"; do
		for ((j = RANDOM % 3; j >= 0 && i < ${SOAK_STORM:-200}; j--, i++)); do
			if ((RANDOM % 2)); then
				kill -HUP "$MXPID" 2>/dev/null || true
			else
				kill -USR1 "$MXPID" 2>/dev/null || true
			fi
		done
		sleep "0.00$((RANDOM % 10))"
	done
	soak_for 1
}

SOAK_FAULTS=(dns_server_down servfail_bursts list_blackhole redis_down
    sigkill_mid_data reload_storm)

# soak_run COUNT SESSIONS FIRST EVERY DUR -- the client, the faults, the
# sampler; returns when the client is done and the queue has drained
soak_run() {
	local count=$1 sess=$2 first=$3 every=$4 dur=$5 k=0 f rc=0 cycle
	: >"$H/kills"
	echo 0 >"$H/progress"
	soak_sampler &
	SOAK_SAMPLERPID=$!
	nsx $SOAK_PY "$E2E_DIR/soakc.py" send --server 127.0.0.1:2525 \
	    --count "$count" --sessions "$sess" --per-conn "${SOAK_PER_CONN:-10}" \
	    --templates "$H/templates.json" --out "$H/results.tsv" \
	    --slow-every "${SOAK_SLOW_EVERY:-100}" --progress "$H/progress" \
	    --rate "${SOAK_RATE:-0}" \
	    >"$H/log/soakc.out" 2>"$H/log/soakc.err" &
	SOAK_CLIENTPID=$!
	while soak_wait_progress $((first + k * every)); do
		f=${SOAK_FAULTS[k % ${#SOAK_FAULTS[@]}]}
		cycle=$((k / ${#SOAK_FAULTS[@]}))
		if [[ $f == sigkill_mid_data ]] && ((cycle % ${SOAK_KILL_EVERY:-1} != 0)); then
			say "fault $((k + 1)): $f skipped in this round"
		else
			say "fault $((k + 1)): $f (${dur} s) at $(soak_done_count) messages"
			"fault_$f" "$dur"
		fi
		k=$((k + 1))
	done
	wait "$SOAK_CLIENTPID" || rc=$?
	SOAK_CLIENTPID=
	# shellcheck disable=SC2034 # for the caller
	SOAK_FAULTS_DONE=$k
	say "client done (status $rc): $(cat "$H/log/soakc.out" "$H/log/soakc.err" | tr '\n' ' ')"
	soak_mx_watch
	soak_dns a normal
	soak_dns b normal
	[[ -s $H/run/redis.pid ]] || h_redis
	# everything accepted is delivered or still queued: wait for the queue
	wait_until "${SOAK_DRAIN:-300}" soak_queue_empty || say "the queue did not drain"
	sleep 1		# postlogd may trail the last delivery
	stop_pid "$SOAK_SAMPLERPID" 5
	wait "$SOAK_SAMPLERPID" 2>/dev/null || true
	SOAK_SAMPLERPID=
	soak_sample
}

# soak_queue_empty -- nothing left in Postfix's queue
soak_queue_empty() {
	[[ -z $(find "$H/spool/incoming" "$H/spool/active" "$H/spool/deferred" \
	    "$H/spool/maildrop" -type f 2>/dev/null | head -n1) ]]
}

# soak_count -- the accounting (soakcount.py), RSS and fds per instance;
# SOAK_RESULT gets the RESULT line
soak_count() {
	$SOAK_PY "$E2E_DIR/soakcount.py" "$H/results.tsv" "$H/log/maillog" \
	    "$H/kills" >"$H/log/count"
	cat "$H/log/count"
	SOAK_RESULT=$(grep '^RESULT ' "$H/log/count" || true)
	# per mxgate instance: RSS and fds at its first sample after warm-up
	# (its second) and at its last, and the largest
	awk '$4 ~ /^pid=/ {
		pid = substr($4, 5); rss = substr($5, 8) + 0; fds = substr($6, 5) + 0
		n[pid]++
		if (n[pid] == 2) { r0[pid] = rss; f0[pid] = fds }
		r1[pid] = rss; f1[pid] = fds
		if (rss > rm[pid]) rm[pid] = rss
		if (fds > fm[pid]) fm[pid] = fds
		if (!(pid in seen)) { seen[pid] = 1; order[++k] = pid }
	}
	END {
		for (i = 1; i <= k; i++) {
			p = order[i]
			if (n[p] < 2) { r0[p] = r1[p]; f0[p] = f1[p] }
			printf "mxgate pid %s: %d samples; RSS %s -> %s kB (max %s); fds %s -> %s (max %s)\n",
			    p, n[p], r0[p], r1[p], rm[p], f0[p], f1[p], fm[p]
		}
	}' "$H/log/samples"
}

# soak_field NAME -- a number from SOAK_RESULT (e.g. lost)
soak_field() { sed -nE "s/.* $1=([0-9]+).*/\1/p" <<<"$SOAK_RESULT"; }
