/*
 * dnsbl -- the definition of one DNS list and what its answers mean
 * (spec section 4.3), without any DNS: the query name for a client, and
 * the classification of the A answers (dnsbl_lookup.c does the asking).
 *
 * A list is built by the rules loader (dnsbl_new, dnsbl_set_*,
 * dnsbl_add_answer) and immutable afterwards, shared by every thread;
 * only the once-a-minute log gate (dnsbl_log_due) changes, atomically.
 *
 * Answer filters: an address (127.0.0.2), a CIDR (127.0.0.0/24), a range
 * (127.0.0.2-127.0.0.11), or an octet pattern whose octets are N or
 * [A-B] (127.0.[0-255].[1-3]). Error answers -- 127.255.255.0/24,
 * 127.0.0.1, anything outside 127.0.0.0/8 -- are never listings: one of
 * them makes the whole result DNSBL_ERROR_ANSWER, whatever the filters
 * say, and a filter that could only match them is refused at load.
 */
#ifndef MXGATE_DNSBL_H
#define MXGATE_DNSBL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipaddr.h"

#define DNSBL_ANSWERS_MAX	64	/* answer filters per list */
#define DNSBL_LABEL_MAX		64	/* bytes of a label */
#define DNSBL_WEIGHT_MAX	1000	/* |weight| */
#define DNSBL_QNAME_MAX		256

enum dnsbl_on_error { DNSBL_ON_ERROR_IGNORE, DNSBL_ON_ERROR_TEMPFAIL };

enum dnsbl_status {
	DNSBL_NOT_LISTED,	/* NXDOMAIN, no data, or no answer a filter matches */
	DNSBL_LISTED,		/* an answer matched a filter */
	DNSBL_ERROR_ANSWER,	/* an error code: never a listing */
	DNSBL_FAILED		/* SERVFAIL, malformed, or no answer in time (the caller's) */
};

struct dnsbl_result {
	enum dnsbl_status status;
	int		 weight;	/* sum over the filters that matched (each once) */
	char		 labels[256];	/* their labels, comma-separated, in filter order */
	char		 error_answer[16];
};

struct dnsbl;

struct dnsbl *dnsbl_new(const char *);
void	 dnsbl_free(struct dnsbl *);
int	 dnsbl_set_zone(struct dnsbl *, const char *, struct buf *);
int	 dnsbl_add_answer(struct dnsbl *, const char *, size_t, const char *,
	    int, struct buf *);
void	 dnsbl_set_public_name(struct dnsbl *, const char *);
void	 dnsbl_set_timeout(struct dnsbl *, unsigned);
void	 dnsbl_set_on_error(struct dnsbl *, enum dnsbl_on_error);
const char *dnsbl_name(const struct dnsbl *);
const char *dnsbl_zone(const struct dnsbl *);
const char *dnsbl_public_name(const struct dnsbl *);
unsigned dnsbl_timeout(const struct dnsbl *);
enum dnsbl_on_error dnsbl_on_error(const struct dnsbl *);
int	 dnsbl_qname(const struct dnsbl *, const struct ipaddr *, char *,
	    size_t);
void	 dnsbl_evaluate(const struct dnsbl *, const uint8_t (*)[4], size_t,
	    struct dnsbl_result *);
int	 dnsbl_log_due(struct dnsbl *, int64_t);

#endif
