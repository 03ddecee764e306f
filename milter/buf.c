/*
 * buf -- the one growable byte buffer (see buf.h for the contract).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xalloc.h"

static void	buf_grow(struct buf *, size_t);

/* buf_init -- make an empty buffer */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* buf_free -- release the storage; the buffer is empty and reusable */
void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* buf_reset -- forget the content, keep the storage */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* buf_truncate -- keep the first len bytes (no-op when shorter) */
void
buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

/* buf_grow -- make room for `more` bytes plus the NUL guard */
static void
buf_grow(struct buf *b, size_t more)
{
	size_t	need, cap;

	if (more > (size_t)-1 / 2 - b->len)
		log_panic("buffer overflow (%zu + %zu bytes)", b->len, more);
	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

/* buf_append -- add n bytes */
void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* buf_puts -- add a C string */
void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* buf_putc -- add one byte */
void
buf_putc(struct buf *b, int c)
{
	char	ch = (char)c;

	buf_append(b, &ch, 1);
}

/* buf_printf -- add formatted text */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* buf_vprintf -- add formatted text (va_list form) */
void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		log_panic("vsnprintf failed for format \"%s\"", fmt);
	buf_grow(b, (size_t)n);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

/* buf_str -- the content as a C string ("" when empty) */
const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

/* buf_release -- hand the content to the caller as a malloc'd string */
char *
buf_release(struct buf *b)
{
	char	*s;

	if (b->data == NULL)
		return xstrdup("");
	s = b->data;
	buf_init(b);
	return s;
}
