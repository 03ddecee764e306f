# shellcheck shell=bash
# rspamd_conf.sh -- a minimal rspamd configuration for bench_auth.sh:
# Debian's rspamd as a milter (its rspamd_proxy worker, milter = yes,
# scanning itself: self_scan) doing SPF, DKIM, DMARC, one DNS list and
# two rate limits, and nothing else.
#
# Sourced by tests/bench/bench_auth.sh (bash, `set -euo pipefail`);
# defines rspamd_conf and nothing else. The configuration is a file of its
# own that includes nothing of /etc/rspamd: rspamd loads a Lua module only
# when the configuration has a section for it, and a C module only when
# options.filters names it, so the modules running are exactly those
# configured here (spf, dkim, dmarc, rbl, ratelimit); no rules file
# (rules/rspamd.lua: regexp, header, MIME and HTML checks) is loaded and
# no milter header is added. DNS goes to one name server only (the
# harness's NSD), Redis (ratelimit's store) is the harness's h_redis.

# rspamd_conf DIR DNS REDIS MILTER COUNT HSCACHE -- write DIR/rspamd.conf:
# name server DNS (HOST:PORT), Redis at REDIS (HOST:PORT), the milter
# listening on MILTER (HOST:PORT) with COUNT proxy processes, compiled
# Hyperscan databases kept in HSCACHE (rspamd compiles the public suffix
# list into one at its first start: about a minute of CPU, which the
# cache saves on later starts); DIR/{db,log,run,tmp} are rspamd's and
# belong to _rspamd
rspamd_conf() {
	local d=$1 dns=$2 redis=$3 milter=$4 count=$5 hs=$6
	mkdir -p "$d/db" "$d/log" "$d/run" "$d/tmp" "$hs"
	chown _rspamd:_rspamd "$d/db" "$d/log" "$d/run" "$d/tmp" "$hs"
	cat >"$d/rspamd.conf" <<EOF
# written by tests/bench/rspamd_conf.sh: spf, dkim, dmarc, rbl, ratelimit only
options {
	pidfile = "$d/run/rspamd.pid";
	# C modules: DKIM only (chartable, regexp and fuzzy_check stay off)
	filters = "dkim";
	explicit_modules = [];
	dns {
		nameserver = ["$dns"];
		timeout = 1s;
		retransmits = 2;
		sockets = 16;
	}
	dns_max_requests = 64;
	cache_file = "$d/db/symbols.cache";
	hs_cache_dir = "$hs/";
	disable_hyperscan = true;
	dynamic_conf = "$d/db/rspamd_dynamic";
	stats_file = "$d/db/stats.ucl";
	tempdir = "$d/tmp";
	url_tld = "/usr/share/rspamd/effective_tld_names.dat";
	local_addrs = [192.168.0.0/16, 10.0.0.0/8, 172.16.0.0/12, fd00::/8, 169.254.0.0/16, fe80::/10];
	task_timeout = 8s;
	soft_reject_on_timeout = false;
}
# the Lua modules' directory: each one without a section here disables itself
modules {
	path = "\${PLUGINSDIR}";
}
logging {
	type = "file";
	filename = "$d/log/rspamd.log";
	# one line per scanned message (its symbols), not info's nine
	level = "notice";
	color = false;
}
worker "rspamd_proxy" {
	bind_socket = "$milter";
	milter = yes;
	timeout = 120s;
	count = $count;
	max_retries = 5;
	discard_on_reject = false;
	quarantine_on_reject = false;
	reject_message = "Spam message rejected";
	upstream "local" {
		default = yes;
		self_scan = yes;
	}
}
actions {
	reject = 15;
	add_header = 6;
	greylist = 4;
}
redis {
	servers = "$redis";
}
spf {
	spf_cache_size = 2k;
	spf_cache_expire = 1d;
}
dkim {
	dkim_cache_size = 2k;
	dkim_cache_expire = 1d;
	time_jitter = 6h;
	trusted_only = false;
	skip_multi = false;
}
dmarc {
}
# one DNS list: the client address in zen.spamhaus.org (NSD serves it)
rbl {
	rbls {
		zen {
			symbol = "RBL_ZEN";
			rbl = "zen.spamhaus.org";
			checks = ["from"];
			returncodes {
				RBL_ZEN_SBL = ["127.0.0.2", "127.0.0.3"];
				RBL_ZEN_XBL = ["127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"];
				RBL_ZEN_DROP = "127.0.0.9";
				RBL_ZEN_PBL = ["127.0.0.10", "127.0.0.11"];
			}
		}
	}
}
# two rate limits on the client address, far above what the bench sends
ratelimit {
	whitelisted_rcpts = "postmaster,mailer-daemon";
	rates {
		ip {
			bucket {
				burst = 1000000;
				rate = "1000000 / 1m";
			}
		}
		to_ip {
			bucket {
				burst = 1000000;
				rate = "1000000 / 1m";
			}
		}
	}
}
EOF
}
