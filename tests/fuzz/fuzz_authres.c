/*
 * fuzz_authres -- any bytes as an existing Authentication-Results value
 * (authres_claims) and as property values and a reason mxgate writes.
 * Checks that what mxgate writes never holds a control byte other than
 * the "\n\t" of its own folding, nor a byte outside ASCII.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "xalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct authres	 a;
	char		*s = xstrndup((const char *)data, len), *v, *p;

	(void)authres_claims((const char *)data, len, "mx.example.org");
	authres_begin(&a, "mx.example.org");
	authres_method(&a, "spf", "pass");
	authres_prop(&a, "smtp.mailfrom", s);
	authres_reason(&a, s);
	authres_method(&a, s, s);
	v = authres_end(&a);
	for (p = v; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x7f)
			abort();
		if (*p == '\n' && p[1] != '\t')
			abort();
		if ((unsigned char)*p < ' ' && *p != '\n' && *p != '\t')
			abort();
		if (*p == '\t' && (p == v || p[-1] != '\n'))
			abort();
	}
	free(v);
	free(s);
	return 0;
}
