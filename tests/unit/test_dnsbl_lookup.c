/*
 * test_dnsbl_lookup -- one client's DNS list queries against the real DNS
 * engine, answered from its local data: an error answer (127.255.255.254)
 * is never a listing and never defers, even with on_error tempfail, but
 * sets dnsbl.error and is logged at most once a minute per list; a list
 * whose server refuses (REFUSED) defers with on_error tempfail.
 *
 * Nothing leaves the machine: the engine forwards to a silent socket of
 * the test on 127.0.0.1 and serves the lists' zones as local data.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "dnsbl.h"
#include "dnsbl_lookup.h"
#include "ipaddr.h"
#include "log.h"

static int	silent = -1;		/* a UDP socket that reads nothing */

/* engine -- an engine with the zones err.example and refused.example */
static struct dns *
engine(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct buf		 err = BUF_INIT;
	struct dns		*d;
	char			 fwd[64];

	silent = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(silent, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(silent, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(silent, (struct sockaddr *)&sin, &len), 0);
	(void)snprintf(fwd, sizeof(fwd), "127.0.0.1@%u", ntohs(sin.sin_port));
	d = dns_new(fwd, &err);
	ck_assert_msg(d != NULL, "dns_new: %s", buf_str(&err));
	ck_assert_int_eq(dns_local(d, "err.example.", NULL, &err), 0);
	ck_assert_int_eq(dns_local(d, NULL,
	    "11.113.0.203.err.example. 300 IN A 127.255.255.254", &err), 0);
	ck_assert_int_eq(dns_local(d, NULL,
	    "12.113.0.203.err.example. 300 IN A 127.0.0.2", &err), 0);
	ck_assert_msg(dns_local_zone(d, "refused.example.", "refuse",
	    &err) == 0, "%s", buf_str(&err));
	ck_assert_msg(dns_start(d, &err) == 0, "%s", buf_str(&err));
	buf_free(&err);
	return d;
}

/* list -- a list of zone with on_error tempfail */
static struct dnsbl *
list(const char *name, const char *zone)
{
	struct dnsbl	*l = dnsbl_new(name);
	struct buf	 err = BUF_INIT;

	ck_assert_int_eq(dnsbl_set_zone(l, zone, &err), 0);
	dnsbl_set_on_error(l, DNSBL_ON_ERROR_TEMPFAIL);
	dnsbl_set_public_name(l, name);
	buf_free(&err);
	return l;
}

/* lookup -- ask lists about ip */
static struct dnsbl_lookup *
lookup(struct dns *d, struct dnsbl *const *lists, size_t n, const char *ip)
{
	struct ipaddr	a;

	ck_assert_int_eq(ip_parse(ip, strlen(ip), &a), 0);
	return dnsbl_lookup_start(d, lists, n, &a, 5000, NULL);
}

/* count -- occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
	int	n = 0;

	while ((hay = strstr(hay, needle)) != NULL)
		n++, hay++;
	return n;
}

START_TEST(test_error_answer_never_defers)
{
	struct dns		*d = engine();
	struct dnsbl		*l[1];
	struct dnsbl_lookup	*lk;
	struct buf		 logs = BUF_INIT, text = BUF_INIT;
	int64_t			 num = -1;
	int			 i;

	l[0] = list("errlist", "err.example");
	log_capture(&logs);
	for (i = 0; i < 3; i++) {
		/* several connections within a minute */
		lk = lookup(d, l, 1, "203.0.113.11");
		ck_assert_int_eq(dnsbl_lookup_get(lk, 0)->status,
		    DNSBL_ERROR_ANSWER);
		/* got: deferral; want: none, whatever on_error says */
		ck_assert_int_eq(dnsbl_lookup_defers(lk, 0, 1), 0);
		buf_reset(&text);
		ck_assert_int_eq(dnsbl_lookup_value(lk, DNSBL_V_SCORE, 0, &text,
		    &num), 1);
		ck_assert_int_eq(num, 0);
		buf_reset(&text);
		ck_assert_int_eq(dnsbl_lookup_value(lk, DNSBL_V_LIST, 0, &text,
		    &num), 0);
		/* dnsbl.error still names the list */
		buf_reset(&text);
		ck_assert_int_eq(dnsbl_lookup_value(lk, DNSBL_V_ERROR, 0, &text,
		    &num), 1);
		ck_assert_str_eq(buf_str(&text), "errlist");
		buf_reset(&text);
		dnsbl_lookup_failed_names(lk, &text);
		ck_assert_str_eq(buf_str(&text), "");
		dnsbl_lookup_free(lk);
	}
	log_capture(NULL);
	ck_assert_msg(count(buf_str(&logs), "error answer 127.255.255.254") == 1,
	    "want one log line, got: %s", buf_str(&logs));
	ck_assert_msg(strstr(buf_str(&logs), "not a listing") != NULL,
	    "got: %s", buf_str(&logs));
	/* a real listing of the same list still lists */
	lk = lookup(d, l, 1, "203.0.113.12");
	ck_assert_int_eq(dnsbl_lookup_get(lk, 0)->status, DNSBL_LISTED);
	ck_assert_int_eq(dnsbl_lookup_defers(lk, 0, 1), 0);
	dnsbl_lookup_free(lk);
	buf_free(&logs);
	buf_free(&text);
	dnsbl_free(l[0]);
	dns_free(d);
	(void)close(silent);
}
END_TEST

START_TEST(test_refused_defers)
{
	struct dns		*d = engine();
	struct dnsbl		*l[2];
	struct dnsbl_lookup	*lk;
	struct buf		 logs = BUF_INIT, text = BUF_INIT;

	l[0] = list("errlist", "err.example");
	l[1] = list("refused", "refused.example");
	log_capture(&logs);
	lk = lookup(d, l, 2, "203.0.113.11");
	ck_assert_int_eq(dnsbl_lookup_get(lk, 1)->status, DNSBL_FAILED);
	ck_assert_int_eq(dnsbl_lookup_defers(lk, 0, 1), 0);
	ck_assert_int_eq(dnsbl_lookup_defers(lk, 1, 2), 1);
	ck_assert_int_eq(dnsbl_lookup_defers(lk, 0, 2), 1);
	dnsbl_lookup_failed_names(lk, &text);
	ck_assert_str_eq(buf_str(&text), "refused");
	dnsbl_lookup_free(lk);
	log_capture(NULL);
	buf_free(&logs);
	buf_free(&text);
	dnsbl_free(l[0]);
	dnsbl_free(l[1]);
	dns_free(d);
	(void)close(silent);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dnsbl_lookup");
	TCase	*tc = tcase_create("lookup");
	SRunner	*sr;
	int	 nf;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_error_answer_never_defers);
	tcase_add_test(tc, test_refused_defers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
