/*
 * store_redis -- rate counters in Redis (see store_redis.h, store.h).
 *
 * A small pool of hiredis connections is shared by the worker threads:
 * a check takes an idle connection (or opens one while fewer than pool
 * are open, or waits for one at most the command timeout), sends one
 * EVALSHA and puts the connection back. The script is loaded on every new
 * connection (SCRIPT LOAD); when the server has lost it (a restart behind
 * a proxy, SCRIPT FLUSH) the check is sent again as EVAL, which loads it.
 *
 * State: up or down. Any failure -- no connection, an I/O error, a
 * timeout, an error reply, an answer of the wrong shape -- marks the
 * store down: the idle connections are closed (connections in use are
 * closed when they come back: each carries the generation it was opened
 * in), the change is logged once, and the background thread starts
 * probing: it opens a connection and runs one committed check on the key
 * "mxgate:probe" (so a read-only replica after a failover is not taken
 * for a master), after 1 s, then doubling to 30 s. While down, checks go
 * to the local store (or fail, with tempfail) without touching the
 * network. When a probe succeeds the store is up again, logged once.
 *
 * A check never waits past the deadline of the SMTP stage that asks
 * (deadline.h): with less time left than the command timeout, the wait
 * for a connection, the connect and the command get what is left. When
 * the stage's time runs out first, the connection is closed without a
 * verdict on Redis (it is not marked down), the check falls back like
 * any failed one, and the stage is marked cut.
 *
 * One mutex guards the pool and the state; no lock is held during a
 * network call.
 *
 * The administrator's operations for mxgatectl (peek, forget, scan,
 * local, name in the store's ops) are in store_redis_admin.c; the store
 * and the pool functions it uses (rstore_take, rstore_give,
 * rstore_discard, rstore_call, rstore_eval) are declared in
 * store_redis_int.h. store_redis_cfg.c reads the URL and password file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "compat.h"
#include "log.h"
#include "ratelimit.h"
#include "stats.h"
#include "store.h"
#include "store_redis.h"
#include "store_redis.lua.h"
#include "store_redis_int.h"
#include "xalloc.h"

#define NS		1000000000ULL
#define SLACK_MS	"1000"	/* a key outlives its state by this */
#define BACKOFF_MIN	1	/* seconds between probes, doubling */
#define BACKOFF_MAX	30

/* deadline -- now plus tv on CLOCK_REALTIME (the condition variables' clock) */
static void
deadline(struct timespec *ts, const struct timeval *tv)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += tv->tv_sec;
	ts->tv_nsec += tv->tv_usec * 1000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* reply_err -- a short description of a failed call */
static void
reply_err(const redisContext *c, const redisReply *r, char *out, size_t len)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		(void)snprintf(out, len, "%.*s", (int)(r->len < 200 ? r->len : 200),
		    r->str);
	else if (r != NULL)
		(void)snprintf(out, len, "unexpected reply type %d", r->type);
	else if (c != NULL && c->err)
		(void)snprintf(out, len, "%s", c->errstr[0] ? c->errstr :
		    "connection error");
	else
		(void)snprintf(out, len, "no reply");
}

/* rstore_call -- one command; the reply, or NULL with the reason in err */
redisReply *
rstore_call(redisContext *c, int argc, const char **argv,
    const size_t *argl, char *err, size_t errlen)
{
	redisReply	*r = redisCommandArgv(c, argc, argv, argl);

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		reply_err(c, r, err, errlen);
		if (r != NULL)
			freeReplyObject(r);
		return NULL;
	}
	return r;
}

/*
 * setup -- a new connection: AUTH, SELECT, SCRIPT LOAD, within the
 * timeouts of tv (connect, command); NULL and err on failure
 */
