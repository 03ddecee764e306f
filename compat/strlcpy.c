/*
 * strlcpy -- size-bounded string copy, for C libraries that lack it.
 * Copies at most size-1 bytes and always NUL-terminates (size > 0);
 * returns strlen(src), so truncation is detected by a result >= size.
 */
#include "config.h"

#include <string.h>

#include "compat.h"

size_t
strlcpy(char *dst, const char *src, size_t size)
{
	size_t	len = strlen(src);

	if (size > 0) {
		size_t	n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
