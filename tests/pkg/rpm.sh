#!/usr/bin/env bash
# rpm.sh -- build the RPM from `make dist`'s tarball with the spec the
# tarball ships (packaging/rpm/mxgate.spec) and check what it carries:
#   tests/pkg/rpm.sh mxgate-VERSION.tar.gz
#
# In a fresh _topdir (a temporary directory, removed at exit): rpmbuild -bb
# --nodeps (the build dependencies are Debian's -dev packages here, which
# rpm does not know), rpmlint on the RPM and the spec, then rpm -qp: the
# binary, the unit, the tmpfiles.d entry, the manual pages, the examples,
# the conffiles (config(noreplace), flags "cn"), owners and modes, the
# scriptlets (the user made in %pre), the version equal to the tarball's.
# One line per check, "PASS rpm: WHAT" or "FAIL rpm: WHAT (detail)", then
# "rpm: N passed, N failed"; exit 1 when a check failed, 77 without
# rpmbuild. rpmbuild's output goes to a log; on failure its last 40 lines
# are printed.
set -euo pipefail

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS rpm: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL rpm: $1${2:+ ($2)}"; }
# finish -- the summary line and the exit status
finish() {
	echo "rpm: $pass passed, $fail failed"
	[ "$fail" -eq 0 ] || exit 1
	exit 0
}

