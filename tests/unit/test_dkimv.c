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
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <opendkim/dkim.h>

#include "dkimlen.h"
#include "dkimv.h"
#include "dns.h"

static struct dns	*eng;
static int		 silent = -1;
static char		*priv_pem;
static char		 pub_b64[1024];
static char		*small_pem;		/* RSA 512 (s512) */
static char		 small_b64[1024];
static char		 big_b64[2048];		/* RSA 5000, public only (big) */
static char		 huge_b64[2048];	/* RSA 8192, public only (huge) */

static const char *const hdr_names[] = { "From", "To", "Subject" };
static const char *const hdr_values[] = {
	" Alice <alice@dk.example>", " bob@rcpt.test",
	" a folded\n\tsubject line"
};
#define NHDR	3
static const char body[] = "Hello,\r\n\r\nthis is the body.\r\n";
static const char body_changed[] = "Hello,\r\n\r\nthis is the BODY.\r\n";

/*
 * dkim_verify -- libopendkim's, or a failure when fail_handles is set:
 * the library out of memory, injected (this definition comes first)
 */
static int	 fail_handles;

DKIM *
dkim_verify(DKIM_LIB *l, const unsigned char *id, void *memclosure,
    DKIM_STAT *st)
{
	DKIM	*(*real)(DKIM_LIB *, const unsigned char *, void *, DKIM_STAT *);

	if (fail_handles) {
		*st = DKIM_STAT_NORESOURCE;
		return NULL;
	}
	*(void **)&real = dlsym(RTLD_NEXT, "dkim_verify");
	ck_assert_ptr_nonnull(real);
	return real(l, id, memclosure, st);
}

/* b64_pubkey -- the base64 DER SubjectPublicKeyInfo of k into out */
static void
b64_pubkey(EVP_PKEY *k, char *out, size_t outlen)
{
	unsigned char	*der = NULL;
	int		 dl = i2d_PUBKEY(k, &der);

	ck_assert_int_gt(dl, 0);
	ck_assert_int_lt(4 * (dl + 2) / 3 + 1, (int)outlen);
	(void)EVP_EncodeBlock((unsigned char *)out, der, dl);
	OPENSSL_free(der);
}

/* rsa_key -- an RSA key of bits: PEM private key, base64 DER public key */
static char *
rsa_key(unsigned bits, char *pub, size_t publen)
{
	EVP_PKEY	*k = EVP_RSA_gen(bits);
	BIO		*b = BIO_new(BIO_s_mem());
	char		*p, *pem;
	long		 n;

	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	n = BIO_get_mem_data(b, &p);
	pem = strndup(p, (size_t)n);
	b64_pubkey(k, pub, publen);
	BIO_free(b);
	EVP_PKEY_free(k);
	return pem;
}

/*
 * fake_key -- the public half of an RSA key of bits, without its private
 * half (a random odd modulus): generating a real one would take long
 */
static void
fake_key(unsigned bits, char *pub, size_t publen)
{
	OSSL_PARAM_BLD	*bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM	*par;
	EVP_PKEY_CTX	*ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY	*k = NULL;
	BIGNUM		*n = BN_new(), *e = BN_new();

	ck_assert_int_eq(BN_rand(n, (int)bits, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ODD), 1);
	ck_assert_int_eq(BN_set_word(e, 65537), 1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
	par = OSSL_PARAM_BLD_to_param(bld);
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, par), 1);
	b64_pubkey(k, pub, publen);
	EVP_PKEY_free(k);
	OSSL_PARAM_free(par);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
}

/* keygen -- the test keys: RSA 2048 (s1), 512 (s512), 5000 and 8192 (public) */
static void
keygen(void)
{
	priv_pem = rsa_key(2048, pub_b64, sizeof(pub_b64));
	small_pem = rsa_key(512, small_b64, sizeof(small_b64));
	fake_key(5000, big_b64, sizeof(big_b64));
	fake_key(8192, huge_b64, sizeof(huge_b64));
}

