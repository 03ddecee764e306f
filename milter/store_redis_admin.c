/*
 * store_redis_admin -- the Redis store's operations for mxgatectl limit
 * (store.h: peek, forget, scan; and local, name), moved out of
 * store_redis.c, which holds the store, its pool and its rate checks
 * and shares them through store_redis_int.h.
 *
 * An administrator's requests, on a connection of the pool. They never
 * fall back and never mark the store down (an ACL that lacks DEL or
 * SCAN is not an outage): a failure is reported to the administrator,
 * a connection that failed is closed. Called from a control thread,
 * alongside the workers' checks (the pool is shared under rs->lock).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "store.h"
#include "store_redis_int.h"
#include "xalloc.h"

#define SCAN_COUNT	1000	/* SCAN's COUNT hint: keys looked at per call */

/* admin_take -- a connection for an administrator's request, or -1 and why */
static int
admin_take(struct rstore *rs, struct rconn *k, struct buf *err)
{
	struct timeval	tv[2];
	char		e[256];

	tv[0] = rs->conn_tv;
	tv[1] = rs->cmd_tv;
	if (rstore_take(rs, tv, k, e, sizeof(e)) == 0)
		return 0;
	buf_printf(err, "redis %s: %s", rs->where, e[0] != '\0' ? e :
	    "unreachable (mail uses the fallback until it is back)");
	return -1;
}

/* admin_give -- back to the pool, or closed when it failed (rc -2) */
static void
admin_give(struct rstore *rs, struct rconn *k, int rc)
{
	if (rc == -2)
		rstore_discard(rs, k);
	else
		rstore_give(rs, k);
}

/* rstore_peek -- see store.h: the script without commit, one round trip */
int
rstore_peek(struct rl_store *s, struct rl_cell *cells, size_t n,
    uint64_t now, struct buf *err)
{
	struct rstore	*rs = (struct rstore *)s;
	struct rconn	 k;
	char		 e[256];
	int		 rc;

	if (n == 0)
		return 0;
	if (admin_take(rs, &k, err) == -1)
		return -1;
	rc = rstore_eval(rs, k.c, cells, n, now, 0, e, sizeof(e));
	admin_give(rs, &k, rc);
	if (rc != 0)
		buf_printf(err, "redis %s: %s", rs->where, e);
	return rc == 0 ? 0 : -1;
}

/* rkey -- the Redis name of a cell key: "mxgate:" and ':' for every NUL */
static void
rkey(const char *key, size_t len, struct buf *out)
{
	size_t	i;

	buf_puts(out, PREFIX);
	for (i = 0; i < len; i++)
		buf_putc(out, key[i] == '\0' ? ':' : key[i]);
}

/* rstore_forget -- see store.h: one DEL of every key */
int
rstore_forget(struct rl_store *s, const struct rl_cell *cells, size_t n,
    size_t *gone, struct buf *err)
{
	struct rstore	*rs = (struct rstore *)s;
	struct rconn	 k;
	struct buf	 names = BUF_INIT;
	const char	**argv = xcalloc(n + 1, sizeof(*argv));
	size_t		*argl = xcalloc(n + 1, sizeof(*argl)), *off, i;
	redisReply	*r = NULL;
	char		 e[256];
	int		 rc = -1;

	*gone = 0;
	off = xcalloc(n + 1, sizeof(*off));
	for (i = 0; i < n; i++) {
		off[i] = names.len;
		rkey(cells[i].key, cells[i].keylen, &names);
		argl[i + 1] = names.len - off[i];
	}
	argv[0] = "DEL", argl[0] = 3;
	for (i = 0; i < n; i++)
		argv[i + 1] = names.data + off[i];
	if (n > 0 && admin_take(rs, &k, err) == 0) {
		r = rstore_call(k.c, (int)n + 1, argv, argl, e, sizeof(e));
		if (r != NULL && r->type == REDIS_REPLY_INTEGER &&
		    r->integer >= 0) {
			*gone = (size_t)r->integer;
			rc = 0;
		} else if (r != NULL)
			buf_printf(err, "redis %s: DEL answered type %d",
			    rs->where, r->type);
		else
			buf_printf(err, "redis %s: %s", rs->where, e);
		admin_give(rs, &k, r == NULL && k.c->err ? -2 : 0);
	} else if (n == 0)
		rc = 0;
	if (r != NULL)
		freeReplyObject(r);
	buf_free(&names);
	free(argv);
	free(argl);
	free(off);
	return rc;
}

/* glob_escape -- prefix as a SCAN MATCH pattern, NULs as ':', then '*' */
static void
glob_escape(const char *p, size_t len, struct buf *out)
{
	size_t	i;

	buf_puts(out, PREFIX);
	for (i = 0; i < len; i++) {
		if (strchr("*?[]\\", p[i]) != NULL && p[i] != '\0')
			buf_putc(out, '\\');
		buf_putc(out, p[i] == '\0' ? ':' : p[i]);
	}
	buf_putc(out, '*');
}

