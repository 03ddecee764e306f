/*
 * ratelimit -- checking and counting limits (see ratelimit.h, store.h).
 *
 * A check builds one cell per (key, window) of the limit: the cell key is
 * "NAME\0W\0VALUE" (W the window's index), inc = cost * W / N and tau =
 * B * W / N in nanoseconds, computed in 128 bits so that `rate 2/1h`
 * gives exactly 1800 s. The store answers the wait of each cell; the
 * limit is exceeded when any cell must wait, and the longest wait is the
 * one reported (that is when every window admits the event).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "ratelimit.h"
#include "store.h"
#include "table.h"
#include "xalloc.h"

#define NS		1000000000ULL
#define KEYVAL_MAX	300

struct rl_held {
	size_t	  n;
	char	**key;
	size_t	 *len;
};

static uint64_t	default_clock(void);
static uint64_t	(*clock_fn)(void) = default_clock;

/* default_clock -- CLOCK_MONOTONIC in nanoseconds */
static uint64_t
default_clock(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS + (uint64_t)t.tv_nsec;
}

/* rl_set_clock -- replace the clock (tests); NULL restores the monotonic one */
void
rl_set_clock(uint64_t (*fn)(void))
{
	clock_fn = fn != NULL ? fn : default_clock;
}

/* rl_store_free -- free a store (NULL is fine) */
void
rl_store_free(struct rl_store *s)
{
	if (s != NULL)
		s->ops->free(s);
}

/* rl_store_keys -- keys held */
size_t
rl_store_keys(struct rl_store *s)
{
	return s->ops->keys(s);
}

/* rl_limit_free -- free a parsed limit (not its override table) */
void
rl_limit_free(struct rl_limit *l)
{
	if (l == NULL)
		return;
	free(l->name);
	free(l->override_field);
	free(l);
}

/* put_lower -- append s lower-cased */
static void
put_lower(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_putc(b, tolower((unsigned char)*s));
}

/*
 * key_value -- the value of key k for the event (rcpt_domain given
 * separately); 0, or -1 when a part is unknown or empty (the key does not
 * apply).
 */
static int
key_value(const struct rl_key *k, const struct rl_event *ev,
    const char *rcpt_domain, struct buf *out)
{
	const char	*v;
	char		 a[IP_STRLEN];
	struct ipaddr	 net;
	unsigned	 i, len;

	buf_reset(out);
	for (i = 0; i < k->nparts; i++) {
		if (i > 0)
			buf_putc(out, '+');
		switch (k->part[i]) {
		case RL_PART_CLIENT_IP:
			if (ev->client_ip == NULL || ev->client_ip->family == 0)
				return -1;
			net = *ev->client_ip;
			len = net.family == AF_INET ? k->v4len : k->v6len;
			ip_mask(&net, len);
			ip_format(&net, a, sizeof(a));
			buf_printf(out, "%s/%u", a, len);
			continue;
		case RL_PART_SASL_USER:
			v = ev->sasl_user;
			break;
		case RL_PART_SENDER:
			v = ev->sender;
			break;
		case RL_PART_SENDER_DOMAIN:
			v = ev->sender_domain;
			break;
		case RL_PART_RCPT_DOMAIN:
			v = rcpt_domain;
			break;
		case RL_PART_CUSTOMER:
		default:
			v = ev->customer;
			break;
		}
		if (v == NULL || *v == '\0')
			return -1;
		put_lower(out, v);
	}
	return out->len <= KEYVAL_MAX ? 0 : -1;
}

/* has_part -- does the key use part p? */
static int
has_part(const struct rl_key *k, enum rl_part p)
{
	unsigned	i;

	for (i = 0; i < k->nparts; i++)
		if (k->part[i] == p)
			return 1;
	return 0;
}

/*
 * override -- N (or max) for this event from the override table: the
 * rule's value when there is no table or no entry, RL_UNLIMITED for
 * "unlimited".
 */
