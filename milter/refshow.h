/*
 * refshow -- one decision as `mxgatectl ref` shows it, whether it comes
 * from the daemon's ring of recent decisions (refring.c, ctl_ref.c) or
 * from a log line (ctl_reflog.c): the same fields, the same text and
 * JSON, so the two answers read alike.
 *
 *   refshow_parse_ref(in, out)  a reference as a user typed it, checked
 *				 and normalised (Crockford base32: lower
 *				 case taken, O read as 0, I and L as 1) into
 *				 out (REFSHOW_REF_LEN + 1 bytes). 0, or -1
 *				 when it is not a reference.
 *   refshow_text(s, out)        one "field: value" line per field that is
 *				 set, then "facts:" with one indented line
 *				 per fact. Bytes outside printable ASCII
 *				 are written \xHH, as in the log.
 *   refshow_json(s, out)        one JSON object (absent fields null),
 *				 always valid JSON (ctl_json_str: UTF-8
 *				 kept, other bytes U+FFFD), ending in a
 *				 newline.
 *
 * A struct refshow only points at strings its owner keeps. Pure
 * functions of their arguments: thread-safe.
 */
#ifndef MXGATE_REFSHOW_H
#define MXGATE_REFSHOW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define REFSHOW_REF_LEN		12
#define REFSHOW_FACTS_MAX	64

/* the fields of a decision, in the order of the log line */
enum refshow_field {
	RS_REF, RS_QID, RS_STAGE, RS_RULE, RS_ACTION, RS_REPLY, RS_TEXT,
	RS_CLIENT_NAME, RS_CLIENT_IP, RS_HELO, RS_FROM, RS_RCPT, RS_SASL,
	RS_SPF, RS_DKIM, RS_DMARC, RS_DNSBL, RS_LIMIT,
	RS_NFIELDS
};

struct refshow {
	int		 has_time;	/* 0: the log line had no time */
	int64_t		 time;		/* seconds since the epoch */
	uint32_t	 usec;
	const char	*f[RS_NFIELDS];	/* NULL: not known at the stage */
	size_t		 nfacts;	/* the facts the rule used */
	const char	*fact_name[REFSHOW_FACTS_MAX];
	const char	*fact_value[REFSHOW_FACTS_MAX];
	const char	*where;		/* a log file and line, or NULL */
};

int	refshow_parse_ref(const char *, char *);
void	refshow_text(const struct refshow *, struct buf *);
void	refshow_json(const struct refshow *, struct buf *);

#endif
