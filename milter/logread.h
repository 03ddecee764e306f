/*
 * logread -- mxgate's log files cut into lines, for the commands of
 * mxgatectl that read them (report, ref --log).
 *
 * Files are read through zlib's gzread, which reads plain files as they
 * are, so a rotated .gz and the live log go through one reader. Lines
 * are cut by the reader itself (memchr on a buffer), not by gzgets: a NUL
 * in a line stays visible to logline_parse (which refuses it), and a line
 * over LOGLINE_MAX bytes is skipped to its end and returned as too long,
 * never split into two lines. Classic syslog timestamps take the year
 * from the file's mtime (for standard input that is not a file: now).
 *
 *   logread_open(lr, path, ctx, cmd)  open path ("-": standard input)
 *				       and set ctx for its timestamps; 0,
 *				       or EX_NOINPUT with the error on
 *				       stderr as "mxgatectl: CMD: ..."
 *   logread_next(lr, &line, &n)       the next line (no newline): 1; 0
 *				       at the end; -1 on a read error. A
 *				       line over LOGLINE_MAX comes back with
 *				       n = LOGLINE_MAX + 1 and its start only.
 *   logread_error(lr, cmd)            after -1: the error on stderr;
 *				       returns EX_DATAERR
 *   logread_close(lr)
 *
 * lr->name is the name errors use. One reader per thread.
 */
#ifndef MXGATE_LOGREAD_H
#define MXGATE_LOGREAD_H

#include <stddef.h>

#include <zlib.h>

#include "logline.h"

struct logread {
	gzFile		 gz;
	char		*buf;
	size_t		 len, off;
	int		 eof;
	const char	*name;		/* the path, or "standard input" */
};

int	logread_open(struct logread *, const char *, struct logline_ctx *,
	    const char *);
int	logread_next(struct logread *, const char **, size_t *);
int	logread_error(struct logread *, const char *);
void	logread_close(struct logread *);

#endif
