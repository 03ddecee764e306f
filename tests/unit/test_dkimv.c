/*
 * test_dkimv -- DKIM verification (dkimv.c) through libopendkim and the
 * real DNS engine: keys served as libunbound local data, a forwarder
 * that never answers for the names that must time out. Messages are
 * signed in the test by libopendkim's signer with an RSA key made here,
 * and fed to dkimv the way libmilter passes them (LF at folds, values
 * with or without their leading space).
 */
#include "config.h"

#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <opendkim/dkim.h>

#include "dkimv.h"
#include "dns.h"

static struct dns	*eng;
static int		 silent = -1;
static char		*priv_pem;
static char		 pub_b64[1024];

static const char *const hdr_names[] = { "From", "To", "Subject" };
static const char *const hdr_values[] = {
	" Alice <alice@dk.example>", " bob@rcpt.test",
	" a folded\n\tsubject line"
};
#define NHDR	3
static const char body[] = "Hello,\r\n\r\nthis is the body.\r\n";
static const char body_changed[] = "Hello,\r\n\r\nthis is the BODY.\r\n";

/* keygen -- an RSA 2048 key: PEM private key, base64 DER public key */
static void
keygen(void)
{
	EVP_PKEY	*k = EVP_RSA_gen(2048);
	BIO		*b = BIO_new(BIO_s_mem());
	unsigned char	*der = NULL;
	char		*p;
	long		 n;
	int		 dl;

	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	n = BIO_get_mem_data(b, &p);
	priv_pem = strndup(p, (size_t)n);
	dl = i2d_PUBKEY(k, &der);
	ck_assert_int_gt(dl, 0);
	ck_assert_int_lt(4 * (dl + 2) / 3 + 1, (int)sizeof(pub_b64));
	(void)EVP_EncodeBlock((unsigned char *)pub_b64, der, dl);
	OPENSSL_free(der);
	BIO_free(b);
	EVP_PKEY_free(k);
}

/* engine -- DNS: the key at s1._domainkey.dk.example; other names time out */
static void
engine(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	struct buf		err = BUF_INIT, rr = BUF_INIT;
	char			fwd[64], txt[1200];
	size_t			i, n;

	silent = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(silent, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(silent, (struct sockaddr *)&sin, &len), 0);
	(void)snprintf(fwd, sizeof(fwd), "127.0.0.1@%u", ntohs(sin.sin_port));
	eng = dns_new(fwd, &err);
	ck_assert_msg(eng != NULL, "%s", buf_str(&err));
	ck_assert_int_eq(dns_local(eng, "dk.example.", NULL, &err), 0);
	/* the record's text in strings of at most 200 */
	(void)snprintf(txt, sizeof(txt), "v=DKIM1; k=rsa; p=%s", pub_b64);
	buf_puts(&rr, "s1._domainkey.dk.example. 300 IN TXT");
	for (i = 0; txt[i] != '\0'; i += n) {
		n = strlen(txt + i) > 200 ? 200 : strlen(txt + i);
		buf_printf(&rr, " \"%.*s\"", (int)n, txt + i);
	}
	ck_assert_msg(dns_local(eng, NULL, buf_str(&rr), &err) == 0, "%s",
	    buf_str(&err));
	ck_assert_msg(dns_start(eng, &err) == 0, "%s", buf_str(&err));
	ck_assert_int_eq(dkimv_init(eng, 500, 8, &err), 0);
	buf_free(&rr);
	buf_free(&err);
}

static void
setup(void)
{
	keygen();
	engine();
}

static void
teardown(void)
{
	dkimv_shutdown();
	dns_free(eng);
	close(silent);
	free(priv_pem);
}

/* field -- "Name:value" with LF folds made CRLF */
static void
field(struct buf *b, const char *name, const char *value)
{
	const char	*p;

	buf_reset(b);
	buf_puts(b, name);
	buf_putc(b, ':');
	for (p = value; *p != '\0'; p++) {
		if (*p == '\n')
			buf_putc(b, '\r');
		buf_putc(b, *p);
	}
}

/*
 * sign -- a DKIM-Signature value (with its leading space, LF folds, as
 * libmilter would pass it) over the test headers and body b
 */
