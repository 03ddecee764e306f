#!/bin/sh
# bench_ratelimit.sh -- what a rate-limit check costs: compiles
# bench_ratelimit.c with cc -O2 against the sources (ratelimit.c, the
# memory store and the base modules; no configure needed) and prints ns
# per rl_check + commit for a hot key, and ns per operation and keys/s
# for a spray of distinct IPv6 keys into a bounded store, with the keys
# held and the peak RSS. Measures only: it asserts nothing.
#
#   tests/bench/bench_ratelimit.sh [SPRAY_KEYS [MAX_KEYS]]   (1000000 100000)
#
# CC and CFLAGS are honoured (default cc, -O2).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# a minimal config.h; the compat functions the C library lacks
printf '#define _GNU_SOURCE 1\n' >"$tmp/config.h"
compat=
printf '#include <string.h>\nint main(void){char b[2];return (int)strlcpy(b,"x",2);}\n' \
	>"$tmp/t.c"
if $cc -D_GNU_SOURCE -o "$tmp/t" "$tmp/t.c" 2>/dev/null; then
	printf '#define HAVE_STRLCPY 1\n#define HAVE_STRLCAT 1\n' >>"$tmp/config.h"
else
	compat="$top/compat/strlcpy.c $top/compat/strlcat.c"
fi
printf '#define HAVE_EXPLICIT_BZERO 1\n' >>"$tmp/config.h"

m=$top/milter
# shellcheck disable=SC2086
$cc ${CFLAGS:--O2} -I"$tmp" -I"$m" -I"$top/compat" -o "$tmp/bench_ratelimit" \
	"$here/bench_ratelimit.c" "$top/tests/unit/table_none.c" "$m/ratelimit.c" "$m/store_memory.c" \
	"$m/ipaddr.c" "$m/buf.c" "$m/xalloc.c" "$m/log.c" "$m/num.c" \
	$compat -lpthread
echo "bench_ratelimit: $(uname -m), $($cc --version | head -1)"
"$tmp/bench_ratelimit" "$@"
