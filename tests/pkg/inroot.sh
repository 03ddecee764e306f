#!/bin/bash
# inroot.sh -- the package test's steps inside the throwaway Debian 12
# root: install, the user, the shipped configuration, the daemon started
# as the unit starts it, a reload, an upgrade that keeps an edited rules
# file, remove, purge. tests/pkg/run.sh copies this file with the two
# packages into /pkgtest of the root and runs it through chroot inside
# private network (loopback only), mount and pid namespaces: nothing it
# starts outlives it, and nothing it does touches the host.
#
# /pkgtest/deb1/mxgate_V1.deb, /pkgtest/deb2/mxgate_V2.deb (V2 > V1: the
# same source rebuilt, its default.rules one comment line longer).
# Prints "PASS pkg: ..." / "FAIL pkg: ..." per step, what each step ran
# in /pkgtest/steps.log, then "inroot: N passed, N failed".
set -u
T=/pkgtest
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C DEBIAN_FRONTEND=noninteractive
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS pkg: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL pkg: $1"; }
# check WHAT CMD... -- one step: CMD's output goes to steps.log
check() {
	local what=$1; shift
	echo "== $what: $*" >>"$T/steps.log"
	if "$@" >>"$T/steps.log" 2>&1; then ok "$what"; else bad "$what (steps.log)"; fi
}
# expect WHAT TEST... -- a condition ([ ... ], grep -q ...)
expect() {
	local what=$1; shift
	if "$@" >>"$T/steps.log" 2>&1; then ok "$what"; else bad "$what"; fi
}

deb1=$(echo "$T"/deb1/mxgate_*.deb)
deb2=$(echo "$T"/deb2/mxgate_*.deb)
v1=$(dpkg-deb -f "$deb1" Version)
v2=$(dpkg-deb -f "$deb2" Version)
unit=/lib/systemd/system/mxgate.service
conf=/etc/mxgate/mxgate.conf
rules=/etc/mxgate/default.rules
sock=/run/mxgate/mxgate.sock

# The maintainer scripts ask policy-rc.d before they start anything when
# systemd runs (/run/systemd/system): make them ask, log the question,
# and deny it, as a build root or an installer does.
cat >/usr/sbin/policy-rc.d <<'EOF'
#!/bin/sh
echo "$*" >>/pkgtest/policy-rc.d.log
exit 101
EOF
chmod 755 /usr/sbin/policy-rc.d
mkdir -p /run/systemd/system
: >"$T/policy-rc.d.log"

# a syslog of our own: mxgate logs to /dev/log (log = syslog, shipped)
perl "$T/syslog.pl" "$T/syslog.log" &
for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done

# daemon_pids -- pids of running mxgate processes
daemon_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = mxgate ] && echo "${p#/proc/}"
	done
}
# optneg SOCKET -- a milter negotiation through SOCKET answers 'O'
optneg() { perl "$T/optneg.pl" "$1"; }
# logged TEXT -- syslog has a line with TEXT (waits up to 5 s)
logged() {
	for _ in $(seq 50); do
		grep -qF -- "$1" "$T/syslog.log" && return 0
		sleep 0.1
	done
	return 1
}
# unit_val KEY -- every value of KEY= in the installed unit, one a line
unit_val() { sed -n "s/^$1=//p" "$unit"; }

# --- install ------------------------------------------------------------
check "install $v1 (dpkg -i)" dpkg -i "$deb1"
uid=$(getent passwd mxgate | cut -d: -f3)
expect "system user mxgate exists (uid ${uid:-none})" \
    test -n "$uid" -a "${uid:-1000}" -lt 1000
expect "its shell is nologin" \
    grep -q '^mxgate:.*:/usr/sbin/nologin$' /etc/passwd
expect "system group mxgate exists" getent group mxgate
expect "mxgate.conf and default.rules are conffiles" \
    bash -c "dpkg-query -W -f='\${Conffiles}\n' mxgate | grep -q ' $conf ' &&
        dpkg-query -W -f='\${Conffiles}\n' mxgate | grep -q ' $rules '"
expect "examples in /usr/share/doc/mxgate/examples" \
    test -f /usr/share/doc/mxgate/examples/hosting.rules
expect "/run/mxgate made by tmpfiles.d, owned by mxgate" \
    test "$(stat -c %U /run/mxgate 2>/dev/null)" = mxgate
expect "/var/lib/mxgate owned by mxgate, mode 750" \
    test "$(stat -c '%U %a' /var/lib/mxgate 2>/dev/null)" = "mxgate 750"
expect "/var/spool/postfix/mxgate offered for Postfix's chroot" \
    test "$(stat -c '%U %a' /var/spool/postfix/mxgate 2>/dev/null)" = "mxgate 750"
