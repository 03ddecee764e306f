/*
 * xalloc -- allocation wrappers that never return NULL.
 *
 * On exhaustion they log a panic and abort: a milter that cannot allocate
 * cannot answer safely, and Postfix applies milter_default_action.
 * Thread-safe (they only call the C library allocator).
 */
#ifndef MXGATE_XALLOC_H
#define MXGATE_XALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