static uint64_t
override(const struct rl_limit *l, const struct rl_event *ev, uint64_t n)
{
	static time_t		 last;
	struct table_query	 q;
	char			 v[64];
	uint64_t		 x;
	int			 rc;

	if (l->override == NULL)
		return n;
	memset(&q, 0, sizeof(q));
	q.login = ev->sasl_user != NULL && *ev->sasl_user ? ev->sasl_user : NULL;
	q.address = ev->sender != NULL && *ev->sender ? ev->sender : NULL;
	q.ip = ev->client_ip;
	rc = table_get(l->override, &q, l->override_field, v, sizeof(v));
	if (rc == 0)
		return n;
	if (rc == 1 && strcasecmp(v, "unlimited") == 0)
		return RL_UNLIMITED;
	if (rc == 1 && strspn(v, "0123456789") == strlen(v) && v[0] != '\0' &&
	    strlen(v) <= 12) {
		x = strtoull(v, NULL, 10);
		return x;
	}
	log_warn_limited(&last, "limit %s: override %s.%s: bad value \"%s\"; "
	    "using %" PRIu64, l->name, table_name(l->override),
	    l->override_field, rc == 1 ? v : "(too long)", n);
	return n;
}

/* span -- a * b / c in 128 bits, saturated to 64 */
static uint64_t
span(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 r = (unsigned __int128)a * b / (c ? c : 1);

	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

/* cost -- what the event costs for limit l and rcpt domain d (check: +1 for the current recipient) */
static uint64_t
cost(const struct rl_limit *l, const struct rl_key *k,
    const struct rl_event *ev, const char *d, int check)
{
	uint64_t	n = 0;
	size_t		i;

	switch (l->count) {
	case RL_COUNT_RECIPIENTS:
		for (i = 0; i < ev->npending; i++)
			if (!has_part(k, RL_PART_RCPT_DOMAIN) ||
			    (d != NULL && strcasecmp(ev->pending[i], d) == 0))
				n++;
		if (check && (ev->rcpt_domain != NULL || n == 0))
			n++;
		return n;
	case RL_COUNT_BYTES:
		return ev->size > 0 ? ev->size : (check ? 1 : 0);
	default:
		return 1;
	}
}

/* cell_key -- "NAME\0TAG\0VALUE" into b */
static void
cell_key(struct buf *b, const char *name, char tag, const char *kv)
{
	buf_reset(b);
	buf_puts(b, name);
	buf_putc(b, '\0');
	buf_putc(b, tag);
	buf_putc(b, '\0');
	buf_puts(b, kv);
}

/* worse -- keep in *res the result that refuses longest (or the first) */
static void
worse(struct rl_result *res, const struct rl_result *r, int *have)
{
	if (!*have || (r->exceeded && (!res->exceeded ||
	    r->retry_after > res->retry_after))) {
		*res = *r;
		*have = 1;
	}
}

/*
 * check_key -- run GCRA over every window of l for one key value and
 * cost; with commit, count the event. The refusing (or first) window's
 * figures go to r.
 */
static int
check_key(struct rl_store *s, const struct rl_limit *l,
    const struct rl_event *ev, const char *kv, uint64_t c, int commit,
    struct rl_result *r)
{
	struct rl_cell	 cell[RL_MAX_WINDOWS];
	struct buf	 key[RL_MAX_WINDOWS];
	uint64_t	 n[RL_MAX_WINDOWS], w, b, now = clock_fn();
	unsigned	 i, nc = 0, idx[RL_MAX_WINDOWS];
	int		 rc, have = 0;
	struct rl_result one;

	for (i = 0; i < l->nwindows; i++) {
		n[nc] = l->window[i].n;
		b = l->window[i].burst_set ? l->window[i].burst : n[nc];
		if (i == 0 && l->override != NULL) {
			n[nc] = override(l, ev, n[nc]);
			if (n[nc] == RL_UNLIMITED)
				continue;
			if (!l->window[i].burst_set)
				b = n[nc];
		}
		w = l->window[i].secs * NS;
		buf_init(&key[nc]);
		cell_key(&key[nc], l->name, (char)('0' + i), kv);
		cell[nc].key = key[nc].data;
		cell[nc].keylen = key[nc].len;
		cell[nc].inc = n[nc] ? span(c, w, n[nc]) : UINT64_MAX / 4;
		cell[nc].tau = n[nc] ? span(b, w, n[nc]) : 0;
		idx[nc++] = i;
	}
	if (nc == 0)
		return 0;
	rc = s->ops->gcra(s, cell, nc, now, commit);
	for (i = 0; i < nc; i++) {
		memset(&one, 0, sizeof(one));
		w = l->window[idx[i]].secs * NS;
		one.exceeded = rc == 0 && cell[i].wait > 0;
		one.retry_after = (cell[i].wait + NS - 1) / NS;
		/* events in the window, the pending ones included, this one not */
		one.count = n[i] ? span(cell[i].level + cell[i].inc + w / n[i] - 1,
		    n[i], w) : 0;
		one.count = one.count > 0 ? one.count - 1 : 0;
		one.max = n[i];
		one.window = l->window[idx[i]].secs;
		(void)strlcpy(one.key, kv, sizeof(one.key));
		worse(r, &one, &have);
		buf_free(&key[i]);
	}
	return rc;
}

/* check_conc -- a concurrent limit for one key value */
static int
check_conc(struct rl_store *s, const struct rl_limit *l,
    const struct rl_event *ev, const char *kv, struct rl_result *r)
{
	struct buf	key = BUF_INIT;
	uint64_t	open = 0, max = override(l, ev, l->max);
	int		rc;

	memset(r, 0, sizeof(*r));
	if (max == RL_UNLIMITED)
		return 0;
	cell_key(&key, l->name, 'c', kv);
	rc = s->ops->conc(s, key.data, key.len, 0, &open);
	buf_free(&key);
	r->count = open;
	r->max = max;
	r->exceeded = rc == 0 && open + (ev->conn_held ? 0 : 1) > max;
	(void)strlcpy(r->key, kv, sizeof(r->key));
	return rc;
}

/* rl_check -- would admitting the event break a window of l? 0 or -1 */
int
rl_check(struct rl_store *s, const struct rl_limit *l,
    const struct rl_event *ev, struct rl_result *res)
{
	struct buf	 kv = BUF_INIT;
	struct rl_result r;
	const char	*d;
	unsigned	 i;
	int		 have = 0, rc = 0;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < l->nkeys && rc == 0; i++) {
		d = ev->rcpt_domain;
		if (key_value(&l->key[i], ev, d, &kv) == -1)
			continue;
		memset(&r, 0, sizeof(r));
		if (l->count == RL_COUNT_CONCURRENT)
			rc = check_conc(s, l, ev, kv.data, &r);
		else
			rc = check_key(s, l, ev, kv.data,
			    cost(l, &l->key[i], ev, d, 1), 0, &r);
		if (r.max != 0 || r.exceeded)
			worse(res, &r, &have);
	}
	buf_free(&kv);
	return rc;
}

