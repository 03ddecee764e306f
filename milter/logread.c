/*
 * logread -- log files cut into lines (see logread.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "logread.h"
#include "xalloc.h"

#define READ_CAP	(8 * LOGLINE_MAX)

/* logread_open -- open a log file ("-": standard input); 0 or EX_NOINPUT */
int
logread_open(struct logread *lr, const char *path, struct logline_ctx *ctx,
    const char *cmd)
{
	struct stat	 st;
	int		 fd;

	memset(lr, 0, sizeof(*lr));
	lr->name = strcmp(path, "-") == 0 ? "standard input" : path;
	fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY);
	if (fd == -1) {
		fprintf(stderr, "mxgatectl: %s: %s: %s\n", cmd, lr->name,
		    strerror(errno));
		return EX_NOINPUT;
	}
	logline_context(ctx, fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
	    st.st_mtime : time(NULL));
	if ((lr->gz = gzdopen(fd, "rb")) == NULL) {
		(void)close(fd);
		fprintf(stderr, "mxgatectl: %s: %s: cannot read\n", cmd,
		    lr->name);
		return EX_NOINPUT;
	}
	(void)gzbuffer(lr->gz, 128 * 1024);
	lr->buf = xmalloc(READ_CAP);
	return 0;
}

/* logread_close -- close the file, free the buffer */
void
logread_close(struct logread *lr)
{
	if (lr->gz != NULL)
		(void)gzclose(lr->gz);
	free(lr->buf);
	memset(lr, 0, sizeof(*lr));
}

/* fill -- more bytes into the reader; 0, or -1 on a read error */
static int
fill(struct logread *lr)
{
	int	n, zerr;

	if (lr->off > 0) {
		memmove(lr->buf, lr->buf + lr->off, lr->len - lr->off);
		lr->len -= lr->off;
		lr->off = 0;
	}
	n = gzread(lr->gz, lr->buf + lr->len, (unsigned)(READ_CAP - lr->len));
	if (n < 0)
		return -1;
	if (n == 0) {
		/* a gzip file cut short ends as Z_BUF_ERROR, not as an error */
		(void)gzerror(lr->gz, &zerr);
		if (zerr == Z_BUF_ERROR)
			return -1;
		lr->eof = 1;
	}
	lr->len += (size_t)n;
	return 0;
}

/* logread_next -- the next line: 1; 0 at the end; -1 on a read error */
int
logread_next(struct logread *lr, const char **line, size_t *n)
{
	char	*nl;
	int	 skipping = 0;

	for (;;) {
		nl = memchr(lr->buf + lr->off, '\n', lr->len - lr->off);
		if (nl != NULL) {
			*line = lr->buf + lr->off;
			*n = skipping ? LOGLINE_MAX + 1 :
			    (size_t)(nl - (lr->buf + lr->off));
			lr->off = (size_t)(nl - lr->buf) + 1;
			return 1;
		}
		if (lr->len - lr->off > LOGLINE_MAX) {
			skipping = 1;
			lr->off = lr->len;
		}
		if (lr->eof) {
			*line = lr->buf + lr->off;
			*n = skipping ? LOGLINE_MAX + 1 : lr->len - lr->off;
			lr->off = lr->len;
			return skipping || *n > 0;
		}
		if (fill(lr) == -1)
			return -1;
	}
}

/* logread_error -- the read error on stderr; EX_DATAERR */
int
logread_error(struct logread *lr, const char *cmd)
{
	const char	*msg;
	int		 zerr;

	msg = gzerror(lr->gz, &zerr);
	/* zlib names the file "<fd:N>": the caller's name is better */
	if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ") != NULL)
		msg = strstr(msg, ": ") + 2;
	fprintf(stderr, "mxgatectl: %s: %s: %s\n", cmd, lr->name,
	    zerr == Z_ERRNO ? strerror(errno) : msg);
	return EX_DATAERR;
}
