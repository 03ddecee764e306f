/*
 * ctl_limit_top -- `mxgatectl limit top LIMIT [-n N]`, the daemon's side
 * (moved out of ctl_limit.c, which parses the arguments and calls
 * lim_top; see the top of that file for the command as a whole).
 *
 * lim_top walks the store for the cells of one limit (scan, at most
 * SCAN_BOUND keys; a concurrent limit's counters in the local store),
 * figures each cell's used, max and wait with the override for its
 * value, keeps one row per value (its fullest window), drops the
 * unlimited ones, and writes the N nearest their limit, text or JSON.
 * Nothing here changes a counter. Runs on a control thread.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_limit_int.h"
#include "ratelimit.h"
#include "store.h"
#include "xalloc.h"

#define SCAN_BOUND	100000	/* keys a top looks at, at most */

/* one row of top: a key value and its fullest window */
struct row {
	char		*v;
	size_t		 vlen;
	unsigned	 win;		/* the window, or 0 for concurrent */
	uint64_t	 level;		/* ns, or the open count */
	uint64_t	 used, max, wait;
};

struct rows {
	struct row	*r;
	size_t		 n, cap;
	const struct rl_limit *l;
	struct buf	 names[RL_MAX_WINDOWS];	/* window parts of the keys */
};

/* win_of -- the window of l whose name is w[0..len), or -1 */
static int
win_of(const struct rows *t, const char *w, size_t len)
{
	unsigned	i;

	for (i = 0; i < t->l->nwindows && i < RL_MAX_WINDOWS; i++)
		if (t->names[i].len == len && memcmp(t->names[i].data, w,
		    len) == 0)
			return (int)i;
	return -1;
}

/* collect -- scan's callback: one cell "NAME\0W\0VALUE" of the limit */
static int
collect(void *arg, const char *key, size_t len, uint64_t value)
{
	struct rows	*t = arg;
	const char	*w, *v, *e = key + len;
	int		 i;

	if ((w = memchr(key, '\0', len)) == NULL || ++w >= e ||
	    (v = memchr(w, '\0', (size_t)(e - w))) == NULL)
		return 0;
	if (t->l->count == RL_COUNT_CONCURRENT)
		i = v - w == 1 && *w == 'c' ? 0 : -1;
	else
		i = win_of(t, w, (size_t)(v - w));
	if (i < 0)
		return 0;	/* a window the limit no longer has */
	v++;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->r = xreallocarray(t->r, t->cap, sizeof(*t->r));
	}
	memset(&t->r[t->n], 0, sizeof(t->r[0]));
	t->r[t->n].vlen = (size_t)(e - v);
	t->r[t->n].v = xmalloc(t->r[t->n].vlen + 1);
	memcpy(t->r[t->n].v, v, t->r[t->n].vlen);
	t->r[t->n].v[t->r[t->n].vlen] = '\0';
	t->r[t->n].win = (unsigned)i;
	t->r[t->n++].level = value;
	return 0;
}

/* fuller -- does a reach nearer its limit than b? (used/max, then wait) */
static int
fuller(const struct row *a, const struct row *b)
{
	unsigned __int128 x, y;

	x = (unsigned __int128)a->used * (b->max ? b->max : 1);
	y = (unsigned __int128)b->used * (a->max ? a->max : 1);

	if (x != y)
		return x > y;
	return a->wait > b->wait;
}

/* by_fullness -- qsort: fullest first, then by value */
static int
by_fullness(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	if (fuller(a, b))
		return -1;
	if (fuller(b, a))
		return 1;
	return strcmp(a->v, b->v);
}

/* by_value -- qsort: by value, so a value's windows are together */
static int
by_value(const void *pa, const void *pb)
{
	return strcmp(((const struct row *)pa)->v, ((const struct row *)pb)->v);
}

/*
 * figure -- a row's used, max and wait, with the override for its
 * value (read back by the first key of the limit it parses for); 0, or
 * -1 when unlimited (left out)
 */
static int
figure(const struct rows *t, struct row *r)
{
	const struct rl_limit *l = t->l;
	struct kval	 kv;
	struct rl_cell	 cell;
	struct buf	 key = BUF_INIT, why = BUF_INIT;
	uint64_t	 n, after;
	unsigned	 k;
	int		 ok = 0;

	for (k = 0; k < l->nkeys && k < RL_MAX_KEYS && !ok; k++)
		ok = lim_parse_value(&l->key[k], r->v, r->vlen, &kv, &why) == 0;
	buf_free(&why);
	if (l->count == RL_COUNT_CONCURRENT) {
		r->max = rl_conc_max(l, ok ? &kv.ev : &(struct rl_event){0});
		r->used = r->level;
		n = r->max;
	} else {
		n = rl_window_cell(l, r->win, ok ? &kv.ev :
		    &(struct rl_event){0}, r->v, &key, &cell);
		r->max = n;
		r->used = n == 0 || n == RL_UNLIMITED ? 0 :
		    rl_used(r->level, n, l->window[r->win].secs);
		after = rl_sat_add(r->level, cell.inc);
		r->wait = n == 0 ? l->window[r->win].secs * NS :
		    after > cell.tau ? after - cell.tau : 0;
	}
	if (ok)
		lim_kval_free(&kv);
	buf_free(&key);
	return n == RL_UNLIMITED ? -1 : 0;
}

