/*
 * xalloc -- allocation wrappers that never return NULL (see xalloc.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* xmalloc -- malloc or die */
void *
xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		log_panic("out of memory (%zu bytes)", n);
	return p;
}

/* xcalloc -- calloc or die */
void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		log_panic("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

/* xreallocarray -- overflow-checked realloc or die */
void *
xreallocarray(void *old, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		log_panic("allocation overflow (%zu x %zu bytes)", nmemb, size);
	p = realloc(old, nmemb != 0 && size != 0 ? nmemb * size : 1);
	if (p == NULL)
		log_panic("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

/* xstrdup -- strdup or die */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* xstrndup -- copy at most n bytes of s into a new NUL-terminated string */
char *
xstrndup(const char *s, size_t n)
{
	size_t	 len = strnlen(s, n);
	char	*p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
