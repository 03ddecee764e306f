/*
 * dnsbl_lookup -- one client's DNS list queries (see dnsbl_lookup.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsbl_lookup.h"
#include "log.h"
#include "stats.h"
#include "xalloc.h"

struct one {
	struct dnsbl		*list;
	struct dns_query	*q;		/* the A query, until classified */
	struct dns_query	*txt;		/* the TXT query, once asked */
	struct timespec		 deadline;	/* of the A query */
	struct timespec		 txt_deadline;
	unsigned		 ms;		/* the list's timeout */
	int			 done;
	struct timespec		 cut_at;	/* the stage deadline that cut the wait, or 0 */
	struct dnsbl_result	 res;
	char			 qname[DNSBL_QNAME_MAX];
};

struct dnsbl_lookup {
	struct dns	*dns;
	const struct deadline *stage;	/* the session's, of the current stage */
	char		 ip[IP_STRLEN];
	size_t		 n;
	struct one	 l[];
};

/*
 * dnsbl_lookup_start -- ask every list about ip now; default_ms is the
 * deadline of lists without their own timeout; stage (kept by the
 * caller, NULL: none) the deadline of whichever stage waits.
 */
struct dnsbl_lookup *
dnsbl_lookup_start(struct dns *dns, struct dnsbl *const *lists, size_t n,
    const struct ipaddr *ip, unsigned default_ms, const struct deadline *stage)
{
	struct dnsbl_lookup	*lk;
	struct one		*o;
	size_t			 i;
	unsigned		 ms;

	lk = xcalloc(1, sizeof(*lk) + n * sizeof(lk->l[0]));
	lk->dns = dns;
	lk->stage = stage;
	lk->n = n;
	ip_format(ip, lk->ip, sizeof(lk->ip));
	for (i = 0; i < n; i++) {
		o = &lk->l[i];
		o->list = lists[i];
		ms = dnsbl_timeout(lists[i]) ? dnsbl_timeout(lists[i]) : default_ms;
		o->ms = ms;
		dns_deadline(&o->deadline, ms);
		if (dnsbl_qname(lists[i], ip, o->qname, sizeof(o->qname)) == -1) {
			o->done = 1;
			o->res.status = DNSBL_FAILED;
			continue;
		}
		o->q = dns_submit(dns, o->qname, DNS_T_A);
		stats_dns_query(dnsbl_name(lists[i]), dns_cached(o->q));
	}
	return lk;
}

/* complain -- log a list's failure, at most once a minute per list */
static void
complain(struct one *o, const char *ip, const char *why)
{
	struct timespec	now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (!dnsbl_log_due(o->list, (int64_t)now.tv_sec))
		return;
	log_warn("dnsbl %s (%s): %s for client %s: %s (logged at most once "
	    "a minute)", dnsbl_name(o->list), dnsbl_public_name(o->list), why,
	    ip, o->res.status == DNSBL_ERROR_ANSWER ? "not a listing, never "
	    "deferred" : "treated as unanswered");
}

/* classify -- turn an A answer into the list's result */
static void
classify(struct one *o, const char *ip)
{
	const struct dns_answer	*a = dns_answer(o->q);
	uint8_t			 addrs[DNS_MSG_MAX_RR][4];
	size_t			 i, n = 0;
	char			 why[200];

	if (a->rcode == 3) {
		o->res.status = DNSBL_NOT_LISTED;
		return;
	}
	if (a->rcode != 0) {
		o->res.status = DNSBL_FAILED;
		stats_dns(dnsbl_name(o->list), STATS_DNS_ERROR);
		(void)snprintf(why, sizeof(why), "DNS error (rcode %d)", a->rcode);
		complain(o, ip, why);
		return;
	}
	for (i = 0; i < a->nrr && n < DNS_MSG_MAX_RR; i++)
		if (a->rr[i].type == DNS_T_A)
			memcpy(addrs[n++], a->rr[i].addr, 4);
	dnsbl_evaluate(o->list, (const uint8_t (*)[4])addrs, n, &o->res);
	if (o->res.status == DNSBL_ERROR_ANSWER) {
		stats_dns(dnsbl_name(o->list), STATS_DNS_ERROR);
		(void)snprintf(why, sizeof(why), "error answer %s",
		    o->res.error_answer);
		complain(o, ip, why);
	}
}

/*
 * recut -- a wait that a stage's deadline cut short is waited for again
 * in a later stage (until the list's own deadline), not in the same one
 */