# Postfix installed after mxgate: the trigger on /var/spool/postfix
rm -rf /var/spool/postfix/mxgate
check "Postfix reinstalled after mxgate (dpkg -i postfix)" \
    dpkg -i /var/cache/apt/archives/postfix_*.deb
expect "... the trigger offers /var/spool/postfix/mxgate again" \
    test "$(stat -c '%U %a' /var/spool/postfix/mxgate 2>/dev/null)" = "mxgate 750"
expect "unit enabled (multi-user.target.wants)" \
    test -L /etc/systemd/system/multi-user.target.wants/mxgate.service
expect "start asked of policy-rc.d and denied: not running" \
    bash -c "grep -qx 'mxgate.service start' $T/policy-rc.d.log && [ -z '$(daemon_pids)' ]"
check "mxgate -n passes on the shipped configuration" mxgate -n
expect "mxgatectl and its manual page installed" \
    test -x /usr/sbin/mxgatectl -a -f /usr/share/man/man8/mxgatectl.8.gz
expect "mxgatectl report counts a decision line from standard input" \
    bash -c "echo '2026-12-02T09:10:11+00:00 mx1 mxgate[1]: NOQUEUE: ref=R rule=r stage=connect action=tempfail client=x[192.0.2.1]' |
        mxgatectl --json report | grep -q '\"tempfail\": 1,'"
check "systemd-analyze verify accepts the installed unit" \
    systemd-analyze verify --man=no "$unit"
level=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
    sed -n 's/.*Overall exposure level for mxgate.service: \([0-9.]*\).*/\1/p')
expect "systemd-analyze security: exposure ${level:-unknown} (at most 2.0)" \
    awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.0) }'

# --- the daemon, started as the unit starts it ---------------------------
# (no systemd runs here: the unit's User, Group, RuntimeDirectory and Exec
# lines are applied by hand; its sandboxing is rated by
# tests/systemd_unit.sh)
user=$(unit_val User) group=$(unit_val Group)
asuser() { setpriv --reuid="$user" --regid="$group" --init-groups -- "$@"; }
rm -rf "/run/$(unit_val RuntimeDirectory)"
install -d -o "$user" -g "$group" -m "$(unit_val RuntimeDirectoryMode)" \
    "/run/$(unit_val RuntimeDirectory)"
# shellcheck disable=SC2046  # the unit's command lines are split as systemd does
check "ExecStartPre as $user: $(unit_val ExecStartPre)" asuser $(unit_val ExecStartPre)
# (setpriv itself in the background, not asuser: $! is then mxgate's pid)
# shellcheck disable=SC2046
setpriv --reuid="$user" --regid="$group" --init-groups -- $(unit_val ExecStart) \
    >>"$T/steps.log" 2>&1 &
main=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
expect "ExecStart as $user: socket $sock" test -S "$sock"
expect "socket owned by mxgate:mxgate, mode 660" \
    test "$(stat -c '%U:%G %a' "$sock" 2>/dev/null)" = "mxgate:mxgate 660"
expect "the daemon runs as mxgate (real, effective, saved uid $uid)" \
    grep -qE "^Uid:[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+${uid}\$" "/proc/$main/status"
expect "it logged its start to syslog" logged "mxgate ${v1%%[-+~]*} starting"
check "it answers a milter negotiation" optneg "$sock"
ctlsock=/run/mxgate/control.sock
expect "control socket $ctlsock: mxgate:mxgate, mode 660" \
    test "$(stat -c '%U:%G %a' "$ctlsock" 2>/dev/null)" = "mxgate:mxgate 660"
expect "mxgatectl status (root) names the rules in force" \
    bash -c "mxgatectl status | grep -q '^rules  *$rules\$'"
expect "mxgatectl --json status: mode enforce" \
    bash -c "mxgatectl --json status | grep -q '\"mode\":\"enforce\"'"
expect "mxgatectl reload (root): ok" bash -c "mxgatectl reload | grep -q '^ok: '"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups -- mxgatectl status \
    >>"$T/steps.log" 2>&1 || rc=$?
expect "mxgatectl as a user outside group mxgate: refused (exit $rc)" test "$rc" = 77

# systemctl reload: the unit's ExecReload lines in order, MAINPID in
# their environment, "$$" a "$" and quotes as systemd reads them
reload() {
	local line MAINPID=$main
	export MAINPID
	while IFS= read -r line; do
		eval "asuser ${line//\$\$/\$}" || return
	done < <(unit_val ExecReload)
}
check "reload as the unit does (mxgate -n, then SIGHUP)" reload
expect "the reload was logged, same process" \
    bash -c "grep -q 'reload: ok' $T/syslog.log || sleep 1; grep -q 'reload: ok' $T/syslog.log && kill -0 $main"
cp -p "$rules" "$T/rules.good"
echo 'this is not a rule' >>"$rules"
reload >"$T/reload.bad" 2>&1
rc=$?
expect "a broken rules file fails the reload: exit $rc, FILE:LINE:COL" \
    bash -c "[ $rc -eq 78 ] && grep -q '^$rules:[0-9]*:[0-9]*: ' $T/reload.bad"