static char *
sign(const char *sel, const char *dom, dkim_canon_t c, const char *b)
{
	DKIM_LIB	*lib = dkim_init(NULL, NULL);
	DKIM		*d;
	DKIM_STAT	 st;
	struct buf	 f = BUF_INIT, out = BUF_INIT;
	unsigned char	 sig[4096];
	size_t		 i;

	d = dkim_sign(lib, (const unsigned char *)"test", NULL,
	    (dkim_sigkey_t)priv_pem, (const unsigned char *)sel,
	    (const unsigned char *)dom, c, c, DKIM_SIGN_RSASHA256, -1, &st);
	ck_assert_msg(d != NULL && st == DKIM_STAT_OK, "dkim_sign: %d", st);
	for (i = 0; i < NHDR; i++) {
		field(&f, hdr_names[i], hdr_values[i]);
		ck_assert_int_eq(dkim_header(d, (unsigned char *)f.data, f.len),
		    DKIM_STAT_OK);
	}
	ck_assert_int_eq(dkim_eoh(d), DKIM_STAT_OK);
	ck_assert_int_eq(dkim_body(d, (unsigned char *)b, strlen(b)),
	    DKIM_STAT_OK);
	ck_assert_int_eq(dkim_eom(d, NULL), DKIM_STAT_OK);
	ck_assert_int_eq(dkim_getsighdr(d, sig, sizeof(sig),
	    strlen("DKIM-Signature: ")), DKIM_STAT_OK);
	buf_putc(&out, ' ');
	for (i = 0; sig[i] != '\0'; i++)
		if (sig[i] != '\r')
			buf_putc(&out, sig[i]);
	dkim_free(d);
	dkim_close(lib);
	buf_free(&f);
	return buf_release(&out);
}

/*
 * verify -- feed signatures sigs (values as sign() made them) and the
 * test message with body b to a new dkimv; leadspc 0: the MTA cut the
 * space after the colon (every value is passed without it)
 */
static const struct dkimv_outcome *
verify(struct dkimv **m, char *const *sigs, size_t nsigs, const char *b,
    int leadspc)
{
	size_t	i;

	*m = dkimv_new("T1");
	for (i = 0; i < nsigs; i++)
		dkimv_header(*m, "DKIM-Signature", leadspc ? sigs[i] : sigs[i] + 1,
		    !leadspc);
	for (i = 0; i < NHDR; i++)
		dkimv_header(*m, hdr_names[i],
		    leadspc ? hdr_values[i] : hdr_values[i] + 1, !leadspc);
	dkimv_eoh(*m);
	(void)dkimv_body(*m, (const unsigned char *)b, strlen(b));
	return dkimv_eom(*m, "T1");
}

START_TEST(test_pass)
{
	char	*s = sign("s1", "dk.example", DKIM_CANON_RELAXED, body);
	struct dkimv *m;
	const struct dkimv_outcome *o = verify(&m, &s, 1, body, 1);

	ck_assert_int_eq(o->result, DKIMV_PASS);
	ck_assert_uint_eq(o->nsigs, 1);
	ck_assert_str_eq(o->sig[0].domain, "dk.example");
	ck_assert_str_eq(o->sig[0].selector, "s1");
	ck_assert_str_eq(o->sig[0].alg, "rsa-sha256");
	ck_assert_uint_eq(strlen(o->sig[0].b), 8);
	ck_assert_str_eq(dkimv_result_name(o->result), "pass");
	dkimv_free(m);
	free(s);
}
END_TEST

/* simple canonicalization: the folds must be CRLF and the leading space kept */
START_TEST(test_simple_folds_and_space)
{
	char	*s = sign("s1", "dk.example", DKIM_CANON_SIMPLE, body);
	struct dkimv *m;

	ck_assert_int_eq(verify(&m, &s, 1, body, 1)->result, DKIMV_PASS);
	dkimv_free(m);
	/* no SMFIP_HDR_LEADSPC: the space is put back */
	ck_assert_int_eq(verify(&m, &s, 1, body, 0)->result, DKIMV_PASS);
	dkimv_free(m);
	free(s);
}
END_TEST

START_TEST(test_body_changed)
{
	char	*s = sign("s1", "dk.example", DKIM_CANON_RELAXED, body);
	struct dkimv *m;
	const struct dkimv_outcome *o = verify(&m, &s, 1, body_changed, 1);

	ck_assert_int_eq(o->result, DKIMV_FAIL);
	ck_assert_str_eq(o->sig[0].reason, "body hash mismatch");
	dkimv_free(m);
	free(s);
}
END_TEST

