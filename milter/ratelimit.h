/*
 * ratelimit -- rate and concurrency limits (spec sections 4.3 and 6).
 *
 * A limit (`limit NAME { count ...; key ...; rate N/W [burst B] ...;
 * max N; override TABLE.FIELD }`) is parsed by rules_parse.c into a
 * struct rl_limit, which is immutable afterwards. Its counters live in an
 * rl_store that outlives rule sets: counters survive reloads because the
 * store is created once at start-up and keyed by limit name, window and
 * key value.
 *
 * Rates are GCRA: emission interval T = W/N, tolerance tau = B*T. An
 * event of cost c at time now is admitted when
 *     max(tat, now) + c*T - now <= tau
 * and then tat = max(tat, now) + c*T. One timestamp (tat) per key and
 * window; exact; O(1); monotonic clock (nanoseconds). retry_after is the
 * whole seconds (rounded up) until the event would be admitted.
 *
 * Count on accept: rl_check() only looks (it never changes a counter);
 * rl_commit_connection() and rl_commit_message() add admitted events;
 * rl_conn_open()/rl_conn_close() hold and release concurrency slots.
 *
 * A key whose value is unknown or empty (no SASL login, null sender) does
 * not apply: that key is neither checked nor counted.
 *
 * Thread-safe: the store locks internally.
 */
#ifndef MXGATE_RATELIMIT_H
#define MXGATE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "ipaddr.h"

struct table;

enum rl_count {
	RL_COUNT_CONNECTIONS,
	RL_COUNT_CONCURRENT,
	RL_COUNT_MESSAGES,
	RL_COUNT_RECIPIENTS,
	RL_COUNT_BYTES
};

enum rl_part {
	RL_PART_CLIENT_IP,
	RL_PART_SASL_USER,
	RL_PART_SENDER,
	RL_PART_SENDER_DOMAIN,
	RL_PART_RCPT_DOMAIN,
	RL_PART_CUSTOMER
};

#define RL_MAX_PARTS	6
#define RL_MAX_KEYS	8
#define RL_MAX_WINDOWS	8
#define RL_UNLIMITED	UINT64_MAX

/* one key: one part, or several joined with '+' */
struct rl_key {
	unsigned	nparts;
	enum rl_part	part[RL_MAX_PARTS];
	unsigned	v4len;		/* client_ip prefix, default 32 */
	unsigned	v6len;		/* client_ip prefix, default 64 */
};

struct rl_window {
	uint64_t	n;		/* events per window */
	uint64_t	secs;		/* window length in seconds */
	uint64_t	burst;		/* B; equals n when not given */
	int		burst_set;
};

struct rl_limit {
	char		*name;
	enum rl_count	 count;
	unsigned	 nkeys;		/* several keys: each is counted and all must admit */
	struct rl_key	 key[RL_MAX_KEYS];
	unsigned	 nwindows;	/* rate lines; 0 for concurrent */
	struct rl_window window[RL_MAX_WINDOWS];
	uint64_t	 max;		/* concurrent only */
	struct table	*override;	/* or NULL; replaces n (or max); the parser allows it only with one window */
	char		*override_field;
};

/* what the current event is, filled in by the session */
struct rl_event {
	const struct ipaddr	*client_ip;
	const char		*sasl_user;
	const char		*sender;	/* envelope sender, "" for <> */
	const char		*sender_domain;
	const char		*customer;
	const char		*rcpt_domain;	/* the recipient being checked (rcpt stage), else NULL */
	const char *const	*pending;	/* domains of recipients accepted so far in this message */
	size_t			 npending;
	uint64_t		 size;		/* bytes: message size at eom, declared SIZE= before, else 0 */
	int			 conn_held;	/* the connection already holds its concurrency slots */
	struct deadline		*stage;		/* the stage's deadline for the store (NULL: none) */
};

/* what rl_check found, for rules, replies (${limit.*}, ${retry_after}) and logs */
struct rl_result {
	int		exceeded;
	uint64_t	retry_after;	/* seconds, rounded up; 0 when not exceeded */
	uint64_t	count;		/* events in the refusing (or fullest) window now, for concurrent: open */
	uint64_t	max;		/* its N (after override), for concurrent: max */
	uint64_t	window;		/* its W in seconds; 0 for concurrent */
	char		key[320];	/* the key value that refused, for logs */
};

struct rl_store;
struct rl_held;

struct rl_store *rl_store_memory(size_t);
void	rl_store_free(struct rl_store *);
size_t	rl_store_keys(struct rl_store *);

int	rl_check(struct rl_store *, const struct rl_limit *,
	    const struct rl_event *, struct rl_result *);
int	rl_commit_connection(struct rl_store *, const struct rl_limit *const *,
	    size_t, const struct rl_event *);
int	rl_commit_message(struct rl_store *, const struct rl_limit *const *,
	    size_t, const struct rl_event *);
struct rl_held *rl_conn_open(struct rl_store *, const struct rl_limit *const *,
	    size_t, const struct rl_event *);
void	rl_conn_close(struct rl_store *, struct rl_held *);

void	rl_limit_free(struct rl_limit *);

/* for mxgatectl limit (ctl_limit.c): the cells of a key value, see ratelimit.c */
struct buf;
struct rl_cell;
void	rl_conc_key(struct buf *, const char *, const char *);
void	rl_value_finish(struct buf *);
uint64_t rl_window_cell(const struct rl_limit *, unsigned,
	    const struct rl_event *, const char *, struct buf *, struct rl_cell *);
uint64_t rl_conc_max(const struct rl_limit *, const struct rl_event *);
uint64_t rl_used(uint64_t, uint64_t, uint64_t);
void	rl_set_clock(uint64_t (*)(void));
uint64_t rl_now(void);

#endif
