/*
 * fuzz_ctl -- any bytes as a request on the control socket (ctl_parse),
 * and every field it yields as JSON (ctl_json_strn). Checks what the
 * framing promises: at most CTL_FIELDS fields of at most CTL_FIELD_MAX
 * bytes, each NUL-terminated at its length, encoding them again gives
 * the same fields; a refused request says why; JSON output never holds
 * a raw control byte. Never a crash or a read outside the request.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct buf	 re = BUF_INIT, j = BUF_INIT;
	const char	*why = NULL;
	char		**argv, **argv2, *store, *store2, *in;
	size_t		*alen, *alen2, argc, argc2, i, k;

	if ((in = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(in, data, len);
	if (ctl_parse(in, len, &argv, &alen, &argc, &store, &why) == -1) {
		if (why == NULL)
			abort();
		free(in);
		return 0;
	}
	if (argc == 0 || argc > CTL_FIELDS || argv[argc] != NULL)
		abort();
	for (i = 0; i < argc; i++) {
		if (alen[i] > CTL_FIELD_MAX || argv[i][alen[i]] != '\0')
			abort();
		ctl_field(&re, argv[i], alen[i]);
		buf_reset(&j);
		ctl_json_strn(&j, argv[i], alen[i]);
		for (k = 0; k < j.len; k++)
			if ((unsigned char)j.data[k] < 0x20 || j.data[k] == 0x7f)
				abort();
	}
	if (ctl_parse(re.data, re.len, &argv2, &alen2, &argc2, &store2,
	    &why) == -1 || argc2 != argc)
		abort();
	for (i = 0; i < argc; i++)
		if (alen2[i] != alen[i] || memcmp(argv2[i], argv[i], alen[i]) != 0)
			abort();
	free(argv2);
	free(alen2);
	free(store2);
	free(argv);
	free(alen);
	free(store);
	buf_free(&re);
	buf_free(&j);
	free(in);
	return 0;
}