static int
recut(const struct one *o, const struct deadline *stage)
{
	return o->q != NULL && stage != NULL &&
	    (o->cut_at.tv_sec != stage->at.tv_sec ||
	    o->cut_at.tv_nsec != stage->at.tv_nsec);
}

/*
 * dnsbl_lookup_get -- list i's result, waiting at most until its deadline
 * and never past the stage's: cut short by the stage, the list is
 * unanswered in this stage, and waited for again in the next one
 */
const struct dnsbl_result *
dnsbl_lookup_get(struct dnsbl_lookup *lk, size_t i)
{
	struct one	*o = &lk->l[i];
	struct timespec	 dl = o->deadline;
	char		 why[200];
	int		 capped;

	if (o->done && !recut(o, lk->stage))
		return &o->res;
	o->done = 1;
	memset(&o->res, 0, sizeof(o->res));
	capped = deadline_cap(lk->stage, &dl);
	switch (dns_wait(o->q, &dl)) {
	case DNS_DONE:
		classify(o, lk->ip);
		break;
	case DNS_PENDING:
		o->res.status = DNSBL_FAILED;
		if (capped) {
			/* the stage's time ran out, not the list's: kept */
			o->cut_at = lk->stage->at;
			return &o->res;
		}
		stats_dns(dnsbl_name(o->list), STATS_DNS_TIMEOUT);
		complain(o, lk->ip, "no answer before the deadline");
		break;
	default:
		o->res.status = DNSBL_FAILED;
		stats_dns(dnsbl_name(o->list), STATS_DNS_ERROR);
		(void)snprintf(why, sizeof(why), "%s", dns_error(o->q));
		complain(o, lk->ip, why);
		break;
	}
	dns_release(o->q);
	o->q = NULL;
	return &o->res;
}

/* dnsbl_lookup_done -- has list i's result been taken (it is a known fact)? */
int
dnsbl_lookup_done(const struct dnsbl_lookup *lk, size_t i)
{
	return lk->l[i].done;
}

/*
 * dnsbl_lookup_txt -- append the TXT record of a listed list (at most
 * DNSBL_TXT_SHOWN bytes; the reply sanitises it), asking for it the
 * first time; nothing when it is not listed or does not answer in time.
 */
void
dnsbl_lookup_txt(struct dnsbl_lookup *lk, size_t i, struct buf *out)
{
	struct one		*o = &lk->l[i];
	const struct dns_answer	*a;
	struct timespec		 dl;
	size_t			 len;

	if (dnsbl_lookup_get(lk, i)->status != DNSBL_LISTED)
		return;
	if (o->txt == NULL) {
		o->txt = dns_submit(lk->dns, o->qname, DNS_T_TXT);
		dns_deadline(&o->txt_deadline, o->ms);
	}
	/* only a text for the reply: the stage's deadline leaves it out */
	dl = o->txt_deadline;
	(void)deadline_cap(lk->stage, &dl);
	if (dns_wait(o->txt, &dl) != DNS_DONE)
		return;
	a = dns_answer(o->txt);
	if (a->nrr == 0 || a->rr[0].text == NULL)
		return;
	len = a->rr[0].textlen < DNSBL_TXT_SHOWN ? a->rr[0].textlen :
	    DNSBL_TXT_SHOWN;
	buf_append(out, a->rr[0].text, len);
}

/* dnsbl_lookup_free -- cancel what is still in flight and free */
void
dnsbl_lookup_free(struct dnsbl_lookup *lk)
{
	size_t	i;

	if (lk == NULL)
		return;
	for (i = 0; i < lk->n; i++) {
		dns_release(lk->l[i].q);
		dns_release(lk->l[i].txt);
	}
	free(lk);
}

/* failed -- a list that did not answer usably (never a listing): dnsbl.error */
static int
failed(const struct dnsbl_result *r)
{
	return r->status == DNSBL_FAILED || r->status == DNSBL_ERROR_ANSWER;
}

/*
 * unanswered -- a list that timed out, failed (SERVFAIL, REFUSED) or
 * could not be reached: only these make on_error = tempfail defer. An
 * error answer (127.255.255.x ...) is an answer: it never defers.
 */
static int
unanswered(const struct dnsbl_result *r)
{
	return r->status == DNSBL_FAILED;
}

/* join -- append ", " and a name (or just the name) */
static void
join(struct buf *b, const char *name)
{
	if (b->len > 0)
		buf_puts(b, ", ");
	buf_puts(b, name);
}