static redisContext *
setup(struct rstore *rs, const struct timeval tv[2], char *err, size_t errlen)
{
	redisContext	*c;
	redisReply	*r;
	const char	*argv[3];
	size_t		 argl[3];
	char		 db[16];
	int		 n;

	c = redisConnectWithTimeout(rs->host, (int)rs->port, tv[0]);
	if (c == NULL || c->err) {
		reply_err(c, NULL, err, errlen);
		if (c == NULL)
			(void)snprintf(err, errlen, "cannot allocate a connection");
		goto fail;
	}
	if (redisSetTimeout(c, tv[1]) != REDIS_OK) {
		reply_err(c, NULL, err, errlen);
		goto fail;
	}
	if (rs->pass != NULL) {
		n = 0;
		argv[n] = "AUTH", argl[n++] = 4;
		if (rs->user != NULL)
			argv[n] = rs->user, argl[n] = strlen(rs->user), n++;
		argv[n] = rs->pass, argl[n] = strlen(rs->pass), n++;
		if ((r = rstore_call(c, n, argv, argl, err, errlen)) == NULL)
			goto fail;
		freeReplyObject(r);
	}
	if (rs->db != 0) {
		(void)snprintf(db, sizeof(db), "%u", rs->db);
		argv[0] = "SELECT", argl[0] = 6;
		argv[1] = db, argl[1] = strlen(db);
		if ((r = rstore_call(c, 2, argv, argl, err, errlen)) == NULL)
			goto fail;
		freeReplyObject(r);
	}
	argv[0] = "SCRIPT", argl[0] = 6;
	argv[1] = "LOAD", argl[1] = 4;
	argv[2] = STORE_REDIS_LUA, argl[2] = sizeof(STORE_REDIS_LUA) - 1;
	if ((r = rstore_call(c, 3, argv, argl, err, errlen)) == NULL)
		goto fail;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		reply_err(c, r, err, errlen);
		freeReplyObject(r);
		goto fail;
	}
	pthread_mutex_lock(&rs->lock);
	memcpy(rs->sha, r->str, 40);
	rs->sha[40] = '\0';
	pthread_mutex_unlock(&rs->lock);
	freeReplyObject(r);
	return c;
fail:
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/*
 * rstore_take -- a connection for one check: 0; -1 (down, or none free
 * within the command timeout tv[1]: the caller falls back for this
 * check); -2 when a new one, set up within tv, failed (err)
 */
int
rstore_take(struct rstore *rs, const struct timeval tv[2], struct rconn *out,
    char *err, size_t errlen)
{
	struct timespec	ts;
	int		rc;

	err[0] = '\0';
	out->reused = 0;
	pthread_mutex_lock(&rs->lock);
	deadline(&ts, &tv[1]);
	for (;;) {
		if (!rs->up || rs->stop) {
			pthread_mutex_unlock(&rs->lock);
			return -1;
		}
		if (rs->nidle > 0) {
			*out = rs->idle[--rs->nidle];
			out->reused = 1;
			pthread_mutex_unlock(&rs->lock);
			return 0;
		}
		if (rs->nopen < rs->pool)
			break;
		rc = pthread_cond_timedwait(&rs->freed, &rs->lock, &ts);
		if (rc == ETIMEDOUT) {
			pthread_mutex_unlock(&rs->lock);
			(void)snprintf(err, errlen, "all %u connections busy",
			    rs->pool);
			return -1;
		}
	}
	rs->nopen++;
	out->gen = rs->gen;
	pthread_mutex_unlock(&rs->lock);
	if ((out->c = setup(rs, tv, err, errlen)) != NULL)
		return 0;
	pthread_mutex_lock(&rs->lock);
	rs->nopen--;
	pthread_cond_signal(&rs->freed);
	pthread_mutex_unlock(&rs->lock);
	return -2;
}

/*
 * rstore_give -- put a connection back (closed when it is of an older
 * generation)
 */
void
rstore_give(struct rstore *rs, struct rconn *k)
{
	redisContext	*c = NULL;

	pthread_mutex_lock(&rs->lock);
	if (k->gen == rs->gen && !rs->stop && rs->nidle < POOL_MAX)
		rs->idle[rs->nidle++] = *k;
	else {
		c = k->c;
		rs->nopen--;
	}
	pthread_cond_signal(&rs->freed);
	pthread_mutex_unlock(&rs->lock);
	if (c != NULL)
		redisFree(c);
	k->c = NULL;
}

/*
 * rstore_discard -- close a connection that failed, without a verdict on
 * Redis
 */
void
rstore_discard(struct rstore *rs, struct rconn *k)
{
	redisFree(k->c);
	k->c = NULL;
	pthread_mutex_lock(&rs->lock);
	rs->nopen--;
	pthread_cond_signal(&rs->freed);
	pthread_mutex_unlock(&rs->lock);
}

/* grab_idle -- take every idle connection out of the pool (lock held) */
static unsigned
grab_idle(struct rstore *rs, struct rconn *out)
{
	unsigned	n = rs->nidle;

	memcpy(out, rs->idle, n * sizeof(*out));
	rs->nidle = 0;
	return n;
}

/*
 * down -- a failure: the store is down until the prober reaches Redis;
 * logged once. The connection that failed (c, or NULL) is closed.
 */
