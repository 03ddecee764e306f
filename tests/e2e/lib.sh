# shellcheck shell=bash
# lib.sh -- end-to-end harness for mxgate: a private network namespace, a
# private Postfix instance and the real mxgate daemon, all torn down again.
#
# Sourced by tests/e2e/t_*.sh and tests/bench/bench_smtp.sh (bash, run as
# root, `set -euo pipefail`). Nothing here reads /work/shared or any file
# outside this directory, the build tree and the temporary directory.
#
# Layout (all inside namespace $NS, whose only interface is lo):
#   127.0.0.1:2525 [::1]:2525  smtpd + mxgate, {daemon_name} = smtp
#   127.0.0.1:2587 [::1]:2587  smtpd + mxgate, {daemon_name} = submission,
#                              SASL on (XCLIENT LOGIN= sets the login)
#   127.0.0.1:2526             smtpd + mxgate (t_stop: the stopped milter)
#   127.0.0.1:2527             smtpd without milter (baseline for the bench)
#   127.0.0.1:2529             smtpd + mxgate, the ONE listener whose
#                              milter_default_action lets mail through
#                              (t_stop tests that action, nothing else
#                              may use it)
# Every other listener runs with milter_default_action = tempfail (main.cf):
# a 250 then proves that mxgate answered, not that it was absent, and a
# check that expects acceptance also finds mxgate's own decision for the
# message (decided RCPT: the Authentication-Results header mxgate added,
# as logged in the maillog for the message's queue id).
# Clients may use any source in 203.0.113.0/24 and 2001:db8::/32 (AnyIP on
# lo). h_dns starts NSD on 127.0.0.1:53 with the zones in $H/dns/*.zone;
# mxgate forwards to it (dns_forwarders = $E2E_DNS, default 127.0.0.1@53),
# and names it does not serve are REFUSED: nothing recurses anywhere.
# h_silent PORT starts a UDP listener that never answers. h_syslog starts
# a syslog listener: with it, mxgate runs in a private mount namespace
# where /dev/log is the listener's socket, and every datagram it gets is a
# line of $H/log/syslog (nothing on the host changes; see devlog.sh).
# Every recipient domain is relayed to the discard transport, so a
# delivered recipient shows up in the maillog as `to=<...> ... status=sent`;
# a header mxgate adds shows up as `milter-header-warning: header NAME: VALUE`
# (milter_header_checks). A message to hold-*@ is kept in the hold queue
# as delivered (every milter change applied): held_headers QID shows it.
#
# Contract of a test file:
#   . lib.sh; h_setup; (write $H/rules/test.rules); h_up; checks; h_done
# h_setup installs a trap that always tears everything down (Postfix
# stopped, only the PIDs we started signalled, namespace deleted,
# /etc/netns/$NS and $H removed). Checks print "PASS name" or
# "FAIL name: detail"; h_done exits 1 when one failed.
#
# Env: MXGATE (the daemon), E2E_NS_PREFIX (namespace name prefix),
#      E2E_TMP (parent of the temporary directory), E2E_KEEP=1 (keep $H).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MXGATE=${MXGATE:-$E2E_DIR/../../milter/mxgate}
export PATH=/usr/sbin:/sbin:$PATH

H=                      # the temporary directory of this harness
NS=                     # the network namespace
PF=                     # the Postfix config_directory
MXPID=                  # the running mxgate, if any
MX2PID=                 # the second mxgate (h_mxgate2_start), if any
MXRC=                   # exit status of the last mxgate stopped
SILENTPID=              # the silent DNS listener, if any
SYSLOGPID=              # the syslog listener (h_syslog), if any
E2E_PASS=0
E2E_FAIL=0
E2E_NAME=$(basename "$0" .sh)
E2E_NAME=${E2E_NAME#t_}
E2E_NETNS_DIR_MADE=0

# ------------------------------------------------------------ reporting

# pass NAME -- record and print a passed check
pass() { E2E_PASS=$((E2E_PASS + 1)); printf 'PASS %s: %s\n' "$E2E_NAME" "$1"; }

# fail NAME DETAIL -- record and print a failed check
fail() {
	E2E_FAIL=$((E2E_FAIL + 1))
	printf 'FAIL %s: %s: %s\n' "$E2E_NAME" "$1" "${2:-failed}"
}

# check NAME CMD... -- pass when CMD succeeds
check() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "$*"; fi
}