[[ $# -eq 1 ]] || { echo "usage: $0 mxgate-VERSION.tar.gz" >&2; exit 2; }
command -v rpmbuild >/dev/null || { echo "SKIP: no rpmbuild"; exit 77; }
[[ -f $1 ]] || { bad "tarball" "$1 not found"; finish; }
tarball=$(realpath "$1")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxgate-rpm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
top=$tmp/top
mkdir -p "$top/SOURCES" "$tmp/tmp" "$tmp/root"
# rpm keeps its database in ~/.rpmdb (Debian's %_dbpath), rpmlint its
# caches under ~: both stay in $tmp, not in the caller's home
export HOME=$tmp

# --- the tarball's version and the spec inside it ------------------------
tar -tzf "$tarball" >"$tmp/list"
dir=$(sed -n '1{s|/.*||;p}' "$tmp/list")
name_ver=$(basename "$tarball" .tar.gz)
name_ver=${name_ver#mxgate-}
conf_ver=$(tar -xzOf "$tarball" "$dir/configure" |
	sed -n "s/^PACKAGE_VERSION='\(.*\)'\$/\1/p")
if [[ -n $conf_ver && $conf_ver == "$name_ver" && $dir == "mxgate-$conf_ver" ]]; then
	ok "tarball version $conf_ver (configure's AC_INIT, file and directory name)"
else
	bad "tarball version" "configure '$conf_ver', file '$name_ver', directory '$dir'"
fi
version=$conf_ver

spec=$tmp/mxgate.spec
if tar -xzOf "$tarball" "$dir/packaging/rpm/mxgate.spec" >"$spec" 2>/dev/null; then
	ok "the tarball ships packaging/rpm/mxgate.spec"
else
	bad "the tarball ships packaging/rpm/mxgate.spec" "not in $(basename "$tarball")"
	finish
fi
spec_ver=$(rpmspec -q --srpm --qf '%{VERSION}\n' "$spec" 2>/dev/null || true)
if [[ -n $spec_ver && $spec_ver == "$version" ]]; then
	ok "the spec's Version $spec_ver is the tarball's"
else
	bad "the spec's Version is the tarball's" "spec '$spec_ver', tarball '$version'"
fi

# --- build ----------------------------------------------------------------
cp "$tarball" "$top/SOURCES/"
defs=(--define "_topdir $top" --define "_tmppath $tmp/tmp")
# Debian 12's brp-compress reads with `read -d ''` under #!/bin/sh, which
# dash refuses: manual pages would stay uncompressed. It is bash's code:
# run it with bash.
compress=$(rpm --eval '%{?__brp_compress}')
[[ -z $compress ]] || defs+=(--define "__brp_compress bash $compress")
start=$SECONDS
if rpmbuild -bb --nodeps "${defs[@]}" "$spec" >"$tmp/rpmbuild.log" 2>&1; then
	ok "rpmbuild -bb --nodeps ($((SECONDS - start)) s)"
else
	bad "rpmbuild -bb --nodeps" "exit $?, last 40 lines of its log below"
	tail -n 40 "$tmp/rpmbuild.log"
	finish
fi
mapfile -t rpms < <(find "$top/RPMS" -name '*.rpm')
if [[ ${#rpms[@]} -ne 1 ]]; then
	bad "one binary RPM" "found ${#rpms[@]}: ${rpms[*]##*/}"
	finish
fi
pkg=${rpms[0]}
echo "rpm: ${pkg##*/}, $(stat -c %s "$pkg") bytes"

# --- rpmlint --------------------------------------------------------------
# Debian's rpmlint has no distribution's configuration. The spec is
# Fedora's kind, so Fedora's rpmlint policy applies where it differs from
# the defaults (rpmlint's configs/Fedora): gzip for manual pages; its
# checks of tmpfiles.d entries and of units beside init scripts (and of
# scriptlets for bashisms when checkbashisms is installed); the build
# system signs and names the packager; no Group or BuildRoot tags; ghost
# files made by tmpfiles.d. One filter is mxgate's own: the state
# directory is 0750 on purpose (StateDirectoryMode= in the unit).
checks='"TmpFilesCheck", "SysVInitOnSystemdCheck"'
if command -v checkbashisms >/dev/null; then checks+=', "BashismsCheck"'; fi
printf 'CompressExtension = "gz"\nChecks = [%s]\n' "$checks" >"$tmp/lint-all.toml"
cat "$tmp/lint-all.toml" - >"$tmp/lint.toml" <<'EOF'
Filters = [
    ' no-signature$',
    ' no-packager-tag$',
    ' no-group-tag$',
    ' no-buildroot-tag$',
    ' postin-without-ghost-file-creation ',
    ' non-standard-dir-perm /var/lib/mxgate 750$',
]
EOF
if ! command -v rpmlint >/dev/null; then
	bad "rpmlint" "not installed (Debian: rpmlint)"
else
	rc=0
	rpmlint -c "$tmp/lint.toml" "$pkg" "$spec" >"$tmp/lint.log" 2>&1 || rc=$?
	rpmlint -c "$tmp/lint-all.toml" "$pkg" "$spec" >"$tmp/lint-all.log" 2>&1 || true
	grep -E '^[^ ]+: [EW]: ' "$tmp/lint.log" >"$tmp/lint.msgs" || true
	sed 's/^/  /' "$tmp/lint.msgs"
	# what the filters took out, so that it stays visible
	grep -E '^[^ ]+: [EW]: ' "$tmp/lint-all.log" | grep -vxFf "$tmp/lint.msgs" |
		sed 's/^/  filtered: /' || true
	summary=$(grep -E 'packages and [0-9]+ specfiles checked' "$tmp/lint.log" |
		sed 's/^[ =]*//; s/[ =]*$//' || true)
	echo "rpmlint: ${summary:-no summary line}"
	errors=$(sed -n 's/.*checked; \([0-9]*\) errors.*/\1/p' <<<"$summary")
	if [[ $rc -eq 0 && $errors == 0 ]]; then
		ok "rpmlint: no errors"
	else
		bad "rpmlint: no errors" "exit $rc, ${errors:-?} errors"
		tail -n 20 "$tmp/lint.log"
	fi
fi

# --- what the RPM carries -------------------------------------------------
rpm -qlp "$pkg" >"$tmp/files"
# has PATH_REGEX -- the file list holds a line matching it whole
has() { grep -qxE "$1" "$tmp/files"; }
# check_files WHAT REGEX... -- PASS when every one is in the RPM
check_files() {
	local what=$1 missing=() re
	shift
	for re in "$@"; do has "$re" || missing+=("$re"); done
	if [[ ${#missing[@]} -eq 0 ]]; then ok "$what"
	else bad "$what" "missing ${missing[*]}"; fi
}
check_files "the binaries /usr/sbin/mxgate, /usr/sbin/mxgatectl" \
	/usr/sbin/mxgate /usr/sbin/mxgatectl
check_files "the unit /usr/lib/systemd/system/mxgate.service" \
	/usr/lib/systemd/system/mxgate.service
check_files "the tmpfiles.d entry /usr/lib/tmpfiles.d/mxgate.conf" \
	/usr/lib/tmpfiles.d/mxgate.conf
check_files "the manual pages mxgate.8, mxgatectl.8, mxgate.conf.5, mxgate.rules.5" \
	'/usr/share/man/man8/mxgate\.8(\.gz|\.bz2|\.xz|\.zst)?' \
	'/usr/share/man/man8/mxgatectl\.8(\.gz|\.bz2|\.xz|\.zst)?' \
	'/usr/share/man/man5/mxgate\.conf\.5(\.gz|\.bz2|\.xz|\.zst)?' \
	'/usr/share/man/man5/mxgate\.rules\.5(\.gz|\.bz2|\.xz|\.zst)?'
check_files "README.md and the examples in /usr/share/doc/mxgate" \
	/usr/share/doc/mxgate/README.md \
	/usr/share/doc/mxgate/examples/hosting.rules \
	/usr/share/doc/mxgate/examples/customers.map \
	/usr/share/doc/mxgate/examples/strict-auth.rules
check_files "the licence" '/usr/share/licenses/mxgate[^/]*/LICENSE'

# the conffiles: exactly the two, both config(noreplace)
conffiles=$(rpm -qp --configfiles "$pkg" | sort | tr '\n' ' ')
if [[ $conffiles == "/etc/mxgate/default.rules /etc/mxgate/mxgate.conf " ]]; then
	ok "conffiles: /etc/mxgate/default.rules /etc/mxgate/mxgate.conf"
else
	bad "conffiles are the two in /etc/mxgate" "got: ${conffiles:-none}"
fi
rpm -qp --qf '[%{FILENAMES}|%{FILEFLAGS:fflags}|%{FILEMODES:perms}|%{FILEUSERNAME}:%{FILEGROUPNAME}\n]' \
	"$pkg" >"$tmp/attrs"
# fattr PATH -- "FLAGS PERMS OWNER:GROUP" of PATH in the RPM (FLAGS may be
# empty: "-" then)
fattr() { awk -F'|' -v p="$1" '$1 == p { print ($2 == "" ? "-" : $2), $3, $4 }' "$tmp/attrs"; }
# check_attr PATH WANT WHAT -- PASS when fattr PATH is WANT
check_attr() {
	local got
	got=$(fattr "$1")
	if [[ $got == "$2" ]]; then ok "$1: $3"
	else bad "$1: $3" "got '${got:-not in the RPM}'"; fi
}
check_attr /etc/mxgate/mxgate.conf "cn -rw-r--r-- root:root" "config(noreplace) (cn), 0644 root"
check_attr /etc/mxgate/default.rules "cn -rw-r--r-- root:root" "config(noreplace) (cn), 0644 root"
check_attr /etc/mxgate "- drwxr-xr-x root:root" "the package's, 0755 root"
check_attr /var/lib/mxgate "- drwxr-x--- mxgate:mxgate" "the package's, 0750 mxgate:mxgate"
check_attr /run/mxgate "g drwxr-xr-x mxgate:mxgate" "%ghost, 0755 mxgate:mxgate"

# the unit and the tmpfiles.d entry as installed (configure's paths)
(cd "$tmp/root" && rpm2cpio "$pkg" | cpio -idm --quiet)
unit=$tmp/root/usr/lib/systemd/system/mxgate.service
if grep -qx 'ExecStart=/usr/sbin/mxgate -f -c /etc/mxgate/mxgate.conf' "$unit" 2>/dev/null; then
	ok "the unit starts /usr/sbin/mxgate with /etc/mxgate/mxgate.conf"
else
	bad "the unit starts /usr/sbin/mxgate with /etc/mxgate/mxgate.conf" \
		"$(grep '^ExecStart=' "$unit" 2>/dev/null || echo 'no unit')"
fi
tmpf=$tmp/root/usr/lib/tmpfiles.d/mxgate.conf
if grep -qx 'd /run/mxgate 0755 mxgate mxgate -' "$tmpf" 2>/dev/null &&
	grep -qx 'd /var/lib/mxgate 0750 mxgate mxgate -' "$tmpf"; then
	ok "tmpfiles.d: /run/mxgate 0755 and /var/lib/mxgate 0750, mxgate's"
else
	bad "tmpfiles.d: /run/mxgate 0755 and /var/lib/mxgate 0750, mxgate's" \
		"$(grep -v '^#' "$tmpf" 2>/dev/null | tr '\n' ';' || echo 'no file')"
fi

# --- scriptlets -------------------------------------------------------------
rpm -qp --scripts "$pkg" >"$tmp/scripts"
missing=()
for s in preinstall postinstall preuninstall postuninstall; do
	grep -q "^$s scriptlet" "$tmp/scripts" || missing+=("$s")
done
if [[ ${#missing[@]} -eq 0 ]]; then ok "scriptlets: %pre, %post, %preun, %postun"
else bad "scriptlets: %pre, %post, %preun, %postun" "missing ${missing[*]}"; fi
# script TAG -- one scriptlet's body (PREIN, POSTIN, PREUN, POSTUN)
script() { rpm -qp --qf "%{$1}" "$pkg"; }
# check_script WHAT TAG REGEX... -- PASS when the scriptlet matches each
check_script() {
	local what=$1 tag=$2 body missing=() re
	shift 2
	body=$(script "$tag")
	for re in "$@"; do grep -qE -- "$re" <<<"$body" || missing+=("$re"); done
	if [[ ${#missing[@]} -eq 0 ]] && sh -n <<<"$body"; then ok "$what"
	else bad "$what" "no match for: ${missing[*]:-(sh -n failed)}"; fi
}
check_script "%pre creates the group and the user mxgate (system, home /var/lib/mxgate, nologin)" \
	PREIN 'getent group mxgate' 'groupadd -r mxgate' 'getent passwd mxgate' \
	'useradd -r .*-d /var/lib/mxgate' '-s [^ ]*/nologin' 'mxgate$'
check_script "%post enables per preset and applies tmpfiles.d" POSTIN \
	'(preset|install-system-units) mxgate\.service' \
	'systemd-tmpfiles --create mxgate\.conf'
# shellcheck disable=SC2016 # a literal $1 in the scriptlet
check_script "%preun disables and stops on erase" PREUN \
	'\$1"? -eq 0' '(disable|remove-system-units) mxgate\.service'
check_script "%postun restarts on upgrade" POSTUN \
	'(try-restart|mark-restart-system-units) mxgate\.service'

# --- the version ------------------------------------------------------------
got=$(rpm -qp --qf '%{VERSION}' "$pkg")
if [[ $got == "$version" ]]; then ok "the RPM's version $got is the tarball's"
else bad "the RPM's version is the tarball's" "RPM '$got', tarball '$version'"; fi

finish
