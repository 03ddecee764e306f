#!/bin/sh
# devlog.sh DIR SOCKET CMD... -- exec CMD where /dev/log is SOCKET.
#
# Run through `unshare -m --propagation private` (lib.sh does): every mount
# below lives in that private mount namespace and vanishes with its last
# process; nothing on the host changes. /dev is devtmpfs, one instance
# shared with the host, so nothing may be created in it: the host's /dev
# is bound at DIR (an empty directory of the harness), a small tmpfs takes
# its place at /dev with the few device nodes a daemon uses bound from
# DIR, and /dev/log is an empty file of that tmpfs with SOCKET bound onto
# it.
set -eu
dir=$1 sock=$2
shift 2
mount --rbind /dev "$dir"
mount -t tmpfs -o mode=0755,size=64k mxgate-dev /dev
for n in null zero full random urandom tty; do
	[ -e "$dir/$n" ] || continue
	: >"/dev/$n"
	mount --bind "$dir/$n" "/dev/$n"
done
mkdir /dev/shm /dev/pts
mount --rbind "$dir/shm" /dev/shm
mount --rbind "$dir/pts" /dev/pts
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
: >/dev/log
mount --bind "$sock" /dev/log
exec "$@"
