/*
 * stats -- counters since start (see stats.h).
 *
 * A labelled counter family is a table: entries in the order they came
 * (for the readers), found through a hash of their labels joined with
 * NUL bytes, under the table's mutex. Entries are never freed while the
 * daemon runs, so a reader's snapshot may hold label pointers after the
 * lock is let go. A table takes `max` label sets; beyond that the first
 * label becomes "other" (STATS_OTHER_ROOM more sets, since the other
 * labels still vary), and beyond those every label becomes "other".
 *
 * The latency histograms are arrays of atomic counters, one per bucket
 * (not cumulative: an observation touches one bucket, the sum and
 * nothing else); readers add them up.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "stats.h"
#include "xalloc.h"

#define STATS_LABELS		3	/* the most labels of a family */
#define STATS_LABEL_MAX		128	/* longer: "other" */
#define STATS_OTHER_ROOM	128	/* sets with first label "other" */
#define STATS_VALUES		4	/* counters per entry (DNS: 4) */

struct entry {
	const char	*label[STATS_LABELS];	/* into key */
	char		*key;		/* labels, NUL-joined */
	uint64_t	 v[STATS_VALUES];
};

struct table {
	pthread_mutex_t	 mu;
	unsigned	 nlabels;
	size_t		 max;
	struct hash	*h;
	struct entry	**e;		/* in the order they came */
	size_t		 n, cap;
};

/* one entry's values as a reader sees them */
struct snap {
	const char	*label[STATS_LABELS];
	uint64_t	 v[STATS_VALUES];
};

static struct table	decisions = { PTHREAD_MUTEX_INITIALIZER, 3,
			    STATS_MAX_DECISIONS, NULL, NULL, 0, 0 };
static struct table	dnslists = { PTHREAD_MUTEX_INITIALIZER, 1,
			    STATS_MAX_DNS, NULL, NULL, 0, 0 };
static struct table	authres = { PTHREAD_MUTEX_INITIALIZER, 2,
			    STATS_MAX_AUTH, NULL, NULL, 0, 0 };
static uint64_t		fallbacks;
static time_t		started;

/* latency: per stage, per bucket (+Inf last), and the sum in ns */
static uint64_t		hist[STAGE_COUNT][STATS_BUCKETS + 1];
static uint64_t		hist_sum[STAGE_COUNT];

const double	stats_bucket_le[STATS_BUCKETS] = {
	.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 20
};
const char *const stats_bucket_name[STATS_BUCKETS] = {
	"0.001", "0.005", "0.01", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
	"5", "10", "20"
};
static const uint64_t	bucket_ns[STATS_BUCKETS] = {
	1000000ULL, 5000000ULL, 10000000ULL, 50000000ULL, 100000000ULL,
	250000000ULL, 500000000ULL, 1000000000ULL, 2500000000ULL,
	5000000000ULL, 10000000000ULL, 20000000000ULL
};
static const char *const stages[STAGE_COUNT] = {
	"connect", "helo", "mail", "rcpt", "data", "eom"
};

