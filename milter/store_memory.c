/*
 * store_memory -- rate counters in this process (see store.h).
 *
 * A chained hash of cells (keys compared as bytes) plus a recency list
 * of the GCRA cells. At most max_keys cells are kept: when a new key
 * needs room, the EVICT_SCAN least recently used cells are looked at and
 * the first one whose state has decayed (tat <= now: forgetting it
 * changes nothing) is dropped; when none of them has decayed, the least
 * recently used is dropped anyway. So an address spray costs at most
 * max_keys cells, and it pushes out idle decayed keys before keys that
 * still hold a block. O(1) per operation.
 *
 * Concurrency cells are not in the recency list and are never dropped
 * while they hold open connections (they are bounded by the open
 * connections); a counter back at 0 is freed at once. They count in
 * rl_store_keys(), so it may exceed max_keys only while more than
 * max_keys keys hold connections.
 *
 * Key values come from peers (senders, logins), so the hash is keyed:
 * SipHash-1-3 with a random key per store, so that nobody can choose
 * values that all land in one chain.
 *
 * One mutex guards everything.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ratelimit.h"
#include "store.h"
#include "xalloc.h"

#define EVICT_SCAN	16	/* oldest cells looked at for a decayed one */

struct mcell {
	struct mcell	*next;		/* hash chain */
	struct mcell	*older, *newer;	/* recency list */
	uint64_t	 h;
	uint64_t	 tat;		/* GCRA: theoretical arrival time, ns */
	uint64_t	 open;		/* concurrency */
	int		 conc;
	size_t		 len;
	char		 key[];
};

struct mstore {
	struct rl_store	 base;
	pthread_mutex_t	 lock;
	struct mcell	**bucket;
	size_t		 nbuckets;	/* a power of two */
	size_t		 count, max;
	uint64_t	 now;		/* the latest clock seen, for conc() evictions */
	uint64_t	 k0, k1;	/* hash key */
	struct mcell	*newest, *oldest;	/* GCRA cells only */
};

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

/* sipround -- one SipHash round */
static void
sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

