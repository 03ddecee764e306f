/*
 * ratelimit -- checking and counting limits (see ratelimit.h, store.h).
 *
 * A check builds one cell per window of the limit for one key value: the
 * cell key is "NAME\0W\0VALUE" (W the window's length, see window_name),
 * inc = cost * W / N and tau = B * W / N in nanoseconds, computed in 128
 * bits and saturated, so that `rate 2/1h` gives exactly 1800 s and no
 * window, N or cost overflows. All windows of a key go to the store in
 * one call (one round trip for a networked store), and a commit sends the
 * cells of every limit and key it counts in one call too. The limit is exceeded
 * when any cell must wait; the longest wait is the one reported (that is
 * when every window admits the event). Several keys: each is checked and
 * counted on its own and all must admit.
 *
 * Costs: connections and messages 1, bytes the size (1 when unknown at
 * check time), recipients the pending ones (of the same rcpt domain when
 * the key has rcpt_domain) plus, at rcpt time, the one being checked.
 * A commit for a key with rcpt_domain counts once per distinct domain of
 * the pending recipients (a message to two domains is one message for
 * each; its recipients are split by domain).
 *
 * N = 0 (in the rule or from an override) admits nothing: such a window
 * is always exceeded with retry_after = W, count 0, and is never stored
 * or counted. "unlimited" from an override admits everything and is not
 * counted. A bad override value is logged (rate limited) and the rule's
 * N applies.
 *
 * Key values are lower-cased; client_ip is masked and written as a CIDR
 * ("192.0.2.0/24"). A value longer than KEYVAL_MAX bytes keeps its first
 * bytes and ends in "#" and a 64-bit digest of the whole, so long
 * senders are still counted (distinct values stay distinct but for
 * digest collisions).
 *
 * Thread-safe: the store locks; the clock hook is set before threads
 * start (tests only).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "compat.h"
#include "log.h"
#include "num.h"
#include "ratelimit.h"
#include "store.h"
#include "table.h"
#include "xalloc.h"

#define NS		1000000000ULL
#define KEYVAL_MAX	300		/* < sizeof(struct rl_result.key) */
#define DIGEST_LEN	17		/* "#" and 16 hex digits */

/* one window of a check: its N after override and its cell */
struct win {
	unsigned	idx;		/* index in the limit */
	uint64_t	n;		/* N, 0 = nothing admitted */
	int		cell;		/* index in the cells, -1 when N = 0 */
};

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