static void
down(struct rstore *rs, struct rconn *k, const char *why)
{
	struct rconn	old[POOL_MAX];
	unsigned	n = 0, i;
	int		was;

	pthread_mutex_lock(&rs->lock);
	was = rs->up;
	if (was) {
		rs->up = 0;
		rs->since = time(NULL);
		rs->gen++;
		n = grab_idle(rs, old);
		rs->nopen -= n;
		pthread_cond_broadcast(&rs->wake);
		pthread_cond_broadcast(&rs->freed);
	}
	pthread_mutex_unlock(&rs->lock);
	if (k != NULL && k->c != NULL)
		rstore_discard(rs, k);
	for (i = 0; i < n; i++)
		redisFree(old[i].c);
	if (was)
		log_warn("store: redis %s: %s; %s", rs->where, why,
		    rs->tempfail ? "mail that needs a rate limit is deferred "
		    "(store_error = tempfail)" : "using local counters until "
		    "it is back");
}

/* put_num -- n as decimal into a buffer slot */
static const char *
put_num(char *slot, size_t len, uint64_t n, size_t *outlen)
{
	int	k = snprintf(slot, len, "%" PRIu64, n);

	*outlen = (size_t)k;
	return slot;
}

/* reply_num -- element i of an array reply as a uint64 (-1: not one) */
static int
reply_num(const redisReply *r, size_t i, uint64_t *v)
{
	const redisReply *e;

	if (i >= r->elements || (e = r->element[i]) == NULL ||
	    e->type != REDIS_REPLY_INTEGER || e->integer < 0)
		return -1;
	*v = (uint64_t)e->integer;
	return 0;
}

/* pair -- seconds and nanoseconds back to nanoseconds, saturated */
static uint64_t
pair(uint64_t s, uint64_t ns)
{
	if (s > (UINT64_MAX - ns) / NS)
		return UINT64_MAX;
	return s * NS + ns;
}

/*
 * rstore_eval -- run the script on connection c for the cells; 0, or -1
 * with the reason in err when Redis answered wrong, -2 when the
 * connection failed (closed, reset, timed out: it is then unusable)
 */
int
rstore_eval(struct rstore *rs, redisContext *c, struct rl_cell *cells,
    size_t n, uint64_t now, int commit, char *err, size_t errlen)
{
	size_t		 argc = 7 + 5 * n, a = 0, m = 0, i, j, len;
	const char	**argv = xcalloc(argc, sizeof(*argv));
	size_t		*argl = xcalloc(argc, sizeof(*argl));
	char		(*nums)[24] = xcalloc(2 + 4 * n, sizeof(*nums));
	char		*keys = xmalloc(n * KEY_MAX), *k, nk[24], sha[48];
	redisReply	*r = NULL;
	uint64_t	 v[4];
	int		 again, rc = -1;

	pthread_mutex_lock(&rs->lock);
	memcpy(sha, rs->sha, sizeof(sha));
	pthread_mutex_unlock(&rs->lock);
	argv[a] = "EVALSHA", argl[a++] = 7;
	argv[a] = sha, argl[a++] = 40;
	argv[a] = put_num(nk, sizeof(nk), n, &argl[a]), a++;
	for (i = 0; i < n; i++) {
		k = keys + i * KEY_MAX;
		len = sizeof(PREFIX) - 1 + cells[i].keylen;
		if (len > KEY_MAX)
			len = KEY_MAX;
		memcpy(k, PREFIX, sizeof(PREFIX) - 1);
		memcpy(k + sizeof(PREFIX) - 1, cells[i].key,
		    len - (sizeof(PREFIX) - 1));
		for (j = sizeof(PREFIX) - 1; j < len; j++)
			if (k[j] == '\0')
				k[j] = ':';
		argv[a] = k, argl[a++] = len;
	}
	argv[a] = commit ? "1" : "0", argl[a++] = 1;
	argv[a] = SLACK_MS, argl[a++] = sizeof(SLACK_MS) - 1;
	if (rs->caller_clock) {
		argv[a] = put_num(nums[m++], 24, now / NS, &argl[a]), a++;
		argv[a] = put_num(nums[m++], 24, now % NS, &argl[a]), a++;
	} else {
		argv[a] = "", argl[a++] = 0;
		argv[a] = "", argl[a++] = 0;
	}
	for (i = 0; i < n; i++) {
		argv[a] = put_num(nums[m++], 24, cells[i].inc / NS, &argl[a]), a++;
		argv[a] = put_num(nums[m++], 24, cells[i].inc % NS, &argl[a]), a++;
		argv[a] = put_num(nums[m++], 24, cells[i].tau / NS, &argl[a]), a++;
		argv[a] = put_num(nums[m++], 24, cells[i].tau % NS, &argl[a]), a++;
	}
	for (again = 0; ; again = 1) {
		r = redisCommandArgv(c, (int)a, argv, argl);
		if (r != NULL && r->type == REDIS_REPLY_ERROR && !again &&
		    strncmp(r->str, "NOSCRIPT", 8) == 0) {
			/* the server lost the script: EVAL loads it again */
			freeReplyObject(r);
			argv[0] = "EVAL", argl[0] = 4;
			argv[1] = STORE_REDIS_LUA;
			argl[1] = sizeof(STORE_REDIS_LUA) - 1;
			continue;
		}
		break;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4 * n) {
		if (r == NULL)
			rc = -2;
		reply_err(c, r, err, errlen);
		if (r != NULL && r->type == REDIS_REPLY_ARRAY)
			(void)snprintf(err, errlen, "script answered %zu values "
			    "for %zu cells", r->elements, n);
		goto done;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < 4; j++)
			if (reply_num(r, 4 * i + j, &v[j]) == -1 || (j % 2 == 1 &&
			    v[j] >= NS)) {
				(void)snprintf(err, errlen, "script answered a "
				    "bad value");
				goto done;
			}
		cells[i].wait = pair(v[0], v[1]);
		cells[i].level = pair(v[2], v[3]);
	}
	rc = 0;
