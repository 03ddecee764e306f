/*
 * fuzz_dns_msg -- any bytes as a DNS answer packet, parsed for every type
 * mxgate asks (the first byte picks it). Checks what the parser promises:
 * at most DNS_MSG_MAX_RR records, all of the asked type, TXT within
 * DNS_TXT_MAX, names NUL-terminated within DNS_NAME_TEXT_MAX.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_TXT,
	    DNS_T_PTR, DNS_T_MX, DNS_T_CNAME, DNS_T_NS };
	struct dns_answer	 a;
	struct buf		 err = BUF_INIT;
	uint16_t		 t;
	size_t			 i;

	if (len < 1)
		return 0;
	t = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	if (dns_msg_parse(data + 1, len - 1, t, &a, &err) == 0) {
		if (a.nrr > DNS_MSG_MAX_RR ||
		    strlen(a.qname) >= DNS_NAME_TEXT_MAX)
			abort();
		for (i = 0; i < a.nrr; i++) {
			if (a.rr[i].type != t)
				abort();
			if (t == DNS_T_TXT && (a.rr[i].text == NULL ||
			    a.rr[i].textlen > DNS_TXT_MAX))
				abort();
			if ((t == DNS_T_PTR || t == DNS_T_MX) &&
			    strlen(a.rr[i].text) != a.rr[i].textlen)
				abort();
		}
	} else if (err.len == 0)
		abort();
	dns_answer_free(&a);
	buf_free(&err);
	return 0;
}
