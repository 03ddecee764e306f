/*
 * test_dns -- the DNS engine: answers from libunbound local data, the
 * deadline against a forwarder that never answers (a silent UDP socket
 * of the test), cancels racing answers from several threads.
 *
 * Nothing leaves the machine: every engine forwards to the test's own
 * silent socket on 127.0.0.1, and the names asked are served as local
 * data by the engine itself.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"

static int	silent = -1;		/* a UDP socket that reads nothing */
static char	fwd[64];

/* silent_open -- bind the silent socket on an ephemeral port of 127.0.0.1 */
static void
silent_open(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	silent = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(silent, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(silent, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(silent, (struct sockaddr *)&sin, &len), 0);
	(void)snprintf(fwd, sizeof(fwd), "127.0.0.1@%u", ntohs(sin.sin_port));
}

static const char *const records[] = {
	"2.0.0.127.bl.example. 300 IN A 127.0.0.2",
	"2.0.0.127.bl.example. 300 IN A 127.0.0.4",
	"2.0.0.127.bl.example. 300 IN TXT \"listed\" \" see https://bl.example/\"",
	"host.bl.example. 300 IN AAAA 2001:db8::25",
	"bl.example. 300 IN MX 10 mx.bl.example.",
	"7.2.0.192.in.bl.example. 300 IN PTR host.bl.example.",
	"alias.bl.example. 300 IN CNAME 2.0.0.127.bl.example.",
};

/* engine -- a started engine with the local records above */
static struct dns *
engine(void)
{
	struct buf	 err = BUF_INIT;
	struct dns	*d;
	size_t		 i;

	silent_open();
	d = dns_new(fwd, &err);
	ck_assert_msg(d != NULL, "dns_new: %s", buf_str(&err));
	ck_assert_int_eq(dns_local(d, "bl.example.", NULL, &err), 0);
	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		ck_assert_msg(dns_local(d, NULL, records[i], &err) == 0, "%s",
		    buf_str(&err));
	ck_assert_msg(dns_start(d, &err) == 0, "%s", buf_str(&err));
	buf_free(&err);
	return d;
}

/* ask -- submit and wait up to 5 s; the status */
static enum dns_status
ask(struct dns *d, const char *name, uint16_t type, struct dns_query **out)
{
	struct timespec	dl;

	dns_deadline(&dl, 5000);
	*out = dns_submit(d, name, type);
	return dns_wait(*out, &dl);
}

START_TEST(test_a_records)
{
	struct dns		*d = engine();
	struct dns_query	*q;
	const struct dns_answer	*a;
	int			 seen2 = 0, seen4 = 0;
	size_t			 i, len;

	ck_assert_int_eq(ask(d, "2.0.0.127.bl.example", DNS_T_A, &q), DNS_DONE);
	a = dns_answer(q);
	ck_assert_int_eq(a->rcode, 0);
	ck_assert_uint_eq(a->nrr, 2);
	for (i = 0; i < a->nrr; i++) {
		ck_assert_uint_eq(a->rr[i].type, DNS_T_A);
		seen2 |= memcmp(a->rr[i].addr, "\177\0\0\2", 4) == 0;
		seen4 |= memcmp(a->rr[i].addr, "\177\0\0\4", 4) == 0;
	}
	ck_assert(seen2 && seen4);
	ck_assert_ptr_nonnull(dns_packet(q, &len));
	ck_assert_uint_gt(len, 12);
	/* a second wait gives the same answer without waiting */
	ck_assert_int_eq(dns_wait(q, NULL), DNS_DONE);
	dns_release(q);
	/* asked again: from the front cache, answered before any wait */
	ck_assert_uint_eq(dns_cache_hits(d), 0);
	q = dns_submit(d, "2.0.0.127.BL.example", DNS_T_A);
	ck_assert_int_eq(dns_wait(q, NULL), DNS_DONE);
	ck_assert_uint_eq(dns_cache_hits(d), 1);
	ck_assert_uint_eq(dns_answer(q)->nrr, 2);
	dns_release(q);
	/* another type of the same name is another entry */
	ck_assert_int_eq(ask(d, "2.0.0.127.bl.example", DNS_T_TXT, &q), DNS_DONE);
	ck_assert_uint_eq(dns_cache_hits(d), 1);
	dns_release(q);
	dns_free(d);
}
END_TEST

START_TEST(test_txt_joined)
{
	struct dns		*d = engine();
	struct dns_query	*q;

	ck_assert_int_eq(ask(d, "2.0.0.127.bl.example.", DNS_T_TXT, &q), DNS_DONE);
	ck_assert_uint_eq(dns_answer(q)->nrr, 1);
	ck_assert_str_eq(dns_answer(q)->rr[0].text, "listed see https://bl.example/");
	dns_release(q);
	dns_free(d);
}
END_TEST

START_TEST(test_other_types)
{
	struct dns		*d = engine();
	struct dns_query	*q;
	const struct dns_rr	*rr;

	ck_assert_int_eq(ask(d, "host.bl.example", DNS_T_AAAA, &q), DNS_DONE);
	ck_assert_uint_eq(dns_answer(q)->nrr, 1);
	rr = &dns_answer(q)->rr[0];
	ck_assert_int_eq(memcmp(rr->addr,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x25", 16), 0);
	dns_release(q);
	ck_assert_int_eq(ask(d, "bl.example", DNS_T_MX, &q), DNS_DONE);
	ck_assert_uint_eq(dns_answer(q)->nrr, 1);
	ck_assert_uint_eq(dns_answer(q)->rr[0].pref, 10);
	ck_assert_str_eq(dns_answer(q)->rr[0].text, "mx.bl.example");
	dns_release(q);
	ck_assert_int_eq(ask(d, "7.2.0.192.in.bl.example", DNS_T_PTR, &q), DNS_DONE);
	ck_assert_uint_eq(dns_answer(q)->nrr, 1);
	ck_assert_str_eq(dns_answer(q)->rr[0].text, "host.bl.example");
	dns_release(q);
	/* libunbound's local data does not chase CNAMEs: ask for the alias itself */
	ck_assert_int_eq(ask(d, "alias.bl.example", DNS_T_CNAME, &q), DNS_DONE);
	ck_assert_uint_eq(dns_answer(q)->nrr, 1);
	ck_assert_str_eq(dns_answer(q)->rr[0].text, "2.0.0.127.bl.example");
	dns_release(q);
	dns_free(d);
}
END_TEST

START_TEST(test_negative)
{
	struct dns		*d = engine();
	struct dns_query	*q;

	ck_assert_int_eq(ask(d, "3.0.0.127.bl.example", DNS_T_A, &q), DNS_DONE);
	ck_assert_int_eq(dns_answer(q)->rcode, 3);
	ck_assert_uint_eq(dns_answer(q)->nrr, 0);
	dns_release(q);
	/* the name exists, not the type */
	ck_assert_int_eq(ask(d, "host.bl.example", DNS_T_A, &q), DNS_DONE);
	ck_assert_int_eq(dns_answer(q)->rcode, 0);
	ck_assert_uint_eq(dns_answer(q)->nrr, 0);
	dns_release(q);
	dns_free(d);
}
END_TEST

/* a forwarder that never answers: the waiter's deadline ends the wait */
START_TEST(test_deadline)
{
	struct dns		*d = engine();
	struct dns_query	*q;
	struct timespec		 dl;
	char			 pkt[512];
	ssize_t			 n;

	dns_deadline(&dl, 300);
	q = dns_submit(d, "listed.silent.example", DNS_T_A);
	ck_assert_int_eq(dns_wait(q, &dl), DNS_PENDING);
	ck_assert(dns_expired(&dl));
	/* waiting again with the same deadline does not block */
	ck_assert_int_eq(dns_wait(q, &dl), DNS_PENDING);
	ck_assert_uint_eq(dns_cache_hits(d), 0);
	/* the query went to the configured forwarder, and there only */
	n = recv(silent, pkt, sizeof(pkt), MSG_DONTWAIT);
	ck_assert_int_gt(n, 12);
	dns_release(q);
	dns_free(d);
}
END_TEST

static volatile int	servfail_stop;

/* servfail_thread -- the forwarder answers every query SERVFAIL */
static void *
servfail_thread(void *arg)
{
	struct sockaddr_in	from;
	socklen_t		flen;
	struct timeval		tv = { 0, 100 * 1000 };
	unsigned char		pkt[512];
	ssize_t			n;

	(void)arg;
	(void)setsockopt(silent, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!servfail_stop) {
		flen = sizeof(from);
		n = recvfrom(silent, pkt, sizeof(pkt), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 12)
			continue;
		pkt[2] |= 0x80;			/* QR */
		pkt[3] = (pkt[3] & 0xf0) | 2;	/* SERVFAIL */
		(void)sendto(silent, pkt, (size_t)n, 0,
		    (struct sockaddr *)&from, flen);
	}
	return NULL;
}

/*
 * a forwarder that answers SERVFAIL: the query is done with rcode 2
 * (libunbound's own answer then carries no question: an rcode, not a
 * malformed packet)
 */
START_TEST(test_servfail)
{
	struct dns		*d = engine();
	struct dns_query	*q;
	pthread_t		 t;

	servfail_stop = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, servfail_thread, NULL), 0);
	ck_assert_int_eq(ask(d, "x.servfail.example", DNS_T_A, &q), DNS_DONE);
	ck_assert_int_eq(dns_answer(q)->rcode, 2);
	ck_assert_uint_eq(dns_answer(q)->nrr, 0);
	dns_release(q);
	servfail_stop = 1;
	(void)pthread_join(t, NULL);
	dns_free(d);
}
END_TEST

/*
 * dns_wait_stage: the stage's deadline ends a wait that the query's own
 * would let run on, and marks the stage cut; a wait that ends at the
 * query's own deadline leaves the stage alone
 */
START_TEST(test_stage_deadline)
{
	struct dns		*d = engine();
	struct dns_query	*q;
	struct deadline		 stage;
	struct timespec		 own, t0, t1;
	long			 ms;

	/* own 5 s (dns_timeout), stage 300 ms: the stage ends it */
	deadline_start(&stage, 300);
	dns_deadline(&own, 5000);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	q = dns_submit(d, "stage.silent.example", DNS_T_A);
	ck_assert_int_eq(dns_wait_stage(q, &own, &stage), DNS_PENDING);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_msg(ms < 2500, "waited %ld ms past a 300 ms stage", ms);
	ck_assert_int_eq(deadline_was_cut(&stage), 1);
	/* no own deadline: the stage's alone, which has passed */
	ck_assert_int_eq(dns_wait_stage(q, NULL, &stage), DNS_PENDING);
	dns_release(q);

	/* own 200 ms, stage 10 s: the query's own ends it, no cut */
	deadline_start(&stage, 10000);
	dns_deadline(&own, 200);
	q = dns_submit(d, "own.silent.example", DNS_T_A);
	ck_assert_int_eq(dns_wait_stage(q, &own, &stage), DNS_PENDING);
	ck_assert_int_eq(deadline_was_cut(&stage), 0);
	/* no stage: as dns_wait */
	ck_assert_int_eq(dns_wait_stage(q, &own, NULL), DNS_PENDING);
	dns_release(q);
	dns_free(d);
}
END_TEST

START_TEST(test_bad_input)
{
	struct buf		 err = BUF_INIT;
	struct dns		*d;
	struct dns_query	*q;
	char			 name[1100];

	ck_assert_ptr_null(dns_new("127.0.0.1@53, resolver.example", &err));
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "dns_forwarders"));
	buf_free(&err);
	d = engine();
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	q = dns_submit(d, name, DNS_T_A);
	ck_assert_int_eq(dns_wait(q, NULL), DNS_FAILED);
	ck_assert_str_ne(dns_error(q), "");
	dns_release(q);
	/* a label over 63 octets: libunbound refuses it */
	memset(name, 'b', 70);
	(void)strlcpy(name + 70, ".bl.example", sizeof(name) - 70);
	q = dns_submit(d, name, DNS_T_A);
	ck_assert_int_eq(dns_wait(q, NULL), DNS_FAILED);
	dns_release(q);
	dns_free(d);
}
END_TEST