/* rl_now -- the clock counters run on (monotonic nanoseconds) */
uint64_t
rl_now(void)
{
	return clock_fn();
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

/* span -- a * b / c in 128 bits, saturated to 64 (c = 0 saturates) */
static uint64_t
span(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 r;

	if (c == 0)
		return UINT64_MAX;
	r = (unsigned __int128)a * b / c;
	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

/* span_up -- a * b / c rounded up, saturated */
static uint64_t
span_up(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 p = (unsigned __int128)a * b, r;

	if (c == 0)
		return UINT64_MAX;
	r = p / c + (p % c != 0);
	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

/* put_lower -- append s lower-cased */
static void
put_lower(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_putc(b, tolower((unsigned char)*s));
}

/* digest -- shorten an oversized key value to a prefix and a digest */
static void
digest(struct buf *b)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < b->len; i++) {
		h ^= (unsigned char)b->data[i];
		h *= 0x100000001b3ULL;
	}
	b->len = KEYVAL_MAX - DIGEST_LEN;
	b->data[b->len] = '\0';
	buf_printf(b, "#%016" PRIx64, h);
}

/* put_ip -- the client address masked to the key's prefix, as a CIDR */
static int
put_ip(const struct rl_key *k, const struct ipaddr *ip, struct buf *out)
{
	struct ipaddr	net;
	char		a[IP_STRLEN];
	unsigned	len;

	if (ip == NULL || (ip->family != AF_INET && ip->family != AF_INET6))
		return -1;
	net = *ip;
	len = net.family == AF_INET ? k->v4len : k->v6len;
	if (len > ip_maxlen(&net))
		len = ip_maxlen(&net);
	ip_mask(&net, len);
	ip_format(&net, a, sizeof(a));
	buf_puts(out, a);
	buf_putc(out, '/');
	if (len >= 100)
		buf_putc(out, '0' + (int)(len / 100));
	if (len >= 10)
		buf_putc(out, '0' + (int)(len / 10 % 10));
	buf_putc(out, '0' + (int)(len % 10));
	return 0;
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
	unsigned	 i;

	buf_reset(out);
	for (i = 0; i < k->nparts; i++) {
		if (i > 0)
			buf_putc(out, '+');
		switch (k->part[i]) {
		case RL_PART_CLIENT_IP:
			if (put_ip(k, ev->client_ip, out) == -1)
				return -1;
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
	if (out->len == 0)
		return -1;
	if (out->len > KEYVAL_MAX)
		digest(out);
	return 0;
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
	if (rc == 1 && num_parse(v, strlen(v), 0, RL_UNLIMITED - 1, &x) == 0)
		return x;
	log_warn_limited(&last, "limit %s: override %s.%s: bad value \"%s\"; "
	    "using %" PRIu64, l->name, table_name(l->override),
	    l->override_field, rc == 1 ? v : "(unreadable)", n);
	return n;
}

/*
 * cost -- what the event costs for limit l, key k and rcpt domain d; with
 * check, the recipient being checked (if any) is added to the pending
 * ones. *pending gets the part of the cost that is not the current event.
 */
static uint64_t
cost(const struct rl_limit *l, const struct rl_key *k,
    const struct rl_event *ev, const char *d, int check, uint64_t *pending)
{
	uint64_t	n = 0;
	size_t		i;

	*pending = 0;
	switch (l->count) {
	case RL_COUNT_RECIPIENTS:
		for (i = 0; i < ev->npending; i++)
			if (!has_part(k, RL_PART_RCPT_DOMAIN) ||
			    (d != NULL && strcasecmp(ev->pending[i], d) == 0))
				n++;
		*pending = n;
		if (check && (ev->rcpt_domain != NULL || n == 0))
			n++;
		return n;
	case RL_COUNT_BYTES:
		return ev->size > 0 ? ev->size : (check ? 1 : 0);
	default:
		return 1;
	}
}

/* worse -- keep in *res the result that refuses longest, else the fullest */
static void
worse(struct rl_result *res, const struct rl_result *r, int *have)
{
	int	take;

	if (!*have)
		take = 1;
	else if (r->exceeded != res->exceeded)
		take = r->exceeded;
	else if (r->exceeded)
		take = r->retry_after > res->retry_after;
	else
		take = (unsigned __int128)r->count * res->max >
		    (unsigned __int128)res->count * r->max;
	if (take) {
		*res = *r;
		*have = 1;
	}
}

/*
 * window_name -- the middle of a cell key: the window's length ("1h"),
 * and "#I" after it when an earlier window of the limit has the same
 * length (so a changed rate keeps its counters, a changed window starts
 * afresh, and a Redis key reads "mxgate:NAME:1h:VALUE")
 */
static void
window_name(const struct rl_limit *l, unsigned i, struct buf *b)
{
	char		d[32];
	unsigned	j;

	num_format_duration(l->window[i].secs, d, sizeof(d));
	buf_puts(b, d);
	for (j = 0; j < i; j++)
		if (l->window[j].secs == l->window[i].secs) {
			buf_printf(b, "#%u", i);
			break;
		}
}

/*
 * plan -- the windows of l for key value kv and cost c, and the cells of
 * those that go to the store (their keys in *keys, pointers set after);
 * returns the number of windows (unlimited ones are left out).
 */
static unsigned
plan(const struct rl_limit *l, const struct rl_event *ev, const char *kv,
    uint64_t c, struct win *win, struct rl_cell *cell, unsigned *nc,
    struct buf *keys)
{
	size_t		off[RL_MAX_WINDOWS];
	uint64_t	n, b, w;
	unsigned	i, nw = 0;

	*nc = 0;
	for (i = 0; i < l->nwindows && i < RL_MAX_WINDOWS; i++) {
		n = l->window[i].n;
		b = l->window[i].burst_set ? l->window[i].burst : n;
		if (i == 0 && l->override != NULL) {
			n = override(l, ev, n);
			if (n == RL_UNLIMITED)
				continue;
			if (!l->window[i].burst_set)
				b = n;
		}
		win[nw].idx = i;
		win[nw].n = n;
		win[nw].cell = -1;
		if (n > 0) {
			w = span(l->window[i].secs, NS, 1);
			off[*nc] = keys->len;
			buf_puts(keys, l->name);
			buf_putc(keys, '\0');
			window_name(l, i, keys);
			buf_putc(keys, '\0');
			buf_puts(keys, kv);
			cell[*nc].keylen = keys->len - off[*nc];
			buf_putc(keys, '\0');
			cell[*nc].inc = span(c, w, n);
			cell[*nc].tau = span(b, w, n);
			win[nw].cell = (int)(*nc)++;
		}
		nw++;
	}
	for (i = 0; i < *nc; i++)
		cell[i].key = keys->data + off[i];
	return nw;
}

/* window_result -- the figures of one window after the store answered (no key) */
static void
window_result(const struct rl_limit *l, const struct win *wn,
    const struct rl_cell *cell, uint64_t pending, int rc, struct rl_result *r)
{
	uint64_t	secs = l->window[wn->idx].secs, used;

	r->exceeded = 0;
	r->retry_after = r->count = 0;
	r->max = wn->n;
	r->window = secs;
	r->key[0] = '\0';
	if (cell == NULL) {		/* N = 0: nothing is admitted */
		r->exceeded = 1;
		r->retry_after = secs > 0 ? secs : 1;
		return;
	}
	r->exceeded = rc == 0 && cell->wait > 0;
	r->retry_after = r->exceeded ? cell->wait / NS + (cell->wait % NS != 0) : 0;
	/* events in the window now (the level in units of T), plus pending */
	used = span_up(cell->level, wn->n, span(secs, NS, 1));
	r->count = used > UINT64_MAX - pending ? UINT64_MAX : used + pending;
}

/*
 * check_key -- GCRA over every window of l for one key value and cost c
 * (pending of which are not the current event); with commit, count it.
 * The refusing (else the fullest) window's figures go to r; keys is
 * scratch space.
 */
static int
check_key(struct rl_store *s, const struct rl_limit *l,
    const struct rl_event *ev, const char *kv, uint64_t c, uint64_t pending,
    int commit, struct buf *keys, struct rl_result *r)
{
	struct rl_cell	 cell[RL_MAX_WINDOWS];
	struct win	 win[RL_MAX_WINDOWS];
	struct rl_result one;
	unsigned	 i, nw, nc;
	int		 rc = 0, have = 0;

	memset(r, 0, sizeof(*r));
	buf_reset(keys);
	nw = plan(l, ev, kv, c, win, cell, &nc, keys);
	if (nc > 0)
		rc = s->ops->gcra(s, cell, nc, clock_fn(), commit, ev->stage);
	for (i = 0; i < nw; i++) {
		window_result(l, &win[i], win[i].cell >= 0 ?
		    &cell[win[i].cell] : NULL, pending, rc, &one);
		worse(r, &one, &have);
	}
	if (have)
		(void)strlcpy(r->key, kv, sizeof(r->key));
	return rc;
}

/* rl_conc_key -- the store key of a concurrent limit's key value */
void
rl_conc_key(struct buf *b, const char *name, const char *kv)
{
	buf_reset(b);
	buf_puts(b, name);
	buf_putc(b, '\0');
	buf_putc(b, 'c');
	buf_putc(b, '\0');
	buf_puts(b, kv);
}

/*
 * For mxgatectl limit (ctl_limit.c): the cells of a key value as a
 * check builds them, without an event to count.
 */

/* rl_value_finish -- a key value typed by hand, shortened as a check does */
void
rl_value_finish(struct buf *b)
{
	if (b->len > KEYVAL_MAX)
		digest(b);
}

/*
 * rl_window_cell -- window i of l for key value kv: its N after the
 * override for ev (RL_UNLIMITED: unlimited; 0: nothing admitted), the
 * key of its cell (in b, reset; cell->key points there) and, for a
 * finite N > 0, inc (one event) and tau
 */
uint64_t
rl_window_cell(const struct rl_limit *l, unsigned i, const struct rl_event *ev,
    const char *kv, struct buf *b, struct rl_cell *cell)
{
	uint64_t	n, bu, w;

	n = l->window[i].n;
	bu = l->window[i].burst_set ? l->window[i].burst : n;
	if (i == 0 && l->override != NULL) {
		n = override(l, ev, n);
		if (!l->window[i].burst_set)
			bu = n;
	}
	memset(cell, 0, sizeof(*cell));
	buf_reset(b);
	buf_puts(b, l->name);
	buf_putc(b, '\0');
	window_name(l, i, b);
	buf_putc(b, '\0');
	buf_puts(b, kv);
	cell->key = b->data;
	cell->keylen = b->len;
	if (n == 0 || n == RL_UNLIMITED)
		return n;
	w = span(l->window[i].secs, NS, 1);
	cell->inc = span(1, w, n);
	cell->tau = span(bu, w, n);
	return n;
}

/* rl_conc_max -- the max of a concurrent limit after the override for ev */
uint64_t
rl_conc_max(const struct rl_limit *l, const struct rl_event *ev)
{
	return override(l, ev, l->max);
}

/* rl_used -- events in a window of N per secs for a GCRA level (rounded up) */
uint64_t
rl_used(uint64_t level, uint64_t n, uint64_t secs)
{
	return span_up(level, n, span(secs, NS, 1));
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
	rl_conc_key(&key, l->name, kv);
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
	struct buf	 kv = BUF_INIT, keys = BUF_INIT;
	struct rl_result r;
	uint64_t	 c, pending;
	unsigned	 i;
	int		 have = 0, rc = 0;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < l->nkeys && i < RL_MAX_KEYS && rc == 0; i++) {
		if (key_value(&l->key[i], ev, ev->rcpt_domain, &kv) == -1)
			continue;
		if (l->count == RL_COUNT_CONCURRENT)
			rc = check_conc(s, l, ev, kv.data, &r);
		else {
			c = cost(l, &l->key[i], ev, ev->rcpt_domain, 1, &pending);
			rc = check_key(s, l, ev, kv.data, c, pending, 0,
			    &keys, &r);
		}
		if (r.max != 0 || r.exceeded)
			worse(res, &r, &have);
	}
	buf_free(&kv);
	buf_free(&keys);
	return rc;
}

/*
 * A batch: the cells of every limit and key of one commit, sent to the
 * store in one call (one round trip for Redis, however many limits).
 * Keys are kept by offset until the call, since the buffer moves.
 */
struct batch {
	struct rl_cell	*cell;
	size_t		*off;
	size_t		 n, cap;
	struct buf	 keys;
	struct buf	 tmp;
};

/* batch_add -- the cells of limit l for key value kv and cost c */
static void
batch_add(struct batch *b, const struct rl_limit *l, const struct rl_event *ev,
    const char *kv, uint64_t c)
{
	struct rl_cell	cell[RL_MAX_WINDOWS];
	struct win	win[RL_MAX_WINDOWS];
	unsigned	i, nc;

	buf_reset(&b->tmp);
	(void)plan(l, ev, kv, c, win, cell, &nc, &b->tmp);
	for (i = 0; i < nc; i++) {
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 16;
			b->cell = xreallocarray(b->cell, b->cap, sizeof(*b->cell));
			b->off = xreallocarray(b->off, b->cap, sizeof(*b->off));
		}
		b->off[b->n] = b->keys.len;
		buf_append(&b->keys, cell[i].key, cell[i].keylen);
		b->cell[b->n++] = cell[i];
	}
}

/* batch_run -- count every cell of the batch at once; 0 or -1; frees it */
static int
batch_run(struct rl_store *s, struct batch *b, struct deadline *stage)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < b->n; i++)
		b->cell[i].key = b->keys.data + b->off[i];
	if (b->n > 0)
		rc = s->ops->gcra(s, b->cell, b->n, clock_fn(), 1, stage);
	free(b->cell);
	free(b->off);
	buf_free(&b->keys);
	buf_free(&b->tmp);
	return rc;
}