/* hkey -- SipHash-1-3 of the key under the store's secret */
static uint64_t
hkey(const struct mstore *m, const char *k, size_t len)
{
	uint64_t	v[4], w;
	size_t		i, j;

	v[0] = m->k0 ^ 0x736f6d6570736575ULL;
	v[1] = m->k1 ^ 0x646f72616e646f6dULL;
	v[2] = m->k0 ^ 0x6c7967656e657261ULL;
	v[3] = m->k1 ^ 0x7465646279746573ULL;
	for (i = 0; i + 8 <= len; i += 8) {
		for (w = 0, j = 0; j < 8; j++)
			w |= (uint64_t)(unsigned char)k[i + j] << (8 * j);
		v[3] ^= w;
		sipround(v);
		v[0] ^= w;
	}
	for (w = (uint64_t)len << 56, j = 0; i + j < len; j++)
		w |= (uint64_t)(unsigned char)k[i + j] << (8 * j);
	v[3] ^= w;
	sipround(v);
	v[0] ^= w;
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* seed -- a random hash key (the clock and addresses when entropy fails) */
static void
seed(struct mstore *m)
{
	struct timespec	t;
	uint64_t	k[2];

	if (getentropy(k, sizeof(k)) == -1) {
		clock_gettime(CLOCK_REALTIME, &t);
		k[0] = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 30) ^
		    (uint64_t)(uintptr_t)m;
		k[1] = (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&t;
	}
	m->k0 = k[0];
	m->k1 = k[1];
}

/* unlink_lru -- take c out of the recency list */
static void
unlink_lru(struct mstore *m, struct mcell *c)
{
	if (c->older != NULL)
		c->older->newer = c->newer;
	else
		m->oldest = c->newer;
	if (c->newer != NULL)
		c->newer->older = c->older;
	else
		m->newest = c->older;
	c->older = c->newer = NULL;
}

/* touch -- make c the newest (concurrency cells are not in the list) */
static void
touch(struct mstore *m, struct mcell *c)
{
	if (c->conc || m->newest == c)
		return;
	if (c->older != NULL || c->newer != NULL || m->oldest == c)
		unlink_lru(m, c);
	c->older = m->newest;
	if (m->newest != NULL)
		m->newest->newer = c;
	m->newest = c;
	if (m->oldest == NULL)
		m->oldest = c;
}

/* drop -- remove and free a cell */
static void
drop(struct mstore *m, struct mcell *c)
{
	struct mcell	**pp = &m->bucket[c->h & (m->nbuckets - 1)];

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	if (!c->conc)
		unlink_lru(m, c);
	free(c);
	m->count--;
}

/* evict -- make room for one cell */
static void
evict(struct mstore *m, uint64_t now)
{
	struct mcell	*c, *victim = NULL;
	int		 i;

	for (c = m->oldest, i = 0; c != NULL && i < EVICT_SCAN; c = c->newer, i++) {
		if (victim == NULL)
			victim = c;
		if (c->tat <= now) {
			victim = c;
			break;
		}
	}
	if (victim != NULL)
		drop(m, victim);
}

/* grow -- double the buckets when the chains get long */
static void
grow(struct mstore *m)
{
	size_t		 n = m->nbuckets * 2, i;
	struct mcell	**b = xcalloc(n, sizeof(*b)), *c, *next;

	for (i = 0; i < m->nbuckets; i++) {
		for (c = m->bucket[i]; c != NULL; c = next) {
			next = c->next;
			c->next = b[c->h & (n - 1)];
			b[c->h & (n - 1)] = c;
		}
	}
	free(m->bucket);
	m->bucket = b;
	m->nbuckets = n;
}

/* find -- the cell of key or NULL, its recency untouched */
static struct mcell *
find(struct mstore *m, const char *key, size_t len, uint64_t h)
{
	struct mcell	*c;

	for (c = m->bucket[h & (m->nbuckets - 1)]; c != NULL; c = c->next)
		if (c->h == h && c->len == len && memcmp(c->key, key, len) == 0)
			return c;
	return NULL;
}

/* get -- the cell of key, created when create is set (NULL otherwise) */
static struct mcell *
get(struct mstore *m, const char *key, size_t len, int create, uint64_t now)
{
	uint64_t	 h = hkey(m, key, len);
	struct mcell	*c;

	if ((c = find(m, key, len, h)) != NULL) {
		touch(m, c);
		return c;
	}
	if (!create)
		return NULL;
	while (m->count >= m->max && m->count > 0) {
		size_t before = m->count;

		evict(m, now);
		if (m->count == before)
			break;		/* every cell holds connections */
	}
	if (m->count >= m->nbuckets)
		grow(m);
	c = xcalloc(1, sizeof(*c) + len);
	memcpy(c->key, key, len);
	c->len = len;
	c->h = h;
	c->next = m->bucket[h & (m->nbuckets - 1)];
	m->bucket[h & (m->nbuckets - 1)] = c;
	touch(m, c);
	m->count++;
	return c;
}

/*
 * measure -- a cell's level and wait for one more event, from its stored
 * tat (0: unknown); returns max(tat, now), the base of a commit
 */
static uint64_t
measure(struct rl_cell *cell, uint64_t tat, uint64_t now)
{
	uint64_t	base = tat > now ? tat : now, after;

	after = rl_sat_add(base - now, cell->inc);
	cell->level = base - now;
	cell->wait = after > cell->tau ? after - cell->tau : 0;
	return base;
}

/* mem_gcra -- see store.h (never waits: the stage's deadline does not apply) */
static int
mem_gcra(struct rl_store *s, struct rl_cell *cells, size_t n, uint64_t now,
    int commit, struct deadline *stage)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c;
	uint64_t	 base;
	size_t		 i;

	(void)stage;
	pthread_mutex_lock(&m->lock);
	if (now > m->now)
		m->now = now;
	for (i = 0; i < n; i++) {
		c = get(m, cells[i].key, cells[i].keylen, commit, now);
		base = measure(&cells[i], c != NULL ? c->tat : 0, now);
		if (commit && c != NULL)
			c->tat = rl_sat_add(base, cells[i].inc);
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* mem_conc -- add delta (+1/-1/0) to a concurrency counter; its new value */
static int
mem_conc(struct rl_store *s, const char *key, size_t len, int delta,
    uint64_t *value)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c;

	pthread_mutex_lock(&m->lock);
	c = get(m, key, len, delta > 0, m->now);
	if (c != NULL) {
		if (!c->conc) {
			unlink_lru(m, c);
			c->conc = 1;
		}
		if (delta > 0)
			c->open++;
		else if (delta < 0 && c->open > 0)
			c->open--;
	}
	*value = c != NULL ? c->open : 0;
	if (c != NULL && c->open == 0)
		drop(m, c);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* mem_each -- see store.h: the GCRA cells that still hold state, oldest first */
static int
mem_each(struct rl_store *s, uint64_t now,
    int (*fn)(void *, const char *, size_t, uint64_t), void *arg)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c;
	int		 rc = 0;

	pthread_mutex_lock(&m->lock);
	for (c = m->oldest; c != NULL && rc == 0; c = c->newer)
		if (c->tat > now)
			rc = fn(arg, c->key, c->len, c->tat - now);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* mem_put -- set the tat of a GCRA cell, created when needed */
static int
mem_put(struct rl_store *s, const char *key, size_t len, uint64_t tat)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c;

	pthread_mutex_lock(&m->lock);
	c = get(m, key, len, 1, m->now);
	if (!c->conc)
		c->tat = tat;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* mem_keys -- cells kept */
static size_t
mem_keys(struct rl_store *s)
{
	struct mstore	*m = (struct mstore *)s;
	size_t		 n;

	pthread_mutex_lock(&m->lock);
	n = m->count;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* mem_free -- free everything */
static void
mem_free(struct rl_store *s)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c, *next;
	size_t		 i;

	for (i = 0; i < m->nbuckets; i++)
		for (c = m->bucket[i]; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
	free(m->bucket);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* mem_peek -- see store.h: gcra() without commit, and no recency touched */
static int
mem_peek(struct rl_store *s, struct rl_cell *cells, size_t n, uint64_t now,
    struct buf *err)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c;
	size_t		 i;

	(void)err;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < n; i++) {
		c = find(m, cells[i].key, cells[i].keylen,
		    hkey(m, cells[i].key, cells[i].keylen));
		(void)measure(&cells[i], c != NULL && !c->conc ? c->tat : 0,
		    now);
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* mem_forget -- see store.h: drop the cells' keys */
static int
mem_forget(struct rl_store *s, const struct rl_cell *cells, size_t n,
    size_t *gone, struct buf *err)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c;
	size_t		 i;

	(void)err;
	*gone = 0;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < n; i++) {
		c = find(m, cells[i].key, cells[i].keylen,
		    hkey(m, cells[i].key, cells[i].keylen));
		if (c != NULL) {
			drop(m, c);
			(*gone)++;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/*
 * mem_scan -- see store.h: every chain, at most bound cells looked at
 * (in hash order, so a cut walk is a sample of the keys)
 */
static int
mem_scan(struct rl_store *s, const char *prefix, size_t plen, uint64_t now,
    size_t bound, int (*fn)(void *, const char *, size_t, uint64_t), void *arg,
    int *cut, struct buf *err)
{
	struct mstore	*m = (struct mstore *)s;
	struct mcell	*c;
	size_t		 i, seen = 0;
	int		 rc = 0;

	(void)err;
	*cut = 0;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nbuckets && rc == 0 && !*cut; i++)
		for (c = m->bucket[i]; c != NULL && rc == 0; c = c->next) {
			if (seen++ == bound) {
				*cut = 1;
				break;
			}
			if (c->len < plen || memcmp(c->key, prefix, plen) != 0)
				continue;
			if (c->conc)
				rc = fn(arg, c->key, c->len, c->open);
			else if (c->tat > now)
				rc = fn(arg, c->key, c->len, c->tat - now);
		}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* mem_local -- no fallback behind the memory store */
static struct rl_store *
mem_local(struct rl_store *s)
{
	(void)s;
	return NULL;
}

/* mem_name -- "memory" */
static void
mem_name(struct rl_store *s, struct buf *out)
{
	(void)s;
	buf_puts(out, "memory");
}

static const struct rl_store_ops mem_ops = {
	mem_gcra, mem_conc, mem_each, mem_put, mem_keys, mem_free,
	mem_peek, mem_forget, mem_scan, mem_local, mem_name
};

/* rl_store_memory -- a memory store keeping at most max_keys cells */
struct rl_store *
rl_store_memory(size_t max_keys)
{
	struct mstore	*m = xcalloc(1, sizeof(*m));

	m->base.ops = &mem_ops;
	pthread_mutex_init(&m->lock, NULL);
	seed(m);
	m->nbuckets = 1024;
	m->bucket = xcalloc(m->nbuckets, sizeof(*m->bucket));
	m->max = max_keys > 0 ? max_keys : 1;
	return &m->base;
}
