#!/usr/bin/env bash
# t_bounds -- `mxgate -n` and the daemon agree on every bound of the
# parameter table: for each parameter, its smallest and largest value
# (every word of a word parameter; for dns_forwarders the most entries)
# passes `mxgate -n` (exit 0) AND starts the daemon (it opens its
# socket); a value just outside is refused by both with FILE:LINE:COL
# and exit 78.
#
# The bounds are read from the shipped milter/mxgate.conf, which is
# generated from the table (cfg_write_defaults; test_cfg checks they are
# the same), so a new parameter is tested without editing this file.
#
# Special parameters and why:
#   socket_mode     octal, its range is in the text "(0000 to 0777)"
#   dns_forwarders  a list: the most entries mxgate.conf(5) documents
#                   ("up to N entries"), all on loopback (nothing answers:
#                   the daemon needs no answer to start)
#   store           no numeric range: memory, and redis:// with a real
#                   redis-server of the test (database 0 and 15)
#   dns_timeout     a stage_timeout, when the table has one, is raised to
#   stage_timeout   its largest value with dns_timeout's largest, and
#                   dns_timeout is at its smallest with stage_timeout's
#                   bounds (-n refuses a dns_timeout above stage_timeout)
#   names and paths (socket, user, group, pid_file, rules, hostname,
#                   authserv_id, store_password_file, state_file) have no
#                   bounds: the harness's own values are used and are
#                   the ones every other e2e test starts with.
# Postfix is not needed: the daemon only has to open its socket.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
h_netns
h_redis

SRC=$(cd "$E2E_DIR/../.." && pwd)
cat >"$H/rules/test.rules" <<'RULES'
rule r at rcpt {
	if rcpt_domain is blocked.test
	tempfail 451 4.7.1 "no"
}
RULES

# the table as "name|kind|lo|hi|words", kind: count, duration, mode, words, other
python3 - "$SRC/milter/mxgate.conf" >"$H/params" <<'PY'
import re, sys
para = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    m = re.match(r"^# ([a-z_]+) =( .*)?$", line)
    if m:
        text = " ".join(para)
        name = m.group(1)
        r = re.search(r"From (\S+) to (\S+?)(?: \(suffix| \.|\.)", text)
        w = re.search(r"One of: ([^.]*)\.", text)
        o = re.search(r"\((\d+) to (\d+)\)", text)
        if r and "suffix s, m, h or d" in text:
            print(f"{name}|duration|{r.group(1)}|{r.group(2)}|")
        elif r:
            print(f"{name}|count|{r.group(1)}|{r.group(2)}|")
        elif w:
            print(f"{name}|words|||{w.group(1).replace(',', '')}")
        elif o:
            print(f"{name}|mode|{o.group(1)}|{o.group(2)}|")
        else:
            print(f"{name}|other|||")
        para = []
    elif line.startswith("# "):
        para.append(line[2:])
    else:
        para = []
PY
[[ -s $H/params ]] || die "no parameters read from $SRC/milter/mxgate.conf"
note "parameters: $(cut -d'|' -f1,2 "$H/params" | tr '\n' ' ')"

# secs DURATION -- in seconds
secs() {
	local v=$1 n=${1%[smhd]}
	case $v in
	*m) echo $((n * 60)) ;; *h) echo $((n * 3600)) ;; *d) echo $((n * 86400)) ;;
	*) echo "$n" ;;
	esac
}

