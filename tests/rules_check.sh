#!/bin/sh
# shellcheck disable=SC2015  # ok() and bad() always succeed
# rules_check.sh -- every shipped rules file is valid under `mxgate -n`,
# and a broken one is refused with exit 78 and FILE:LINE:COL errors.
srcdir=$(cd "${srcdir:-.}" && pwd)
MXGATE=${MXGATE:-./milter/mxgate}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

for r in "$srcdir"/rules/*.rules "$srcdir"/rules/examples/*.rules; do
	printf 'rules = %s\nsocket = unix:%s/s.sock\n' "$r" "$tmp" > "$tmp/c.conf"
	if out=$("$MXGATE" -n -c "$tmp/c.conf" 2>&1); then
		ok "mxgate -n $(basename "$r"): $out"
	else
		bad "mxgate -n $(basename "$r") (exit $?): $out"
	fi
done

printf 'rule a at connect {\n  tempfail 451 5.7.1 "x"\n}\nrule a at helo {\n  if nosuchfact\n  accept\n}\n' > "$tmp/bad.rules"
printf 'rules = %s\nsocket = unix:%s/s.sock\n' "$tmp/bad.rules" "$tmp" > "$tmp/c.conf"
out=$("$MXGATE" -n -c "$tmp/c.conf" 2>&1); rc=$?
[ "$rc" -eq 78 ] && ok "broken rules: exit 78" || bad "broken rules: exit $rc, want 78"
n=$(printf '%s\n' "$out" | grep -c "^$tmp/bad.rules:[0-9]*:[0-9]*: error: ")
[ "$n" -ge 3 ] && ok "broken rules: $n errors reported" || bad "broken rules: $n errors, want >= 3: $out"

printf 'nosuch = 1\nmode = sometimes\nstore_max_keys = 5\n' > "$tmp/bad.conf"
out=$("$MXGATE" -n -c "$tmp/bad.conf" 2>&1); rc=$?
[ "$rc" -eq 78 ] && ok "broken config: exit 78" || bad "broken config: exit $rc, want 78"
n=$(printf '%s\n' "$out" | grep -c "^$tmp/bad.conf:[0-9]*:[0-9]*: error: ")
[ "$n" -eq 3 ] && ok "broken config: 3 errors reported" || bad "broken config: $n errors, want 3: $out"

"$MXGATE" -V | grep -q '^mxgate ' && ok "mxgate -V" || bad "mxgate -V"

echo "rules_check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