/*
 * scan_page -- the levels of the keys of one SCAN page (the script with
 * inc = tau = 0 and no commit: one round trip), each handed to fn under
 * its cell key ("NAME:W:VALUE" back to "NAME\0W\0VALUE"); 0, -1 (fn
 * stopped), -2 with err (rc: eval's)
 */
static int
scan_page(struct rstore *rs, redisContext *c, const redisReply *page,
    uint64_t now, int (*fn)(void *, const char *, size_t, uint64_t),
    void *arg, int *rc, struct buf *err)
{
	struct rl_cell	*cells = xcalloc(page->elements + 1, sizeof(*cells));
	char		**keys = xcalloc(page->elements + 1, sizeof(*keys));
	char		 e[256], *p;
	size_t		 i, n = 0, j, colons;
	int		 out = 0;

	for (i = 0; i < page->elements; i++) {
		const redisReply *k = page->element[i];

		if (k == NULL || k->type != REDIS_REPLY_STRING ||
		    k->len <= sizeof(PREFIX) - 1 || k->len > KEY_MAX)
			continue;
		p = keys[n] = xmalloc(k->len);
		memcpy(p, k->str + sizeof(PREFIX) - 1,
		    k->len - (sizeof(PREFIX) - 1));
		for (j = 0, colons = 0; j < k->len - (sizeof(PREFIX) - 1) &&
		    colons < 2; j++)
			if (p[j] == ':') {
				p[j] = '\0';
				colons++;
			}
		cells[n].key = p;
		cells[n++].keylen = k->len - (sizeof(PREFIX) - 1);
	}
	*rc = n > 0 ? rstore_eval(rs, c, cells, n, now, 0, e, sizeof(e)) : 0;
	if (*rc != 0) {
		buf_printf(err, "redis %s: %s", rs->where, e);
		out = -2;
	}
	for (i = 0; i < n && out == 0; i++)
		if (cells[i].level > 0 && fn(arg, cells[i].key, cells[i].keylen,
		    cells[i].level) == -1)
			out = -1;
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(cells);
	return out;
}

/*
 * rstore_scan -- see store.h: SCAN with MATCH on the prefix, COUNT
 * SCAN_COUNT, at most bound / SCAN_COUNT calls (bound keys looked at);
 * two round trips a page (SCAN, then the script for the levels)
 */
int
rstore_scan(struct rl_store *s, const char *prefix, size_t plen,
    uint64_t now, size_t bound,
    int (*fn)(void *, const char *, size_t, uint64_t), void *arg, int *cut,
    struct buf *err)
{
	struct rstore	*rs = (struct rstore *)s;
	struct rconn	 k;
	struct buf	 pat = BUF_INIT;
	redisReply	*r;
	const char	*argv[6];
	size_t		 argl[6], calls = 0;
	char		 cursor[32] = "0", e[256];
	int		 rc = 0, out = 0;

	*cut = 0;
	if (admin_take(rs, &k, err) == -1)
		return -1;
	glob_escape(prefix, plen, &pat);
	do {
		if (calls++ * SCAN_COUNT >= bound) {
			*cut = 1;
			break;
		}
		argv[0] = "SCAN", argl[0] = 4;
		argv[1] = cursor, argl[1] = strlen(cursor);
		argv[2] = "MATCH", argl[2] = 5;
		argv[3] = pat.data, argl[3] = pat.len;
		argv[4] = "COUNT", argl[4] = 5;
		argv[5] = "1000", argl[5] = 4;
		if ((r = rstore_call(k.c, 6, argv, argl, e,
		    sizeof(e))) == NULL) {
			buf_printf(err, "redis %s: %s", rs->where, e);
			rc = k.c->err ? -2 : -1;
			out = -1;
			break;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[0]->len >= sizeof(cursor) ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			buf_printf(err, "redis %s: SCAN answered a bad reply",
			    rs->where);
			freeReplyObject(r);
			out = -1;
			break;
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len);
		cursor[r->element[0]->len] = '\0';
		out = scan_page(rs, k.c, r->element[1], now, fn, arg, &rc, err);
		freeReplyObject(r);
	} while (out == 0 && strcmp(cursor, "0") != 0);
	admin_give(rs, &k, rc);
	buf_free(&pat);
	return out == 0 ? 0 : -1;
}

/* rstore_local -- the local store behind Redis */
struct rl_store *
rstore_local(struct rl_store *s)
{
	return ((struct rstore *)s)->local;
}

/* rstore_name -- "redis HOST:PORT/DB" */
void
rstore_name(struct rl_store *s, struct buf *out)
{
	buf_printf(out, "redis %s", ((struct rstore *)s)->where);
}
