/*
 * dkimkey -- DKIM key records refused before any signature check (see
 * dkimkey.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkimkey.h"
#include "dkimv.h"

/* tag_value -- the value of tag name in a tag list (RFC 6376 3.2), or NULL */
static const char *
tag_value(const char *list, const char *name, size_t *vlen)
{
	const char	*p = list, *semi, *eq, *t, *te;
	size_t		 nl = strlen(name);

	for (; *p != '\0'; p = *semi != '\0' ? semi + 1 : semi) {
		semi = p + strcspn(p, ";");
		if ((eq = memchr(p, '=', (size_t)(semi - p))) == NULL)
			continue;
		for (t = p; t < eq && strchr(" \t\r\n", *t) != NULL; t++)
			;
		for (te = eq; te > t && strchr(" \t\r\n", te[-1]) != NULL; te--)
			;
		if ((size_t)(te - t) == nl && strncmp(t, name, nl) == 0) {
			*vlen = (size_t)(semi - eq - 1);
			return eq + 1;
		}
	}
	return NULL;
}

/*
 * der -- the next DER element of p[0..*n) if its tag is `tag`: its
 * contents in c/clen, p and n moved past it. 0, or -1 when malformed.
 * Lengths of up to three octets (a key record is far smaller).
 */
static int
der(const unsigned char **p, size_t *n, unsigned char tag,
    const unsigned char **c, size_t *clen)
{
	const unsigned char	*q = *p;
	size_t			 len, hdr = 2, k, i;

	if (*n < 2 || q[0] != tag)
		return -1;
	len = q[1];
	if (len & 0x80) {
		k = len & 0x7f;
		if (k == 0 || k > 3 || *n < 2 + k)
			return -1;
		for (len = 0, i = 0; i < k; i++)
			len = len << 8 | q[2 + i];
		hdr += k;
	}
	if (len > *n - hdr)
		return -1;
	*c = q + hdr;
	*clen = len;
	*p = q + hdr + len;
	*n -= hdr + len;
	return 0;
}

/*
 * spki_rsa_bits -- the modulus size of a DER SubjectPublicKeyInfo that
 * holds an RSA key (rsaEncryption), or 0 (anything else, or malformed).
 * Read directly: OpenSSL 3.0's d2i_PUBKEY() goes through its decoder
 * framework, which costs more CPU than the rest of a message's checks.
 */
static int
spki_rsa_bits(const unsigned char *d, size_t n)
{
	static const unsigned char rsa_oid[] = {
		0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01
	};
	const unsigned char	*spki, *alg, *oid, *bs, *rsa, *mod;
	size_t			 sl, al, ol, bl, rl, ml;
	unsigned		 top;
	int			 bits;

	if (der(&d, &n, 0x30, &spki, &sl) == -1 ||
	    der(&spki, &sl, 0x30, &alg, &al) == -1 ||
	    der(&alg, &al, 0x06, &oid, &ol) == -1 ||
	    ol != sizeof(rsa_oid) || memcmp(oid, rsa_oid, ol) != 0 ||
	    der(&spki, &sl, 0x03, &bs, &bl) == -1 || bl < 1 || bs[0] != 0)
		return 0;
	bs++;
	bl--;
	if (der(&bs, &bl, 0x30, &rsa, &rl) == -1 ||
	    der(&rsa, &rl, 0x02, &mod, &ml) == -1)
		return 0;
	while (ml > 0 && mod[0] == 0) {
		mod++;
		ml--;
	}
	if (ml == 0 || ml > 0x10000)
		return 0;
	for (bits = (int)(ml - 1) * 8, top = mod[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/* rsa_bits -- the size of the RSA key in a key record's p=, or 0 (not one) */
static int
rsa_bits(const char *txt)
{
	const char		*v;
	unsigned char		 b64[DKIMV_KEY_RECORD_MAX + 1], der[DKIMV_KEY_RECORD_MAX];
	size_t			 vlen, n = 0, i;
	int			 dl;

	if ((v = tag_value(txt, "k", &vlen)) != NULL &&
	    strncmp(v + strspn(v, " \t\r\n"), "rsa", 3) != 0)
		return 0;
	if ((v = tag_value(txt, "p", &vlen)) == NULL)
		return 0;
	for (i = 0; i < vlen && n < DKIMV_KEY_RECORD_MAX; i++)
		if (strchr(" \t\r\n", v[i]) == NULL)
			b64[n++] = (unsigned char)v[i];
	if (n == 0 || n % 4 != 0)
		return 0;
	if ((dl = EVP_DecodeBlock(der, b64, (int)n)) <= 0)
		return 0;
	/* EVP_DecodeBlock counts the padding's zero bytes: trailing junk */
	return spki_rsa_bits(der, (size_t)dl);
}

/*
 * dkimkey_refused -- a key answer mxgate refuses before the library checks a
 * signature with it (RFC 8301): a record longer than the library reads,
 * an RSA key under 1024 or over DKIMV_RSA_BITS_MAX bits. 1 and why.
 */
int
dkimkey_refused(const struct dns_answer *a, char *why, size_t whylen)
{
	const struct dns_rr	*txt = NULL;
	size_t			 i;
	int			 bits;

	for (i = 0; i < a->nrr; i++)
		if (a->rr[i].type == DNS_T_TXT) {
			if (txt != NULL)
				return 0;	/* several: the library says so */
			txt = &a->rr[i];
		}
	if (txt == NULL)
		return 0;
	if (txt->text_cut || txt->textlen > DKIMV_KEY_RECORD_MAX) {
		(void)snprintf(why, whylen, "key record of %s%zu bytes "
		    "(at most %d)", txt->text_cut ? "over " : "", txt->textlen,
		    DKIMV_KEY_RECORD_MAX);
		return 1;
	}
	if (memchr(txt->text, '\0', txt->textlen) != NULL)
		return 0;
	bits = rsa_bits(txt->text);
	if (bits > 0 && bits < DKIMV_RSA_BITS_MIN)
		(void)snprintf(why, whylen, "RSA key of %d bits (at least %d, "
		    "RFC 8301)", bits, DKIMV_RSA_BITS_MIN);
	else if (bits > DKIMV_RSA_BITS_MAX)
		(void)snprintf(why, whylen, "RSA key of %d bits (at most %d)",
		    bits, DKIMV_RSA_BITS_MAX);
	else
		return 0;
	return 1;
}

