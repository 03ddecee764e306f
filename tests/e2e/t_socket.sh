#!/usr/bin/env bash
# t_socket -- mxgate's listening socket, with several mxgate processes on
# one path or port. Unix socket: a second instance on a path that a live
# instance serves refuses (exit 69, "another process is serving it") and
# leaves the first alone (same inode, still decides mail); a stale socket
# file (a process bound it and exited, or an instance was SIGKILLed) is
# replaced ("replacing stale socket") and the new instance serves; a
# regular file at the path is refused (exit 69, "is not a socket") and
# left untouched; an instance whose file was replaced by another
# instance's socket leaves that file alone at stop ("no longer ours")
# and the other instance still serves, while a stop otherwise removes
# the file. inet and inet6: a port held by a live listener (an mxgate or
# another program) is refused (exit 69, "address in use"); mail flows
# through inet:PORT@127.0.0.1 and inet6:PORT@::1 with mxgate's decision.
# Every instance tags the mail it decides with X-Instance: its name.
#
#   MXGATE=.../milter/mxgate tests/e2e/run.sh t_socket.sh     (root)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
h_own_pids 35

SOCK=$H/run/mxgate.sock         # the path Postfix's :2525 uses
PORT4=8895                      # inet milter of Postfix's :2540
PORT6=8896                      # inet6 milter of Postfix's :2541
PORTPY=8897                     # held by a program that is not mxgate

# conf NAME SOCKET -- $H/NAME.conf: its own rules (X-Instance: NAME at
# end of message), pid file and the given socket
conf() {
	printf 'rule tag at eom {\n\theader "X-Instance" "%s"\n}\n' "$1" \
	    >"$H/rules/$1.rules"
	printf '%s\n' "socket = $2" "socket_mode = 0666" "user = nobody" \
	    "group = nogroup" "pid_file = $H/run/$1.pid" \
	    "control_socket = unix:$H/run/$1.ctl" \
	    "rules = $H/rules/$1.rules" "log = stderr" \
	    "hostname = mx.e2e.test" "dns_forwarders = 127.0.0.1@53" \
	    >"$H/$1.conf"
}

# start NAME SOCKET -- start an mxgate (foreground) in the namespace;
# output in $H/log/NAME.log, its pid in LASTPID
start() {
	conf "$1" "$2"
	(cd "$H" && exec ip netns exec "$NS" "$MXGATE" -f -c "$H/$1.conf" \
	    </dev/null >>"$H/log/$1.log" 2>&1) &
	LASTPID=$!
	OWN_PIDS+=("$LASTPID")
}

# forget PID -- PID was reaped: never signal that number again
forget() {
	local p keep=()
	for p in "${OWN_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	OWN_PIDS=("${keep[@]}")
}

# ended PID SECS -- wait up to SECS for PID to end; XRC is its exit status,
# or "running"
ended() {
	local end=$((SECONDS + $2))
	while alive "$1" && ((SECONDS < end)); do sleep 0.1; done
	if alive "$1"; then
		XRC=running
		return
	fi
	XRC=0
	wait "$1" || XRC=$?
	forget "$1"
}

# stop PID -- SIGTERM and wait (SIGKILL after 40 s); exit status in XRC
stop() {
	kill -TERM "$1" 2>/dev/null || true
	ended "$1" 40
	if [[ $XRC == running ]]; then
		kill -KILL "$1" 2>/dev/null || true
		ended "$1" 5
		XRC="killed after 40 s"
	fi
}

# answers PATH -- something accepts connections on the unix socket PATH
answers() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}

# tcp_answers HOST PORT -- something accepts connections on HOST:PORT
tcp_answers() {
	nsx python3 -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)' "$1" "$2" 2>/dev/null
}

# inode PATH -- device:inode of PATH, or "none"
inode() { stat -c '%d:%i' "$1" 2>/dev/null || echo none; }

# log_of NAME -- the output of instance NAME
log_of() { cat "$H/log/$1.log" 2>/dev/null || true; }

