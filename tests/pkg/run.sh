#!/usr/bin/env bash
# run.sh -- the package test: from the release tarball to a purged
# install on a throwaway Debian 12 root.
#
#   tests/pkg/run.sh [BUILDDIR]
#
# BUILDDIR is a configured build tree of this source (default: a fresh
# one in a temporary directory). Steps, each printed as "PASS pkg: ..." or
# "FAIL pkg: ...":
#   1. make distcheck (MXGATE_E2E=skip: the end-to-end suite runs on the
#      main build; PKG_DISTCHECK=no: plain make dist) -> the tarball
#   2. dpkg-buildpackage -us -uc -b in the unpacked tarball, then lintian
#      on the result: no error, no warning
#   3. the RPM from the same tarball (tests/pkg/rpm.sh)
#   4. the same source rebuilt as a newer version whose default.rules
#      changed, for the upgrade
#   5. a Debian 12 root made by mmdebstrap from this machine's apt sources
#      (the package's dependencies, systemd and postfix), then inside it,
#      in private network, mount and pid namespaces (tests/pkg/inroot.sh):
#      install, user, configuration, the daemon as the unit starts it,
#      reload, upgrade, remove, purge
# Ends with "pkg: N passed, N failed"; exit 1 if any failed. Needs root,
# dpkg-buildpackage, lintian, mmdebstrap and unshare (else "SKIP", 77).
# Everything is made under one temporary directory, removed at the end
# (PKG_KEEP=1 keeps it); nothing touches the host's /etc, users or
# packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export LC_ALL=C

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (mmdebstrap, chroot, namespaces)"
for c in dpkg-buildpackage lintian mmdebstrap unshare; do
	command -v "$c" >/dev/null || skip "no $c"