# check_grep NAME REGEX TEXT -- pass when TEXT has a line matching REGEX
check_grep() {
	if grep -Eq -- "$2" <<<"$3"; then
		pass "$1"
	else
		fail "$1" "no line matches /$2/ in: $(tail -c 600 <<<"$3" | tr '\n' '|')"
	fi
}

# check_nogrep NAME REGEX TEXT -- pass when no line of TEXT matches REGEX
check_nogrep() {
	local hit
	if hit=$(grep -E -m1 -- "$2" <<<"$3"); then
		fail "$1" "unexpected /$2/: $(head -c 300 <<<"$hit")"
	else
		pass "$1"
	fi
}

# note TEXT -- a diagnostic line on stderr (not counted)
note() { printf '# %s\n' "$*" >&2; }

# die TEXT -- a harness failure: report it as a failed check and stop
die() { fail harness "$*"; exit 1; }

# h_done -- exit with the result of this test file
h_done() { [[ $E2E_FAIL -eq 0 ]] && exit 0; exit 1; }

# ------------------------------------------------------------ processes

# alive PID -- the process exists and is not a zombie
alive() {
	local st
	[[ -n ${1:-} ]] || return 1
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

# stop_pid PID [SECS] -- SIGTERM, wait up to SECS, then SIGKILL
stop_pid() {
	local pid=$1 end=$((SECONDS + ${2:-10}))
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	while alive "$pid"; do
		if ((SECONDS >= end)); then
			note "pid $pid ignored SIGTERM, killing it"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
			break
		fi
		sleep 0.1
	done
}

# pid_of FILE -- the number in a pid file, or nothing
pid_of() { [[ -s $1 ]] && tr -dc '0-9' <"$1" || true; }

# wait_until SECS CMD... -- poll CMD every 0.1 s; false on timeout
wait_until() {
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

# nsx CMD... -- run CMD inside the namespace
nsx() { ip netns exec "$NS" "$@"; }

# ------------------------------------------------------------ set-up

# h_own_pids [GRACE] -- the test file starts processes of its own and
# puts their pids in OWN_PIDS: at exit they are stopped (GRACE seconds
# each, default 10) before the harness comes down
OWN_PIDS=()
OWN_GRACE=10
own_down() {
	local rc=$? p
	set +e
	for p in "${OWN_PIDS[@]}"; do
		stop_pid "$p" "$OWN_GRACE"
		wait "$p" 2>/dev/null
	done
	(exit "$rc")
	h_down
}
h_own_pids() { OWN_GRACE=${1:-10}; trap own_down EXIT; }

# h_setup -- temporary directory, namespace name, teardown trap
h_setup() {
	[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
	H=$(mktemp -d "${E2E_TMP:-/tmp}/mxe2e.XXXXXX")
	chmod 755 "$H"          # postfix and nobody must reach the socket and rules
	NS=${E2E_NS_PREFIX:-mxe2e-}$$
	PF=$H/pf
	mkdir -p "$H/log" "$H/rules" "$H/run" "$H/spool" "$H/dns" "$PF"
	chown nobody:nogroup "$H/run"   # mxgate removes its pid file after the drop
	mkdir -p "$H/pfdata"
	chown postfix "$H/pfdata"
	trap h_down EXIT
	trap 'exit 130' INT TERM
}

# h_netns -- the namespace: lo up, TEST-NET AnyIP for v4 and v6
h_netns() {
	ip netns add "$NS"
	[[ -d /etc/netns ]] || { mkdir /etc/netns; E2E_NETNS_DIR_MADE=1; }
	mkdir -p "/etc/netns/$NS"
	# no resolver listens on 127.0.0.1 in here: lookups fail at once
	echo 'nameserver 127.0.0.1' >"/etc/netns/$NS/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"/etc/netns/$NS/hosts"
	nsx ip link set lo up
	nsx ip addr add 203.0.113.1/32 dev lo
	nsx ip route add local 203.0.113.0/24 dev lo
	nsx sysctl -qw net.ipv6.ip_nonlocal_bind=1
	nsx ip -6 route add local 2001:db8::/32 dev lo table local
	if [[ -n $(nsx ip route show default) ]]; then
		die "namespace $NS has a default route"
	fi
}

# h_postfix_conf -- main.cf and master.cf of the private instance
h_postfix_conf() {
	local sock="unix:$H/run/mxgate.sock"
	cp /etc/postfix/master.cf "$PF/master.cf"
	cat >"$PF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $H/spool
data_directory = $H/pfdata
myhostname = mx.e2e.test
mydomain = e2e.test
myorigin = \$mydomain
mydestination =
inet_interfaces = loopback-only
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
relay_domains = rcpt.test, example.com, e2e.test
smtpd_relay_restrictions = permit_mynetworks, permit_auth_destination, reject
smtpd_recipient_restrictions = check_recipient_access regexp:$PF/hold_access
smtpd_authorized_xclient_hosts = 127.0.0.0/8 [::1]/128 203.0.113.0/24 [2001:db8::]/32
smtpd_peername_lookup = no
smtpd_sasl_type = cyrus
default_transport = discard
relay_transport = discard
local_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
maillog_file = $H/log/maillog
maillog_file_prefixes = /var, /dev/stdout, $H
smtpd_milters = $sock
non_smtpd_milters =
milter_header_checks = regexp:$PF/milter_header_checks
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 10s
milter_content_timeout = 30s
milter_macro_daemon_name = smtp
in_flow_delay = 0
default_process_limit = 100
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
EOF
	# headers added by mxgate are logged: "milter-header-warning: header NAME: VALUE"
	echo '/^/ WARN added by the milter' >"$PF/milter_header_checks"
	# mail to hold-*@ stays in the hold queue, where held_headers reads it
	echo '/^hold-/ HOLD kept for inspection' >"$PF/hold_access"
	postconf -c "$PF" -F '*/*/chroot = n'
	postconf -c "$PF" -M# smtp/inet submission/inet smtps/inet
	local a svc
	for a in 127.0.0.1 '[::1]'; do
		svc="$a:2525/inet = $a:2525 inet n - n - - smtpd"
		postconf -c "$PF" -Me "$svc -o milter_macro_daemon_name=smtp"
		svc="$a:2587/inet = $a:2587 inet n - n - - smtpd"
		postconf -c "$PF" -Me "$svc -o milter_macro_daemon_name=submission -o smtpd_sasl_auth_enable=yes"
	done
	# a second submission listener with a second mxgate (h_mxgate2_start)
	svc="127.0.0.1:2588/inet = 127.0.0.1:2588 inet n - n - - smtpd"
	postconf -c "$PF" -Me "$svc -o milter_macro_daemon_name=submission -o smtpd_sasl_auth_enable=yes -o smtpd_milters=unix:$H/run/mxgate2.sock"
	postconf -c "$PF" -Me "127.0.0.1:2526/inet = 127.0.0.1:2526 inet n - n - - smtpd"
	# the one listener that accepts without the milter (t_stop only)
	postconf -c "$PF" -Me "127.0.0.1:2529/inet = 127.0.0.1:2529 inet n - n - - smtpd -o milter_default_action=accept"
	postconf -c "$PF" -Me "127.0.0.1:2527/inet = 127.0.0.1:2527 inet n - n - - smtpd -o smtpd_milters="
}

# h_postfix_up -- check and start Postfix, wait for its listeners
h_postfix_up() {
	h_postfix_conf
	# `postfix start` runs the quick start-up checks (`postfix check`
	# would add ~3 s of permission checks that never fail here)
	nsx postfix -c "$PF" start >"$H/log/postfix-start" 2>&1 ||
		die "postfix start: $(cat "$H/log/postfix-start" "$H/log/maillog" 2>/dev/null | tr '\n' '|')"
	wait_until 20 nsx bash -c 'exec 3<>/dev/tcp/127.0.0.1/2527' ||
		die "postfix does not listen on 127.0.0.1:2527"
}

# h_mxgate_conf [LINE...] -- $H/mxgate.conf, extra lines appended
h_mxgate_conf() {
	{
		printf '%s\n' "socket = unix:$H/run/mxgate.sock" \
		    "socket_mode = 0666" "user = nobody" "group = nogroup" \
		    "pid_file = $H/run/mxgate.pid" \
		    "control_socket = unix:$H/run/control.sock" \
		    "rules = ${E2E_RULES:-$H/rules/test.rules}" \
		    "log = stderr" "hostname = mx.e2e.test" \
		    "dns_forwarders = ${E2E_DNS:-127.0.0.1@53}"
		printf '%s\n' "$@"
	} >"$H/mxgate.conf"
}

# ctl [ARG...] -- mxgatectl with the harness's mxgate.conf (as root)
ctl() { "$MXGATECTL" -c "$H/mxgate.conf" "$@"; }

# h_syslog -- the syslog listener (syslogd.py): datagrams sent to
# $H/run/devlog.sock become lines of $H/log/syslog. Call before
# h_mxgate_start: from then on mxgate sees that socket as /dev/log.
h_syslog() {
	mkdir -p "$H/run/dev"
	: >"$H/log/syslog"
	python3 "$E2E_DIR/syslogd.py" "$H/run/devlog.sock" "$H/log/syslog" \
	    2>>"$H/log/syslogd.err" &
	SYSLOGPID=$!
	wait_until 10 test -S "$H/run/devlog.sock" ||
		die "the syslog listener did not bind: $(cat "$H/log/syslogd.err")"
}

# devlog_wrap -- the command prefix that runs a daemon in a private mount
# namespace whose /dev/log is the h_syslog listener (nothing without one;
# the caller relies on word splitting: no path here holds a space)
devlog_wrap() {
	[[ -n $SYSLOGPID ]] || return 0
	printf '%s ' unshare -m --propagation private sh "$E2E_DIR/devlog.sh" \
	    "$H/run/dev" "$H/run/devlog.sock"
}

# syslog_lines -- what the syslog listener got so far
syslog_lines() { cat "$H/log/syslog" 2>/dev/null || true; }

# h_mxgate_start -- start mxgate in the namespace, wait for its socket
h_mxgate_start() {
	[[ -x $MXGATE ]] || die "no mxgate binary at $MXGATE"
	[[ -f $H/mxgate.conf ]] || h_mxgate_conf
	rm -f "$H/run/mxgate.sock"
	(cd "$H" && exec ip netns exec "$NS" $(devlog_wrap) "$MXGATE" -f \
	    -c "$H/mxgate.conf" </dev/null >>"$H/log/mxgate.log" 2>&1) &
	MXPID=$!
	if ! wait_until 15 test -S "$H/run/mxgate.sock"; then
		stop_pid "$MXPID" 5
		die "mxgate did not open its socket: $(tail -n 5 "$H/log/mxgate.log" | tr '\n' '|')"
	fi
}

# h_mxgate2_start CONF -- a second mxgate (the 127.0.0.1:2588 listener's)
# with its own configuration file: socket $H/run/mxgate2.sock, log
# $H/log/mxgate2.log; its pid in MX2PID
h_mxgate2_start() {
	rm -f "$H/run/mxgate2.sock"
	(cd "$H" && exec ip netns exec "$NS" $(devlog_wrap) "$MXGATE" -f -c "$1" \
	    </dev/null >>"$H/log/mxgate2.log" 2>&1) &
	MX2PID=$!
	if ! wait_until 15 test -S "$H/run/mxgate2.sock"; then
		stop_pid "$MX2PID" 5
		die "mxgate2 did not open its socket: $(tail -n 5 "$H/log/mxgate2.log" | tr '\n' '|')"
	fi
}

# h_redis [REDIS-SERVER-OPTION...] -- redis-server on 127.0.0.1:6390 in the
# namespace, no persistence, its pid in $H/run/redis.pid
h_redis() {
	command -v redis-server >/dev/null || die "redis-server is not installed"
	mkdir -p "$H/redis"
	nsx redis-server --bind 127.0.0.1 --port 6390 --daemonize yes \
	    --pidfile "$H/run/redis.pid" --logfile "$H/log/redis.log" \
	    --dir "$H/redis" --save '' --appendonly no "$@" >/dev/null ||
		die "redis-server did not start"
	wait_until 10 test -s "$H/run/redis.pid" || die "redis wrote no pid file"
	wait_until 10 nsx bash -c 'exec 3<>/dev/tcp/127.0.0.1/6390' ||
		die "redis does not listen on 127.0.0.1:6390"
}

# h_redis_stop -- stop the redis-server of h_redis and wait for it
h_redis_stop() {
	local pid
	pid=$(pid_of "$H/run/redis.pid")
	[[ -n $pid ]] && stop_pid "$pid" 10
	rm -f "$H/run/redis.pid"
}

# h_mxgate_stop -- SIGTERM mxgate and wait; its exit status in MXRC
h_mxgate_stop() {
	local end=$((SECONDS + 40))
	MXRC=
	[[ -n $MXPID ]] || return 0
	kill -TERM "$MXPID" 2>/dev/null || true
	while alive "$MXPID" && ((SECONDS < end)); do
		sleep 0.1
	done
	alive "$MXPID" && kill -KILL "$MXPID" 2>/dev/null
	MXRC=0
	wait "$MXPID" || MXRC=$?
	MXPID=
}

# h_up -- namespace, Postfix and mxgate (rules from $H/rules/test.rules)
h_up() {
	h_netns
	h_postfix_up
	h_mxgate_start
}

# zone_head NAME [TTL] -- the start of NAME's zone file for h_dns: $ORIGIN,
# $TTL and the SOA (both 1 s unless TTL is given), NS on 127.0.0.1
zone_head() {
	local t=${2:-1}
	printf '$ORIGIN %s.\n$TTL %s\n@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 %s\n@ NS ns.%s.\nns A 127.0.0.1\n' \
	    "$1" "$t" "$1" "$1" "$t" "$1"
}

# zone_txt NAME FILE -- a TXT record of FILE's text, in strings of 200
# octets (a DKIM key is longer than one string may be)
zone_txt() {
	local t s=""
	t=$(cat "$2")
	while [[ -n $t ]]; do s+=" \"${t:0:200}\""; t=${t:200}; done
	printf '%s TXT (%s )\n' "$1" "$s"
}

# bench_rules OUT -- default.rules with limits no benchmark client reaches
# (one client opens thousands of connections a minute)
bench_rules() {
	sed -e 's|rate 60/1m burst 30|rate 1000000/1m burst 1000000|' \
	    -e 's|max 20 }|max 1000 }|' "$E2E_DIR/../../rules/default.rules" >"$1"
	grep -q 'rate 1000000/1m burst 1000000' "$1" && grep -q 'max 1000 }' "$1" ||
	    die "default.rules changed: the bench could not raise its limits"
}

# bench_sender_zones -- what the benchmarks' sender needs: an RSA key
# $H/keys/s1 (selector s1), and zones for NSD: sender.example (SPF for
# 203.0.113.0/24, DMARC p=reject, the DKIM key), its parent example (DMARC
# asks above sender.example) and an empty zen.spamhaus.org
bench_sender_zones() {
	mkdir -p "$H/keys"
	/usr/bin/python3 "$E2E_DIR/dkimsign.py" genkey rsa "$H/keys/s1"
	zone_head zen.spamhaus.org 3600 >"$H/dns/zen.spamhaus.org.zone"
	zone_head example 3600 >"$H/dns/example.zone"
	{
		zone_head sender.example 3600
		echo '@ TXT "v=spf1 ip4:203.0.113.0/24 -all"'
		echo '_dmarc TXT "v=DMARC1; p=reject"'
		zone_txt s1._domainkey "$H/keys/s1.txt"
	} >"$H/dns/sender.example.zone"
}

# calc EXPR -- awk arithmetic, six decimals (benchmarks)
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

# cpu_ticks PID... -- utime + stime of the processes, in clock ticks
cpu_ticks() {
	local p t=0
	for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	echo "$t"
}

# bench_listen PORT [SMTPD-OPTION...] -- a benchmark listener on 203.0.113.1:PORT
bench_listen() {
	local port=$1
	shift
	postconf -c "$PF" -Me "203.0.113.1:$port/inet = 203.0.113.1:$port inet n - n - - smtpd $*"
}

# bench_postfix_start -- start the benchmark Postfix (mxgate's socket the
# default milter) and wait for its 203.0.113.1:2527 listener
bench_postfix_start() {
	postconf -c "$PF" -e "inet_interfaces = all" "default_process_limit = 200" \
	    "smtpd_milters = unix:$H/run/mxgate.sock"
	nsx postfix -c "$PF" start >"$H/log/postfix-start" 2>&1 || die "postfix start failed"
	wait_until 20 nsx bash -c 'exec 3<>/dev/tcp/203.0.113.1/2527' || die "no listener"
}

# bench_send PORT SMTP-SOURCE-OPTION... -- seconds (with decimals) that
# smtp-source takes to send $msgs messages over $sess sessions to
# 203.0.113.1:PORT
bench_send() {
	local port=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	nsx smtp-source -m "$msgs" -s "$sess" "$@" -t bench@rcpt.test \
	    "203.0.113.1:$port" >>"$H/log/smtp-source" 2>&1 ||
	    note "smtp-source to port $port failed: $(tail -n 2 "$H/log/smtp-source")"
	t1=$(date +%s.%N)
	calc "$t1 - $t0"
}

# h_dns -- NSD on 127.0.0.1:53 in the namespace, serving $H/dns/NAME.zone
# files (no rate limiting: every query is answered)
h_dns() {
	local z name
	command -v nsd >/dev/null || die "nsd is not installed"
	{
		printf '%s\n' "server:" "    ip-address: 127.0.0.1" "    port: 53" \
		    "    do-ip6: no" "    username: \"\"" "    chroot: \"\"" \
		    "    zonesdir: \"$H/dns\"" "    database: \"\"" \
		    "    zonelistfile: \"$H/dns/zone.list\"" \
		    "    xfrdfile: \"$H/dns/xfrd.state\"" "    xfrdir: \"$H/dns/xfr\"" \
		    "    pidfile: \"$H/run/nsd.pid\"" "    logfile: \"$H/log/nsd.log\"" \
		    "    server-count: 1" "    verbosity: 1" \
		    "    rrl-ratelimit: 0" "    rrl-whitelist-ratelimit: 0" \
		    "remote-control:" "    control-enable: no"
		for z in "$H"/dns/*.zone; do
			name=$(basename "$z" .zone)
			printf '%s\n' "zone:" "    name: $name" "    zonefile: $name.zone"
		done
	} >"$H/dns/nsd.conf"
	nsx nsd -c "$H/dns/nsd.conf" >"$H/log/nsd-start" 2>&1 ||
		die "nsd: $(tr '\n' '|' <"$H/log/nsd-start")"
	wait_until 10 test -s "$H/run/nsd.pid" || die "nsd wrote no pid file"
	wait_until 10 nsx python3 "$E2E_DIR/dnsq.py" 127.0.0.1 53 "$name" SOA ||
		die "nsd does not answer for $name"
}

# h_silent PORT -- a UDP socket on 127.0.0.1:PORT that reads and never answers
h_silent() {
	# ip netns exec execs python: $! is the listener itself
	ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recv(4096)
' "$1" &
	SILENTPID=$!
}

# h_down -- tear everything down; safe to call twice and after failures
h_down() {
	local rc=$? pid master
	trap - EXIT INT TERM
	[[ -n $H ]] || return "$rc"
	if [[ -f $PF/main.cf ]] && ip netns pids "$NS" >/dev/null 2>&1; then
		nsx postfix -c "$PF" stop >/dev/null 2>&1 || true
	fi
	master=$(pid_of "$H/spool/pid/master.pid")
	[[ -n $master ]] && stop_pid "$master" 15
	pid=$(pid_of "$H/run/nsd.pid")
	[[ -n $pid ]] && stop_pid "$pid" 10
	pid=$(pid_of "$H/run/redis.pid")
	[[ -n $pid ]] && stop_pid "$pid" 10
	if [[ -n $SILENTPID ]]; then
		stop_pid "$SILENTPID" 5
		wait "$SILENTPID" 2>/dev/null || true
		SILENTPID=
	fi
	if [[ -n $MXPID ]]; then
		stop_pid "$MXPID" 35
		wait "$MXPID" 2>/dev/null || true
		MXPID=
	fi
	if [[ -n ${MX2PID:-} ]]; then
		stop_pid "$MX2PID" 35
		wait "$MX2PID" 2>/dev/null || true
		MX2PID=
	fi
	if [[ -n $SYSLOGPID ]]; then
		stop_pid "$SYSLOGPID" 5
		wait "$SYSLOGPID" 2>/dev/null || true
		SYSLOGPID=
	fi
	if ip netns pids "$NS" >/dev/null 2>&1; then
		# only processes of this harness can live in its namespace
		for pid in $(ip netns pids "$NS"); do
			note "leftover in $NS: $pid $(cat "/proc/$pid/comm" 2>/dev/null)"
			stop_pid "$pid" 5
		done
		ip netns del "$NS"
	fi
	rm -rf "/etc/netns/$NS"
	if ((E2E_NETNS_DIR_MADE)); then rmdir /etc/netns 2>/dev/null || true; fi
	if [[ ${E2E_KEEP:-0} == 1 ]]; then
		note "kept $H"
	else
		rm -rf "$H"
	fi
	H=
	return "$rc"
}

# ------------------------------------------------------------ clients

# smtp SERVER [SMTPC-OPTIONS] -- run smtpc.py in the namespace, script on stdin
smtp() { nsx python3 "$E2E_DIR/smtpc.py" "$@" || true; }

# mxlog -- mxgate's log so far
mxlog() { cat "$H/log/mxgate.log" 2>/dev/null || true; }

# maillog -- Postfix's log so far
maillog() { cat "$H/log/maillog" 2>/dev/null || true; }

# wait_log FILE REGEX [SECS] -- wait until FILE has a line matching REGEX
wait_log() { wait_until "${3:-10}" grep -Eq -- "$2" "$1"; }

# ref_of TEXT -- the reference of the first "(ref REF)" in TEXT
ref_of() { grep -oE '\(ref [^ )]+\)' <<<"$1" | head -n1 | sed 's/^(ref //; s/)$//'; }

# queued_as SMTPC-OUTPUT -- the queue id of the last "250 ... queued as QID"
queued_as() { grep -oE 'queued as [0-9A-Za-z]+' <<<"$1" | tail -n1 | sed 's/^queued as //'; }

# held_headers QID -- the header of a held message, as it would be delivered
held_headers() {
	[[ -n $1 ]] || return 0
	postcat -c "$PF" -h -q "$1" 2>/dev/null || true
}

# delivered RCPT [SECS] -- wait until the maillog shows RCPT delivered
delivered() {
	wait_log "$H/log/maillog" "to=<$1>.*status=sent" "${2:-15}"
}

# E2E_DECISION -- what proves that mxgate decided on a message: a regex
# for the header mxgate added, as the maillog shows it after
# "QID: milter-header-warning: header ". By default its own
# Authentication-Results; a test with add_auth_results = no sets it to a
# header a rule adds to every message.
E2E_DECISION='Authentication-Results: mx\.e2e\.test;'

# decided RCPT [SECS] -- RCPT was delivered and mxgate decided on that
# very message: every queue id delivered to RCPT (its maillog line
# "QID: to=<RCPT>, ... status=sent") has mxgate's header (E2E_DECISION)
# in the maillog. Prints what is missing and fails otherwise.
decided() {
	local rcpt=${1//./\\.} qids qid
	if ! delivered "$1" "${2:-15}"; then
		echo "<$1> not delivered"
		return 1
	fi
	qids=$(sed -nE "s/^.* ([0-9A-Za-z]+): to=<$rcpt>,.* status=sent .*/\1/p" \
	    "$H/log/maillog" | sort -u)
	[[ -n $qids ]] || { echo "no queue id delivered to <$1>"; return 1; }
	for qid in $qids; do
		if ! grep -Eq -- " $qid: milter-header-warning: header $E2E_DECISION" \
		    "$H/log/maillog"; then
			echo "$qid (to <$1>): no header /$E2E_DECISION/ from mxgate"
			return 1
		fi
	done
}

# decided_qid QID -- mxgate decided on the message QID (one held, say):
# its header (E2E_DECISION) is in the maillog for QID
decided_qid() {
	[[ -n $1 ]] || { echo "no queue id"; return 1; }
	wait_log "$H/log/maillog" " $1: milter-header-warning: header $E2E_DECISION" 5 ||
		{ echo "$1: no header /$E2E_DECISION/ from mxgate"; return 1; }
}

# check_decided_qid NAME QID -- pass when decided_qid QID
check_decided_qid() {
	local why
	if why=$(decided_qid "$2"); then pass "$1"; else fail "$1" "$why"; fi
}

# check_decided NAME RCPT... -- each RCPT was delivered with mxgate's
# decision on its message (decided)
check_decided() {
	local name=$1 r why
	shift
	for r in "$@"; do
		if ! why=$(decided "$r"); then
			fail "$name" "$why"
			return
		fi
	done
	pass "$name"
}

# replies TEXT -- only the server reply lines of smtpc output, without "<- "
replies() { sed -n 's/^<- //p' <<<"$1"; }

# reply_to OUT PREFIX -- the reply lines (without "<- ") that answered the
# first command of smtpc output OUT starting with PREFIX (unpipelined)
reply_to() {
	awk -v c="-> $2" '
		f && /^(->|==)/ { exit }
		f && /^<- / { print substr($0, 4) }
		!f && index($0, c) == 1 { f = 1 }
	' <<<"$1"
}

# wellformed CODE ECODE REPLY -- REPLY (lines without "<- ") is one clean
# tailored reply: "CODE-ECODE " on every line but the last ("CODE ECODE "),
# printable ASCII only, at most 512 octets a line and 32 lines, and a
# "(ref REF)"; prints what is wrong and fails otherwise
wellformed() {
	LC_ALL=C awk -v code="$1" -v ecode="$2" '
		{ n++; line[n] = $0; all = all $0 " " }
		END {
			if (n == 0) { print "no reply"; exit 1 }
			if (n > 32) { print n " lines"; bad = 1 }
			for (i = 1; i <= n; i++) {
				want = code (i < n ? "-" : " ") ecode " "
				if (substr(line[i], 1, length(want)) != want) {
					print "line " i " does not start with \"" want "\": " substr(line[i], 1, 80)
					bad = 1
				}
				if (length(line[i]) > 512) {
					print "line " i " has " length(line[i]) " octets"
					bad = 1
				}
				if (line[i] ~ /[^ -~]/) {
					print "line " i " has a byte outside printable ASCII"
					bad = 1
				}
			}
			if (all !~ /\(ref [^ )]+\)/) { print "no (ref REF)"; bad = 1 }
			exit bad
		}' <<<"$3"
}

# check_reply NAME CODE ECODE REPLY [REGEX] -- REPLY is wellformed and
# its text (codes removed, lines joined with a space) matches REGEX
check_reply() {
	local why joined
	if ! why=$(wellformed "$2" "$3" "$4"); then
		fail "$1" "$(head -n 3 <<<"$why" | tr '\n' ';')reply: $(head -c 400 <<<"$4" | tr '\n' '|')"
		return
	fi
	joined=$(sed -E 's/^[0-9]{3}[- ][0-9]+\.[0-9]+\.[0-9]+ //' <<<"$4" | tr '\n' ' ')
	if [[ -n ${5:-} ]] && ! grep -Eq -- "$5" <<<"$joined"; then
		fail "$1" "reply does not match /$5/: $(head -c 400 <<<"$joined")"
		return
	fi
	pass "$1"
}

# check_logref NAME REF REGEX -- mxgate logged one line with ref=REF that
# matches REGEX (waits briefly: the log may trail the reply)
check_logref() {
	local line
	if [[ -z $2 ]]; then
		fail "$1" "no reference in the reply"
		return
	fi
	wait_log "$H/log/mxgate.log" "ref=$2( |$)" 5 || true
	line=$(grep -E -- "ref=$2( |$)" "$H/log/mxgate.log" || true)
	if [[ -z $line ]]; then
		fail "$1" "no log line with ref=$2"
	elif [[ $(wc -l <<<"$line") -ne 1 ]]; then
		fail "$1" "several log lines with ref=$2"
	elif ! grep -Eq -- "$3" <<<"$line"; then
		fail "$1" "log line does not match /$3/: $line"
	else
		pass "$1"
	fi
}

# check_alive NAME -- mxgate is still running
check_alive() {
	if alive "$MXPID"; then
		pass "$1"
	else
		fail "$1" "mxgate is gone: $(tail -n 3 "$H/log/mxgate.log" | tr '\n' '|')"
	fi
}