/*
 * commit_domains -- for keys with rcpt_domain: count once per distinct
 * domain of the pending recipients (recipients: those of the domain)
 */
static void
commit_domains(struct batch *b, const struct rl_limit *l,
    const struct rl_key *k, const struct rl_event *ev, struct buf *kv)
{
	uint64_t	 c, pending;
	size_t		 i, j;

	for (i = 0; i < ev->npending; i++) {
		for (j = 0; j < i; j++)
			if (strcasecmp(ev->pending[i], ev->pending[j]) == 0)
				break;
		if (j < i || key_value(k, ev, ev->pending[i], kv) == -1)
			continue;
		c = cost(l, k, ev, ev->pending[i], 0, &pending);
		batch_add(b, l, ev, kv->data, c);
	}
}

/* commit_limit -- the cells of the event for every key of one limit */
static void
commit_limit(struct batch *b, const struct rl_limit *l,
    const struct rl_event *ev, struct buf *kv)
{
	uint64_t	 c, pending;
	unsigned	 k;

	for (k = 0; k < l->nkeys && k < RL_MAX_KEYS; k++) {
		if (has_part(&l->key[k], RL_PART_RCPT_DOMAIN)) {
			commit_domains(b, l, &l->key[k], ev, kv);
			continue;
		}
		if (key_value(&l->key[k], ev, NULL, kv) == -1 ||
		    (c = cost(l, &l->key[k], ev, NULL, 0, &pending)) == 0)
			continue;
		batch_add(b, l, ev, kv->data, c);
	}
}

