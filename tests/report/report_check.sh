#!/bin/sh
# shellcheck disable=SC2015,SC2086  # ok() and bad() always succeed; $all splits
# report_check.sh -- `mxgatectl report` on generated logs with known counts
# (genlog.py): the text and the --json report give exactly the expected
# counts (check.py computes them from genlog's records), for every file,
# some files, --since/--until (absolute and relative), standard input
# and -n; bad usage, a missing file and a damaged gzip file give their
# exit codes. Then --html: the page is opened in headless Chromium, which
# must not reach the network and must leave no process behind: its
# screenshot must show something (colours of the chart, enough non-white
# pixels) and every number of its DOM (data-k cells) must equal the text
# report's.
#
# Needs python3 (else SKIP). Without Chromium (Debian: chromium) the
# checks before it run and the script ends with SKIP (exit 77).
srcdir=$(cd "${srcdir:-.}" && pwd)
MXGATECTL=${MXGATECTL:-./milter/mxgatectl}
case $MXGATECTL in /*) ;; *) MXGATECTL=$(pwd)/$MXGATECTL ;; esac
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
here=$srcdir/tests/report
export TZ=UTC LC_ALL=C

if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is missing"
	exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
chk() { python3 "$here/check.py" "$@"; }

python3 "$here/genlog.py" "$tmp/logs" || { echo "FAIL genlog.py"; exit 1; }
cd "$tmp/logs" || exit 1
all="mxgate.log.3.gz mxgate.log.2.gz mxgate.log.1 mxgate.log"

# ctl ARGS... -- mxgatectl with standard input from $in (or nothing)
ctl() {
	if [ -n "${in:-}" ]; then "$MXGATECTL" "$@" <"$in"
	else "$MXGATECTL" "$@" </dev/null; fi
}

# compare WHAT EXPECT_ARGS -- REPORT_ARGS: the text and the --json report
# against check.py's expected counts (standard input: the file $in)
compare() {
	what=$1
	shift
	eargs=
	while [ "$1" != -- ]; do eargs="$eargs $1"; shift; done
	shift
	ctl report "$@" >"$tmp/out.txt" 2>"$tmp/err"
	trc=$?
	ctl --json report "$@" >"$tmp/out.json" 2>>"$tmp/err"
	jrc=$?
	chk verify "$tmp/out.txt" "$tmp/out.json" . $eargs >"$tmp/diff"
	vrc=$?
	[ "$trc" -eq 0 ] && [ $((vrc & 1)) -eq 0 ] && ok "$what: text" ||
		{ bad "$what: text (exit $trc)"; cat "$tmp/err" "$tmp/diff"; }
	[ "$jrc" -eq 0 ] && [ $((vrc & 2)) -eq 0 ] && ok "$what: --json" ||
		{ bad "$what: --json (exit $jrc)"; cat "$tmp/err" "$tmp/diff"; }
}

compare "four files (two gzip, two classic syslog)" $all -- $all
compare "one gzip file" mxgate.log.3.gz -- mxgate.log.3.gz
compare "-n 5" $all -n 5 -- -n 5 $all
# the period: since is included, until is not; the edges fall on decisions
# shellcheck disable=SC2046  # four words
set -- $(python3 -c 'import json, time
r = json.load(open("records.json"))["records"]
s, u = r[100]["t"], r[400]["t"]
print(s, u, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s)),
      time.strftime("%Y-%m-%dT%H:%M:%S+01:00", time.gmtime(u + 3600)))')
since=$1 until=$2 s3339=$3 u3339=$4
compare "--since $s3339 --until $u3339" $all --since "$since" --until "$until" -- \
	--since "$s3339" --until "$u3339" $all
compare "--since 2026-11-21 (a date)" $all --since 1795219200 -- --since 2026-11-21 $all
compare "--since 3650d (all after)" $all -- --since 3650d $all
compare "--until 3650d (none before)" $all --until 0 -- --until=3650d $all
# standard input: RFC 3339 files (classic ones would take this year)
in=mxgate.log
compare "standard input" mxgate.log --
compare "standard input as - with a file" mxgate.log.3.gz mxgate.log -- mxgate.log.3.gz -
in=
gzip -dc mxgate.log.2.gz | "$MXGATECTL" report >"$tmp/out.txt" &&
	gzip -dc mxgate.log.2.gz | "$MXGATECTL" --json report >"$tmp/out.json" &&
	chk verify "$tmp/out.txt" "$tmp/out.json" . mxgate.log.2.gz >"$tmp/diff" &&
	ok "a pipe on standard input" || { bad "a pipe on standard input"; cat "$tmp/diff"; }

# exit codes and messages
# expect_rc WHAT RC PATTERN CMD... -- the command exits RC, stderr matches PATTERN
expect_rc() {
	what=$1 want=$2 pat=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -q -- "$pat" "$tmp/err" "$tmp/out"; then
		ok "$what: exit $rc"
	else
		bad "$what: exit $rc, want $want and '$pat'"; cat "$tmp/err"
	fi
}
expect_rc "no command" 64 "usage: mxgatectl" "$MXGATECTL"
expect_rc "-h lists the commands" 0 "report \[--since T\]" "$MXGATECTL" -h
expect_rc "report -h" 0 "usage: mxgatectl \[--json\] report" "$MXGATECTL" report -h
expect_rc "unknown command" 64 "unknown command: frob" "$MXGATECTL" frob
# the daemon's commands need mxgate.conf's control_socket (no daemon here)
printf 'control_socket =\n' >"$tmp/noctl.conf"
for c in status reload limit explain ref; do
	expect_rc "$c: no mxgate.conf" 78 "cannot find the control socket" \
	    "$MXGATECTL" -c /nonexistent "$c"
	expect_rc "$c: control_socket empty" 69 "control_socket is empty" \
	    "$MXGATECTL" -c "$tmp/noctl.conf" "$c"
done
expect_rc "-c is not read by report" 0 "deferred (tempfail)" \
	"$MXGATECTL" -c /nonexistent report mxgate.log
expect_rc "bad time" 64 "bad time: yesterday" "$MXGATECTL" report --since yesterday mxgate.log
expect_rc "until before since" 64 "not after" "$MXGATECTL" report --since 2026-11-21 --until 2026-11-20 mxgate.log
expect_rc "bad -n" 64 "-n wants" "$MXGATECTL" report -n x mxgate.log
expect_rc "unknown option" 64 "unknown option: --frob" "$MXGATECTL" report --frob mxgate.log
expect_rc "missing file" 66 "nosuch.log: No such file" "$MXGATECTL" report nosuch.log
head -c 3000 mxgate.log.2.gz >"$tmp/cut.gz"
expect_rc "damaged gzip file" 65 "cut.gz: " "$MXGATECTL" report "$tmp/cut.gz"
expect_rc "--html into a missing directory" 73 "/nonexistent/r.html" \
	"$MXGATECTL" report --html /nonexistent/r.html mxgate.log

# --- the HTML page in headless Chromium --------------------------------
# live PGID TEXT -- pids of processes of group PGID (0: none) or with TEXT
# in their command line that are still running (not zombies)
live() {
	for p in $( { [ "$1" -gt 0 ] && pgrep -g "$1"; pgrep -f -- "$2"; } 2>/dev/null | sort -u); do
		st=$(ps -o stat= -p "$p" 2>/dev/null)
		[ -n "$st" ] && [ "${st#Z}" = "$st" ] && echo "$p"
	done
}

# run_chromium ARGS... -- run it on its own, without network, with a
# private profile and home (its caches, crash reports and dconf stay in
# the test's directory); FAIL when it leaves a process behind
run_chromium() {
	udd=$(mktemp -d "$tmp/chromium.XXXXXX")
	cpid=0
	set -- env HOME="$udd" XDG_CONFIG_HOME="$udd/config" \
		XDG_CACHE_HOME="$udd/cache" "$CHROMIUM" --headless --no-sandbox \
		--disable-gpu --no-first-run --no-default-browser-check --disable-extensions --disable-sync \
		--disable-background-networking --disable-component-update \
		--user-data-dir="$udd" "$@"
	if [ "$(id -u)" -eq 0 ] && unshare --net --pid --fork --kill-child --mount-proc true 2>/dev/null; then
		# no network at all; its pid namespace ends with it, children too
		timeout 120 unshare --net --pid --fork --kill-child --mount-proc "$@"
		crc=$?
	else
		# no name resolves; its own session, killed as a group after
		setsid timeout 120 "$@" --host-resolver-rules="MAP * ~NOTFOUND" &
		cpid=$!
		wait "$cpid"
		crc=$?
		kill -KILL -- "-$cpid" 2>/dev/null
	fi
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=$(live "$cpid" "$udd" | tr '\n' ' ')
		[ -z "$left" ] && break
		sleep 0.2
	done
	if [ -n "$left" ]; then
		bad "chromium left processes behind: $left"
		kill -KILL $left 2>/dev/null
	fi
	rm -rf "$udd"
	return "$crc"
}

"$MXGATECTL" report --html "$tmp/report.html" $all >"$tmp/html-text.txt" 2>"$tmp/err" &&
	ok "--html writes the page and the text report" ||
	{ bad "--html (exit $?)"; cat "$tmp/err"; }
if grep -qiE '(src|href)="[a-z]+:|<script|@import|url\(' "$tmp/report.html"; then
	bad "the page is self-contained (no external reference, no script)"
else
	ok "the page is self-contained (no external reference, no script)"
fi
if [ -z "$CHROMIUM" ]; then
	echo "$pass passed, $fail failed"
	echo "SKIP: chromium is missing (Debian: chromium): the page was not rendered"
	[ "$fail" -eq 0 ] && exit 77 || exit 1
fi
if run_chromium --screenshot="$tmp/shot.png" --window-size=1200,900 \
	"file://$tmp/report.html" >"$tmp/chromium.log" 2>&1 && [ -s "$tmp/shot.png" ]; then
	ok "chromium took a screenshot"
	# the colours of the first three rules of the chart must show
	if chk png "$tmp/shot.png" "#4e79a7" "#f28e2b" "#e15759"; then
		ok "the screenshot is not blank: the chart's colours show"
	else
		bad "the screenshot is not blank"
	fi
else
	bad "chromium --screenshot"; tail -n 20 "$tmp/chromium.log"
fi
if run_chromium --dump-dom "file://$tmp/report.html" >"$tmp/dom.html" 2>"$tmp/chromium.log" &&
	[ -s "$tmp/dom.html" ]; then
	ok "chromium dumped the DOM"
	if chk page "$tmp/html-text.txt" "$tmp/dom.html"; then
		ok "the numbers and refs in the DOM's data-k cells equal the text report's"
	else
		bad "the numbers and refs in the DOM's data-k cells equal the text report's"
	fi
	grep -q '<svg' "$tmp/dom.html" && [ "$(grep -c '<rect' "$tmp/dom.html")" -gt 30 ] &&
		ok "the DOM holds the SVG chart's bars" || bad "the DOM holds the SVG chart's bars"
else
	bad "chromium --dump-dom"; tail -n 20 "$tmp/chromium.log"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
