#!/usr/bin/env bash
# t_ctl -- the control socket and mxgatectl status / reload, through the
# real harness: the socket's owner and mode; an unprivileged user is
# refused by the file's permissions (exit 77), and by the daemon itself
# when the file is opened to everyone; status in text and JSON (version,
# mode, the rules' files, load time and hash, store, connections,
# decisions per rule after real transactions); reload: ok, then a broken
# file gives every FILE:LINE:COL and exit 78 with the old rules still in
# force for a real message; the reload is logged with who asked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
cat >"$H/rules/test.rules" <<'RULES'
rule no-bad at rcpt {
	if rcpt_domain is bad.rcpt.test
	tempfail 451 4.7.1 "v1: no mail for bad.rcpt.test"
}
RULES
h_up

msg() {	# RCPT -- one message from 203.0.113.50; prints smtpc output
	smtp 127.0.0.1:2525 --bind 203.0.113.50 <<S
cmd EHLO client.test
cmd MAIL FROM:<c@client.test>
cmd RCPT TO:<$1>
cmd DATA
data Subject: ctl\r\n\r\nctl
cmd QUIT
S
}

CS=$H/run/control.sock
check "control socket exists" test -S "$CS"
check "control socket: owner nobody:nogroup, mode 660" \
	test "$(stat -c '%U:%G %a' "$CS")" = "nobody:nogroup 660"

# an unprivileged user (daemon, uid 1: not in nogroup)
rc=0
out=$(setpriv --reuid=1 --regid=1 --clear-groups "$MXGATECTL" -c "$H/mxgate.conf" status 2>&1) || rc=$?
check "unprivileged user: exit 77 (EX_NOPERM)" test "$rc" = 77
check_grep "unprivileged user: told why" 'permission denied' "$out"
# the daemon's own check, when the file's mode would let anyone in
chmod 666 "$CS"
rc=0
out=$(setpriv --reuid=1 --regid=1 --clear-groups "$MXGATECTL" -c "$H/mxgate.conf" status 2>&1) || rc=$?
chmod 660 "$CS"
check "socket opened to all: the daemon still refuses uid 1 (exit 77)" test "$rc" = 77
check_grep "... and says why" 'permission denied: only root, the mxgate user and members of its group' "$out"
wait_log "$H/log/mxgate.log" 'control socket: uid 1 .* refused' 5 || true
check_grep "... and logs the refusal with the uid" 'control socket: uid 1 \(pid [0-9]+\) refused' "$(mxlog)"
# a member of the daemon's group (nogroup) may
gid=$(getent group nogroup | cut -d: -f3)
rc=0
out=$(setpriv --reuid=1 --regid=1 --groups="$gid" "$MXGATECTL" -c "$H/mxgate.conf" status 2>&1) || rc=$?
check "a member of the daemon's group may ask (exit 0)" test "$rc" = 0

# decisions to count: two deferred, one delivered
out=$(msg a@bad.rcpt.test)
check_reply "a deferral by no-bad" 451 4.7.1 "$(reply_to "$out" RCPT)" '^v1: '
out=$(msg b@bad.rcpt.test)
out=$(msg ok@rcpt.test)
check_grep "a message delivered" '^<- 250 2\.0\.0 Ok: queued' "$out"

# status, text
rc=0
st=$(ctl status 2>&1) || rc=$?
check "status: exit 0" test "$rc" = 0
check_grep "status: version and pid" "^mxgate [0-9][0-9.]*, pid $MXPID, up " "$st"
check_grep "status: mode" '^mode +enforce$' "$st"
check_grep "status: the rules file" "^rules +$H/rules/test.rules\$" "$st"
check_grep "status: load time and hash" 'loaded 20[0-9-]+ [0-9:]+ UTC, sha256 [0-9a-f]{64}$' "$st"
check_grep "status: store" '^store +memory, [0-9]+ keys' "$st"
check_grep "status: connections" '^connections +[0-9]+ from the MTA' "$st"
check_grep "status: decisions of rule no-bad" 'no-bad +rcpt +tempfail +2$' "$st"