done:
	if (r != NULL)
		freeReplyObject(r);
	free(argv);
	free(argl);
	free(nums);
	free(keys);
	return rc;
}

/* fallback -- a check Redis could not answer: local counters, or an error */
static int
fallback(struct rstore *rs, struct rl_cell *cells, size_t n, uint64_t now,
    int commit)
{
	size_t	i;

	if (rs->tempfail) {
		for (i = 0; i < n; i++)
			cells[i].wait = cells[i].level = 0;
		return -1;
	}
	stats_store_fallback();
	return rs->local->ops->gcra(rs->local, cells, n, now, commit, NULL);
}

/*
 * budget -- the connect and command timeouts of one check, cut to the
 * time the stage has left (NULL: no stage); *capped when they were cut;
 * -1 when the stage has no time left
 */
static int
budget(const struct rstore *rs, const struct deadline *stage,
    struct timeval tv[2], int *capped)
{
	int	c0, c1;

	tv[0] = rs->conn_tv;
	tv[1] = rs->cmd_tv;
	if ((c0 = deadline_cap_tv(stage, &tv[0])) == -1 ||
	    (c1 = deadline_cap_tv(stage, &tv[1])) == -1)
		return -1;
	*capped = c0 | c1;
	return 0;
}

/* out_of_time -- a failure while the stage's time ran out, not Redis's */
static int
out_of_time(struct deadline *stage, int capped)
{
	if (!capped || !deadline_passed(stage))
		return 0;
	deadline_cut(stage);
	return 1;
}

/*
 * redis_gcra -- see store.h. A connection that fails when it was taken
 * from the idle ones may just have been closed by the server (its idle
 * timeout): the check is tried once more on a new connection before
 * Redis is taken for down.
 */
static int
redis_gcra(struct rl_store *s, struct rl_cell *cells, size_t n, uint64_t now,
    int commit, struct deadline *stage)
{
	static time_t	 busy_logged;
	struct rstore	*rs = (struct rstore *)s;
	struct rconn	 k;
	struct timeval	 tv[2];
	char		 err[256];
	int		 rc, attempt, capped;

	if (n == 0)
		return 0;
	if (budget(rs, stage, tv, &capped) == -1) {
		deadline_cut(stage);
		return fallback(rs, cells, n, now, commit);
	}
	for (attempt = 0; ; attempt++) {
		if ((rc = rstore_take(rs, tv, &k, err, sizeof(err))) < 0) {
			if (out_of_time(stage, capped))
				return fallback(rs, cells, n, now, commit);
			if (rc == -2)
				down(rs, NULL, err);
			else if (err[0] != '\0')
				log_warn_limited(&busy_logged, "store: redis %s: "
				    "%s; this check used local counters",
				    rs->where, err);
			return fallback(rs, cells, n, now, commit);
		}
		if (capped)
			(void)redisSetTimeout(k.c, tv[1]);
		rc = rstore_eval(rs, k.c, cells, n, now, commit, err,
		    sizeof(err));
		if (rc == 0) {
			if (capped)
				(void)redisSetTimeout(k.c, rs->cmd_tv);
			rstore_give(rs, &k);
			return 0;
		}
		if (out_of_time(stage, capped)) {
			/* the stage's time ran out, not Redis: no verdict on it */
			rstore_discard(rs, &k);
			return fallback(rs, cells, n, now, commit);
		}
		if (rc == -2 && k.reused && attempt == 0) {
			rstore_discard(rs, &k);
			continue;
		}
		down(rs, &k, err);
		return fallback(rs, cells, n, now, commit);
	}
}

