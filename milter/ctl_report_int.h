/*
 * ctl_report_int -- what the parts of `mxgatectl report` share: the
 * counts (ctl_report.c reads the logs and fills them), and the writers
 * of the text and JSON report (ctl_report_out.c) and of the HTML page
 * (ctl_report_html.c), which only read them.
 *
 * A table maps a key (rule, list, login, network, hour) to a row of
 * counts; rows are kept in a hash for counting and in an array for the
 * writers. Keys are decoded log values: any byte but NUL, so every
 * writer escapes them for its format. Single-threaded.
 */
#ifndef MXGATE_CTL_REPORT_INT_H
#define MXGATE_CTL_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hash.h"

/* the columns of a row: the outcomes of a refusal */
enum rp_col {
	RP_TEMPFAIL,		/* a deferral */
	RP_WOULD_TEMPFAIL,	/* monitor mode: a deferral it would have been */
	RP_REJECT,
	RP_WOULD_REJECT,
	RP_NCOL
};

struct rp_row {
	char		*key;
	size_t		 len;
	uint64_t	 n[RP_NCOL];
	int64_t		 start;		/* hour tables: the hour's first second */
	char		*rule;		/* the hour x rule table: the rule */
};

struct rp_table {
	struct hash	 *h;
	struct rp_row	**row;
	size_t		  n, cap;
};

/* one deferral of the top refs */
struct rp_ref {
	int64_t		 t;
	uint32_t	 usec;
	uint64_t	 seq;		/* read order: the later line wins a tie */
	char		*ref, *rule, *stage, *client_name, *client_ip;
};

struct report {
	/* options */
	int		 json;
	int		 has_since, has_until;
	int64_t		 since, until;	/* [since, until) */
	size_t		 top;		/* refs kept (-n) */
	const char	*html;
	/* lines */
	uint64_t	 files, lines, decisions, other, malformed, too_long,
			 no_time, outside;
	/* decisions in the period, by outcome */
	uint64_t	 n[RP_NCOL], other_decisions;
	int		 seen;		/* first and last are set */
	int64_t		 first, last;
	/* deferrals (tempfail) per ...; rules count every column */
	struct rp_table	 rules, lists, logins, nets, hours, hour_rule;
	/* the most recent deferrals: a min-heap on (t, usec, seq) */
	struct rp_ref	*refs;
	size_t		 nrefs, refcap;
	uint64_t	 seq;
};

struct rp_row **ctl_report_sorted(const struct rp_table *, int);
void	ctl_report_time(int64_t, int, struct buf *);
void	ctl_report_zone(struct buf *);
void	ctl_report_refs(const struct report *, struct rp_ref **);
void	ctl_report_text(const struct report *, struct buf *);
void	ctl_report_json(const struct report *, struct buf *);
void	ctl_report_html(const struct report *, struct buf *);
size_t	ctl_report_utf8(const unsigned char *, size_t);

#endif
