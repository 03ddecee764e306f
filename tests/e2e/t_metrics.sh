#!/usr/bin/env bash
# t_metrics -- the Prometheus metrics on metrics_listen, scraped inside
# the namespace and parsed with prometheus_client's exposition parser
# (promscrape.py): the families exist with their types; the decision
# counter of a rule goes up by exactly the number of decisions the test
# caused through Postfix (and no other rule's does); the DNS list's query
# counter and the stage latency histograms rise by the connections and
# commands sent; /other is 404, a POST 405, an oversized request line
# 400, and the daemon serves the next scrape.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
h_setup

N=3
URL=http://127.0.0.1:9357

# the Python that has Debian's prometheus_client (pyenv's may not)
PY=python3
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$p
		break
	fi
done

{
	zone_head bl.example
	echo '10.113.0.203 A 127.0.0.2'
} >"$H/dns/bl.example.zone"

cat >"$H/rules/test.rules" <<'RULES'
dnsbl bl {
	zone bl.example
	answer 127.0.0.2 label SBL weight 4
	public_name "Example Block List"
}
rule listed at rcpt {
	if dnsbl.score >= 4
	tempfail 451 4.7.1 "${client_ip} is listed on ${dnsbl.names}"
}
rule big at rcpt {
	if rcpt_domain is "big.test"
	reject 550 5.7.1 "no"
}
RULES
h_mxgate_conf "metrics_listen = 127.0.0.1:9357"
h_netns
h_dns
h_postfix_up
h_mxgate_start

# scrape FILE -- the parsed scrape into FILE (false when it failed)
scrape() { nsx "$PY" "$E2E_DIR/promscrape.py" get "$URL/metrics" >"$1"; }

# val FILE SAMPLE -- a sample's value (0 when absent)
val() {
	awk -v s="$2" '$1 == "sample" && $2 == s { print $3; f = 1 }
	    END { if (!f) print 0 }' "$1"
}

# sum FILE PREFIX -- the sum of the samples whose name{labels starts so
sum() {
	awk -v p="$2" '$1 == "sample" && index($2, p) == 1 { t += $3 }
	    END { print t + 0 }' "$1"
}

send() {	# SOURCE RCPT
	{
		echo "cmd EHLO client.test"
		echo "cmd MAIL FROM:<s@client.test>"
		echo "cmd RCPT TO:<$2>"
		echo "cmd DATA"
		echo "data Subject: x\\r\\n\\r\\nbody"
		echo "cmd QUIT"
	} | smtp 127.0.0.1:2525 --bind "$1"
}

wait_until 10 nsx "$PY" "$E2E_DIR/promscrape.py" status GET "$URL/metrics" ||
	die "nothing answers on $URL"
if scrape "$H/m0" 2>"$H/m0.err"; then
	pass "scrape parsed by prometheus_client's parser, Content-Type 0.0.4"
else
	fail "scrape parsed by prometheus_client's parser" "$(cat "$H/m0.err")"
fi
for ft in mxgate_build_info:gauge mxgate_start_time_seconds:gauge \
    mxgate_uptime_seconds:gauge mxgate_connections:gauge \
    mxgate_decisions:counter mxgate_auth_results:counter \
    mxgate_dns_queries:counter mxgate_dns_cache_hits:counter \
    mxgate_dns_timeouts:counter mxgate_dns_errors:counter \
    mxgate_store_fallbacks:counter mxgate_stage_duration_seconds:histogram; do
	check "family ${ft%%:*} is a ${ft#*:}" grep -qx "family ${ft%%:*} ${ft#*:}" "$H/m0"
done
check "build_info carries the version" grep -Eq \
	'^sample mxgate_build_info\{version="[0-9][^"]*"\} 1$' "$H/m0"
check "the start time is a Unix time" test "$(val "$H/m0" mxgate_start_time_seconds)" -gt 1600000000
check "one bucket series per le and stage (13 x 6)" test \
	"$(grep -c '^sample mxgate_stage_duration_seconds_bucket{' "$H/m0")" -eq 78

