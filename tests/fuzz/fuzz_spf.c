/*
 * fuzz_spf -- any bytes as SPF records: the input's lines are the TXT
 * records of d0.example, d1.example, ... (each name also has an A and an
 * MX record; names under t.example fail temporarily, others do not
 * exist), evaluated for an IPv4 and an IPv6 client. Checks that a result
 * is always one of RFC 7208's, that the limits hold and that the reason
 * is printable text.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipaddr.h"
#include "spf.h"
#include "spf_int.h"

#define RECS	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t	*rec[RECS];
static size_t		 reclen[RECS], nrec;

static enum spf_dns_rc
zquery(void *arg, const char *name, uint16_t type, struct dns_answer *a)
{
	unsigned	k;
	char		tail[16];

	(void)arg;
	if (strstr(name, "t.example") != NULL)
		return SPF_DNS_TEMP;
	if (sscanf(name, "d%u.%15s", &k, tail) != 2 || k >= nrec ||
	    strcasecmp(tail, "example") != 0)
		return SPF_DNS_NXDOMAIN;
	a->rr = calloc(1, sizeof(*a->rr));
	a->nrr = 1;
	a->rr[0].type = type;
	switch (type) {
	case DNS_T_TXT:
		a->rr[0].text = malloc(reclen[k] + 1);
		memcpy(a->rr[0].text, rec[k], reclen[k]);
		a->rr[0].text[reclen[k]] = '\0';
		a->rr[0].textlen = reclen[k];
		break;
	case DNS_T_MX:
		a->rr[0].text = malloc(32);
		(void)snprintf(a->rr[0].text, 32, "d%u.example", (k + 1) % RECS);
		break;
	case DNS_T_A:
		a->rr[0].addr[0] = 192;
		a->rr[0].addr[2] = 2;
		a->rr[0].addr[3] = (uint8_t)k;
		break;
	default:
		a->nrr = 0;
		break;
	}
	return SPF_DNS_OK;
}

static void
run(const char *ip, const char *sender)
{
	struct spf_resolver	r = { zquery, NULL };
	struct spf_request	req;
	struct spf_outcome	o;
	size_t			i;

	memset(&req, 0, sizeof(req));
	if (ip_parse(ip, strlen(ip), &req.ip) != 0)
		abort();
	req.helo = "d1.example";
	req.sender = sender;
	spf_check(&r, &req, &o);
	if (o.result > SPF_PERMERROR || o.lookups > SPF_MAX_DNS_TERMS + 1 ||
	    o.voids > SPF_MAX_VOID + 1 || o.queries > 200)
		abort();
	for (i = 0; o.reason[i] != '\0'; i++)
		if ((unsigned char)o.reason[i] < 0x20 ||
		    (unsigned char)o.reason[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct spf_record	 r;
	const uint8_t			*p = data, *end = data + len, *nl;
	char				 err[128];

	(void)spf_parse(&r, (const char *)data, len > 6 ? len : 0, err,
	    sizeof(err));
	for (nrec = 0; nrec < RECS && p < end; nrec++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		rec[nrec] = p;
		reclen[nrec] = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		p = nl != NULL ? nl + 1 : end;
	}
	run("192.0.2.3", "user-x.y@d0.example");
	run("2001:db8::3", "");
	return 0;
}