/* dnsbl_lookup_defers -- did a list of [from, to) with on_error = tempfail fail? (waits) */
int
dnsbl_lookup_defers(struct dnsbl_lookup *lk, size_t from, size_t to)
{
	size_t	i;

	for (i = from; i < to && i < lk->n; i++)
		if (dnsbl_on_error(lk->l[i].list) == DNSBL_ON_ERROR_TEMPFAIL &&
		    unanswered(dnsbl_lookup_get(lk, i)))
			return 1;
	return 0;
}

/* dnsbl_lookup_failed_names -- public names of the failed on_error = tempfail lists answered so far */
void
dnsbl_lookup_failed_names(const struct dnsbl_lookup *lk, struct buf *out)
{
	size_t	i;

	for (i = 0; i < lk->n; i++)
		if (lk->l[i].done && unanswered(&lk->l[i].res) &&
		    dnsbl_on_error(lk->l[i].list) == DNSBL_ON_ERROR_TEMPFAIL)
			join(out, dnsbl_public_name(lk->l[i].list));
}

/*
 * dnsbl_lookup_value -- a dnsbl.* value, waiting for what it needs:
 * SCORE (all listings' weights, always set), NAMES (public names of the
 * lists with a positive weight), ERROR (public names of failed lists),
 * LIST and LABEL (list idx: its weight, its labels; set when it lists
 * the client). Numbers go to *num, texts to text. 1 when set, else 0.
 */
int
dnsbl_lookup_value(struct dnsbl_lookup *lk, enum dnsbl_value v, size_t idx,
    struct buf *text, int64_t *num)
{
	const struct dnsbl_result *r;
	size_t		 i, from = 0, to = lk->n;

	if (v == DNSBL_V_LIST || v == DNSBL_V_LABEL) {
		if (idx >= lk->n)
			return 0;
		r = dnsbl_lookup_get(lk, idx);
		if (r->status != DNSBL_LISTED)
			return 0;
		*num = r->weight;
		buf_puts(text, r->labels);
		return v == DNSBL_V_LIST || r->labels[0] != '\0';
	}
	*num = 0;
	for (i = from; i < to; i++) {
		r = dnsbl_lookup_get(lk, i);
		if (v == DNSBL_V_ERROR && failed(r))
			join(text, dnsbl_public_name(lk->l[i].list));
		if (r->status != DNSBL_LISTED)
			continue;
		*num += r->weight;
		if (v == DNSBL_V_NAMES && r->weight > 0)
			join(text, dnsbl_public_name(lk->l[i].list));
	}
	return v == DNSBL_V_SCORE || text->len > 0;
}

/* dnsbl_lookup_txt_all -- the TXT records of the lists that list the client, "; "-joined */
void
dnsbl_lookup_txt_all(struct dnsbl_lookup *lk, struct buf *out)
{
	const struct dnsbl_result *r;
	size_t		 i, before, mark;

	for (i = 0; i < lk->n; i++) {
		r = dnsbl_lookup_get(lk, i);
		if (r->status != DNSBL_LISTED || r->weight <= 0)
			continue;
		before = out->len;
		if (before > 0)
			buf_puts(out, "; ");
		mark = out->len;
		dnsbl_lookup_txt(lk, i, out);
		if (out->len == mark)
			buf_truncate(out, before);
	}
}

/*
 * dnsbl_lookup_log -- "LIST:LABELS(+W),..." of the lists answered so far
 * that list the client or failed, by rules name (never the zone)
 */
void
dnsbl_lookup_log(const struct dnsbl_lookup *lk, struct buf *out)
{
	const struct dnsbl_result *r;
	const char	*p;
	size_t		 i;

	for (i = 0; i < lk->n; i++) {
		r = &lk->l[i].res;
		if (!lk->l[i].done || r->status == DNSBL_NOT_LISTED)
			continue;
		if (out->len > 0)
			buf_putc(out, ',');
		buf_puts(out, dnsbl_name(lk->l[i].list));
		if (r->status == DNSBL_FAILED) {
			buf_puts(out, ":failed");
			continue;
		}
		if (r->status == DNSBL_ERROR_ANSWER) {
			buf_printf(out, ":error=%s", r->error_answer);
			continue;
		}
		if (r->labels[0] != '\0')
			buf_putc(out, ':');
		/* labels are comma-separated: '/' keeps the field's commas for lists */
		for (p = r->labels; *p != '\0'; p++)
			buf_putc(out, *p == ',' ? '/' : *p);
		buf_printf(out, "(%+d)", r->weight);
	}
}
