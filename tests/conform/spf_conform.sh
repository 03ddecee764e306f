#!/bin/sh
# spf_conform.sh -- run the RFC 7208 test suite (../shared/data/spf beside
# the source tree) through mxgate's SPF code and DNS engine. Skipped
# (exit 77), saying so, when the suite is absent.
srcdir=${srcdir:-.}
suite=${SPF_SUITE:-$srcdir/../shared/data/spf/rfc7208-tests.yml}
if [ ! -r "$suite" ]; then
	echo "skipped: RFC 7208 suite not found at $suite"
	exit 77
fi
py=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import yaml' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
	echo "skipped: python3 has no yaml module (Debian: python3-yaml)"
	exit 77
fi
flat=$(mktemp) || exit 99
trap 'rm -f "$flat"' EXIT
"$py" "$srcdir/tests/conform/spf_suite.py" "$suite" >"$flat" || exit 99
./tests/conform/spf_conform <"$flat"