expect "... and the daemon keeps running" kill -0 "$main"
rc=0
mxgatectl reload >"$T/reload.ctl" 2>&1 || rc=$?
expect "mxgatectl reload of it: exit $rc, FILE:LINE:COL" \
    bash -c "[ $rc -eq 78 ] && grep -q '^$rules:[0-9]*:[0-9]*: ' $T/reload.ctl"
cp -p "$T/rules.good" "$rules"

# README.Debian's recipe for Postfix's chroot: the socket inside it, and
# Postfix in the mxgate group
sed "s|^# socket = .*|socket = unix:/var/spool/postfix/mxgate/mxgate.sock|;
    s|^# pid_file = .*|pid_file = /run/mxgate/chroot.pid|;
    s|^# rules = .*|rules = $rules|;
    s|^# state_file =.*|state_file = /var/lib/mxgate/counters|;
    s|^# control_socket = .*|control_socket = unix:/run/mxgate/chroot.ctl|" "$conf" >/run/mxgate/chroot.conf
usermod -a -G mxgate postfix
setpriv --reuid="$user" --regid="$group" --init-groups -- \
    mxgate -f -c /run/mxgate/chroot.conf >>"$T/steps.log" 2>&1 &
chrootd=$!
for _ in $(seq 100); do [ -S /var/spool/postfix/mxgate/mxgate.sock ] && break; sleep 0.1; done
check "Postfix's user reaches the socket in /var/spool/postfix/mxgate" \
    setpriv --reuid=postfix --regid=postfix --init-groups -- \
    perl "$T/optneg.pl" /var/spool/postfix/mxgate/mxgate.sock
expect "... and another user does not" \
    bash -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups -- perl $T/optneg.pl /var/spool/postfix/mxgate/mxgate.sock"
kill -TERM "$chrootd"; wait "$chrootd"
expect "... which saved its counters in /var/lib/mxgate at stop" \
    test "$(stat -c %U /var/lib/mxgate/counters 2>/dev/null)" = mxgate

kill -TERM "$main"
wait "$main"
rc=$?
expect "SIGTERM stops it: exit $rc, sockets removed" \
    bash -c "[ $rc -eq 0 ] && [ ! -e $sock ] && [ ! -e $ctlsock ]"
expect "it logged its stop" logged "mxgate stopped"

# --- upgrade ---------------------------------------------------------------
echo '# edited by the admin (package test)' >>"$rules"
check "upgrade to $v2 (dpkg -i --force-confold)" \
    dpkg -i --force-confold "$deb2"
expect "version now $v2" \
    test "$(dpkg-query -W -f='${Version}' mxgate)" = "$v2"
expect "the edited default.rules is kept" \
    grep -qx '# edited by the admin (package test)' "$rules"
expect "the new default.rules is beside it (default.rules.dpkg-dist)" \
    grep -q 'rebuilt for the package test' "$rules.dpkg-dist"
expect "restart asked of policy-rc.d" \
    grep -qx 'mxgate.service restart' "$T/policy-rc.d.log"
expect "same user (uid $uid)" \
    test "$(getent passwd mxgate | cut -d: -f3)" = "$uid"
check "mxgate -n passes on the kept configuration" mxgate -n

# --- remove, purge ----------------------------------------------------------
check "remove (dpkg -r)" dpkg -r mxgate
expect "programs gone" test ! -e /usr/sbin/mxgate -a ! -e /usr/sbin/mxgatectl
expect "configuration kept, with the edit" \
    bash -c "[ -f $conf ] && grep -qx '# edited by the admin (package test)' $rules"
expect "state (/var/lib/mxgate/counters) and user kept" \
    bash -c "[ -f /var/lib/mxgate/counters ] && getent passwd mxgate >/dev/null"
check "purge (dpkg -P)" dpkg -P mxgate
expect "configuration gone (/etc/mxgate)" test ! -e /etc/mxgate
expect "state gone (/var/lib/mxgate, /run/mxgate, /var/spool/postfix/mxgate)" \
    bash -c "[ ! -e /var/lib/mxgate ] && [ ! -e /run/mxgate ] && [ ! -e /var/spool/postfix/mxgate ]"
expect "user and group gone" \
    bash -c "! getent passwd mxgate && ! getent group mxgate"
expect "no file of uid $uid left" \
    bash -c "[ -z \"\$(find / -xdev -uid $uid -print -quit 2>/dev/null)\" ]"
expect "unit link gone" \
    test ! -e /etc/systemd/system/multi-user.target.wants/mxgate.service
expect "dpkg knows it no more" \
    bash -c "! dpkg-query -W -f='\${Status}' mxgate 2>/dev/null | grep -q installed"

echo "inroot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