/* commit -- count the event for every limit of the given kinds, in one store call */
static int
commit(struct rl_store *s, const struct rl_limit *const *lim, size_t n,
    const struct rl_event *ev, int message)
{
	struct batch	 b;
	struct buf	 kv = BUF_INIT;
	size_t		 i;
	int		 msg;

	memset(&b, 0, sizeof(b));
	buf_init(&b.keys);
	buf_init(&b.tmp);
	for (i = 0; i < n; i++) {
		msg = lim[i]->count == RL_COUNT_MESSAGES ||
		    lim[i]->count == RL_COUNT_RECIPIENTS ||
		    lim[i]->count == RL_COUNT_BYTES;
		if (message ? !msg : lim[i]->count != RL_COUNT_CONNECTIONS)
			continue;
		commit_limit(&b, lim[i], ev, &kv);
	}
	buf_free(&kv);
	return batch_run(s, &b, ev->stage);
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

/* held_add -- remember one taken slot in the handle */
static struct rl_held *
held_add(struct rl_held *h, const struct buf *key)
{
	if (h == NULL)
		h = xcalloc(1, sizeof(*h));
	h->key = xreallocarray(h->key, h->n + 1, sizeof(*h->key));
	h->len = xreallocarray(h->len, h->n + 1, sizeof(*h->len));
	h->len[h->n] = key->len;
	h->key[h->n] = xmalloc(key->len);
	memcpy(h->key[h->n++], key->data, key->len);
	return h;
}

/*
 * rl_conn_open -- take a slot of every concurrent limit and key that
 * applies; NULL when none. The handle copies the keys, so it outlives
 * the limits (reloads).
 */
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
		for (k = 0; k < lim[i]->nkeys && k < RL_MAX_KEYS; k++) {
			if (key_value(&lim[i]->key[k], ev, NULL, &kv) == -1)
				continue;
			rl_conc_key(&key, lim[i]->name, kv.data);
			if (s->ops->conc(s, key.data, key.len, 1, &v) == -1)
				continue;
			h = held_add(h, &key);
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