done

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS pkg: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL pkg: $1"; }
# step WHAT LOG CMD... -- CMD's output to LOG; its tail on failure
step() {
	local what=$1 log=$2; shift 2
	local t0=$SECONDS
	if "$@" >"$log" 2>&1; then
		ok "$what ($((SECONDS - t0)) s)"
	else
		bad "$what ($((SECONDS - t0)) s, log $log):"
		tail -n 40 "$log" | sed 's/^/    /'
		return 1
	fi
}
finish() {
	echo "pkg: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

tmp=$(mktemp -d /var/tmp/mxgate-pkg.XXXXXX)
root=$tmp/root
# the root's mounts live only in the namespace of step 5; refuse to
# remove a directory something is still mounted in
cleanup() {
	if [[ ${PKG_KEEP:-} == 1 ]]; then
		echo "kept: $tmp"
	elif findmnt -rn -o TARGET | grep -q "^$tmp/"; then
		echo "not removing $tmp: something is mounted in it" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# --- 1. the tarball ---------------------------------------------------------
b=${1:-}
if [[ -z $b ]]; then
	b=$tmp/build
	mkdir -p "$b"
	[[ -x $top/configure ]] || (cd "$top" && ./bootstrap) >/dev/null
	(cd "$b" && "$top/configure" -q) >"$tmp/configure.log" 2>&1 ||
		{ bad "configure (log $tmp/configure.log)"; finish; }
fi
b=$(cd "$b" && pwd)
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$b/Makefile")
tarball=$b/mxgate-$version.tar.gz
rm -f "$tarball"
if [[ ${PKG_DISTCHECK:-yes} == no ]]; then
	step "make dist" "$tmp/dist.log" make -C "$b" dist || finish
else
	step "make distcheck (MXGATE_E2E=skip)" "$tmp/distcheck.log" \
	    env MXGATE_E2E=skip make -C "$b" -j2 distcheck \
	    DISTCHECK_CONFIGURE_FLAGS=--enable-werror || finish
fi
[[ -f $tarball ]] || { bad "no $tarball"; finish; }
echo "tarball: $(basename "$tarball"), $(stat -c %s "$tarball") bytes"

# --- 2. the .deb from the tarball, lintian ------------------------------------
# unpack TARBALL DIR -- the tarball unpacked as DIR/mxgate-VERSION
unpack() { mkdir -p "$2" && tar -xzf "$1" -C "$2"; }
unpack "$tarball" "$tmp/deb1"
src1=$tmp/deb1/mxgate-$version
step "dpkg-buildpackage -us -uc -b (tests included)" "$tmp/deb1.log" \
    env -C "$src1" DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b || finish
deb1=$(echo "$tmp"/deb1/mxgate_*_*.deb)
echo "deb: $(basename "$deb1"), $(stat -c %s "$deb1") bytes"
debver=$(dpkg-deb -f "$deb1" Version)
if [[ $debver == "$version" ]]; then ok "package version $debver is configure's"
else bad "package version $debver, configure says $version"; fi
# (its temporary files and spelling dictionaries stay in $tmp)
HOME=$tmp TMPDIR=$tmp lintian --allow-root -I "$tmp"/deb1/mxgate_*.changes \
    >"$tmp/lintian.log" 2>&1 || true
sed 's/^/    lintian: /' "$tmp/lintian.log"
if grep -qE '^[EW]: ' "$tmp/lintian.log"; then
	bad "lintian: $(grep -cE '^E: ' "$tmp/lintian.log") errors, $(grep -cE '^W: ' "$tmp/lintian.log") warnings"
else
	ok "lintian: no error, no warning"
fi

# --- 3. the RPM from the tarball --------------------------------------------------
if [[ -f $here/rpm.sh ]]; then
	rc=0
	bash "$here/rpm.sh" "$tarball" >"$tmp/rpm.log" 2>&1 || rc=$?
	# its own PASS/FAIL lines count here
	grep -E '^(PASS|FAIL|SKIP)' "$tmp/rpm.log" || true
	pass=$((pass + $(grep -c '^PASS' "$tmp/rpm.log" || true)))
	fail=$((fail + $(grep -c '^FAIL' "$tmp/rpm.log" || true)))
	grep -vE '^(PASS|FAIL|SKIP)' "$tmp/rpm.log" | sed 's/^/    /' | tail -n 20
	if [[ $rc -ne 0 && $rc -ne 77 ]] && ! grep -q '^FAIL' "$tmp/rpm.log"; then
		bad "rpm.sh exited $rc"
	fi
fi

# --- 4. the upgrade: the same source as a newer version ---------------------------
version2=$version+pkgtest1
{
	printf 'mxgate (%s) unstable; urgency=medium\n\n' "$version2"
	printf '  * Rebuilt by tests/pkg/run.sh to test an upgrade.\n\n'
	printf ' -- %s  %s\n\n' "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$src1/debian/changelog" | head -n 1)" \
	    "$(date -R)"
	cat "$src1/debian/changelog"
} >"$tmp/changelog"
cp "$tmp/changelog" "$src1/debian/changelog"
printf '\n# rebuilt for the package test\n' >>"$src1/rules/default.rules"
step "rebuilt as $version2 (default.rules changed)" "$tmp/deb2.log" \
    env -C "$src1" DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b -nc || finish
mkdir -p "$tmp/deb2"
mv "$tmp"/deb1/mxgate_"$version2"_*.deb "$tmp/deb2/"

# --- 5. a throwaway Debian 12 root ------------------------------------------------
# its packages: the .deb's dependencies (first of each alternative), systemd
# (as on any Debian 12 server: tmpfiles, the unit's enable link) and postfix
# (its chroot directory); the downloaded .debs stay in the root's apt cache
# (inroot.sh reinstalls postfix from there, with no network)
deps=$(dpkg-deb -f "$deb1" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' |
    grep -v '^$' | paste -sd, -)
# this machine's apt sources and its Acquire settings (proxy, snapshot dates)
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
	[[ -s $f ]] && grep -qE '^[[:space:]]*(deb|Types:)' "$f" && sources+=("$f")
done
[[ ${#sources[@]} -gt 0 ]] || { bad "no apt sources on this machine"; finish; }
aptopts=()
while IFS= read -r line; do
	aptopts+=(--aptopt="$line")
done < <(apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|https?::proxy) ')
step "mmdebstrap bookworm ($deps,systemd,postfix; ${sources[*]})" "$tmp/mmdebstrap.log" \
    mmdebstrap --mode=root --variant=apt --skip=cleanup/apt/cache "${aptopts[@]}" \
    --include="$deps,systemd,postfix" bookworm "$root" "${sources[@]}" || finish

mkdir -p "$root/pkgtest/deb1" "$root/pkgtest/deb2"
cp "$deb1" "$root/pkgtest/deb1/"
cp "$tmp"/deb2/mxgate_*.deb "$root/pkgtest/deb2/"
cp "$here/inroot.sh" "$here/optneg.pl" "$here/syslog.pl" "$root/pkgtest/"
# private namespaces: loopback only, mounts that vanish with it, and every
# process it starts ended when its first process ends
rc=0
unshare --net --mount --pid --fork --kill-child -- bash -c '
	set -e
	root=$1
	ip link set lo up 2>/dev/null || true
	mount -t proc proc "$root/proc"
	mount -t tmpfs -o mode=0755 tmpfs "$root/run"
	mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
	mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
	for n in null zero full random urandom; do
		touch "$root/dev/$n"
		mount --bind "/dev/$n" "$root/dev/$n"
	done
	ln -s /proc/self/fd "$root/dev/fd"
	exec chroot "$root" /bin/bash /pkgtest/inroot.sh
' inroot "$root" >"$tmp/inroot.log" 2>&1 || rc=$?
grep -E '^(PASS|FAIL)' "$tmp/inroot.log" || true
pass=$((pass + $(grep -c '^PASS' "$tmp/inroot.log" || true)))
fail=$((fail + $(grep -c '^FAIL' "$tmp/inroot.log" || true)))
if [[ $rc -ne 0 ]]; then
	grep -q '^FAIL' "$tmp/inroot.log" || bad "inroot.sh exited $rc"
	grep -vE '^(PASS|FAIL)' "$tmp/inroot.log" | tail -n 20 | sed 's/^/    /'
	tail -n 60 "$root/pkgtest/steps.log" 2>/dev/null | sed 's/^/    steps.log: /'
	sed 's/^/    syslog: /' "$root/pkgtest/syslog.log" 2>/dev/null | tail -n 20
fi
finish
