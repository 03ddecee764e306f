/*
 * diag -- collects configuration and rules errors as
 * "FILE:LINE:COL: error: MESSAGE" lines, so that a parser can go on after
 * an error and report all of them. Columns count bytes from 1.
 * One diag belongs to one load (one thread).
 */
#ifndef MXGATE_DIAG_H
#define MXGATE_DIAG_H

#include "buf.h"

struct diag {
	struct buf	out;		/* one line per error, each ending in "\n" */
	unsigned	errors;
	unsigned	max;		/* stop recording after this many (0 = 1000) */
};

#define DIAG_INIT	{ BUF_INIT, 0, 0 }

void	diag_error(struct diag *, const char *, unsigned, unsigned,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
void	diag_free(struct diag *);

#endif
