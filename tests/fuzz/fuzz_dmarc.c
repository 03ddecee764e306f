/*
 * fuzz_dmarc -- any bytes as DMARC policy records: the first line is the
 * From domain, each further line a TXT record at _dmarc of the From
 * domain's successive parents. Checks that results, policies and the
 * question count stay in range and the reason is printable.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "xalloc.h"

#define RECS	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	*names[RECS];
static const uint8_t *rec[RECS];
static size_t	 reclen[RECS], nrec;

static enum spf_dns_rc
zq(void *arg, const char *name, uint16_t type, struct dns_answer *a)
{
	size_t	k;

	(void)arg;
	if (type != DNS_T_TXT || strncmp(name, "_dmarc.", 7) != 0)
		return SPF_DNS_NXDOMAIN;
	for (k = 0; k < nrec; k++)
		if (names[k] != NULL && strcasecmp(names[k], name + 7) == 0)
			break;
	if (k == nrec)
		return SPF_DNS_NXDOMAIN;
	if (reclen[k] > 0 && rec[k][0] == '!')
		return SPF_DNS_TEMP;
	a->rr = xcalloc(2, sizeof(*a->rr));
	a->nrr = 1;
	a->rr[0].type = DNS_T_TXT;
	a->rr[0].text = xstrndup((const char *)rec[k], reclen[k]);
	a->rr[0].textlen = reclen[k];
	return SPF_DNS_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct spf_resolver	 r = { zq, NULL };
	struct dmarc_input	 in;
	struct dmarc_outcome	 o;
	const uint8_t		*p = data, *end = data + len, *nl;
	const char		*dk[2], *d;
	char			*from;
	size_t			 i;

	nl = memchr(p, '\n', len);
	from = xstrndup((const char *)p, nl != NULL ? (size_t)(nl - p) : len);
	p = nl != NULL ? nl + 1 : end;
	for (nrec = 0, d = from; nrec < RECS && p < end; nrec++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		rec[nrec] = p;
		reclen[nrec] = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		p = nl != NULL ? nl + 1 : end;
		names[nrec] = d != NULL ? xstrdup(d) : NULL;
		if (d != NULL && (d = strchr(d, '.')) != NULL)
			d++;
	}
	memset(&in, 0, sizeof(in));
	in.from_domain = from;
	in.spf = SPF_PASS;
	in.spf_domain = strchr(from, '.') != NULL ? strchr(from, '.') + 1 : from;
	dk[0] = from;
	dk[1] = in.spf_domain;
	in.dkim_pass = dk;
	in.ndkim_pass = 2;
	dmarc_check(&r, &in, &o);
	if (o.result > DMARC_PERMERROR || o.policy > DMARC_P_REJECT ||
	    o.queries > 3 * DMARC_MAX_QUERIES + 1)
		abort();
	for (i = 0; o.reason[i] != '\0'; i++)
		if ((unsigned char)o.reason[i] < 0x20 ||
		    (unsigned char)o.reason[i] > 0x7e)
			abort();
	for (i = 0; i < nrec; i++)
		free(names[i]);
	free(from);
	return 0;
}
