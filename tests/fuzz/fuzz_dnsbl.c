/*
 * fuzz_dnsbl -- any bytes as DNS list answer patterns (one per line) and
 * as A answers (4-byte groups after a NUL), classified by the list.
 * Checks that error codes are never listings and that a listing's weight
 * stays within the bounds of the filters that matched.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dnsbl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* is_error -- an error code by the spec's definition */
static int
is_error(const uint8_t *a)
{
	return a[0] != 127 || (a[1] == 255 && a[2] == 255) ||
	    (a[1] == 0 && a[2] == 0 && a[3] == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t		*nul = memchr(data, 0, len), *p, *nl, *end;
	struct dnsbl		*l = dnsbl_new("f");
	struct dnsbl_result	 r;
	struct buf		 err = BUF_INIT;
	size_t			 n = 0, i, nf = 0;
	int			 any_error = 0;

	end = nul != NULL ? nul : data + len;
	for (p = data; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		buf_reset(&err);
		if (dnsbl_add_answer(l, (const char *)p, (size_t)(nl - p),
		    nf % 2 ? "L" : NULL, (int)(nf % 7) - 3, &err) == 0)
			nf++;
		else if (err.len == 0)
			abort();
	}
	if (nul != NULL) {
		n = (len - (size_t)(nul + 1 - data)) / 4;
		if (n > 64)
			n = 64;
		for (i = 0; i < n; i++)
			any_error |= is_error(nul + 1 + 4 * i);
		dnsbl_evaluate(l, (const uint8_t (*)[4])(nul + 1), n, &r);
		if (any_error != (r.status == DNSBL_ERROR_ANSWER))
			abort();
		if (r.status == DNSBL_LISTED &&
		    (r.weight > 3 * (int)nf + 1 || r.weight < -3 * (int)nf))
			abort();
	}
	buf_free(&err);
	dnsbl_free(l);
	return 0;
}