/* key_rr -- a key record at SEL._domainkey.dk.example, in strings of 200 */
static void
key_rr(const char *sel, const char *b64)
{
	struct buf	rr = BUF_INIT, err = BUF_INIT;
	char		txt[2100];
	size_t		i, n;

	(void)snprintf(txt, sizeof(txt), "v=DKIM1; k=rsa; p=%s", b64);
	buf_printf(&rr, "%s._domainkey.dk.example. 300 IN TXT", sel);
	for (i = 0; txt[i] != '\0'; i += n) {
		n = strlen(txt + i) > 200 ? 200 : strlen(txt + i);
		buf_printf(&rr, " \"%.*s\"", (int)n, txt + i);
	}
	ck_assert_msg(dns_local(eng, NULL, buf_str(&rr), &err) == 0, "%s",
	    buf_str(&err));
	buf_free(&rr);
	buf_free(&err);
}

/* engine -- DNS: the key at s1._domainkey.dk.example; other names time out */
static void
engine(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	struct buf		err = BUF_INIT;
	char			fwd[64];

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
	key_rr("s1", pub_b64);
	key_rr("s512", small_b64);
	key_rr("big", big_b64);
	key_rr("huge", huge_b64);
	ck_assert_msg(dns_start(eng, &err) == 0, "%s", buf_str(&err));
	ck_assert_int_eq(dkimv_init(eng, 500, 8, &err), 0);
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
	free(small_pem);
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
 * sign_ex -- a DKIM-Signature value (with its leading space, LF folds, as
 * libmilter would pass it) over the test headers and body b, by key pem
 * with algorithm alg; len >= 0: with l=len
 */
static char *
sign_ex(const char *pem, const char *sel, const char *dom, dkim_canon_t c,
    dkim_alg_t alg, ssize_t len, const char *b)
{
	DKIM_LIB	*lib = dkim_init(NULL, NULL);
	DKIM		*d;
	DKIM_STAT	 st;
	struct buf	 f = BUF_INIT, out = BUF_INIT;
	unsigned char	 sig[4096];
	unsigned int	 minbits = 512;
	uint32_t	 flags = len >= 0 ? DKIM_LIBFLAGS_SIGNLEN : 0;
	size_t		 i;

	/* the signer refuses small keys too: the verifier is under test */
	ck_assert_int_eq(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
	    &minbits, sizeof(minbits)), DKIM_STAT_OK);
	ck_assert_int_eq(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS,
	    &flags, sizeof(flags)), DKIM_STAT_OK);
	d = dkim_sign(lib, (const unsigned char *)"test", NULL,
	    (dkim_sigkey_t)pem, (const unsigned char *)sel,
	    (const unsigned char *)dom, c, c, alg, len, &st);
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