# status, JSON: the same facts, and the hash is the files' (path, NUL, bytes)
ctl --json status >"$H/st.json"
check "status --json: valid JSON with the right facts" python3 - "$H/st.json" "$H/rules/test.rules" "$MXPID" <<'PY'
import hashlib, json, sys
st = json.load(open(sys.argv[1]))
rules, pid = sys.argv[2], int(sys.argv[3])
h = hashlib.sha256()
h.update(rules.encode() + b"\0" + open(rules, "rb").read())
assert st["pid"] == pid, st["pid"]
assert st["mode"] == "enforce"
assert st["rules"]["files"] == [rules], st["rules"]
assert st["rules"]["sha256"] == h.hexdigest(), (st["rules"]["sha256"], h.hexdigest())
assert st["store"]["kind"] == "memory"
assert isinstance(st["connections"]["mta"], int)
d = [x for x in st["decisions"] if x["rule"] == "no-bad"]
assert d and d[0]["stage"] == "rcpt" and d[0]["action"] == "tempfail" and d[0]["count"] == 2, d
PY

# reload: ok
hash1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rules"]["sha256"])' "$H/st.json")
sed -i 's/v1: no mail/v2: no mail/' "$H/rules/test.rules"
rc=0
out=$(ctl reload 2>&1) || rc=$?
check "reload: exit 0" test "$rc" = 0
check_grep "reload: prints ok and the summary" '^ok: 1 rule \(rcpt 1\)' "$out"
check_grep "reload: logged with who asked" 'reload asked by uid 0 \(root\) on the control socket' "$(mxlog)"
out=$(msg c@bad.rcpt.test)
check_reply "the reloaded rules are in force" 451 4.7.1 "$(reply_to "$out" RCPT)" '^v2: '
hash2=$(ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["rules"]["sha256"])')
check "status: the hash changed with the file" test "$hash1" != "$hash2"

# reload: a broken file, every error, exit 78, old rules kept
cat >>"$H/rules/test.rules" <<'RULES'
rule broken at rcpt {
	if nosuchfact is x
	tempfail 451 5.7.0 "broken"
}
RULES
rc=0
out=$(ctl reload 2>&1) || rc=$?
check "broken reload: exit 78" test "$rc" = 78
check_grep "broken reload: FILE:LINE:COL of the unknown fact" "^$H/rules/test\.rules:6:5: error: unknown fact" "$out"
check_grep "broken reload: and of the bad code" "^$H/rules/test\.rules:7:15: error: .*5\.7\.0" "$out"
check_grep "broken reload: the old rules stay" 'the old rules stay in force' "$out"
rc=0
ctl --json reload >"$H/rl.json" 2>&1 || rc=$?
check "broken reload --json: exit 78, JSON on stdout with both errors" python3 - "$H/rl.json" "$rc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "78"
assert r["ok"] is False and len(r["errors"]) == 2, r
assert all(":6:5:" in e or ":7:15:" in e for e in r["errors"]), r
PY
out=$(msg d@bad.rcpt.test)
check_reply "old rules still in force after the broken reload" 451 4.7.1 "$(reply_to "$out" RCPT)" '^v2: '

# hostile requests on the socket itself: a clear answer, never a hang
rawreq() {	# NAME -- send a crafted request, print the answer's first line
	python3 - "$CS" "$1" <<'PY'
import socket, sys
path, kind = sys.argv[1], sys.argv[2]
req = {"garbage": b"hello\r\n",
       "version": b"11:mxgatectl 9,4:text,6:status,",
       "huge": b"9999:" + b"x" * (18 * 1024 * 1024),
       "empty": b""}[kind]
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(path)
try:
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)
except OSError:
    pass
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.decode(errors="replace").replace("\n", "|"))
PY
}
check_grep "a malformed request: EXIT 76 and why" '^EXIT 76\|mxgatectl: malformed request' "$(rawreq garbage)"
check_grep "an empty request: EXIT 76" '^EXIT 76\|' "$(rawreq empty)"
check_grep "another protocol version: EXIT 76, install matching versions" \
	'^EXIT 76\|.*install matching versions' "$(rawreq version)"
check_grep "an 18 MB request: EXIT 65, request too large" '^EXIT 65\|mxgatectl: request too large' "$(rawreq huge)"
check_alive "mxgate serves on after them"

# usage errors
rc=0; ctl status extra >/dev/null 2>&1 || rc=$?
check "status with an argument: exit 64" test "$rc" = 64
rc=0; ctl nosuchcommand >/dev/null 2>&1 || rc=$?
check "unknown command: exit 64" test "$rc" = 64

check_alive "mxgate still running"
h_mxgate_stop
check "SIGTERM: exit 0" test "$MXRC" = 0
check "the control socket is removed at stop" test ! -e "$CS"
rc=0; out=$(ctl status 2>&1) || rc=$?
check "no daemon: exit 69 (EX_UNAVAILABLE)" test "$rc" = 69
check_grep "no daemon: told so" 'cannot reach mxgate at .*is it running' "$out"
h_done