/* commit_domains -- recipients per rcpt domain, for keys with rcpt_domain */
static int
commit_domains(struct rl_store *s, const struct rl_limit *l,
    const struct rl_key *k, const struct rl_event *ev, struct buf *kv)
{
	struct rl_result r;
	size_t		 i, j;
	int		 rc = 0;

	for (i = 0; i < ev->npending; i++) {
		for (j = 0; j < i; j++)
			if (strcasecmp(ev->pending[i], ev->pending[j]) == 0)
				break;
		if (j < i || key_value(k, ev, ev->pending[i], kv) == -1)
			continue;
		memset(&r, 0, sizeof(r));
		if (check_key(s, l, ev, kv->data, cost(l, k, ev, ev->pending[i], 0),
		    1, &r) == -1)
			rc = -1;
	}
	return rc;
}

/* commit -- count the event for every limit of the given kinds */
static int
commit(struct rl_store *s, const struct rl_limit *const *lim, size_t n,
    const struct rl_event *ev, int message)
{
	struct buf	 kv = BUF_INIT;
	struct rl_result r;
	size_t		 i;
	unsigned	 k;
	uint64_t	 c;
	int		 rc = 0, msg;

	for (i = 0; i < n; i++) {
		msg = lim[i]->count == RL_COUNT_MESSAGES ||
		    lim[i]->count == RL_COUNT_RECIPIENTS ||
		    lim[i]->count == RL_COUNT_BYTES;
		if (message ? !msg : lim[i]->count != RL_COUNT_CONNECTIONS)
			continue;
		for (k = 0; k < lim[i]->nkeys; k++) {
			if (lim[i]->count == RL_COUNT_RECIPIENTS &&
			    has_part(&lim[i]->key[k], RL_PART_RCPT_DOMAIN)) {
				if (commit_domains(s, lim[i], &lim[i]->key[k], ev, &kv) == -1)
					rc = -1;
				continue;
			}
			if (key_value(&lim[i]->key[k], ev, NULL, &kv) == -1 ||
			    (c = cost(lim[i], &lim[i]->key[k], ev, NULL, 0)) == 0)
				continue;
			if (check_key(s, lim[i], ev, kv.data, c, 1, &r) == -1)
				rc = -1;
		}
	}
	buf_free(&kv);
	return rc;
}