/* fold -- one row per value (its fullest window), unlimited ones dropped */
static void
fold(struct rows *t)
{
	size_t	i, k = 0;

	qsort(t->r, t->n, sizeof(*t->r), by_value);
	for (i = 0; i < t->n; i++) {
		if (figure(t, &t->r[i]) == -1) {
			free(t->r[i].v);
			continue;
		}
		if (k > 0 && strcmp(t->r[k - 1].v, t->r[i].v) == 0) {
			if (fuller(&t->r[i], &t->r[k - 1])) {
				free(t->r[k - 1].v);
				t->r[k - 1] = t->r[i];
			} else
				free(t->r[i].v);
			continue;
		}
		t->r[k++] = t->r[i];
	}
	t->n = k;
	qsort(t->r, t->n, sizeof(*t->r), by_fullness);
}

/* top_out -- the first n rows, text or JSON */
static void
top_out(const struct lreq *q, const struct rows *t, size_t n, int cut,
    struct buf *out)
{
	struct buf	v = BUF_INIT;
	char		d[32];
	size_t		i;

	lim_head(q, out);
	if (q->json)
		buf_printf(out, ",\"keys_found\":%zu,\"scan_cut\":%s,"
		    "\"keys\":[", t->n, cut ? "true" : "false");
	else
		buf_printf(out, "%zu key%s holding state%s; nearest their "
		    "limit first:\n  %-32s %-6s %7s    %-7s %s\n", t->n,
		    t->n == 1 ? "" : "s", cut ? " (the walk stopped after "
		    "100000 keys: more may exist)" : "", "KEY", "WINDOW",
		    "USED", "MAX", "NEXT ALLOWED");
	for (i = 0; i < n && i < t->n; i++) {
		const struct row *r = &t->r[i];

		if (q->l->count == RL_COUNT_CONCURRENT)
			(void)snprintf(d, sizeof(d), "open");
		else
			lim_window_str(q->l, r->win, d, sizeof(d));
		if (q->json) {
			buf_printf(out, "%s{\"key\":", i ? "," : "");
			ctl_json_str(out, r->v);
			buf_printf(out, ",\"window\":\"%s\",\"used\":%" PRIu64
			    ",\"max\":%" PRIu64 ",", d, r->used, r->max);
			lim_put_next(q, out, r->wait);
			buf_putc(out, '}');
			continue;
		}
		buf_reset(&v);
		lim_text_str(&v, r->v);
		buf_printf(out, "  %-32s %-6s %7" PRIu64 " of %-7" PRIu64
		    " ", buf_str(&v), d, r->used, r->max);
		lim_put_next(q, out, r->wait);
		buf_putc(out, '\n');
	}
	if (q->json)
		buf_puts(out, "]}\n");
	buf_free(&v);
}

/* lim_top -- `limit top LIMIT [-n N]` */
int
lim_top(struct lreq *q, size_t n, struct buf *out, struct buf *err)
{
	struct rows	 t;
	struct buf	 prefix = BUF_INIT;
	struct rl_cell	 cell;
	struct rl_store	*s = q->s;
	unsigned	 i;
	int		 cut = 0, rc;

	memset(&t, 0, sizeof(t));
	t.l = q->l;
	for (i = 0; i < q->l->nwindows && i < RL_MAX_WINDOWS; i++) {
		buf_init(&t.names[i]);
		(void)rl_window_cell(q->l, i, &(struct rl_event){0}, "",
		    &prefix, &cell);
		/* the middle of "NAME\0W\0" */
		buf_append(&t.names[i], prefix.data + strlen(q->l->name) + 1,
		    prefix.len - strlen(q->l->name) - 2);
	}
	buf_reset(&prefix);
	buf_puts(&prefix, q->l->name);
	buf_putc(&prefix, '\0');
	if (q->l->count == RL_COUNT_CONCURRENT && s->ops->local(s) != NULL)
		s = s->ops->local(s);
	rc = s->ops->scan(s, prefix.data, prefix.len, q->now, SCAN_BOUND,
	    collect, &t, &cut, err);
	if (rc == 0) {
		fold(&t);
		top_out(q, &t, n, cut, out);
	}
	for (i = 0; i < t.n; i++)
		free(t.r[i].v);
	free(t.r);
	for (i = 0; i < RL_MAX_WINDOWS; i++)
		buf_free(&t.names[i]);
	buf_free(&prefix);
	return rc;
}