/* sign -- sign_ex with the 2048-bit key, rsa-sha256, no l= */
static char *
sign(const char *sel, const char *dom, dkim_canon_t c, const char *b)
{
	return sign_ex(priv_pem, sel, dom, c, DKIM_SIGN_RSASHA256, -1, b);
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

/* l= shorter than the body received: verified, but not a pass (policy) */
START_TEST(test_length_appended)
{
	static const char appended[] = "Hello,\r\n\r\nthis is the body.\r\n"
	    "Appended after signing: pay to IBAN XX00.\r\n";
	char	*s[2] = {
		sign_ex(priv_pem, "s1", "dk.example", DKIM_CANON_RELAXED,
		    DKIM_SIGN_RSASHA256, (ssize_t)strlen(body), body),
		sign_ex(priv_pem, "s1", "dk.example", DKIM_CANON_SIMPLE,
		    DKIM_SIGN_RSASHA256, (ssize_t)strlen(body), body),
	};
	struct dkimv *m;
	const struct dkimv_outcome *o;
	size_t	i;

	for (i = 0; i < 2; i++) {
		/* the whole body signed: pass */
		o = verify(&m, &s[i], 1, body, 1);
		ck_assert_int_eq(o->result, DKIMV_PASS);
		dkimv_free(m);
		/* trailing blank lines add nothing to the canonical body */
		o = verify(&m, &s[i], 1, "Hello,\r\n\r\nthis is the body.\r\n"
		    "\r\n\r\n", 1);
		ck_assert_int_eq(o->result, DKIMV_PASS);
		dkimv_free(m);
		o = verify(&m, &s[i], 1, appended, 1);
		ck_assert_int_eq(o->sig[0].result, DKIMV_POLICY);
		ck_assert_str_eq(dkimv_result_name(o->sig[0].result), "policy");
		ck_assert_msg(strstr(o->sig[0].reason, "l=") != NULL, "%s",
		    o->sig[0].reason);
		/* the message's result stays in the fact's set: not pass */
		ck_assert_int_eq(o->result, DKIMV_FAIL);
		dkimv_free(m);
		free(s[i]);
	}
}
END_TEST

/* RFC 8301: rsa-sha1 never passes, and its key is not even asked for */
START_TEST(test_rsa_sha1)
{
	char	*s = sign_ex(priv_pem, "s1", "dk.example", DKIM_CANON_RELAXED,
	    DKIM_SIGN_RSASHA1, -1, body);
	struct dkimv *m;
	const struct dkimv_outcome *o = verify(&m, &s, 1, body, 1);

	ck_assert_int_eq(o->result, DKIMV_PERMERROR);
	ck_assert_uint_eq(o->nsigs, 1);
	ck_assert_str_eq(o->sig[0].alg, "rsa-sha1");
	ck_assert_str_eq(o->sig[0].domain, "dk.example");
	ck_assert_msg(strstr(o->sig[0].reason, "rsa-sha1") != NULL, "%s",
	    o->sig[0].reason);
	dkimv_free(m);
	free(s);
}
END_TEST

/* RFC 8301: an RSA key under 1024 bits is a permanent error */
START_TEST(test_small_key)
{
	char	*s = sign_ex(small_pem, "s512", "dk.example", DKIM_CANON_RELAXED,
	    DKIM_SIGN_RSASHA256, -1, body);
	struct dkimv *m;
	const struct dkimv_outcome *o = verify(&m, &s, 1, body, 1);

	ck_assert_int_eq(o->result, DKIMV_PERMERROR);
	ck_assert_msg(strstr(o->sig[0].reason, "512 bits") != NULL, "%s",
	    o->sig[0].reason);
	dkimv_free(m);
	free(s);
}
END_TEST

/*
 * keys above the maximum, and key records longer than the library reads,
 * are refused when the answer comes in, before any signature is checked
 * (a mismatch would say "fail")
 */
START_TEST(test_huge_key)
{
	char	*s[2] = { sign("big", "dk.example", DKIM_CANON_RELAXED, body),
	    sign("huge", "dk.example", DKIM_CANON_RELAXED, body) };
	struct dkimv *m;
	const struct dkimv_outcome *o;

	o = verify(&m, &s[0], 1, body, 1);
	ck_assert_int_eq(o->result, DKIMV_PERMERROR);
	ck_assert_msg(strstr(o->sig[0].reason, "5000 bits") != NULL, "%s",
	    o->sig[0].reason);
	dkimv_free(m);
	o = verify(&m, &s[1], 1, body, 1);
	ck_assert_int_eq(o->result, DKIMV_PERMERROR);
	ck_assert_msg(strstr(o->sig[0].reason, "key record") != NULL, "%s",
	    o->sig[0].reason);
	dkimv_free(m);
	free(s[0]);
	free(s[1]);
}
END_TEST

/*
 * a handle the library cannot make is an internal failure: temperror
 * with internal set (the caller applies on_internal_error), never none
 */
START_TEST(test_internal_handle)
{
	char	*s = sign("s1", "dk.example", DKIM_CANON_RELAXED, body);
	struct dkimv *m;
	const struct dkimv_outcome *o;

	fail_handles = 1;
	o = verify(&m, &s, 1, body, 1);
	fail_handles = 0;
	ck_assert_int_eq(o->internal, 1);
	ck_assert_int_eq(o->result, DKIMV_TEMPERROR);
	ck_assert_msg(strstr(o->internal_why, "verification handle") != NULL,
	    "%s", o->internal_why);
	dkimv_free(m);
	/* and the next message is fine again */
	o = verify(&m, &s, 1, body, 1);
	ck_assert_int_eq(o->internal, 0);
	ck_assert_int_eq(o->result, DKIMV_PASS);
	dkimv_free(m);
	free(s);
}
END_TEST

/* the canonical body lengths l= is compared with (RFC 6376 3.4.3, 3.4.4) */
static const struct {
	const char	*body;
	uint64_t	 simple, relaxed;
} lens[] = {
	{ "", 2, 0 },
	{ "\r\n\r\n", 2, 0 },
	{ "a\r\n", 3, 3 },
	{ "a", 3, 3 },				/* a CRLF is added */
	{ "a\r\n\r\n\r\n", 3, 3 },		/* trailing empty lines */
	{ "a \t b  \r\n", 9, 5 },		/* "a b" */
	{ "a\r\n \t\r\n", 7, 3 },		/* a blank line is empty relaxed */
	{ "a\r\n\r\nb\r\n", 8, 8 },
	{ "a\rb\nc\r\n", 7, 7 },		/* a lone CR or LF is a byte */
	{ "a\r", 4, 4 },
};

START_TEST(test_body_length)
{
	struct dkimlen	 l;
	const char	*b = lens[_i].body;
	size_t		 i;

	/* whole, and one byte at a time (a CRLF split between chunks) */
	memset(&l, 0, sizeof(l));
	dkimlen_feed(&l, (const unsigned char *)b, strlen(b));
	ck_assert_uint_eq(dkimlen_simple(&l), lens[_i].simple);
	ck_assert_uint_eq(dkimlen_relaxed(&l), lens[_i].relaxed);
	memset(&l, 0, sizeof(l));
	for (i = 0; b[i] != '\0'; i++)
		dkimlen_feed(&l, (const unsigned char *)b + i, 1);
	ck_assert_uint_eq(dkimlen_simple(&l), lens[_i].simple);
	ck_assert_uint_eq(dkimlen_relaxed(&l), lens[_i].relaxed);
}
END_TEST

/*
 * keycache.c: libopendkim's d2i_PUBKEY_bio() calls land in mxgate's
 * table: the same DER bytes from a memory BIO give the same decoded key
 * (one more reference), other bytes another key, and the keys verify
 */
START_TEST(test_keycache)
{
	EVP_PKEY	*k = EVP_RSA_gen(2048), *k2 = EVP_RSA_gen(2048);
	EVP_PKEY	*a, *b, *c;
	unsigned char	*der = NULL, *der2 = NULL;
	int		 n, n2;
	BIO		*m;

	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(k2);
	n = i2d_PUBKEY(k, &der);
	n2 = i2d_PUBKEY(k2, &der2);
	ck_assert_int_gt(n, 0);
	ck_assert_int_gt(n2, 0);
	m = BIO_new_mem_buf(der, n);
	a = d2i_PUBKEY_bio(m, NULL);
	BIO_free(m);
	m = BIO_new_mem_buf(der, n);
	b = d2i_PUBKEY_bio(m, NULL);
	BIO_free(m);
	m = BIO_new_mem_buf(der2, n2);
	c = d2i_PUBKEY_bio(m, NULL);
	BIO_free(m);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, b);		/* from the table */
	ck_assert_ptr_ne(a, c);
	ck_assert_int_eq(EVP_PKEY_eq(a, k), 1);
	ck_assert_int_eq(EVP_PKEY_eq(c, k2), 1);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
	OPENSSL_free(der);
	OPENSSL_free(der2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
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
	tcase_add_test(t, test_length_appended);
	tcase_add_test(t, test_rsa_sha1);
	tcase_add_test(t, test_small_key);
	tcase_add_test(t, test_huge_key);
	tcase_add_test(t, test_internal_handle);
	tcase_add_test(t, test_keycache);
	suite_add_tcase(s, t);
	t = tcase_create("body length");
	tcase_add_loop_test(t, test_body_length, 0, sizeof(lens) / sizeof(lens[0]));
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