/* the rest goes to the local store */
static int
redis_conc(struct rl_store *s, const char *key, size_t len, int delta,
    uint64_t *value)
{
	struct rstore	*rs = (struct rstore *)s;

	return rs->local->ops->conc(rs->local, key, len, delta, value);
}

static int
redis_each(struct rl_store *s, uint64_t now,
    int (*fn)(void *, const char *, size_t, uint64_t), void *arg)
{
	struct rstore	*rs = (struct rstore *)s;

	return rs->local->ops->each(rs->local, now, fn, arg);
}

static int
redis_put(struct rl_store *s, const char *key, size_t len, uint64_t tat)
{
	struct rstore	*rs = (struct rstore *)s;

	return rs->local->ops->put(rs->local, key, len, tat);
}

static size_t
redis_keys(struct rl_store *s)
{
	struct rstore	*rs = (struct rstore *)s;

	return rs->local->ops->keys(rs->local);
}

/*
 * probe -- open a connection and run one committed check on a probe key;
 * 0 with the connection in *k, or -1 with the reason in err
 */
static int
probe(struct rstore *rs, struct rconn *k, char *err, size_t errlen)
{
	struct rl_cell	cell;
	struct timeval	tv[2];
	static const char key[] = "probe";

	tv[0] = rs->conn_tv;
	tv[1] = rs->cmd_tv;
	if ((k->c = setup(rs, tv, err, errlen)) == NULL)
		return -1;
	memset(&cell, 0, sizeof(cell));
	cell.key = key;
	cell.keylen = sizeof(key) - 1;
	cell.inc = 1;
	cell.tau = NS;
	/* an I/O error or a timeout (-2) is as down as a wrong answer (-1) */
	if (rstore_eval(rs, k->c, &cell, 1, 0, 1, err, errlen) != 0) {
		redisFree(k->c);
		k->c = NULL;
		return -1;
	}
	return 0;
}

/* became_up -- a probe succeeded: keep its connection, log once */
static void
became_up(struct rstore *rs, struct rconn *k, int first)
{
	pthread_mutex_lock(&rs->lock);
	if (!rs->up)
		rs->since = time(NULL);
	rs->up = 1;
	k->gen = rs->gen;
	rs->idle[rs->nidle++] = *k;
	rs->nopen++;
	pthread_mutex_unlock(&rs->lock);
	if (first)
		log_info("store: redis %s: connected; rate counters are shared",
		    rs->where);
	else
		log_info("store: redis %s: reachable again; rate counters are "
		    "shared again", rs->where);
}

/* prober -- while down: try to reach Redis, with backoff */
static void *
prober(void *arg)
{
	struct rstore	*rs = arg;
	struct rconn	 k;
	struct timespec	 ts;
	struct timeval	 tv;
	char		 err[256];
	unsigned	 backoff = BACKOFF_MIN;

	pthread_mutex_lock(&rs->lock);
	while (!rs->stop) {
		if (rs->up) {
			backoff = BACKOFF_MIN;
			pthread_cond_wait(&rs->wake, &rs->lock);
			continue;
		}
		tv.tv_sec = backoff;
		tv.tv_usec = 0;
		deadline(&ts, &tv);
		while (!rs->stop && pthread_cond_timedwait(&rs->wake,
		    &rs->lock, &ts) != ETIMEDOUT)
			;
		if (rs->stop)
			break;
		pthread_mutex_unlock(&rs->lock);
		if (probe(rs, &k, err, sizeof(err)) == 0)
			became_up(rs, &k, 0);
		else if (backoff < BACKOFF_MAX)
			backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
			    backoff * 2;
		pthread_mutex_lock(&rs->lock);
	}
	pthread_mutex_unlock(&rs->lock);
	return NULL;
}