#define RACE_THREADS	8
#define RACE_QUERIES	200

/* racer -- submit and release at once, or wait; half of each */
static void *
racer(void *arg)
{
	struct dns		*d = arg;
	struct dns_query	*q;
	struct timespec		 dl;
	int			 i, bad = 0;

	for (i = 0; i < RACE_QUERIES; i++) {
		q = dns_submit(d, i % 3 ? "2.0.0.127.bl.example" :
		    "slow.silent.example", DNS_T_A);
		if (i % 2) {
			dns_deadline(&dl, 5000);
			if (i % 3 && dns_wait(q, &dl) != DNS_DONE)
				bad++;
		}
		dns_release(q);
	}
	return (void *)(intptr_t)bad;
}

/* cancels race answers from several threads: nothing lost, nothing leaked */
START_TEST(test_race)
{
	struct dns	*d = engine();
	pthread_t	 t[RACE_THREADS];
	void		*bad;
	int		 i;

	for (i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, racer, d), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_int_eq((int)(intptr_t)bad, 0);
	}
	dns_free(d);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dns");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_a_records);
	tcase_add_test(tc, test_txt_joined);
	tcase_add_test(tc, test_other_types);
	tcase_add_test(tc, test_negative);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_servfail);
	tcase_add_test(tc, test_stage_deadline);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_race);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
