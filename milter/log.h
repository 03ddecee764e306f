/*
 * log -- the four log levels, to syslog (facility mail) or stderr.
 *
 *   info   something worth recording (decision lines, start, reload)
 *   warn   something went wrong; mxgate continues
 *   fatal  environment or configuration broken: exit with a sysexits code
 *   panic  a broken invariant: abort()
 *
 * Every call formats one line; the caller never passes a newline. Lines
 * written to stderr carry "mxgate[PID]: " like syslog does. Thread-safe.
 * log_escape() is how any peer-supplied value enters a log line.
 */
#ifndef MXGATE_LOG_H
#define MXGATE_LOG_H

#include <stdarg.h>
#include <time.h>

struct buf;

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG
};

void	log_open(enum log_target);
void	log_capture(struct buf *);	/* tests: append lines here instead */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn_limited(time_t *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_fatal(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	log_panic(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_escape(struct buf *, const char *);

#endif
