/*
 * buf -- the one growable byte buffer.
 *
 * A buf always holds a NUL guard after its `len` bytes, so `data` can be
 * used as a C string when the content has no NUL of its own. Appends grow
 * the buffer (allocation never fails, see xalloc.h). A buf is owned by one
 * thread at a time; nothing here locks.
 *
 *   struct buf b = BUF_INIT;  buf_puts(&b, "x"); ...; buf_free(&b);
 */
#ifndef MXGATE_BUF_H
#define MXGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated after len bytes; NULL only before the first append */
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT	{ NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_truncate(struct buf *, size_t);
void	 buf_append(struct buf *, const void *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_putc(struct buf *, int);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
const char *buf_str(const struct buf *);
char	*buf_release(struct buf *);

#endif
