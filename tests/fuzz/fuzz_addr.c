/*
 * fuzz_addr -- any bytes as a From: value. Checks what addr_list_parse
 * promises: a refusal has a reason; an accepted list keeps at most
 * ADDR_MAX_DOMAINS lower-case domains, each NUL-terminated and within
 * ADDR_DOMAIN_MAX, and never more domains than mailboxes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct addr_list	 a;
	struct buf		 err = BUF_INIT;
	size_t			 i;
	const char		*p;

	if (addr_list_parse((const char *)data, len, &a, &err) == -1) {
		if (err.len == 0)
			abort();
	} else {
		if (a.ndomains > ADDR_MAX_DOMAINS || a.ndomains > a.mailboxes ||
		    a.no_domain > a.mailboxes)
			abort();
		for (i = 0; i < a.ndomains; i++) {
			if (strlen(a.domain[i]) == 0 ||
			    strlen(a.domain[i]) > ADDR_DOMAIN_MAX)
				abort();
			for (p = a.domain[i]; *p != '\0'; p++)
				if (*p >= 'A' && *p <= 'Z')
					abort();
		}
	}
	buf_free(&err);
	return 0;
}
