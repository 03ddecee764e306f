#!/usr/bin/env bash
# t_check -- `mxgate -n` (no Postfix, no namespace): broken mxgate.conf,
# rules, included rules and table files give every error as
# FILE:LINE:COL: error: ... on stderr and exit 78 (EX_CONFIG); valid
# files exit 0 with one summary line; -n neither opens the socket nor
# writes the pid file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup
C=$H/check
mkdir -p "$C/inc"

# ncheck CONF -- run `mxgate -n -c CONF`; sets rc, out (stdout), err (stderr)
ncheck() {
	rc=0
	"$MXGATE" -n -c "$1" >"$C/stdout" 2>"$C/stderr" || rc=$?
	out=$(cat "$C/stdout")
	err=$(cat "$C/stderr")
}

# want_errors NAME TEXT WANT... -- TEXT has exactly the error lines WANT
# (each a regex anchored at both ends, in any order) and no other line
want_errors() {
	local name=$1 text=$2 w n=0 extra
	shift 2
	for w in "$@"; do
		if grep -Eq -- "^$w\$" <<<"$text"; then
			n=$((n + 1))
		else
			fail "$name" "missing /$w/ in: $(tr '\n' '|' <<<"$text")"
		fi
	done
	extra=$(grep -Evc -- "^($(IFS='|'; echo "$*"))\$" <<<"$text" || true)
	if [[ $n -eq $# && $extra -eq 0 ]]; then
		pass "$name"
	elif [[ $extra -ne 0 ]]; then
		fail "$name" "$extra unexpected line(s): $(tr '\n' '|' <<<"$text")"
	fi
}

conf() {	# FILE RULES [LINE...] -- a configuration for -n
	local f=$1 r=$2
	shift 2
	printf '%s\n' "socket = unix:$C/mxgate.sock" "pid_file = $C/mxgate.pid" \
	    "rules = $r" "$@" >"$f"
}

# 1. a broken configuration: every bad line is reported, and the
# (valid) rules file it names is still read
cat >"$C/good.rules" <<'RULES'
limit conn_rate { count connections; key client_ip/24 /64; rate 30/1m burst 10 }
rule too-fast at connect {
	if limit conn_rate exceeded
	tempfail 421 4.7.0 "Too many connections from ${client_net}; retry in ${retry_after}s"
}
RULES
conf "$C/bad.conf" "$C/good.rules" \
    "# a comment" \
    "nosuch = 1" \
    "mode = sometimes" \
    "dns_timeout = 5x" \
    "" \
    "store_max_keys = 99999999999999999999"
ncheck "$C/bad.conf"
check "broken config: exit 78" test "$rc" -eq 78
check "broken config: no summary on stdout" test -z "$out"
F=$C/bad.conf
want_errors "broken config: every error as FILE:LINE:COL" "$err" \
    "$F:5:1: error: unknown parameter 'nosuch'" \
    "$F:6:8: error: bad value 'sometimes' for 'mode'.*" \
    "$F:7:15: error: bad duration '5x' for 'dns_timeout'.*" \
    "$F:9:18: error: .*store_max_keys.*out of range.*"

# 2. broken rules, an included file and a table: all files, all errors
cat >"$C/bad.rules" <<'RULES'
table customers "customers.map"
include "inc/*.rules"
limit l1 { count connections; key client_ip; rate 10/1m }
rule a at connect {
	if limit nosuch exceeded
	tempfail 451 4.7.1 "x"
}
rule b at mail {
	if rcpt is "x@y.test"
	accept
}
rule c at rcpt {
	tempfail 999 4.7.1 "y"
}
rule a at rcpt {
	tempfail 451 5.7.1 "z"
}
rule d at eom {
	tempfail 451 4.7.1 "unknown ${nosuchvar}"
}
RULES
printf 'list x { 192.0.2.0/24, 300.1.2.3 }\nrule e at bogus { accept }\n' \
    >"$C/inc/one.rules"
printf 'alice rcpt_per_hour=10\nbob novalue\n' >"$C/customers.map"
conf "$C/rules.conf" "$C/bad.rules"
ncheck "$C/rules.conf"
check "broken rules: exit 78" test "$rc" -eq 78
check "broken rules: no summary on stdout" test -z "$out"
R=$C/bad.rules
want_errors "broken rules: every error as FILE:LINE:COL (rules, include, table)" "$err" \
    "$C/inc/one.rules:1:[0-9]+: error: .*300\.1\.2\.3.*" \
    "$C/inc/one.rules:2:11: error: unknown stage 'bogus'.*" \
    "$C/customers.map:2:[0-9]+: error: .*" \
    "$R:5:[0-9]+: error: .*nosuch.*" \
    "$R:9:5: error: 'rcpt' is known only from stage rcpt.*" \
    "$R:13:11: error: .*421, 450, 451 or 452.*" \
    "$R:15:6: error: rule id 'a' is already used at $R:4" \
    "$R:16:15: error: .*5\.7\.1.*451.*" \
    "$R:19:[0-9]+: error: unknown variable \\\$\{nosuchvar\}"

# 3. both files broken at once: errors of both are printed
conf "$C/both.conf" "$C/bad.rules" "mode = sometimes"
ncheck "$C/both.conf"
check "config and rules broken: exit 78" test "$rc" -eq 78
check_grep "config and rules broken: the config error" "^$C/both.conf:4:8: error: " "$err"
check_grep "config and rules broken: the rules errors" "^$R:13:11: error: " "$err"

# 4. a missing rules file is an error naming the file
conf "$C/missing.conf" "$C/nosuch.rules"
ncheck "$C/missing.conf"
check "missing rules file: exit 78" test "$rc" -eq 78
check_grep "missing rules file: named" "^$C/nosuch\.rules: error: " "$err"

# 5. valid files: exit 0, one summary line, nothing on stderr
cat >"$C/customers.map" <<'MAP'
alice           rcpt_per_hour=10
@free.test      rcpt_per_hour=unlimited
MAP
cat >"$C/inc/one.rules" <<'RULES'
list relays { 192.0.2.0/24, 2001:db8:100::/48 }
rule trusted at connect {
	if client_ip in relays
	accept
}
RULES
cat >>"$C/good.rules" <<'RULES'
table customers "customers.map"
include "inc/*.rules"
limit user_hour { count recipients; key sasl_user; rate 500/1h; override customers.rcpt_per_hour }
rule quota at rcpt {
	if sasl_user and limit user_hour exceeded
	tempfail 451 4.7.0 "${sasl_user} reached ${limit.max} per ${limit.window}; retry in ${retry_after}s"
}
RULES
conf "$C/good.conf" "$C/good.rules" "mode = monitor" "store_max_keys = 5000"
ncheck "$C/good.conf"
check "valid files: exit 0" test "$rc" -eq 0
check "valid files: nothing on stderr" test -z "$err"
check_grep "valid files: one summary line" \
    "^mxgate: $C/good\.conf: ok; $C/good\.rules: 3 rules .*1 list.*1 table.*2 limits" "$out"
check "valid files: exactly one line" test "$(wc -l <"$C/stdout")" -eq 1
check "-n opened no socket" test ! -e "$C/mxgate.sock"
check "-n wrote no pid file" test ! -e "$C/mxgate.pid"

# 6. the shipped rules files are valid
for r in "$E2E_DIR"/../../rules/*.rules "$E2E_DIR"/../../rules/examples/*.rules; do
	conf "$C/shipped.conf" "$r"
	ncheck "$C/shipped.conf"
	check "shipped $(basename "$r"): exit 0" test "$rc" -eq 0
done
h_done