LISTED='mxgate_decisions_total{action="tempfail",rule="listed",stage="rcpt"}'
BIG='mxgate_decisions_total{action="reject",rule="big",stage="rcpt"}'
QUERIES='mxgate_dns_queries_total{list="bl"}'
RCPT_N='mxgate_stage_duration_seconds_count{stage="rcpt"}'
CONN_N='mxgate_stage_duration_seconds_count{stage="connect"}'
lines0=$(grep -c 'rule=listed stage=rcpt action=tempfail' "$H/log/mxgate.log" || true)

# N messages deferred by `listed`, one accepted from an unlisted client
deferred=0
for i in $(seq 1 "$N"); do
	out=$(send 203.0.113.10 "m$i@rcpt.test")
	grep -q '^451 4\.7\.1 .*listed on Example Block List' <<<"$(reply_to "$out" RCPT)" &&
		deferred=$((deferred + 1))
done
check "$N messages deferred by rule listed through Postfix" test "$deferred" -eq "$N"
out=$(send 203.0.113.30 ok@rcpt.test)
check_decided "an unlisted client's message: mxgate decided" ok@rcpt.test
lines=$(( $(grep -c 'rule=listed stage=rcpt action=tempfail' "$H/log/mxgate.log") - lines0 ))
check "the log has $N decision lines of rule listed" test "$lines" -eq "$N"

scrape "$H/m1" || fail "second scrape" "$(cat "$H/m1")"
d=$(( $(val "$H/m1" "$LISTED") - $(val "$H/m0" "$LISTED") ))
check "decisions_total of rule listed rose by exactly $N (got $d)" test "$d" -eq "$N"
check "no decision of rule big was counted" test "$(val "$H/m1" "$BIG")" -eq 0
d=$(( $(sum "$H/m1" 'mxgate_decisions_total{') - $(sum "$H/m0" 'mxgate_decisions_total{') ))
check "no other decision was counted (all rules rose by $N, got $d)" test "$d" -eq "$N"
d=$(( $(val "$H/m1" "$QUERIES") - $(val "$H/m0" "$QUERIES") ))
check "dns_queries_total of list bl rose by one a connection ($((N + 1)), got $d)" \
	test "$d" -eq $((N + 1))
d=$(( $(val "$H/m1" "$RCPT_N") - $(val "$H/m0" "$RCPT_N") ))
check "the rcpt latency histogram counted each RCPT ($((N + 1)), got $d)" test "$d" -eq $((N + 1))
d=$(( $(val "$H/m1" "$CONN_N") - $(val "$H/m0" "$CONN_N") ))
check "the connect latency histogram counted each connection ($((N + 1)), got $d)" \
	test "$d" -eq $((N + 1))
check "the rcpt histogram's +Inf bucket equals its count" test \
	"$(val "$H/m1" 'mxgate_stage_duration_seconds_bucket{le="+Inf",stage="rcpt"}')" -eq \
	"$(val "$H/m1" "$RCPT_N")"
d=$(( $(sum "$H/m1" 'mxgate_auth_results_total{method="spf"') - \
    $(sum "$H/m0" 'mxgate_auth_results_total{method="spf"') ))
check "the accepted message's SPF result was counted (got $d)" test "$d" -ge 1

# the HTTP side: wrong path, wrong method, oversized request line
check "GET /other is 404" test \
	"$(nsx "$PY" "$E2E_DIR/promscrape.py" status GET "$URL/other")" = 404
check "POST /metrics is 405" test \
	"$(nsx "$PY" "$E2E_DIR/promscrape.py" status POST "$URL/metrics")" = 405
check "a 20000-byte request line is 400" test \
	"$(nsx "$PY" "$E2E_DIR/promscrape.py" rawline 127.0.0.1 9357 20000)" = 400
if scrape "$H/m2" 2>"$H/m2.err"; then
	pass "the next scrape is served after the oversized one"
else
	fail "the next scrape is served after the oversized one" "$(cat "$H/m2.err")"
fi
check "the counter holds across scrapes" test \
	"$(val "$H/m2" "$LISTED")" -eq "$(val "$H/m1" "$LISTED")"
check_alive "mxgate still runs"

h_mxgate_stop
check "mxgate stopped cleanly with the metrics thread running" test "$MXRC" -eq 0
h_done
