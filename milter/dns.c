/*
 * dns -- the DNS engine on libunbound (see dns.h).
 *
 * Threads: libunbound's own background thread resolves; our reactor
 * thread waits on ub_fd() and calls ub_process(), which runs answer()
 * for each finished query; submitters and waiters are the milter's
 * worker threads. A query is reference counted: one reference for its
 * owner, one for libunbound while a callback may still come. The owner
 * waits on the query's condition variable (CLOCK_MONOTONIC) until its
 * deadline; on release, a query still in flight is cancelled. When
 * ub_cancel() succeeds libunbound will not call answer(), so the
 * engine's reference is dropped here; when it fails (UB_NOID) the answer
 * is being delivered at that moment, and answer() drops it.
 *
 * The answer packet is parsed (dns_msg.c) by the owner, on its first
 * dns_wait() after the answer came, so the reactor does no more than
 * hand over.
 *
 * In front of libunbound's cache sits a small one: DNS_CACHE_SLOTS
 * direct-mapped slots (a new answer replaces whatever shared its slot),
 * holding answer packets (NOERROR and NXDOMAIN, never failures) for
 * their TTL, at most DNS_CACHE_TTL seconds. A hit is answered in the
 * submitting thread: the many connections of one busy client cost no
 * trip through libunbound's threads. It is part of the one engine, so
 * every check still shares one cache.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <unbound.h>

#include "dns.h"
#include "log.h"
#include "xalloc.h"

#define DNS_CACHE_SLOTS		4096	/* a power of two */
#define DNS_CACHE_TTL		300
#define DNS_CACHE_PKT_MAX	4096	/* larger answers are not kept */

struct slot {
	char		*name;
	uint16_t	 type;
	time_t		 expires;	/* CLOCK_MONOTONIC seconds */
	uint8_t		*pkt;
	size_t		 len;
};

struct dns {
	struct ub_ctx	*ub;
	pthread_t	 reactor;
	int		 started;
	int		 stop[2];	/* self-pipe: reactor, stop */
	pthread_mutex_t	 cache_mu;
	struct slot	*cache;
	unsigned long	 hits;
};

struct dns_query {
	struct dns		*dns;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	unsigned		 refs;		/* owner + libunbound while a callback may come */
	int			 id;		/* libunbound's async id */
	int			 answered;	/* answer() ran (under mu) */
	int			 err;		/* libunbound error code */
	uint8_t			*pkt;		/* the answer packet (a copy) */
	size_t			 pktlen;
	int			 rcode;
	uint16_t		 type;
	char			*name;
	int			 parsed;	/* owner side from here on */
	int			 cached;	/* answered from the front cache */
	enum dns_status		 status;
	struct dns_answer	 ans;
	char			 why[160];
};

/* library defaults are sized for a desktop; a mail filter asks much more */
static const char *const tuning[][2] = {
	{ "outgoing-range:",		"512" },
	{ "num-queries-per-thread:",	"512" },
	{ "msg-cache-size:",		"16m" },
	{ "rrset-cache-size:",		"32m" },
	{ "cache-max-negative-ttl:",	"300" },
	{ "module-config:",		"iterator" },
};

/* set_forwarders -- "IP[@PORT], ..." into forward-only mode; 0 or -1 */
static int
set_forwarders(struct dns *d, const char *list, struct buf *err)
{
	char		 one[DNS_FORWARDER_LEN];
	const char	*s = list, *end;
	size_t		 len, n = 0;
	int		 rc;

	while (*s != '\0') {
		s += strspn(s, " \t,");
		end = s + strcspn(s, ",");
		len = (size_t)(end - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len > 0) {
			if (len >= DNS_FORWARDER_LEN || ++n > DNS_FORWARDERS_MAX) {
				buf_printf(err, "dns_forwarders: too many or too long");
				return -1;
			}
			memcpy(one, s, len);
			one[len] = '\0';
			if ((rc = ub_ctx_set_fwd(d->ub, one)) != 0) {
				buf_printf(err, "dns_forwarders: %s: %s", one,
				    ub_strerror(rc));
				return -1;
			}
		}
		s = end;
	}
	return 0;
}

/*
 * dns_new -- an engine asking forwarders (or recursing from the root when
 * forwarders is NULL or empty); not started. NULL with a reason in err.
 */
