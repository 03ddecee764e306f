/*
 * log -- the four log levels, to syslog or stderr (see log.h).
 *
 * Lines go out in one write(2) each so that lines of concurrent sessions
 * never interleave. warn_limited keeps the caller's last-logged time so
 * that a failing DNS list or store logs at most once a minute.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define LOG_LINE_MAX	8192

static enum log_target	 log_target = LOG_TO_STDERR;
static struct buf	*log_sink;
static pthread_mutex_t	 log_lock = PTHREAD_MUTEX_INITIALIZER;

static void	log_emit(int, const char *, va_list) __attribute__((format(printf, 2, 0)));

/* log_open -- choose where lines go; syslog uses ident "mxgate", facility mail */
void
log_open(enum log_target target)
{
	log_target = target;
	if (target == LOG_TO_SYSLOG)
		openlog("mxgate", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_capture -- tests: collect lines (one per "\n") in b; NULL stops */
void
log_capture(struct buf *b)
{
	pthread_mutex_lock(&log_lock);
	log_sink = b;
	pthread_mutex_unlock(&log_lock);
}

/* log_emit -- format one line and send it to the chosen target */
static void
log_emit(int prio, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	char	 out[LOG_LINE_MAX + 64];
	int	 n, saved = errno;
	const char *lvl = "";

	(void)vsnprintf(line, sizeof(line), fmt, ap);
	switch (prio) {
	case LOG_WARNING:
		lvl = "warning: ";
		break;
	case LOG_ERR:
		lvl = "fatal: ";
		break;
	case LOG_CRIT:
		lvl = "panic: ";
		break;
	}
	pthread_mutex_lock(&log_lock);
	if (log_sink != NULL) {
		buf_printf(log_sink, "%s%s\n", lvl, line);
	} else if (log_target == LOG_TO_SYSLOG) {
		syslog(prio, "%s%s", lvl, line);
	} else {
		n = snprintf(out, sizeof(out), "mxgate[%ld]: %s%s\n",
		    (long)getpid(), lvl, line);
		if (n > 0 && write(STDERR_FILENO, out,
		    (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1) == -1)
			n = 0;	/* nowhere left to report it */
	}
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}

/* log_info -- an informational line */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* log_warn -- something failed; the daemon continues */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* log_warn_limited -- a warning at most once a minute per *last stamp */
void
log_warn_limited(time_t *last, const char *fmt, ...)
{
	va_list	ap;
	struct timespec now;
	int	emit = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&log_lock);
	if (*last == 0 || now.tv_sec - *last >= 60) {
		*last = now.tv_sec ? now.tv_sec : 1;
		emit = 1;
	}
	pthread_mutex_unlock(&log_lock);
	if (!emit)
		return;
	va_start(ap, fmt);
	log_emit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* log_fatal -- the environment or configuration is broken: exit(code) */
void
log_fatal(int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(code);
}

/* log_panic -- a broken invariant: abort() */
void
log_panic(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, fmt, ap);
	va_end(ap);
	abort();
}

/*
 * log_escape -- append a peer-supplied value for a key=value line: bytes
 * outside printable ASCII become \xHH, '"' and '\' are escaped, and the
 * value is quoted when it is empty or holds a space.
 */
void
log_escape(struct buf *b, const char *s)
{
	const unsigned char *p;
	int	quote = (*s == '\0');

	for (p = (const unsigned char *)s; *p != '\0' && !quote; p++)
		if (*p == ' ' || *p == '"')
			quote = 1;
	if (quote)
		buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			buf_printf(b, "\\x%02X", *p);
		else if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, *p);
		} else
			buf_putc(b, *p);
	}
	if (quote)
		buf_putc(b, '"');
}