# served CHECK PORT RCPT NAME -- a message to RCPT through Postfix's PORT
# is accepted, delivered with mxgate's decision, and tagged by instance NAME
served() {
	local out q why tag
	out=$(smtp "127.0.0.1:$2" --bind 203.0.113.80 <<S
cmd EHLO client.test
cmd MAIL FROM:<sock@client.test>
cmd RCPT TO:<$3>
cmd DATA
data Subject: socket\r\n\r\nwho serves the socket
cmd QUIT
S
)
	q=$(queued_as "$out" || true)
	if [[ -z $q ]]; then
		fail "$1" "not queued: $(replies "$out" | tail -n 3 | tr '\n' '|')"
	elif ! why=$(decided "$3"); then
		fail "$1" "$why"
	elif ! wait_log "$H/log/maillog" "$q: milter-header-warning: header X-Instance: $4 " 10; then
		tag=$(grep -o "$q: milter-header-warning: header X-Instance: [^ ]*" "$H/log/maillog" || true)
		fail "$1" "$q: not decided by $4: ${tag:-no X-Instance header}"
	else
		pass "$1"
	fi
}

# refused CHECK PID NAME REGEX -- instance NAME (PID) refused to start:
# exit 69, no pid file, its output matches REGEX (case-insensitive); one
# that serves anyway is stopped
refused() {
	ended "$2" 15
	check "$1: no pid file" test ! -e "$H/run/$3.pid"
	if [[ $XRC == running ]]; then
		fail "$1: exit 69" "it started and serves"
		stop "$2"
	else
		check "$1: exit 69" test "$XRC" = 69
	fi
	if grep -Eiq -- "$4" "$H/log/$3.log"; then
		pass "$1: says /$4/"
	else
		fail "$1: says /$4/" "$(tail -n 3 "$H/log/$3.log" | tr '\n' '|')"
	fi
}

# up_unix NAME -- start instance NAME on $SOCK and wait until it answers;
# its pid in LASTPID
up_unix() {
	start "$1" "unix:$SOCK"
	wait_until 15 answers "$SOCK" ||
		die "$1 does not answer on $SOCK: $(tail -n 3 "$H/log/$1.log" | tr '\n' '|')"
}

h_netns
h_postfix_up
# two listeners whose milter is an inet and an inet6 mxgate
postconf -c "$PF" -Me "127.0.0.1:2540/inet = 127.0.0.1:2540 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$PORT4"
postconf -c "$PF" -Me "127.0.0.1:2541/inet = 127.0.0.1:2541 inet n - n - - smtpd -o smtpd_milters=inet:[::1]:$PORT6"
nsx postfix -c "$PF" reload >/dev/null 2>&1 || die "postfix reload failed"
wait_until 20 nsx bash -c 'exec 3<>/dev/tcp/127.0.0.1/2541' || die "postfix does not listen on :2541"

# ---- a live instance is left alone
up_unix live-a
apid=$LASTPID
ino=$(inode "$SOCK")
served "live: the first instance decides mail" 2525 live1@rcpt.test live-a
start live-b "unix:$SOCK"
refused "live: a second instance on the same socket is refused" "$LASTPID" live-b 'another process is serving it'
check "live: the first instance's socket is untouched (same inode)" test "$(inode "$SOCK")" = "$ino"
check "live: the first instance is still running" alive "$apid"
served "live: the first instance still decides mail" 2525 live2@rcpt.test live-a
stop "$apid"
check "live: the first instance stops with exit 0" test "$XRC" = 0
check "live: its stop removed its own socket" test ! -e "$SOCK"
check_grep "live: mxgate stopped" 'mxgate stopped$' "$(log_of live-a)"
rm -f "$SOCK"

# ---- a stale socket: a process bound it and exited
python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
answers "$SOCK" && die "the stale socket answers"
start stale-1 "unix:$SOCK"
spid=$LASTPID
wait_until 15 answers "$SOCK" || true
check "stale (never served): the new instance starts" alive "$spid"
check_grep "stale (never served): logs replacing stale socket" 'replacing stale socket' "$(log_of stale-1)"
served "stale (never served): the new instance decides mail" 2525 stale1@rcpt.test stale-1

# ---- a stale socket: the instance was SIGKILLed
kill -KILL "$spid"
ended "$spid" 10
check "stale (SIGKILL): the killed instance left its socket file" test -S "$SOCK"
answers "$SOCK" && die "the killed instance's socket answers"
start stale-2 "unix:$SOCK"
spid=$LASTPID
wait_until 15 answers "$SOCK" || true
check "stale (SIGKILL): the new instance starts" alive "$spid"
check_grep "stale (SIGKILL): logs replacing stale socket" 'replacing stale socket' "$(log_of stale-2)"
served "stale (SIGKILL): the new instance decides mail" 2525 stale2@rcpt.test stale-2
stop "$spid"
check "stale (SIGKILL): the new instance stops with exit 0" test "$XRC" = 0
rm -f "$SOCK"

