/*
 * bench_redis -- what a rate-limit decision costs with the Redis store
 * against the memory store (built and run by bench_redis.sh against a
 * redis-server it starts on loopback; it measures only and asserts
 * nothing).
 *
 * A decision is one rl_check of a limit with two windows (rate 1e9/1m and
 * 1e9/1h, keyed by login, 1000 logins in turn), followed, as for an
 * accepted message, by rl_commit_message. Printed, for each store:
 *   1 thread   decisions/s, and the latency of a check alone
 *              (mean, p50, p99, in microseconds)
 *   T threads  decisions/s with T threads at once (the pool is shared)
 *   round trips per decision, from the server's INFO commandstats
 *
 *   bench_redis PORT [DECISIONS [THREADS]]     (20000 16)
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "ratelimit.h"
#include "store_redis.h"

#define LIMS(l)	((const struct rl_limit *const *)&(l))
#define USERS	1000

static unsigned		 port;
static struct rl_limit	*lim;
static char		 users[USERS][16];

/* now_us -- the monotonic clock in microseconds */
static double
now_us(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* decide -- one decision for login u: check, and count when admitted */
static void
decide(struct rl_store *s, const char *u, double *check_us)
{
	struct rl_event	 ev;
	struct rl_result r;
	double		 t0;

	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = u;
	t0 = now_us();
	if (rl_check(s, lim, &ev, &r) == -1)
		abort();
	if (check_us != NULL)
		*check_us = now_us() - t0;
	if (!r.exceeded)
		(void)rl_commit_message(s, LIMS(lim), 1, &ev);
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct worker {
	struct rl_store	*s;
	long		 n, first;
};

static void *
work(void *arg)
{
	struct worker	*w = arg;
	long		 i;

	for (i = 0; i < w->n; i++)
		decide(w->s, users[(w->first + i) % USERS], NULL);
	return NULL;
}

/* evalsha -- EVALSHA calls the server answered since the last RESETSTAT */
static long
evalsha(int reset)
{
	struct timeval	 tv = { 2, 0 };
	redisContext	*c = redisConnectWithTimeout("127.0.0.1", (int)port, tv);
	redisReply	*r;
	const char	*p;
	long		 n = 0;

	if (c == NULL || c->err)
		return -1;
	r = redisCommand(c, reset ? "CONFIG RESETSTAT" : "INFO commandstats");
	if (r != NULL && !reset && r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "cmdstat_evalsha:calls=")) != NULL)
		n = strtol(p + 22, NULL, 10);
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return n;
}

/* run -- the figures of one store */
static void
run(const char *name, struct rl_store *s, long n, int nthreads, int redis)
{
	pthread_t	*tid = calloc((size_t)nthreads, sizeof(*tid));
	struct worker	*w = calloc((size_t)nthreads, sizeof(*w));
	double		*lat = calloc((size_t)n, sizeof(*lat)), t0, t1, sum = 0;
	long		 i, calls;
	int		 k;

	if (tid == NULL || w == NULL || lat == NULL)
		abort();
	for (i = 0; i < 200; i++)		/* warm: connections, keys */
		decide(s, users[i % USERS], NULL);
	if (redis)
		(void)evalsha(1);
	t0 = now_us();
	for (i = 0; i < n; i++)
		decide(s, users[i % USERS], &lat[i]);
	t1 = now_us();
	calls = redis ? evalsha(0) : 0;
	for (i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("%-6s 1 thread:   %8.0f decisions/s; check alone: mean %.1f us, "
	    "p50 %.1f us, p99 %.1f us\n", name, n / ((t1 - t0) / 1e6),
	    sum / n, lat[n / 2], lat[n * 99 / 100]);
	if (redis)
		printf("%-6s round trips: %.2f per decision (check + count), "
		    "%ld EVALSHA for %ld decisions\n", name, (double)calls / n,
		    calls, n);
	t0 = now_us();
	for (k = 0; k < nthreads; k++) {
		w[k].s = s;
		w[k].n = n / nthreads;
		w[k].first = k * 37;
		if (pthread_create(&tid[k], NULL, work, &w[k]) != 0)
			abort();
	}
	for (k = 0; k < nthreads; k++)
		pthread_join(tid[k], NULL);
	t1 = now_us();
	printf("%-6s %d threads: %8.0f decisions/s\n", name, nthreads,
	    (double)(n / nthreads * nthreads) / ((t1 - t0) / 1e6));
	free(tid);
	free(w);
	free(lat);
}

int
main(int argc, char *argv[])
{
	struct rl_redis_conf c;
	struct rl_store	*m, *r;
	long		 n = argc > 2 ? atol(argv[2]) : 20000;
	int		 t = argc > 3 ? atoi(argv[3]) : 16, i;

	if (argc < 2 || n < 100 || t < 1) {
		fprintf(stderr, "usage: bench_redis PORT [DECISIONS [THREADS]]\n");
		return 64;
	}
	port = (unsigned)atoi(argv[1]);
	for (i = 0; i < USERS; i++)
		(void)snprintf(users[i], sizeof(users[i]), "user%d", i);
	lim = calloc(1, sizeof(*lim));
	lim->name = strdup("bench");
	lim->count = RL_COUNT_MESSAGES;
	lim->nkeys = 1;
	lim->key[0].nparts = 1;
	lim->key[0].part[0] = RL_PART_SASL_USER;
	lim->nwindows = 2;
	lim->window[0].n = lim->window[0].burst = 1000000000;
	lim->window[0].secs = 60;
	lim->window[1].n = lim->window[1].burst = 1000000000;
	lim->window[1].secs = 3600;

	m = rl_store_memory(100000);
	run("memory", m, n, t, 0);
	rl_store_free(m);
	memset(&c, 0, sizeof(c));
	c.host = "127.0.0.1";
	c.port = port;
	c.connect_ms = 1000;
	c.command_ms = 1000;
	c.pool = 16;
	r = rl_store_redis(&c, rl_store_memory(100000));
	if (!rl_store_redis_up(r)) {
		fprintf(stderr, "bench_redis: redis on port %u is not usable\n",
		    port);
		return 1;
	}
	run("redis", r, n, t, 1);
	if (!rl_store_redis_up(r))
		printf("redis  WARNING: the store fell back to local counters "
		    "during the run: the figures are not Redis's\n");
	rl_store_free(r);
	rl_limit_free(lim);
	return 0;
}