struct dns *
dns_new(const char *forwarders, struct buf *err)
{
	struct dns	*d = xcalloc(1, sizeof(*d));
	size_t		 i;
	int		 rc;

	d->stop[0] = d->stop[1] = -1;
	d->cache = xcalloc(DNS_CACHE_SLOTS, sizeof(*d->cache));
	(void)pthread_mutex_init(&d->cache_mu, NULL);
	if ((d->ub = ub_ctx_create()) == NULL) {
		buf_printf(err, "cannot create a libunbound context");
		goto fail;
	}
	/* threads, not the forked helper process with a cache of its own */
	if ((rc = ub_ctx_async(d->ub, 1)) != 0) {
		buf_printf(err, "libunbound async mode: %s", ub_strerror(rc));
		goto fail;
	}
	for (i = 0; i < sizeof(tuning) / sizeof(tuning[0]); i++) {
		if ((rc = ub_ctx_set_option(d->ub, tuning[i][0],
		    tuning[i][1])) != 0) {
			buf_printf(err, "libunbound option %s %s: %s",
			    tuning[i][0], tuning[i][1], ub_strerror(rc));
			goto fail;
		}
	}
	if (forwarders != NULL && set_forwarders(d, forwarders, err) == -1)
		goto fail;
	if (pipe(d->stop) == -1) {
		buf_printf(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	return d;
fail:
	dns_free(d);
	return NULL;
}

/*
 * dns_local_zone -- answer zone locally as libunbound's local-zone type
 * says ("static": nothing else under it exists; "transparent": names
 * without local data are resolved). For tests; before the first query.
 */
int
dns_local_zone(struct dns *d, const char *zone, const char *type,
    struct buf *err)
{
	int	rc;

	if ((rc = ub_ctx_zone_add(d->ub, zone, type)) != 0 && rc != UB_SYNTAX) {
		buf_printf(err, "local zone %s: %s", zone, ub_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * dns_local -- serve zone locally ("static") with the record rr ("name
 * TYPE data", NULL for none). For unit tests; before the first query.
 * 0 or -1.
 */
int
dns_local(struct dns *d, const char *zone, const char *rr, struct buf *err)
{
	int	rc;

	if (zone != NULL && dns_local_zone(d, zone, "static", err) == -1)
		return -1;
	if (rr != NULL && (rc = ub_ctx_data_add(d->ub, rr)) != 0) {
		buf_printf(err, "local data %s: %s", rr, ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* reactor -- hand finished queries over until told to stop */
static void *
reactor(void *arg)
{
	struct dns	*d = arg;
	struct pollfd	 pfd[2];
	int		 rc;

	pfd[0].fd = ub_fd(d->ub);
	pfd[1].fd = d->stop[0];
	for (;;) {
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_panic("dns: poll: %s", strerror(errno));
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0 && (rc = ub_process(d->ub)) != 0)
			log_warn("dns: ub_process: %s", ub_strerror(rc));
	}
	return NULL;
}

/* dns_start -- start the reactor thread (after fork and privilege drop); 0 or -1 */
int
dns_start(struct dns *d, struct buf *err)
{
	int	rc;

	if (ub_fd(d->ub) == -1) {
		buf_printf(err, "libunbound has no result descriptor");
		return -1;
	}
	if ((rc = pthread_create(&d->reactor, NULL, reactor, d)) != 0) {
		buf_printf(err, "cannot start the DNS thread: %s", strerror(rc));
		return -1;
	}
	d->started = 1;
	return 0;
}

/* dns_free -- stop the reactor and free the engine (no query may be left) */
void
dns_free(struct dns *d)
{
	char	c = 0;
	size_t	i;

	if (d == NULL)
		return;
	if (d->started) {
		while (write(d->stop[1], &c, 1) == -1 && errno == EINTR)
			;
		(void)pthread_join(d->reactor, NULL);
	}
	if (d->stop[0] != -1)
		(void)close(d->stop[0]);
	if (d->stop[1] != -1)
		(void)close(d->stop[1]);
	if (d->ub != NULL)
		ub_ctx_delete(d->ub);
	for (i = 0; i < DNS_CACHE_SLOTS; i++) {
		free(d->cache[i].name);
		free(d->cache[i].pkt);
	}
	free(d->cache);
	(void)pthread_mutex_destroy(&d->cache_mu);
	free(d);
}

/* query_unref -- drop one reference (called with q->mu held); frees on the last */
static void
query_unref(struct dns_query *q)
{
	int	last = --q->refs == 0;

	(void)pthread_mutex_unlock(&q->mu);
	if (!last)
		return;
	free(q->pkt);
	free(q->name);
	dns_answer_free(&q->ans);
	(void)pthread_cond_destroy(&q->cv);
	(void)pthread_mutex_destroy(&q->mu);
	free(q);
}

/* slot_of -- the cache slot of a name (case-insensitive) and type */
static struct slot *
slot_of(struct dns *d, const char *name, uint16_t type)
{
	uint32_t	h = 2166136261u ^ type;

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)(*name | 0x20)) * 16777619u;
	return &d->cache[h & (DNS_CACHE_SLOTS - 1)];
}

/* now_sec -- CLOCK_MONOTONIC seconds */
static time_t
now_sec(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* cache_put -- keep a usable answer for its TTL (capped) */
static void
cache_put(struct dns *d, const char *name, uint16_t type, const uint8_t *pkt,
    size_t len, int ttl)
{
	struct slot	*sl = slot_of(d, name, type);

	if (ttl <= 0 || len == 0 || len > DNS_CACHE_PKT_MAX)
		return;
	(void)pthread_mutex_lock(&d->cache_mu);
	free(sl->name);
	free(sl->pkt);
	sl->name = xstrdup(name);
	sl->type = type;
	sl->pkt = xmalloc(len);
	memcpy(sl->pkt, pkt, len);
	sl->len = len;
	sl->expires = now_sec() + (ttl < DNS_CACHE_TTL ? ttl : DNS_CACHE_TTL);
	(void)pthread_mutex_unlock(&d->cache_mu);
}

/* cache_get -- a copy of a fresh cached answer into q; 1 on a hit */
static int
cache_get(struct dns *d, struct dns_query *q)
{
	struct slot	*sl = slot_of(d, q->name, q->type);
	int		 hit = 0;

	(void)pthread_mutex_lock(&d->cache_mu);
	if (sl->name != NULL && sl->type == q->type &&
	    strcasecmp(sl->name, q->name) == 0 && sl->expires > now_sec()) {
		q->pkt = xmalloc(sl->len);
		memcpy(q->pkt, sl->pkt, sl->len);
		q->pktlen = sl->len;
		d->hits++;
		hit = 1;
	}
	(void)pthread_mutex_unlock(&d->cache_mu);
	return hit;
}

/* dns_cache_hits -- answers given from the front cache so far */
unsigned long
dns_cache_hits(struct dns *d)
{
	unsigned long	n;

	(void)pthread_mutex_lock(&d->cache_mu);
	n = d->hits;
	(void)pthread_mutex_unlock(&d->cache_mu);
	return n;
}

/* dns_cached -- was the query answered from the front cache? */
int
dns_cached(const struct dns_query *q)
{
	return q->cached;
}

/* answer -- libunbound's callback (in the reactor): keep, cache, wake the owner */
static void
answer(void *arg, int err, struct ub_result *res)
{
	struct dns_query	*q = arg;
	uint8_t			*pkt = NULL;
	size_t			 len = 0;

	if (err == 0 && res != NULL && res->answer_packet != NULL &&
	    res->answer_len > 0) {
		len = (size_t)res->answer_len;
		pkt = xmalloc(len);
		memcpy(pkt, res->answer_packet, len);
		if (res->rcode == 0 || res->rcode == 3)
			cache_put(q->dns, q->name, q->type, pkt, len, res->ttl);
	}
	(void)pthread_mutex_lock(&q->mu);
	q->answered = 1;
	q->err = err;
	q->rcode = res != NULL ? res->rcode : 2;
	q->pkt = pkt;
	q->pktlen = len;
	(void)pthread_cond_signal(&q->cv);
	query_unref(q);
	if (res != NULL)
		ub_resolve_free(res);
}

/* query_new -- a query with its lock and its CLOCK_MONOTONIC condition */
static struct dns_query *
query_new(struct dns *d, uint16_t type)
{
	struct dns_query	*q = xcalloc(1, sizeof(*q));
	pthread_condattr_t	 ca;

	q->dns = d;
	q->type = type;
	q->refs = 1;
	q->id = -1;
	(void)pthread_mutex_init(&q->mu, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&q->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	return q;
}

/*
 * dns_submit -- ask for name/type now. Never NULL: a query the engine
 * could not send is already DNS_FAILED (dns_error says why).
 */
struct dns_query *
dns_submit(struct dns *d, const char *name, uint16_t type)
{
	struct dns_query	*q = query_new(d, type);
	int			 rc;

	q->name = xstrdup(name);
	if (!dns_name_valid(name)) {
		q->parsed = 1;
		q->status = DNS_FAILED;
		(void)strlcpy(q->why, "not a valid DNS name", sizeof(q->why));
		return q;
	}
	if (cache_get(d, q)) {
		q->answered = q->cached = 1;
		return q;
	}
	q->refs = 2;
	rc = ub_resolve_async(d->ub, name, type, 1, q, answer, &q->id);
	if (rc != 0) {
		q->refs = 1;
		q->parsed = 1;
		q->status = DNS_FAILED;
		(void)snprintf(q->why, sizeof(q->why), "cannot send: %s",
		    ub_strerror(rc));
	}
	return q;
}

/* parse -- the owner reads the answer once it came */
static void
parse(struct dns_query *q)
{
	struct buf	err = BUF_INIT;

	q->parsed = 1;
	q->status = DNS_FAILED;
	if (q->err != 0) {
		(void)snprintf(q->why, sizeof(q->why), "%s", ub_strerror(q->err));
		return;
	}
	if (q->pkt == NULL) {
		/* libunbound gives no packet when it has no answer at all */
		q->ans.rcode = q->rcode;
		q->status = q->rcode != 0 ? DNS_DONE : DNS_FAILED;
		(void)strlcpy(q->why, "no answer packet", sizeof(q->why));
		return;
	}
	if (q->rcode != 0 && q->pktlen >= 12 && q->pkt[4] == 0 &&
	    q->pkt[5] == 0) {
		/*
		 * libunbound's own error answer (SERVFAIL from the
		 * forwarders) carries no question: an rcode, not a
		 * malformed packet
		 */
		memset(&q->ans, 0, sizeof(q->ans));
		q->ans.rcode = q->rcode;
		q->ans.qtype = q->type;
		q->status = DNS_DONE;
		return;
	}
	if (dns_msg_parse(q->pkt, q->pktlen, q->type, &q->ans, &err) == -1) {
		(void)snprintf(q->why, sizeof(q->why), "malformed answer: %s",
		    buf_str(&err));
		buf_free(&err);
		return;
	}
	buf_free(&err);
	q->status = DNS_DONE;
}

/*
 * dns_wait -- wait for the answer until deadline (CLOCK_MONOTONIC; NULL:
 * do not wait); DNS_PENDING when it has not come by then. May be called
 * again.
 */
enum dns_status
dns_wait(struct dns_query *q, const struct timespec *deadline)
{
	int	answered, rc = 0;

	if (q->parsed)
		return q->status;
	(void)pthread_mutex_lock(&q->mu);
	while (!q->answered && deadline != NULL && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->cv, &q->mu, deadline);
	answered = q->answered;
	(void)pthread_mutex_unlock(&q->mu);
	if (!answered)
		return DNS_PENDING;
	parse(q);
	return q->status;
}

/*
 * dns_wait_stage -- dns_wait until own (NULL: the stage's deadline alone),
 * never past the stage's deadline; when the stage's deadline ended the
 * wait unanswered, the stage is marked cut (deadline_cut)
 */
enum dns_status
dns_wait_stage(struct dns_query *q, const struct timespec *own,
    struct deadline *stage)
{
	struct timespec		dl;
	enum dns_status		st;
	int			capped;

	if (own == NULL && stage == NULL)
		return dns_wait(q, NULL);
	if (own == NULL) {
		dl = stage->at;
		capped = 1;
	} else {
		dl = *own;
		capped = deadline_cap(stage, &dl);
	}
	st = dns_wait(q, &dl);
	if (st == DNS_PENDING && capped)
		deadline_cut(stage);
	return st;
}

/* dns_answer -- the parsed answer (after DNS_DONE) */
const struct dns_answer *
dns_answer(const struct dns_query *q)
{
	return &q->ans;
}

/* dns_take -- move the parsed answer out (after DNS_DONE); the caller frees it */
void
dns_take(struct dns_query *q, struct dns_answer *out)
{
	*out = q->ans;
	memset(&q->ans, 0, sizeof(q->ans));
}

/* dns_packet -- the raw answer packet (after DNS_DONE), or NULL */
const uint8_t *
dns_packet(const struct dns_query *q, size_t *len)
{
	if (!q->parsed || q->pkt == NULL) {
		*len = 0;
		return NULL;
	}
	*len = q->pktlen;
	return q->pkt;
}

/* dns_error -- why a query failed ("" otherwise) */
const char *
dns_error(const struct dns_query *q)
{
	return q->why;
}

/* dns_release -- the owner is done: cancel if still in flight, free when last */
void
dns_release(struct dns_query *q)
{
	int	in_flight;

	if (q == NULL)
		return;
	(void)pthread_mutex_lock(&q->mu);
	in_flight = q->refs == 2 && !q->answered;
	(void)pthread_mutex_unlock(&q->mu);
	/* 0: libunbound will not call answer(); UB_NOID: it is doing so now */
	if (in_flight && ub_cancel(q->dns->ub, q->id) == 0) {
		(void)pthread_mutex_lock(&q->mu);
		q->refs--;
		(void)pthread_mutex_unlock(&q->mu);
	}
	(void)pthread_mutex_lock(&q->mu);
	query_unref(q);
}

/* dns_deadline -- now (CLOCK_MONOTONIC) plus ms */
void
dns_deadline(struct timespec *ts, unsigned ms)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* dns_deadline_cap -- make *ts no later than *limit */
void
dns_deadline_cap(struct timespec *ts, const struct timespec *limit)
{
	if (limit->tv_sec < ts->tv_sec ||
	    (limit->tv_sec == ts->tv_sec && limit->tv_nsec < ts->tv_nsec))
		*ts = *limit;
}

/* dns_expired -- has the deadline passed? */
int
dns_expired(const struct timespec *ts)
{
	struct timespec	now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* dns_version -- libunbound's version, for -V */
const char *
dns_version(void)
{
	return ub_version();
}
