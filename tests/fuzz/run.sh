#!/usr/bin/env bash
# run.sh BUILDDIR [SECONDS] -- build every libFuzzer target (tests/fuzz/
# fuzz_*.c) with clang, ASan and UBSan against the daemon's library
# sources, and run each for SECONDS (default 20, env FUZZ_SECONDS) from
# its seed corpus. Prints "PASS fuzz_x (N runs)" or "FAIL fuzz_x" with
# the crash report. Longer runs: FUZZ_SECONDS=3600 tests/fuzz/run.sh DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
b=${1:?usage: run.sh BUILDDIR [SECONDS]}
secs=${2:-${FUZZ_SECONDS:-20}}
out="$b/tests/fuzz"
mkdir -p "$out"
if ! command -v clang >/dev/null; then
	echo "SKIP fuzz: clang not installed"
	exit 0
fi
lib=() session=()
for f in "$top"/milter/*.c; do
	case $(basename "$f") in
	main.c|engine.c|msock.c|metrics.c|ctl.c) ;;	# the daemon's process and sockets
	ctl_proto.c) lib+=("$f") ;;	# the protocol, JSON strings (refshow.c)
	mxgatectl.c|ctl_*.c|logread.c) ;;	# the administrator's tool (main, zlib)
	milter.c|session.c|session_facts.c|session_explain.c|verdict.c) session+=("$f") ;;
	dns.c|dnsbl_lookup.c|spf_dns.c|auth.c|dkimv.c|keycache.c) session+=("$f") ;;	# libunbound, libopendkim
	store_redis.c|store_redis_admin.c|store_redis_cfg.c) ;;	# hiredis side
	*) lib+=("$f") ;;
	esac
done
compat=()
for f in "$top"/compat/*.c; do
	n=$(basename "$f" .c)
	grep -q "HAVE_$(tr '[:lower:]' '[:upper:]' <<<"$n") 1" "$b/config.h" || compat+=("$f")
done
# dmarc.c converts U-labels with libidn2
idn2=$(pkg-config --libs libidn2 2>/dev/null || echo -lidn2)
rc=0
for src in "$here"/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	bin="$out/$name"
	# the protocol state machine runs the whole session behind it
	extra=()
	if [ "$name" = fuzz_milter ]; then
		extra=("${session[@]}" $(pkg-config --cflags --libs opendkim 2>/dev/null ||
			echo -I/usr/include/opendkim -lopendkim) -lunbound)
	fi
	# (fuzz_ctl: the control protocol's framing, ctl_proto.c, is in lib)
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$b" -I"$top/milter" -I"$top/compat" -DSYSCONFDIR='"/etc"' \
		-o "$bin" "$src" "${lib[@]}" "${extra[@]}" "${compat[@]}" -lcrypto $idn2 -lpthread > "$bin.build.log" 2>&1; then
		echo "FAIL $name: does not build"; cat "$bin.build.log"; rc=1; continue
	fi
	corpus="$out/$name.corpus"
	mkdir -p "$corpus"
	[ -d "$here/corpus/$name" ] && cp -n "$here/corpus/$name"/* "$corpus/" 2>/dev/null
	if (cd "$out" && "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 "$corpus" > "$bin.run.log" 2>&1); then
		runs=$(grep -oE 'Done [0-9]+ runs' "$bin.run.log" | tail -n 1)
		echo "PASS $name (${runs:-ran} in ${secs}s)"
	else
		echo "FAIL $name"; tail -n 40 "$bin.run.log"; rc=1
	fi
done
exit $rc
