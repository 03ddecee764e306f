/*
 * stats -- counters since start, for mxgatectl status and the metrics
 * (metrics.c): decisions per rule, stage and action; SPF, DKIM and DMARC
 * results; DNS per list; store fallbacks; stage latency.
 *
 * Writers (the hooks, any thread):
 *   stats_decision(rule, stage, action)   one decision log line
 *   stats_auth(spf, dkim, dmarc)          a message's results (NULL: not
 *					    checked)
 *   stats_dns_query(list, cached)         one DNS list query, answered
 *					    from the engine's front cache?
 *   stats_dns(list, STATS_DNS_TIMEOUT | STATS_DNS_ERROR)
 *   stats_store_fallback()                a check used the local counters
 *					    because Redis could not answer
 *   stats_latency(stage, t0)              a stage's command took from t0
 *					    (stats_clock()) until now
 *
 * Readers take a snapshot and call fn outside the lock (fn may take its
 * time; it must not keep the label pointers beyond stats_deinit()).
 *
 * Labelled counters live in small tables under one mutex each (the hot
 * path takes it once per event); the histograms are atomics. Every
 * table is bounded: past its size, new label sets are counted with the
 * first label (rule, list, result) replaced by "other", so the totals
 * stay right and the series stay few. Thread-safe throughout.
 */
#ifndef MXGATE_STATS_H
#define MXGATE_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "facts.h"

#define STATS_OTHER		"other"	/* series past the bounds */
#define STATS_MAX_DECISIONS	2048	/* rule, stage, action sets */
#define STATS_MAX_DNS		256	/* DNS lists */
#define STATS_MAX_AUTH		64	/* method, result pairs */
#define STATS_BUCKETS		12	/* finite buckets; +Inf after */

enum stats_dns_event {
	STATS_DNS_QUERY,
	STATS_DNS_CACHE_HIT,
	STATS_DNS_TIMEOUT,
	STATS_DNS_ERROR
};

struct stats_dns {
	uint64_t	queries, cache_hits, timeouts, errors;
};

/* a stage's latency: cumulative bucket counts, bucket[STATS_BUCKETS] = +Inf */
struct stats_hist {
	uint64_t	bucket[STATS_BUCKETS + 1];
	uint64_t	count;		/* == bucket[STATS_BUCKETS] */
	double		sum;		/* seconds */
};

/* the upper bounds of the finite buckets, in seconds and as exposed */
extern const double	 stats_bucket_le[STATS_BUCKETS];
extern const char *const stats_bucket_name[STATS_BUCKETS];

void	 stats_init(void);
time_t	 stats_start_time(void);
void	 stats_deinit(void);

void	 stats_decision(const char *, const char *, const char *);
void	 stats_auth(const char *, const char *, const char *);
void	 stats_dns_query(const char *, int);
void	 stats_dns(const char *, enum stats_dns_event);
void	 stats_store_fallback(void);
uint64_t stats_clock(void);
void	 stats_latency(enum stage, uint64_t);
void	 stats_observe(enum stage, uint64_t);

void	 stats_each_decision(void (*)(void *, const char *, const char *,
	    const char *, uint64_t), void *);
void	 stats_each_auth(void (*)(void *, const char *, const char *,
	    uint64_t), void *);
void	 stats_each_dns(void (*)(void *, const char *,
	    const struct stats_dns *), void *);
uint64_t stats_store_fallbacks(void);
void	 stats_latency_get(enum stage, struct stats_hist *);
const char *stats_stage_name(enum stage);

#endif
