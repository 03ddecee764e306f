#!/usr/bin/env bash
# summary.sh BUILDDIR -- add up the results of every test log: Check suites
# count their checks, scripts their "N passed, N failed" line, anything
# else counts as one by its automake result. Prints the failures' logs,
# then one line "N passed, N failed".
set -u
b=${1:?usage: summary.sh BUILDDIR}
pass=0 fail=0
shopt -s nullglob globstar
for trs in "$b"/tests/**/*.trs; do
	log=${trs%.trs}.log
	res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	p=0 f=0
	if line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" 2>/dev/null | tail -n 1) && [ -n "$line" ]; then
		n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/' <<<"$line")
		f=$((f)); p=$((n - f))
	elif line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null | tail -n 1) && [ -n "$line" ]; then
		p=$(grep -oE '[0-9]+ passed' <<<"$line" | tail -n 1 | cut -d' ' -f1)
		f=$(grep -oE '[0-9]+ failed' <<<"$line" | tail -n 1 | cut -d' ' -f1)
	elif [ "$res" = PASS ]; then p=1
	elif [ "$res" = SKIP ]; then p=0
	else f=1
	fi
	if [ "$res" != PASS ] && [ "$res" != SKIP ] && [ "$f" -eq 0 ]; then f=1; fi
	[ "$res" = SKIP ] && echo "SKIP ${trs#"$b"/}: $(tail -n 1 "$log")"
	if [ "$f" -gt 0 ]; then
		echo "---- ${log#"$b"/} ($res)"
		tail -n 60 "$log"
	fi
	pass=$((pass + p)); fail=$((fail + f))
done
# the fuzz smoke and the package test: one PASS or FAIL line per check
for log in "$b/tests/fuzz-smoke.log" "$b/tests/pkg.log"; do
	[ -f "$log" ] || continue
	fp=$(grep -c '^PASS' "$log" || true)
	ff=$(grep -c '^FAIL' "$log" || true)
	grep -m1 '^SKIP' "$log" | sed "s|^|${log#"$b"/}: |"
	[ "$ff" -gt 0 ] && { echo "---- ${log#"$b"/}"; grep -A20 '^FAIL' "$log" | head -60; }
	pass=$((pass + fp)); fail=$((fail + ff))
done
echo "$pass passed, $fail failed"