/* redis_free -- stop the prober, close everything, free the local store */
static void
redis_free(struct rl_store *s)
{
	struct rstore	*rs = (struct rstore *)s;
	unsigned	 i;

	pthread_mutex_lock(&rs->lock);
	rs->stop = 1;
	pthread_cond_broadcast(&rs->wake);
	pthread_cond_broadcast(&rs->freed);
	pthread_mutex_unlock(&rs->lock);
	if (rs->have_prober)
		(void)pthread_join(rs->prober, NULL);
	for (i = 0; i < rs->nidle; i++)
		redisFree(rs->idle[i].c);
	rl_store_free(rs->local);
	pthread_cond_destroy(&rs->freed);
	pthread_cond_destroy(&rs->wake);
	pthread_mutex_destroy(&rs->lock);
	free(rs->host);
	free(rs->user);
	if (rs->pass != NULL) {
		explicit_bzero(rs->pass, strlen(rs->pass));
		free(rs->pass);
	}
	free(rs);
}

static const struct rl_store_ops redis_ops = {
	redis_gcra, redis_conc, redis_each, redis_put, redis_keys, redis_free,
	rstore_peek, rstore_forget, rstore_scan, rstore_local, rstore_name
};

/* tv_ms -- milliseconds as a timeval */
static struct timeval
tv_ms(unsigned ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (long)(ms % 1000) * 1000;
	return tv;
}

/*
 * rl_store_redis -- a Redis store in front of local (which it owns and
 * uses while Redis is down). Tries Redis once now (logged either way);
 * never fails for want of Redis.
 */
struct rl_store *
rl_store_redis(const struct rl_redis_conf *conf, struct rl_store *local)
{
	struct rstore	*rs = xcalloc(1, sizeof(*rs));
	struct rconn	 k;
	char		 err[256];

	rs->base.ops = &redis_ops;
	rs->local = local;
	rs->host = xstrdup(conf->host);
	rs->user = conf->user != NULL ? xstrdup(conf->user) : NULL;
	rs->pass = conf->password != NULL ? xstrdup(conf->password) : NULL;
	rs->port = conf->port;
	rs->db = conf->db;
	rs->pool = conf->pool == 0 ? 1 : conf->pool > POOL_MAX ? POOL_MAX :
	    conf->pool;
	rs->conn_tv = tv_ms(conf->connect_ms ? conf->connect_ms : 1000);
	rs->cmd_tv = tv_ms(conf->command_ms ? conf->command_ms : 250);
	rs->tempfail = conf->tempfail;
	rs->caller_clock = conf->caller_clock;
	(void)snprintf(rs->where, sizeof(rs->where), strchr(rs->host, ':') ?
	    "[%s]:%u/%u" : "%s:%u/%u", rs->host, rs->port, rs->db);
	pthread_mutex_init(&rs->lock, NULL);
	pthread_cond_init(&rs->freed, NULL);
	pthread_cond_init(&rs->wake, NULL);
	if (probe(rs, &k, err, sizeof(err)) == 0)
		became_up(rs, &k, 1);
	else
		log_warn("store: redis %s: %s; %s", rs->where, err,
		    rs->tempfail ? "mail that needs a rate limit is deferred "
		    "until it is reachable (store_error = tempfail)" :
		    "using local counters until it is reachable");
	if (pthread_create(&rs->prober, NULL, prober, rs) == 0)
		rs->have_prober = 1;
	else
		log_warn("store: redis %s: cannot start the reconnect thread",
		    rs->where);
	return &rs->base;
}

/* rl_redis_version -- the hiredis this was built with, for -V */
const char *
rl_redis_version(void)
{
	static char	v[32];

	(void)snprintf(v, sizeof(v), "hiredis %d.%d.%d", HIREDIS_MAJOR,
	    HIREDIS_MINOR, HIREDIS_PATCH);
	return v;
}

/*
 * rl_store_redis_state -- is the store using Redis now, and since when
 * (wall clock; 0: it never was up, nor went down)? For mxgatectl status.
 */
int
rl_store_redis_state(struct rl_store *s, time_t *since)
{
	struct rstore	*rs = (struct rstore *)s;
	int		 up;

	pthread_mutex_lock(&rs->lock);
	up = rs->up;
	*since = rs->since;
	pthread_mutex_unlock(&rs->lock);
	return up;
}

/* rl_store_redis_up -- is the store using Redis now? (tests, logs) */
int
rl_store_redis_up(struct rl_store *s)
{
	time_t	since;

	return rl_store_redis_state(s, &since);
}