START_TEST(test_no_key)
{
	char	*s = sign("s9", "dk.example", DKIM_CANON_RELAXED, body);
	struct dkimv *m;
	const struct dkimv_outcome *o = verify(&m, &s, 1, body, 1);

	ck_assert_int_eq(o->result, DKIMV_PERMERROR);
	ck_assert_str_eq(o->sig[0].selector, "s9");
	dkimv_free(m);
	free(s);
}
END_TEST

/* a key question that is never answered: temperror, never "no key" */
START_TEST(test_key_timeout)
{
	char	*s = sign("s1", "slow.example", DKIM_CANON_RELAXED, body);
	struct dkimv *m;
	const struct dkimv_outcome *o = verify(&m, &s, 1, body, 1);

	ck_assert_int_eq(o->result, DKIMV_TEMPERROR);
	ck_assert_str_eq(o->sig[0].domain, "slow.example");
	dkimv_free(m);
	free(s);
}
END_TEST

/* the best result wins; every signature is reported */
START_TEST(test_best_of)
{
	char	*s[3] = {
		sign("s9", "dk.example", DKIM_CANON_RELAXED, body),
		sign("s1", "slow.example", DKIM_CANON_RELAXED, body),
		sign("s1", "dk.example", DKIM_CANON_RELAXED, body),
	};
	struct dkimv *m;
	const struct dkimv_outcome *o = verify(&m, s, 2, body, 1);
	size_t	i;

	ck_assert_int_eq(o->result, DKIMV_TEMPERROR);
	ck_assert_uint_eq(o->nsigs, 2);
	dkimv_free(m);
	o = verify(&m, s, 3, body, 1);
	ck_assert_int_eq(o->result, DKIMV_PASS);
	ck_assert_uint_eq(o->nsigs, 3);
	ck_assert_int_eq(o->sig[0].result, DKIMV_PERMERROR);
	ck_assert_int_eq(o->sig[1].result, DKIMV_TEMPERROR);
	ck_assert_int_eq(o->sig[2].result, DKIMV_PASS);
	dkimv_free(m);
	for (i = 0; i < 3; i++)
		free(s[i]);
}
END_TEST

START_TEST(test_unsigned)
{
	struct dkimv	*m = dkimv_new("T2");
	size_t		 i;

	for (i = 0; i < NHDR; i++)
		dkimv_header(m, hdr_names[i], hdr_values[i], 0);
	dkimv_eoh(m);
	/* nothing needs the body: the MTA may skip it */
	ck_assert_int_eq(dkimv_body(m, (const unsigned char *)body,
	    strlen(body)), 0);
	ck_assert_int_eq(dkimv_eom(m, "T2")->result, DKIMV_NONE);
	ck_assert_uint_eq(dkimv_eom(m, "T2")->nsigs, 0);
	dkimv_free(m);
}
END_TEST

START_TEST(test_max_signatures)
{
	struct buf	 err = BUF_INIT;
	char		*s[2] = {
		sign("s1", "dk.example", DKIM_CANON_RELAXED, body),
		sign("s1", "dk.example", DKIM_CANON_SIMPLE, body),
	};
	struct dkimv	*m;
	const struct dkimv_outcome *o;

	dkimv_shutdown();
	ck_assert_int_eq(dkimv_init(eng, 500, 1, &err), 0);
	o = verify(&m, s, 2, body, 1);
	ck_assert_uint_eq(o->nsigs, 1);
	ck_assert_uint_eq(o->ignored, 1);
	ck_assert_int_eq(o->result, DKIMV_PASS);
	dkimv_free(m);
	free(s[0]);
	free(s[1]);
	buf_free(&err);
}
END_TEST

/* a signature that is not one: permerror, not a crash and not none */
START_TEST(test_garbage_signature)
{
	char		*g = strdup(" v=1; a=rsa-sha256; d=; s=; b=!!!");
	struct dkimv	*m;
	const struct dkimv_outcome *o = verify(&m, &g, 1, body, 1);

	ck_assert_int_eq(o->result, DKIMV_PERMERROR);
	dkimv_free(m);
	free(g);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("dkimv");
	TCase	*t = tcase_create("verify");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_pass);
	tcase_add_test(t, test_simple_folds_and_space);
	tcase_add_test(t, test_body_changed);
	tcase_add_test(t, test_no_key);
	tcase_add_test(t, test_key_timeout);
	tcase_add_test(t, test_best_of);
	tcase_add_test(t, test_unsigned);
	tcase_add_test(t, test_max_signatures);
	tcase_add_test(t, test_garbage_signature);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner	*r = srunner_create(suite());
	int	 failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
