/*
 * dns -- the one asynchronous DNS engine of mxgate (libunbound). Nothing
 * else in mxgate resolves a name: every check submits its queries here,
 * and all of them share one cache.
 *
 * dns_new() builds a libunbound context in threaded async mode with
 * raised library defaults (outgoing range, cache sizes) and, when given,
 * forwarders (IP[@PORT], comma-separated: forward only, never recursion);
 * without forwarders it recurses from the root. dns_local() adds static
 * local data (unit tests). dns_start() starts the reactor thread that
 * reads answers (poll on ub_fd, then ub_process); call it after fork and
 * privilege drop. dns_free() stops it; every query must have been
 * released before.
 *
 * dns_wait_stage() waits as dns_wait() but never past the stage's
 * deadline (deadline.h); a wait that the stage cut short and that ended
 * unanswered marks the stage as cut.
 *
 * A query is submitted by any thread (dns_submit), then waited for by
 * its owner with an absolute CLOCK_MONOTONIC deadline (dns_wait, which
 * may be called again: a query is waited for lazily, when a rule first
 * needs its answer) and released (dns_release), which cancels it when it
 * is still in flight. libunbound has no per-query timeout: the deadline
 * is the waiter's, and a cancel that races the answer is handled (the
 * query is freed by whichever side lets go last).
 *
 * One thread at a time may use a query (its owner session); the engine
 * itself is thread-safe.
 */
#ifndef MXGATE_DNS_H
#define MXGATE_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "deadline.h"
#include "dns_msg.h"

enum dns_status {
	DNS_PENDING,	/* not answered yet (dns_wait: deadline passed) */
	DNS_DONE,	/* answered: see dns_answer() (rcode may be NXDOMAIN, SERVFAIL) */
	DNS_FAILED	/* the engine could not ask, or the answer was malformed */
};

/*
 * The most forwarders and the longest entry the engine takes: mxgate.conf's
 * dns_forwarders is checked against the same bounds (cfg_value.c), so
 * every value `mxgate -n` accepts starts the engine.
 */
#define DNS_FORWARDERS_MAX	16
#define DNS_FORWARDER_LEN	128	/* bytes of one IP[@PORT], with the NUL */

struct dns;
struct dns_query;

struct dns *dns_new(const char *, struct buf *);
int	 dns_local(struct dns *, const char *, const char *, struct buf *);
int	 dns_local_zone(struct dns *, const char *, const char *,
	    struct buf *);
int	 dns_start(struct dns *, struct buf *);
void	 dns_free(struct dns *);

struct dns_query *dns_submit(struct dns *, const char *, uint16_t);
enum dns_status dns_wait(struct dns_query *, const struct timespec *);
enum dns_status dns_wait_stage(struct dns_query *, const struct timespec *,
	    struct deadline *);
const struct dns_answer *dns_answer(const struct dns_query *);
void	 dns_take(struct dns_query *, struct dns_answer *);
const uint8_t *dns_packet(const struct dns_query *, size_t *);
const char *dns_error(const struct dns_query *);
void	 dns_release(struct dns_query *);

void	 dns_deadline(struct timespec *, unsigned);
void	 dns_deadline_cap(struct timespec *, const struct timespec *);
int	 dns_expired(const struct timespec *);
const char *dns_version(void);
unsigned long dns_cache_hits(struct dns *);
int	 dns_cached(const struct dns_query *);

#endif