SOCK=$H/run/b.sock
# conf NAME VALUE [NAME VALUE] -- $H/b.conf: the harness's values, NAME = VALUE last
conf() {
	local base=(socket "unix:$SOCK" socket_mode 0666 user nobody
	    group nogroup pid_file "$H/run/b.pid" rules "$H/rules/test.rules"
	    control_socket "unix:$H/run/b.ctl"
	    log stderr hostname mx.e2e.test dns_forwarders 127.0.0.1@53) i
	: >"$H/b.conf"
	for ((i = 0; i < ${#base[@]}; i += 2)); do
		[[ ${base[i]} == "$1" || ${base[i]} == "${3:-}" ]] && continue
		printf '%s = %s\n' "${base[i]}" "${base[i + 1]}" >>"$H/b.conf"
	done
	[[ -n ${3:-} ]] && printf '%s = %s\n' "$3" "$4" >>"$H/b.conf"
	printf '%s = %s\n' "$1" "$2" >>"$H/b.conf"
}

# daemon -- start mxgate on $H/b.conf; 0 when it opened its socket
# (then stopped again), else its exit status; its log in $H/log/b.log
daemon() {
	local pid rc=0
	rm -f "$SOCK" "$H/run/b.pid"
	: >"$H/log/b.log"
	(cd "$H" && exec ip netns exec "$NS" "$MXGATE" -f -c "$H/b.conf" \
	    </dev/null >>"$H/log/b.log" 2>&1) &
	pid=$!
	wait_until 20 bash -c "test -S '$SOCK' || ! kill -0 $pid" || true
	if [[ -S $SOCK ]] && alive "$pid"; then
		# started is all this test asks; a clean stop takes libmilter
		# up to 5 s (t_stop tests it), so it is killed
		kill -KILL "$pid"
		wait "$pid" || true
		return 0
	fi
	alive "$pid" && { stop_pid "$pid" 10; wait "$pid" || true; return 1; }
	wait "$pid" || rc=$?
	return $((rc == 0 ? 1 : rc))
}

# accepts LABEL NAME VALUE [NAME2 VALUE2] -- -n exits 0 and the daemon starts
accepts() {
	local label=$1 out rc=0
	shift
	conf "$@"
	out=$("$MXGATE" -n -c "$H/b.conf" 2>&1) || rc=$?
	if [[ $rc -ne 0 ]]; then
		fail "$label: mxgate -n accepts it" "exit $rc: $(head -c 300 <<<"$out" | tr '\n' '|')"
		return
	fi
	rc=0
	daemon || rc=$?
	if [[ $rc -eq 0 ]]; then
		pass "$label: mxgate -n accepts it and the daemon starts"
	else
		fail "$label: mxgate -n accepts it and the daemon starts" \
		    "-n exit 0, daemon exit $rc: $(tail -n 3 "$H/log/b.log" | tr '\n' '|')"
	fi
}

# refuses LABEL NAME VALUE -- -n and the daemon: FILE:LINE:COL: error, exit 78
refuses() {
	local label=$1 out rc=0 line want
	shift
	conf "$@"
	line=$(wc -l <"$H/b.conf")
	want="^$H/b\\.conf:$line:[0-9]+: error: "
	out=$("$MXGATE" -n -c "$H/b.conf" 2>&1) || rc=$?
	if [[ $rc -ne 78 ]] || ! grep -Eq -- "$want" <<<"$out"; then
		fail "$label: mxgate -n refuses it" "exit $rc: $(head -c 300 <<<"$out" | tr '\n' '|')"
		return
	fi
	rc=0
	daemon || rc=$?
	if [[ $rc -eq 78 ]] && grep -Eq -- "$want" "$H/log/b.log"; then
		pass "$label: mxgate -n and the daemon refuse it (FILE:LINE:COL, 78)"
	else
		fail "$label: the daemon refuses it like -n" \
		    "daemon exit $rc: $(tail -n 3 "$H/log/b.log" | tr '\n' '|')"
	fi
}

has_stage_timeout=$(grep -c '^stage_timeout|' "$H/params" || true)
stage_max=
if ((has_stage_timeout)); then
	stage_max=$(grep '^stage_timeout|' "$H/params" | cut -d'|' -f4)
fi

while IFS='|' read -r name kind lo hi words; do
	extra=()
	if [[ $name == dns_timeout && -n $stage_max ]]; then
		extra=(stage_timeout "$stage_max")
	elif [[ $name == stage_timeout ]]; then
		extra=(dns_timeout "$(grep '^dns_timeout|' "$H/params" | cut -d'|' -f3)")
	fi
	case $kind in
	count)
		accepts "$name = $lo (min)" "$name" "$lo" "${extra[@]}"
		accepts "$name = $hi (max)" "$name" "$hi" "${extra[@]}"
		((lo > 0)) && refuses "$name = $((lo - 1)) (min - 1)" "$name" "$((lo - 1))"
		refuses "$name = $((hi + 1)) (max + 1)" "$name" "$((hi + 1))"
		;;
	duration)
		accepts "$name = $lo (min)" "$name" "$lo" "${extra[@]}"
		accepts "$name = $hi (max)" "$name" "$hi" "${extra[@]}"
		l=$(secs "$lo") h=$(secs "$hi")
		((l > 0)) && refuses "$name = $((l - 1))s (min - 1 s)" "$name" "$((l - 1))s"
		refuses "$name = $((h + 1))s (max + 1 s)" "$name" "$((h + 1))s"
		;;
	mode)
		accepts "$name = $lo (min)" "$name" "$lo"
		accepts "$name = $hi (max)" "$name" "$hi"
		refuses "$name = 01000 (max + 1)" "$name" 01000
		;;
	words)
		for w in $words; do
			accepts "$name = $w" "$name" "$w"
		done
		refuses "$name = bogus" "$name" bogus
		;;
	esac
done <"$H/params"

# dns_forwarders: the most entries mxgate.conf(5) documents, and one more
nf=$(grep -oE 'list of up to [0-9]+ entries' "$SRC/man/mxgate.conf.5" | grep -oE '[0-9]+' | head -n1)
if [[ -z $nf ]]; then
	fail "dns_forwarders: a documented maximum" "no 'up to N entries' in mxgate.conf(5)"
else
	list=
	for ((i = 1; i <= nf; i++)); do list+="${list:+,}127.0.0.$i@53"; done
	accepts "dns_forwarders with $nf entries (max)" dns_forwarders "$list"
	accepts "dns_forwarders with 1 entry (min)" dns_forwarders 127.0.0.1@5353
	refuses "dns_forwarders with $((nf + 1)) entries (max + 1)" dns_forwarders "$list,127.0.0.99"
fi

# store: memory, Redis (database 0 and 15, the last of a default server)
accepts "store = memory" store memory
accepts "store = redis:// database 0" store redis://127.0.0.1:6390
accepts "store = redis:// database 15" store redis://127.0.0.1:6390/15
refuses "store = redis:// port 0" store redis://127.0.0.1:0
refuses "store = bogus" store bogus
h_done
