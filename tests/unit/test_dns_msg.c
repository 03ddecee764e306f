/*
 * test_dns_msg -- the answer packet parser with good and hostile packets:
 * every record type mxgate reads, CNAME chains, truncation at every
 * length, wrong counts, pointer loops, oversized names and TXT.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns_msg.h"

/* a packet under construction */
struct pk {
	uint8_t	b[70000];
	size_t	n;
};

static void
put(struct pk *p, const void *d, size_t n)
{
	ck_assert_uint_le(p->n + n, sizeof(p->b));
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void
put16(struct pk *p, unsigned v)
{
	uint8_t	b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(p, b, 2);
}

/* name -- "a.b.c" as labels (no compression) */
static void
name(struct pk *p, const char *s)
{
	const char	*dot;
	uint8_t		 len;

	while (*s != '\0') {
		dot = strchr(s, '.');
		len = (uint8_t)(dot ? (size_t)(dot - s) : strlen(s));
		put(p, &len, 1);
		put(p, s, len);
		s += len + (dot ? 1 : 0);
	}
	put(p, "", 1);
}

/* header -- id 1, QR RD RA, rcode, counts; then the question */
static void
header(struct pk *p, unsigned rcode, unsigned qd, unsigned an, const char *q,
    unsigned qtype)
{
	p->n = 0;
	put16(p, 1);
	put16(p, 0x8180 | rcode);
	put16(p, qd);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
	if (q != NULL) {
		name(p, q);
		put16(p, qtype);
		put16(p, 1);
	}
}

/* rr -- an answer owned by the question name (pointer to offset 12) or by own */
static void
rr(struct pk *p, const char *own, unsigned type, unsigned class,
    const void *rdata, size_t rdlen)
{
	if (own == NULL)
		put16(p, 0xC00C);
	else
		name(p, own);
	put16(p, type);
	put16(p, class);
	put16(p, 0);
	put16(p, 300);
	put16(p, (unsigned)rdlen);
	put(p, rdata, rdlen);
}

static struct pk	pk;

/* parse -- dns_msg_parse of the packet built; returns its result */
static int
parse(uint16_t qtype, struct dns_answer *a)
{
	struct buf	err = BUF_INIT;
	int		rc = dns_msg_parse(pk.b, pk.n, qtype, a, &err);

	if (rc == -1)
		ck_assert_msg(err.len > 0, "a malformed packet needs a reason");
	buf_free(&err);
	return rc;
}

START_TEST(test_a_records)
{
	struct dns_answer a;

	header(&pk, 0, 1, 2, "2.0.0.127.bl.example", DNS_T_A);
	rr(&pk, NULL, DNS_T_A, 1, "\177\0\0\2", 4);
	rr(&pk, NULL, DNS_T_A, 1, "\177\0\0\4", 4);
	ck_assert_int_eq(parse(DNS_T_A, &a), 0);
	ck_assert_int_eq(a.rcode, 0);
	ck_assert_str_eq(a.qname, "2.0.0.127.bl.example");
	ck_assert_uint_eq(a.nrr, 2);
	ck_assert_int_eq(memcmp(a.rr[0].addr, "\177\0\0\2", 4), 0);
	ck_assert_int_eq(memcmp(a.rr[1].addr, "\177\0\0\4", 4), 0);
	ck_assert_uint_eq(a.rr[0].ttl, 300);
	dns_answer_free(&a);
}
END_TEST

START_TEST(test_aaaa_mx_ptr)
{
	struct dns_answer a;
	uint8_t		  mx[64] = { 0, 10, 2, 'm', 'x', 0xC0, 14 };

	header(&pk, 0, 1, 1, "h.example", DNS_T_AAAA);
	rr(&pk, NULL, DNS_T_AAAA, 1, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x25", 16);
	ck_assert_int_eq(parse(DNS_T_AAAA, &a), 0);
	ck_assert_uint_eq(a.nrr, 1);
	ck_assert_uint_eq(a.rr[0].addr[15], 0x25);
	dns_answer_free(&a);
	/* MX 10 mx.example: "example" through a pointer into the question */
	header(&pk, 0, 1, 1, "x.example", DNS_T_MX);
	rr(&pk, NULL, DNS_T_MX, 1, mx, 7);
	ck_assert_int_eq(parse(DNS_T_MX, &a), 0);
	ck_assert_uint_eq(a.nrr, 1);
	ck_assert_uint_eq(a.rr[0].pref, 10);
	ck_assert_str_eq(a.rr[0].text, "mx.example");
	dns_answer_free(&a);
	header(&pk, 0, 1, 1, "7.2.0.192.in-addr.arpa", DNS_T_PTR);
	rr(&pk, NULL, DNS_T_PTR, 1, "\4host\7example\0", 14);
	ck_assert_int_eq(parse(DNS_T_PTR, &a), 0);
	ck_assert_str_eq(a.rr[0].text, "host.example");
	dns_answer_free(&a);
}
END_TEST

START_TEST(test_txt)
{
	struct dns_answer a;
	uint8_t		  t[600];
	int		  i;

	header(&pk, 0, 1, 1, "x.example", DNS_T_TXT);
	rr(&pk, NULL, DNS_T_TXT, 1, "\5hello\6 world", 13);
	ck_assert_int_eq(parse(DNS_T_TXT, &a), 0);
	ck_assert_str_eq(a.rr[0].text, "hello world");
	ck_assert_uint_eq(a.rr[0].textlen, 11);
	ck_assert_int_eq(a.rr[0].text_cut, 0);
	dns_answer_free(&a);
	/* 20 strings of 255 bytes: cut at DNS_TXT_MAX */
	header(&pk, 0, 1, 1, "x.example", DNS_T_TXT);
	put16(&pk, 0xC00C);
	put16(&pk, DNS_T_TXT);
	put16(&pk, 1);
	put16(&pk, 0);
	put16(&pk, 0);
	put16(&pk, 20 * 256);
	memset(t, 'a', sizeof(t));
	for (i = 0; i < 20; i++) {
		t[0] = 255;
		put(&pk, t, 256);
	}
	ck_assert_int_eq(parse(DNS_T_TXT, &a), 0);
	ck_assert_uint_eq(a.rr[0].textlen, DNS_TXT_MAX);
	ck_assert_int_eq(a.rr[0].text_cut, 1);
	dns_answer_free(&a);
}
END_TEST

START_TEST(test_cname_and_others)
{
	struct dns_answer a;

	header(&pk, 0, 1, 4, "alias.example", DNS_T_A);
	/* the A of the target comes first: order must not matter */
	rr(&pk, "target.example", DNS_T_A, 1, "\177\0\0\3", 4);
	rr(&pk, NULL, DNS_T_CNAME, 1, "\6target\7example\0", 16);
	rr(&pk, "other.example", DNS_T_A, 1, "\177\0\0\011", 4);
	rr(&pk, NULL, DNS_T_A, 3, "\177\0\0\7", 4);	/* class CH */
	ck_assert_int_eq(parse(DNS_T_A, &a), 0);
	ck_assert_uint_eq(a.nrr, 1);
	ck_assert_uint_eq(a.rr[0].addr[3], 3);
	dns_answer_free(&a);
}
END_TEST

START_TEST(test_negative)
{
	struct dns_answer a;

	header(&pk, 3, 1, 0, "x.example", DNS_T_A);
	ck_assert_int_eq(parse(DNS_T_A, &a), 0);
	ck_assert_int_eq(a.rcode, 3);
	ck_assert_uint_eq(a.nrr, 0);
	dns_answer_free(&a);
	header(&pk, 2, 1, 0, "x.example", DNS_T_A);
	ck_assert_int_eq(parse(DNS_T_A, &a), 0);
	ck_assert_int_eq(a.rcode, 2);
	dns_answer_free(&a);
}
END_TEST

/* a valid packet cut at every length: refused or read, never overread (ASan) */
START_TEST(test_truncated)
{
	struct dns_answer a;
	size_t		  full, len;
	struct buf	  err = BUF_INIT;

	header(&pk, 0, 1, 2, "2.0.0.127.bl.example", DNS_T_TXT);
	rr(&pk, NULL, DNS_T_TXT, 1, "\5hello\6 world", 13);
	rr(&pk, "z.example", DNS_T_TXT, 1, "\1z", 2);
	full = pk.n;
	for (len = 0; len < full; len++) {
		uint8_t	*copy = malloc(len ? len : 1);

		memcpy(copy, pk.b, len);
		ck_assert_int_eq(dns_msg_parse(copy, len, DNS_T_TXT, &a, &err), -1);
		dns_answer_free(&a);
		free(copy);
	}
	buf_free(&err);
}
END_TEST

static const struct {
	const char	*why;
	int		 kind;
} bad_cases[] = {
	{ "ANCOUNT larger than the records", 0 },
	{ "no question", 1 },
	{ "two questions", 2 },
	{ "pointer loop", 3 },
	{ "forward pointer", 4 },
	{ "label of 64", 5 },
	{ "name over 255", 6 },
	{ "rdata past the end", 7 },
	{ "A with 5 bytes", 8 },
	{ "TXT string past its rdata", 9 },
	{ "TXT of zero length", 10 },
	{ "question of another type", 11 },
	{ "reserved label type", 12 },
	{ "MX name past its rdata", 13 },
};

START_TEST(test_bad)
{
	struct dns_answer a;
	char		  lab[300];
	int		  k = bad_cases[_i].kind;

	memset(lab, 'a', sizeof(lab));
	header(&pk, 0, 1, 1, "x.example", DNS_T_A);
	switch (k) {
	case 0:
		header(&pk, 0, 1, 3, "x.example", DNS_T_A);
		rr(&pk, NULL, DNS_T_A, 1, "\177\0\0\2", 4);
		break;
	case 1:
		header(&pk, 0, 0, 0, NULL, 0);
		break;
	case 2:
		header(&pk, 0, 2, 0, "x.example", DNS_T_A);
		break;
	case 3:
		put16(&pk, 0xC000 | (unsigned)pk.n);	/* points at itself */
		put16(&pk, 1), put16(&pk, 1), put16(&pk, 0), put16(&pk, 0), put16(&pk, 4);
		put(&pk, "\177\0\0\2", 4);
		break;
	case 4:
		put16(&pk, 0xC000 | (unsigned)(pk.n + 20));
		put16(&pk, 1), put16(&pk, 1), put16(&pk, 0), put16(&pk, 0), put16(&pk, 4);
		put(&pk, "\177\0\0\2", 4);
		break;
	case 5:
		lab[64] = '\0';
		rr(&pk, lab, DNS_T_A, 1, "\177\0\0\2", 4);
		break;
	case 6:
		/* labels of 60, 60, 60, 60 and 55: 300 octets */
		for (int i = 60; i < 300; i += 61)
			lab[i] = '.';
		lab[299] = '\0';
		rr(&pk, lab, DNS_T_A, 1, "\177\0\0\2", 4);
		break;
	case 7:
		rr(&pk, NULL, DNS_T_A, 1, "\177\0\0\2", 4);
		pk.n -= 2;
		break;
	case 8:
		rr(&pk, NULL, DNS_T_A, 1, "\177\0\0\2\0", 5);
		break;
	case 9:
		header(&pk, 0, 1, 1, "x.example", DNS_T_TXT);
		rr(&pk, NULL, DNS_T_TXT, 1, "\11abc", 4);
		break;
	case 10:
		header(&pk, 0, 1, 1, "x.example", DNS_T_TXT);
		rr(&pk, NULL, DNS_T_TXT, 1, "", 0);
		break;
	case 11:
		header(&pk, 0, 1, 0, "x.example", DNS_T_TXT);
		break;
	case 12:
		put16(&pk, 0x4000);
		put16(&pk, 1), put16(&pk, 1), put16(&pk, 0), put16(&pk, 0), put16(&pk, 4);
		put(&pk, "\177\0\0\2", 4);
		break;
	case 13:
		header(&pk, 0, 1, 1, "x.example", DNS_T_MX);
		rr(&pk, NULL, DNS_T_MX, 1, "\0\12\2mx", 5);
		put(&pk, "\0", 1);	/* the name ends after the rdata */
		break;
	}
	ck_assert_msg(parse(k == 9 || k == 10 ? DNS_T_TXT : k == 13 ? DNS_T_MX :
	    DNS_T_A, &a) == -1, "%s: accepted", bad_cases[_i].why);
	dns_answer_free(&a);
}
END_TEST

/* more answers than DNS_MSG_MAX_RR: the first ones are kept */
START_TEST(test_many)
{
	struct dns_answer a;
	uint8_t		  ip[4] = { 127, 0, 0, 0 };
	int		  i;

	header(&pk, 0, 1, 200, "x.example", DNS_T_A);
	for (i = 0; i < 200; i++) {
		ip[3] = (uint8_t)i;
		rr(&pk, NULL, DNS_T_A, 1, ip, 4);
	}
	ck_assert_int_eq(parse(DNS_T_A, &a), 0);
	ck_assert_uint_eq(a.nrr, DNS_MSG_MAX_RR);
	ck_assert_uint_eq(a.rr[DNS_MSG_MAX_RR - 1].addr[3], DNS_MSG_MAX_RR - 1);
	dns_answer_free(&a);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dns_msg");
	TCase	*tc = tcase_create("all");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_a_records);
	tcase_add_test(tc, test_aaaa_mx_ptr);
	tcase_add_test(tc, test_txt);
	tcase_add_test(tc, test_cname_and_others);
	tcase_add_test(tc, test_negative);
	tcase_add_test(tc, test_truncated);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
