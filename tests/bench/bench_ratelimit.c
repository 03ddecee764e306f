/*
 * bench_ratelimit -- what a rate-limit check costs (built and run by
 * bench_ratelimit.sh; it measures only and asserts nothing).
 *
 * Figures, on the real monotonic clock, with the memory store:
 *   hot     one key, one window: ns per rl_check + rl_commit_message
 *   hot2    one key, two windows (one store call for both)
 *   spray   N distinct IPv6 /128 keys (default 1,000,000) into a store of
 *           max_keys (default 100,000): ns per check+commit, keys/s, the
 *           keys held at the end and the peak RSS (memory is bounded)
 *   threads 4 threads on 4 keys: ns per check+commit, all threads together
 *
 *   bench_ratelimit [SPRAY_KEYS [MAX_KEYS]]
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ipaddr.h"
#include "ratelimit.h"

#define LIMS(l)	((const struct rl_limit *const *)&(l))

/* now_ns -- the monotonic clock in ns */
static double
now_ns(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* cpu_ns -- the CPU time of the process in ns (less noisy on a busy host) */
static double
cpu_ns(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* mklimit -- a limit of count c keyed by client_ip, one window n/secs */
static struct rl_limit *
mklimit(const char *name, enum rl_count c, unsigned v6len, uint64_t n,
    uint64_t secs)
{
	struct rl_limit	*l = calloc(1, sizeof(*l));

	if (l == NULL)
		abort();
	l->name = strdup(name);
	l->count = c;
	l->nkeys = 1;
	l->key[0].nparts = 1;
	l->key[0].part[0] = RL_PART_CLIENT_IP;
	l->key[0].v4len = 32;
	l->key[0].v6len = v6len;
	l->nwindows = 1;
	l->window[0].n = n;
	l->window[0].secs = secs;
	l->window[0].burst = n;
	return l;
}

/* step -- one check, and the commit when admitted */
static int
step(struct rl_store *s, const struct rl_limit *l, const struct rl_event *ev)
{
	struct rl_result r;

	if (rl_check(s, l, ev, &r) == -1)
		abort();
	if (!r.exceeded)
		(void)rl_commit_message(s, LIMS(l), 1, ev);
	return r.exceeded;
}

/* v6 -- the IPv6 address 2001:db8::/32 + i */
static void
v6(struct ipaddr *a, uint64_t i)
{
	int	k;

	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	a->b[0] = 0x20, a->b[1] = 0x01, a->b[2] = 0x0d, a->b[3] = 0xb8;
	for (k = 0; k < 8; k++)
		a->b[15 - k] = (uint8_t)(i >> (8 * k));
}

/* hot -- one key, over and over */
static void
hot(unsigned nwin, long n)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = mklimit("hot", RL_COUNT_MESSAGES, 64, 1000000000, 1);
	struct rl_event	 ev;
	struct ipaddr	 a;
	double		 t0, c0;
	long		 i, refused = 0;

	if (nwin == 2) {
		l->nwindows = 2;
		l->window[1] = l->window[0];
		l->window[1].secs = 3600;
	}
	v6(&a, 1);
	memset(&ev, 0, sizeof(ev));
	ev.client_ip = &a;
	t0 = now_ns();
	c0 = cpu_ns();
	for (i = 0; i < n; i++)
		refused += step(s, l, &ev);
	printf("hot%-4u  %ld check+commit, one key, %u window(s): %.0f ns each "
	    "(CPU %.0f ns; %ld refused)\n", nwin, n, nwin,
	    (now_ns() - t0) / (double)n, (cpu_ns() - c0) / (double)n, refused);
	rl_limit_free(l);
	rl_store_free(s);
}

/* spray -- n distinct /128 keys into max_keys */
static void
spray(long n, size_t max)
{
	struct rl_store	*s = rl_store_memory(max);
	struct rl_limit	*l = mklimit("spray", RL_COUNT_CONNECTIONS, 128, 10, 60);
	struct rl_event	 ev;
	struct ipaddr	 a;
	struct rusage	 ru;
	double		 t0, dt, c0;
	long		 i;

	memset(&ev, 0, sizeof(ev));
	ev.client_ip = &a;
	t0 = now_ns();
	c0 = cpu_ns();
	for (i = 0; i < n; i++) {
		v6(&a, (uint64_t)i);
		if (rl_check(s, l, &ev, &(struct rl_result){ 0 }) == -1)
			abort();
		(void)rl_commit_connection(s, LIMS(l), 1, &ev);
	}
	dt = now_ns() - t0;
	c0 = cpu_ns() - c0;
	getrusage(RUSAGE_SELF, &ru);
	printf("spray    %ld distinct IPv6 keys, max_keys %zu: %.0f ns per "
	    "check+commit (CPU %.0f ns), %.0f keys/s; keys held %zu; "
	    "peak RSS %ld MiB\n", n, max, dt / (double)n, c0 / (double)n,
	    (double)n / (dt / 1e9), rl_store_keys(s), ru.ru_maxrss / 1024);
	rl_limit_free(l);
	rl_store_free(s);
}

struct targ {
	struct rl_store		*s;
	const struct rl_limit	*l;
	uint64_t		 id;
	long			 n;
};

/* thread -- hot loop of one thread on its own key */
static void *
thread(void *p)
{
	struct targ	*t = p;
	struct rl_event	 ev;
	struct ipaddr	 a;
	long		 i;

	v6(&a, t->id << 16);
	memset(&ev, 0, sizeof(ev));
	ev.client_ip = &a;
	for (i = 0; i < t->n; i++)
		(void)step(t->s, t->l, &ev);
	return NULL;
}

/* threads -- nt threads sharing one store */
static void
threads(int nt, long n)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_limit	*l = mklimit("thr", RL_COUNT_MESSAGES, 64, 1000000000, 1);
	struct targ	 ta[8];
	pthread_t	 t[8];
	double		 t0, c0;
	int		 i;

	t0 = now_ns();
	c0 = cpu_ns();
	for (i = 0; i < nt; i++) {
		ta[i] = (struct targ){ s, l, (uint64_t)i + 1, n };
		if (pthread_create(&t[i], NULL, thread, &ta[i]) != 0)
			abort();
	}
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	printf("threads  %d threads x %ld check+commit on one store: %.0f ns "
	    "each (wall time / all operations; CPU %.0f ns each)\n", nt, n,
	    (now_ns() - t0) / ((double)n * nt), (cpu_ns() - c0) / ((double)n * nt));
	rl_limit_free(l);
	rl_store_free(s);
}

int
main(int argc, char **argv)
{
	long	nspray = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	long	max = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;

	if (nspray <= 0 || max <= 0) {
		fprintf(stderr, "usage: bench_ratelimit [SPRAY_KEYS [MAX_KEYS]]\n");
		return 2;
	}
	hot(1, 2000000);
	hot(2, 2000000);
	spray(nspray, (size_t)max);
	threads(4, 500000);
	return 0;
}
