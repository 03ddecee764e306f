/*
 * compat.h -- prototypes for the portability functions configure chose
 * to build from compat/ (see AC_REPLACE_FUNCS in configure.ac).
 */
#ifndef MXGATE_COMPAT_H
#define MXGATE_COMPAT_H

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
#endif
#ifndef HAVE_STRLCAT
size_t	strlcat(char *, const char *, size_t);
#endif
#ifndef HAVE_EXPLICIT_BZERO
void	explicit_bzero(void *, size_t);
#endif

#endif
