#!/usr/bin/env bash
# run.sh -- run the mxgate end-to-end tests (real Postfix, real mxgate).
#
#   run.sh [t_NAME.sh ...]        (default: every t_*.sh beside this file)
#
# Needs root, `ip netns`, postfix and python3; otherwise prints
# "SKIP: reason" and exits 77 (automake's "skipped"). MXGATE_E2E=skip
# skips them too (package builds: debian/rules, the RPM's %check). Each test file gets a
# fresh harness (namespace, Postfix, mxgate; see lib.sh) and prints one
# "PASS name" / "FAIL name: detail" line per check. At the end:
# "e2e: N passed, N failed"; exit 1 when a check failed, a test file
# failed without saying why, or anything was left behind (processes,
# namespaces, /etc/netns entries, temporary files).
#
# Env: MXGATE (default ../../milter/mxgate from the current directory,
# i.e. the build tree when run by `make check`), E2E_KEEP=1 keeps the
# temporary directories for a post-mortem (the leftover check then skips
# them), E2E_TIMEOUT (seconds one test file may take, default 300).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export PATH=/usr/sbin:/sbin:$PATH

skip() { echo "SKIP: $*"; exit 77; }

[[ ${MXGATE_E2E:-} != skip ]] || skip "MXGATE_E2E=skip"
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, Postfix)"
command -v ip >/dev/null || skip "no ip(8) (iproute2)"
command -v postfix >/dev/null || skip "no postfix"
command -v python3 >/dev/null || skip "no python3"
ip netns list >/dev/null 2>&1 || skip "ip netns does not work here"

if [[ -z ${MXGATE:-} ]]; then
	MXGATE=$PWD/milter/mxgate
	[[ -x $MXGATE ]] || MXGATE=$PWD/../../milter/mxgate
fi
[[ -x $MXGATE ]] || skip "no mxgate binary (set MXGATE)"
MXGATE=$(cd "$(dirname "$MXGATE")" && pwd)/$(basename "$MXGATE")
export MXGATE
# mxgatectl: beside mxgate unless named
[[ -n ${MXGATECTL:-} ]] || MXGATECTL=$(dirname "$MXGATE")/mxgatectl
export MXGATECTL

tmp=$(mktemp -d /tmp/mxe2e-run.XXXXXX)
chmod 755 "$tmp"          # Postfix and nobody must reach the harness directories
export E2E_TMP=$tmp
export E2E_NS_PREFIX="mxe2e-$$-"
trap 'rm -rf "$tmp"' EXIT

if [[ $# -gt 0 ]]; then
	tests=("$@")
else
	tests=("$here"/t_*.sh)
fi

pass=0 failed=0
for t in "${tests[@]}"; do
	[[ -f $t ]] || t=$here/$(basename "$t")
	name=$(basename "$t" .sh)
	start=$SECONDS
	rc=0
	# a hung test is stopped (its trap still tears the harness down)
	timeout -k 60 "${E2E_TIMEOUT:-300}" bash "$t" >"$tmp/$name.out" \
	    2>"$tmp/$name.err" || rc=$?
	if [[ $rc -eq 124 ]]; then
		echo "FAIL $name: timed out after ${E2E_TIMEOUT:-300} s"
	fi
	grep -E '^(PASS|FAIL) ' "$tmp/$name.out" || true
	p=$(grep -c '^PASS ' "$tmp/$name.out" || true)
	f=$(grep -c '^FAIL ' "$tmp/$name.out" || true)
	if [[ $rc -eq 77 ]]; then
		echo "SKIP $name: $(grep -m1 '^SKIP' "$tmp/$name.out" || true)"
		continue
	fi
	if [[ $rc -eq 124 ]]; then
		f=$((f + 1))
	elif [[ $rc -ne 0 && $f -eq 0 ]]; then
		echo "FAIL $name: exited $rc: $(tail -n 3 "$tmp/$name.err" | tr '\n' '|')"
		f=1
	fi
	if [[ $f -gt 0 ]]; then
		sed 's/^/    /' "$tmp/$name.err" | tail -n 20 >&2
	fi
	pass=$((pass + p))
	failed=$((failed + f))
	echo "# $name: $((SECONDS - start))s" >&2
done

# Nothing may remain: processes working in or started on our temporary
# directories (Postfix runs in its queue directory, mxgate gets -c $H/...),
# namespaces, /etc/netns entries, temporary directories.
left=()
for d in /proc/[0-9]*; do
	cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
	cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || cmd=
	if [[ $cwd == "$tmp"/* || $cmd == *"$tmp"/* ]]; then
		left+=("pid ${d#/proc/} ($(cat "$d/comm" 2>/dev/null))")
	fi
done
while read -r ns _; do
	[[ $ns == "$E2E_NS_PREFIX"* ]] && left+=("namespace $ns")
done < <(ip netns list 2>/dev/null)
for d in /etc/netns/"$E2E_NS_PREFIX"*; do
	[[ -e $d ]] && left+=("$d")
done
if [[ ${E2E_KEEP:-0} != 1 ]]; then
	for d in "$tmp"/mxe2e.*; do
		[[ -e $d ]] && left+=("$d")
	done
fi
if [[ ${#left[@]} -eq 0 ]]; then
	echo "PASS cleanup: nothing left behind"
	pass=$((pass + 1))
else
	echo "FAIL cleanup: left behind: ${left[*]}"
	failed=$((failed + 1))
fi
if [[ ${E2E_KEEP:-0} == 1 ]]; then
	trap - EXIT
	echo "# kept $tmp" >&2
fi

echo "e2e: $pass passed, $failed failed"
[[ $failed -eq 0 ]]
