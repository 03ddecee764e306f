#!/usr/bin/perl
# optneg.pl SOCKET -- connect to a milter on a unix socket as an MTA
# does, offer SMFIC_OPTNEG (protocol version 6, every action and protocol
# bit) and exit 0 when the answer is an SMFIC_OPTNEG frame. perl-base
# only: it runs inside the package test's minimal Debian root.
use strict;
use warnings;
use Socket;
use IO::Socket::UNIX;

my $path = shift or die "usage: optneg.pl SOCKET\n";
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path)
    or die "connect $path: $!\n";
my $body = pack('a N N N', 'O', 6, 0x1ff, 0x1fffff);
syswrite($s, pack('N', length $body) . $body) or die "write: $!\n";

# readn N -- exactly N bytes, or die
sub readn {
	my ($n) = @_;
	my $buf = '';
	local $SIG{ALRM} = sub { die "no answer within 10 s\n" };
	alarm 10;
	while (length $buf < $n) {
		my $got = sysread($s, $buf, $n - length $buf, length $buf);
		die "connection closed after " . length($buf) . " bytes\n" unless $got;
	}
	alarm 0;
	return $buf;
}
my $len = unpack('N', readn(4));
die "bad frame length $len\n" if $len < 13 || $len > 65536;
my $frame = readn($len);
die "answer is not OPTNEG\n" unless substr($frame, 0, 1) eq 'O';
printf "OPTNEG answered: version %u, actions 0x%x, protocol 0x%x\n",
    unpack('N N N', substr($frame, 1, 12));
exit 0;