/* rl_commit_connection -- count an admitted connection */
int
rl_commit_connection(struct rl_store *s, const struct rl_limit *const *lim,
    size_t n, const struct rl_event *ev)
{
	return commit(s, lim, n, ev, 0);
}

/* rl_commit_message -- count an accepted message, its recipients and bytes */
int
rl_commit_message(struct rl_store *s, const struct rl_limit *const *lim,
    size_t n, const struct rl_event *ev)
{
	return commit(s, lim, n, ev, 1);
}

/* rl_conn_open -- take a slot of every concurrent limit; NULL when none */
struct rl_held *
rl_conn_open(struct rl_store *s, const struct rl_limit *const *lim, size_t n,
    const struct rl_event *ev)
{
	struct rl_held	*h = NULL;
	struct buf	 kv = BUF_INIT, key = BUF_INIT;
	uint64_t	 v;
	size_t		 i;
	unsigned	 k;

	for (i = 0; i < n; i++) {
		if (lim[i]->count != RL_COUNT_CONCURRENT)
			continue;
		for (k = 0; k < lim[i]->nkeys; k++) {
			if (key_value(&lim[i]->key[k], ev, NULL, &kv) == -1)
				continue;
			cell_key(&key, lim[i]->name, 'c', kv.data);
			if (s->ops->conc(s, key.data, key.len, 1, &v) == -1)
				continue;
			if (h == NULL)
				h = xcalloc(1, sizeof(*h));
			h->key = xreallocarray(h->key, h->n + 1, sizeof(*h->key));
			h->len = xreallocarray(h->len, h->n + 1, sizeof(*h->len));
			h->len[h->n] = key.len;
			h->key[h->n] = xmalloc(key.len);
			memcpy(h->key[h->n++], key.data, key.len);
		}
	}
	buf_free(&kv);
	buf_free(&key);
	return h;
}

/* rl_conn_close -- give the slots back (NULL is fine) */
void
rl_conn_close(struct rl_store *s, struct rl_held *h)
{
	uint64_t	v;
	size_t		i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		(void)s->ops->conc(s, h->key[i], h->len[i], -1, &v);
		free(h->key[i]);
	}
	free(h->key);
	free(h->len);
	free(h);
}
