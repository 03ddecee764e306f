#!/usr/bin/perl
# syslog.pl FILE -- a syslog of the package test's own: bind /dev/log
# (datagrams) and append every message to FILE, until killed. perl-base
# only: it runs inside the package test's minimal Debian root.
use strict;
use warnings;
use Socket;
use IO::Socket::UNIX;
use IO::Handle;

my $out = shift or die "usage: syslog.pl FILE\n";
unlink '/dev/log';
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => '/dev/log')
    or die "bind /dev/log: $!\n";
chmod 0666, '/dev/log';
open(my $fh, '>>', $out) or die "$out: $!\n";
$fh->autoflush(1);
while (defined $s->recv(my $msg, 8192)) {
	$msg =~ s/\n+\z//;
	print $fh "$msg\n";
}
