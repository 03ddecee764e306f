/*
 * logline -- one line of mxgate's log, read back: the syslog or stderr
 * prefix (time, pid) and the fields of a decision line as verdict.c's
 * log_decision() writes them (spec section 7), with log_escape()'s
 * quoting and \xHH undone.
 *
 * Forms of the prefix it reads:
 *   2026-12-02T09:10:11.123456+00:00 HOST mxgate[PID]: MSG  (RFC 3339;
 *       also Z, +HHMM as journalctl -o short-iso writes it)
 *   Dec  2 09:10:11 HOST mxgate[PID]: MSG  (classic syslog: local time,
 *       no year: the year is the one of a reference time, the file's
 *       mtime, or the year before for a month later than that time's)
 *   mxgate[PID]: MSG                       (standard error: no time)
 *
 * logline_parse() is bounded: a line longer than LOGLINE_MAX bytes, with
 * a NUL or a control byte, an unfinished quote or escape, a \x00, a
 * repeated or missing field is LOGLINE_MALFORMED (with a reason), never
 * a crash or a partial decision. Lines of other programs and mxgate's
 * lines that are not decisions (start, reload, warnings) are
 * LOGLINE_OTHER.
 *
 * The decoded values live in the struct logline (allocated once by
 * logline_init, reused line after line); its field pointers are valid
 * until the next logline_parse() or logline_free(). Absent fields are
 * NULL. A decoded value never holds a NUL. One struct per thread.
 */
#ifndef MXGATE_LOGLINE_H
#define MXGATE_LOGLINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LOGLINE_MAX	8192	/* bytes in one line, without its newline */

enum logline_kind {
	LOGLINE_DECISION,	/* a decision line: the fields are set */
	LOGLINE_OTHER,		/* another program's, or not a decision */
	LOGLINE_MALFORMED	/* mxgate's, but not readable: see why */
};

/* the year (and time zone cache) for classic timestamps of one file */
struct logline_ctx {
	int	 ref_year;	/* the reference time's local year and month */
	int	 ref_mon;	/* 1..12 */
	int	 hour_key;	/* cache: (year, month, day, hour) -> hour_start */
	int64_t	 hour_start;
};

struct logline {
	int		 has_time;	/* 0: stderr form, time unknown */
	int64_t		 time;		/* seconds since the epoch (UTC) */
	uint32_t	 usec;		/* fraction of the second, when given */
	long		 pid;
	const char	*qid;		/* NOQUEUE before a queue id */
	const char	*ref, *rule, *stage, *action, *reply, *text;
	const char	*client_name, *client_ip;
	const char	*helo, *from, *rcpt, *sasl;
	const char	*spf, *dkim, *dmarc, *dnsbl, *limit;
	const char	*why;		/* LOGLINE_MALFORMED: the reason */
	char		*vals;		/* decoded values, NUL-separated */
	size_t		 cap;
};

void	logline_init(struct logline *);
void	logline_free(struct logline *);
void	logline_context(struct logline_ctx *, time_t);
enum logline_kind logline_parse(struct logline *, const char *, size_t,
	    struct logline_ctx *);
int	logline_time(const char *, size_t, int64_t *);

#endif
