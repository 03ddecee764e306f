/*
 * dkimkey -- DKIM key records refused before any signature check (see
 * dkimkey.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

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

/* rsa_bits -- the size of the RSA key in a key record's p=, or 0 (not one) */
static int
rsa_bits(const char *txt)
{
	const unsigned char	*dp;
	const char		*v;
	unsigned char		 b64[DKIMV_KEY_RECORD_MAX + 1], der[DKIMV_KEY_RECORD_MAX];
	size_t			 vlen, n = 0, i;
	EVP_PKEY		*k;
	int			 dl, bits = 0;

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
	dp = der;
	if ((k = d2i_PUBKEY(NULL, &dp, dl)) == NULL)
		return 0;
	if (EVP_PKEY_base_id(k) == EVP_PKEY_RSA)
		bits = EVP_PKEY_bits(k);
	EVP_PKEY_free(k);
	return bits;
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