/* stats_init -- note the start time (once; later calls keep the first) */
void
stats_init(void)
{
	time_t	zero = 0, now = time(NULL);

	(void)__atomic_compare_exchange_n(&started, &zero, now, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* stats_start_time -- when stats_init() ran (Unix time), or 0 */
time_t
stats_start_time(void)
{
	return __atomic_load_n(&started, __ATOMIC_RELAXED);
}

/* table_clear -- forget every entry of a table (tests) */
static void
table_clear(struct table *t)
{
	size_t	i;

	(void)pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->n; i++) {
		free(t->e[i]->key);
		free(t->e[i]);
	}
	free(t->e);
	hash_free(t->h, NULL);
	t->h = NULL;
	t->e = NULL;
	t->n = t->cap = 0;
	(void)pthread_mutex_unlock(&t->mu);
}

/* stats_deinit -- every counter back to zero, memory freed (tests) */
void
stats_deinit(void)
{
	table_clear(&decisions);
	table_clear(&dnslists);
	table_clear(&authres);
	__atomic_store_n(&fallbacks, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&started, 0, __ATOMIC_RELAXED);
	memset(hist, 0, sizeof(hist));
	memset(hist_sum, 0, sizeof(hist_sum));
}

/*
 * make_key -- labels NUL-joined into key (size STATS_LABELS *
 * (STATS_LABEL_MAX + 1)); a missing or too long label is "other"
 */
static size_t
make_key(char *key, const char *const *label, unsigned n)
{
	size_t		len = 0, l;
	unsigned	i;
	const char	*s;

	for (i = 0; i < n; i++) {
		s = label[i] != NULL ? label[i] : STATS_OTHER;
		if ((l = strlen(s)) > STATS_LABEL_MAX) {
			s = STATS_OTHER;
			l = strlen(s);
		}
		memcpy(key + len, s, l + 1);
		len += l + 1;
	}
	return len;
}

/* add -- a new entry for key (called with the lock held) */
static struct entry *
add(struct table *t, const char *key, size_t len)
{
	struct entry	*e = xcalloc(1, sizeof(*e));
	size_t		 off = 0;
	unsigned	 i;

	e->key = xmalloc(len);
	memcpy(e->key, key, len);
	for (i = 0; i < t->nlabels; i++) {
		e->label[i] = e->key + off;
		off += strlen(e->key + off) + 1;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->e = xreallocarray(t->e, t->cap, sizeof(*t->e));
	}
	t->e[t->n++] = e;
	(void)hash_put(t->h, e->key, len, e);
	return e;
}

/* find -- the entry of the labels, made when there is room (lock held) */
static struct entry *
find(struct table *t, const char *const *label)
{
	char		 key[STATS_LABELS * (STATS_LABEL_MAX + 1)];
	const char	*l[STATS_LABELS];
	struct entry	*e;
	size_t		 len;
	unsigned	 i;

	if (t->h == NULL)
		t->h = hash_new();
	len = make_key(key, label, t->nlabels);
	if ((e = hash_get(t->h, key, len)) != NULL || t->n < t->max)
		return e != NULL ? e : add(t, key, len);
	/* full: the first label is "other", the rest kept while room lasts */
	for (i = 0; i < t->nlabels; i++)
		l[i] = i == 0 || t->n >= t->max + STATS_OTHER_ROOM ?
		    STATS_OTHER : label[i];
	len = make_key(key, l, t->nlabels);
	if ((e = hash_get(t->h, key, len)) != NULL)
		return e;
	return add(t, key, len);
}

/* bump -- add to counters a and b (b < 0: none) of the labels' entry */
static void
bump(struct table *t, const char *const *label, int a, int b)
{
	struct entry	*e;

	(void)pthread_mutex_lock(&t->mu);
	e = find(t, label);
	e->v[a]++;
	if (b >= 0)
		e->v[b]++;
	(void)pthread_mutex_unlock(&t->mu);
}

/* stats_decision -- one decision (as logged): rule, stage, action word */
void
stats_decision(const char *rule, const char *stage, const char *action)
{
	const char	*l[3] = { rule, stage, action };

	bump(&decisions, l, 0, -1);
}

/* stats_auth -- a message's SPF, DKIM and DMARC results (NULL: not checked) */
void
stats_auth(const char *spf, const char *dkim, const char *dmarc)
{
	const char	*l[2];

	if (spf != NULL) {
		l[0] = spf;
		l[1] = "spf";
		bump(&authres, l, 0, -1);
	}
	if (dkim != NULL) {
		l[0] = dkim;
		l[1] = "dkim";
		bump(&authres, l, 0, -1);
	}
	if (dmarc != NULL) {
		l[0] = dmarc;
		l[1] = "dmarc";
		bump(&authres, l, 0, -1);
	}
}

/* stats_dns_query -- one query of a DNS list; cached: from the front cache */
void
stats_dns_query(const char *list, int cached)
{
	bump(&dnslists, &list, STATS_DNS_QUERY,
	    cached ? STATS_DNS_CACHE_HIT : -1);
}

/* stats_dns -- one event of a DNS list (a query, a timeout, an error) */
void
stats_dns(const char *list, enum stats_dns_event ev)
{
	bump(&dnslists, &list, (int)ev, -1);
}

/* stats_store_fallback -- a check used the local counters (no Redis) */
void
stats_store_fallback(void)
{
	(void)__atomic_add_fetch(&fallbacks, 1, __ATOMIC_RELAXED);
}

/* stats_store_fallbacks -- how many so far */
uint64_t
stats_store_fallbacks(void)
{
	return __atomic_load_n(&fallbacks, __ATOMIC_RELAXED);
}

/* stats_clock -- now, CLOCK_MONOTONIC nanoseconds (for stats_latency) */
uint64_t
stats_clock(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* stats_observe -- a stage took ns nanoseconds */
void
stats_observe(enum stage st, uint64_t ns)
{
	unsigned	i;

	if ((unsigned)st >= STAGE_COUNT)
		return;
	for (i = 0; i < STATS_BUCKETS && ns > bucket_ns[i]; i++)
		;
	(void)__atomic_add_fetch(&hist[st][i], 1, __ATOMIC_RELAXED);
	(void)__atomic_add_fetch(&hist_sum[st], ns, __ATOMIC_RELAXED);
}

/* stats_latency -- a stage's command took from t0 (stats_clock()) until now */
void
stats_latency(enum stage st, uint64_t t0)
{
	uint64_t	now = stats_clock();

	stats_observe(st, now > t0 ? now - t0 : 0);
}

/* stats_latency_get -- a stage's histogram, cumulative */
void
stats_latency_get(enum stage st, struct stats_hist *h)
{
	uint64_t	c = 0;
	unsigned	i;

	memset(h, 0, sizeof(*h));
	if ((unsigned)st >= STAGE_COUNT)
		return;
	for (i = 0; i <= STATS_BUCKETS; i++) {
		c += __atomic_load_n(&hist[st][i], __ATOMIC_RELAXED);
		h->bucket[i] = c;
	}
	h->count = c;
	h->sum = (double)__atomic_load_n(&hist_sum[st], __ATOMIC_RELAXED) /
	    1e9;
}

/* stats_stage_name -- "connect" ... "eom", the stage label */
const char *
stats_stage_name(enum stage st)
{
	return (unsigned)st < STAGE_COUNT ? stages[st] : STATS_OTHER;
}

/* snapshot -- a copy of a table's entries (free it); *n entries */
static struct snap *
snapshot(struct table *t, size_t *n)
{
	struct snap	*s;
	size_t		 i;

	(void)pthread_mutex_lock(&t->mu);
	*n = t->n;
	s = xcalloc(t->n ? t->n : 1, sizeof(*s));
	for (i = 0; i < t->n; i++) {
		memcpy(s[i].label, t->e[i]->label, sizeof(s[i].label));
		memcpy(s[i].v, t->e[i]->v, sizeof(s[i].v));
	}
	(void)pthread_mutex_unlock(&t->mu);
	return s;
}

/* stats_each_decision -- fn(arg, rule, stage, action, n) for each set */
void
stats_each_decision(void (*fn)(void *, const char *, const char *,
    const char *, uint64_t), void *arg)
{
	struct snap	*s;
	size_t		 i, n;

	s = snapshot(&decisions, &n);
	for (i = 0; i < n; i++)
		fn(arg, s[i].label[0], s[i].label[1], s[i].label[2], s[i].v[0]);
	free(s);
}

/* stats_each_auth -- fn(arg, method, result, n) for each pair */
void
stats_each_auth(void (*fn)(void *, const char *, const char *, uint64_t),
    void *arg)
{
	struct snap	*s;
	size_t		 i, n;

	s = snapshot(&authres, &n);
	for (i = 0; i < n; i++)
		fn(arg, s[i].label[1], s[i].label[0], s[i].v[0]);
	free(s);
}

/* stats_each_dns -- fn(arg, list, counters) for each DNS list */
void
stats_each_dns(void (*fn)(void *, const char *, const struct stats_dns *),
    void *arg)
{
	struct snap	 *s;
	struct stats_dns  d;
	size_t		  i, n;

	s = snapshot(&dnslists, &n);
	for (i = 0; i < n; i++) {
		d.queries = s[i].v[STATS_DNS_QUERY];
		d.cache_hits = s[i].v[STATS_DNS_CACHE_HIT];
		d.timeouts = s[i].v[STATS_DNS_TIMEOUT];
		d.errors = s[i].v[STATS_DNS_ERROR];
		fn(arg, s[i].label[0], &d);
	}
	free(s);
}