# ---- a regular file at the path
printf 'not a socket\n' >"$SOCK"
ino=$(inode "$SOCK")
sum=$(md5sum <"$SOCK")
start file "unix:$SOCK"
refused "file: a regular file at the socket path is refused" "$LASTPID" file 'is not a socket'
check "file: the file is untouched" test -f "$SOCK" -a "$(inode "$SOCK")" = "$ino" -a \
	"$(md5sum <"$SOCK" 2>/dev/null)" = "$sum"
rm -f "$SOCK"

# ---- the file was replaced by another instance's socket: a stop leaves it
up_unix gone-a
apid=$LASTPID
rm -f "$SOCK"
up_unix gone-b
bpid=$LASTPID
ino=$(inode "$SOCK")
served "replaced: the instance now on the path decides mail" 2525 gone1@rcpt.test gone-b
stop "$apid"
check "replaced: the first instance stops with exit 0" test "$XRC" = 0
check_grep "replaced: the first instance logs no longer ours" 'no longer ours' "$(log_of gone-a)"
check "replaced: the other instance's socket is still there (same inode)" \
	test "$(inode "$SOCK")" = "$ino"
check "replaced: the other instance is still running" alive "$bpid"
served "replaced: the other instance still decides mail" 2525 gone2@rcpt.test gone-b
stop "$bpid"
check "replaced: the other instance stops with exit 0" test "$XRC" = 0
check "replaced: its stop removed its own socket" test ! -e "$SOCK"

# ---- inet: a port held by a live listener is refused
start inet-a "inet:$PORT4@127.0.0.1"
apid=$LASTPID
wait_until 15 tcp_answers 127.0.0.1 "$PORT4" ||
	die "inet-a does not listen: $(tail -n 3 "$H/log/inet-a.log" | tr '\n' '|')"
served "inet: mail through inet:$PORT4@127.0.0.1 decided" 2540 inet1@rcpt.test inet-a
start inet-b "inet:$PORT4@127.0.0.1"
refused "inet: a second instance on the same port is refused" "$LASTPID" inet-b 'address (already )?in use'
check "inet: the first instance is still running" alive "$apid"
served "inet: the first instance still decides mail" 2540 inet2@rcpt.test inet-a
stop "$apid"
check "inet: the first instance stops with exit 0" test "$XRC" = 0

# ip netns exec execs python: $! is the holder itself
ip netns exec "$NS" python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
time.sleep(300)' "$PORTPY" &
OWN_PIDS+=("$!")
holder=$!
wait_until 10 tcp_answers 127.0.0.1 "$PORTPY" || die "the port holder does not listen"
start inet-other "inet:$PORTPY@127.0.0.1"
refused "inet: a port held by another program is refused" "$LASTPID" inet-other 'address (already )?in use'
stop_pid "$holder" 5
ended "$holder" 5

# ---- inet6
check "inet6: the namespace has ::1" grep -q 'inet6 ::1/128' <<<"$(nsx ip -6 addr show dev lo)"
start inet6-a "inet6:$PORT6@::1"
apid=$LASTPID
wait_until 15 tcp_answers ::1 "$PORT6" ||
	die "inet6-a does not listen: $(tail -n 3 "$H/log/inet6-a.log" | tr '\n' '|')"
served "inet6: mail through inet6:$PORT6@::1 decided" 2541 inet61@rcpt.test inet6-a
start inet6-b "inet6:$PORT6@::1"
refused "inet6: a second instance on the same port is refused" "$LASTPID" inet6-b 'address (already )?in use'
check "inet6: the first instance is still running" alive "$apid"
served "inet6: the first instance still decides mail" 2541 inet62@rcpt.test inet6-a
stop "$apid"
check "inet6: the first instance stops with exit 0" test "$XRC" = 0

check_nogrep "no sanitizer report from any instance" \
	'AddressSanitizer|LeakSanitizer|runtime error:' "$(cat "$H"/log/*.log)"
h_done
