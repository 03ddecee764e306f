#!/usr/bin/env bash
# systemd_unit.sh -- the mxgate.service that make generates from
# packaging/systemd/mxgate.service.in: no placeholder left, the paths
# configure chose (sbindir, sysconfdir) in its Exec lines, and
# `systemd-analyze security --offline=true` rates its exposure 2.0 or
# less. Run by `make check` from the build directory (the unit is a
# check_DATA there); skipped (77) without systemd-analyze.
set -euo pipefail
unit=packaging/systemd/mxgate.service
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS systemd_unit: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL systemd_unit: $1"; }

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
[[ -f $unit ]] || { echo "FAIL systemd_unit: $unit was not generated"; exit 1; }
sbindir=$(sed -n 's/^sbindir = //p' Makefile)
sysconfdir=$(sed -n 's/^sysconfdir = //p' Makefile)
prefix=$(sed -n 's/^prefix = //p' Makefile)
exec_prefix=$(sed -n 's/^exec_prefix = //p' Makefile)
# the Makefile's values may name each other: ${prefix}/sbin
sbindir=${sbindir//\$\{exec_prefix\}/$exec_prefix}
sbindir=${sbindir//\$\{prefix\}/$prefix}
sysconfdir=${sysconfdir//\$\{prefix\}/$prefix}

if grep -q '@[a-z_]*@' "$unit"; then bad "placeholders left: $(grep -o '@[a-z_]*@' "$unit" | sort -u | tr '\n' ' ')"
else ok "no placeholder left"; fi
if grep -qx "ExecStart=$sbindir/mxgate -f -c $sysconfdir/mxgate/mxgate.conf" "$unit"; then
	ok "ExecStart has configure's paths ($sbindir, $sysconfdir)"
else bad "ExecStart: $(grep '^ExecStart=' "$unit")"; fi
if grep -q "^ExecReload=$sbindir/mxgate -n " "$unit"; then ok "a reload is checked with mxgate -n first"
else bad "ExecReload: $(grep '^ExecReload=' "$unit" | head -n 1)"; fi

out=$(systemd-analyze security --offline=true "$unit" 2>&1 || true)
level=$(sed -n 's/.*Overall exposure level for mxgate.service: \([0-9.]*\).*/\1/p' <<<"$out")
if [[ -n $level ]] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
	ok "systemd-analyze security: exposure $level (at most 2.0)"
else
	bad "systemd-analyze security: exposure ${level:-unknown}"
	printf '%s\n' "$out" | tail -n 40
fi
echo "systemd_unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
