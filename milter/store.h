/*
 * store -- where rate counters live, behind one small interface so that a
 * shared backend (Redis) can replace the memory one. Internal to
 * ratelimit.c and the store_*.c backends.
 *
 * A key is "NAME\0W\0VALUE": the limit name, the window ("1h", "1h#1"
 * for a second window of the same length, 'c' for a concurrency counter)
 * and the key value. Keys are byte
 * strings with a length (they hold NULs).
 *
 * gcra(store, cells, n, now, commit, stage) takes every cell of one check (all
 * windows of one key value of a limit) at once, so a networked backend
 * can run it as one atomic server-side script: one round trip per check.
 * For each cell, with tat its stored time (now when unknown):
 *     level = max(tat, now) - now
 *     wait  = level + inc > tau ? level + inc - tau : 0	(0: admitted)
 * and with commit, tat = max(tat, now) + inc for every cell, admitted or
 * not (count on accept: the caller commits only events it admitted).
 * Without commit nothing changes and no key is created. A networked
 * store waits no longer than the stage's deadline (deadline.h; NULL:
 * none) and marks it cut when the stage's time ran out first. Sums saturate at
 * UINT64_MAX. Returns 0, or -1 when the store failed (outputs are then 0).
 *
 * conc(store, key, len, delta, &value) adds delta (+1, -1 or 0 to read)
 * to a concurrency counter and gives its new value; a counter that drops
 * to 0 is forgotten; -1 never takes it below 0. Returns 0 or -1.
 *
 * each(store, now, fn, arg) calls fn(arg, key, len, level) for every GCRA
 * cell whose state has not decayed (tat > now; level = tat - now), for
 * the state file; fn returning -1 stops the walk (each returns -1 then).
 * put(store, key, len, tat) sets a cell's tat (a state file being read).
 * A networked store hands both to its local fallback store.
 *
 * For mxgatectl limit (ctl_limit.c), operations that never count:
 *
 * peek(store, cells, n, now, err) is gcra() without commit for an
 * administrator: the same wait and level, but nothing is created,
 * touched or counted, and a networked store never falls back: -1 with
 * the reason in err when it cannot answer (one round trip).
 * forget(store, cells, n, &gone, err) deletes the cells' keys (key and
 * keylen only; GCRA or concurrency cells) and counts in gone those that
 * existed. A networked store forgets them on the server only (one round
 * trip; see local()); -1 with the reason in err.
 * scan(store, prefix, len, now, bound, fn, arg, &cut, err) calls
 * fn(arg, key, len, value) for every cell whose key starts with prefix:
 * value is the level (tat - now) of a GCRA cell that has not decayed,
 * the open count of a concurrency cell (window "c"). It looks at no
 * more than bound keys and sets cut when that bound stopped the walk;
 * fn returning -1 stops it. A networked store scans the server
 * (concurrency cells stay local); -1 with the reason in err.
 * local(store) is the local fallback of a networked store (its
 * concurrency counters, the counters in force while it is down), NULL
 * for the memory store; name(store, buf) describes the store for an
 * administrator ("memory", "redis HOST:PORT/DB").
 *
 * keys() counts the keys held; free() frees the store. Every operation is
 * thread-safe.
 */
#ifndef MXGATE_STORE_H
#define MXGATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "deadline.h"

struct buf;

struct rl_cell {
	const char	*key;		/* limit name, window, key value */
	size_t		 keylen;
	uint64_t	 inc;		/* cost * T, nanoseconds */
	uint64_t	 tau;		/* burst tolerance B * T, nanoseconds */
	uint64_t	 wait;		/* out: ns until admitted, 0 when admitted */
	uint64_t	 level;		/* out: max(tat, now) - now before the event, ns */
};

struct rl_store;

struct rl_store_ops {
	int	(*gcra)(struct rl_store *, struct rl_cell *, size_t, uint64_t, int,
		    struct deadline *);
	int	(*conc)(struct rl_store *, const char *, size_t, int, uint64_t *);
	int	(*each)(struct rl_store *, uint64_t,
		    int (*)(void *, const char *, size_t, uint64_t), void *);
	int	(*put)(struct rl_store *, const char *, size_t, uint64_t);
	size_t	(*keys)(struct rl_store *);
	void	(*free)(struct rl_store *);
	/* mxgatectl limit: look, forget, walk; never counted */
	int	(*peek)(struct rl_store *, struct rl_cell *, size_t, uint64_t,
		    struct buf *);
	int	(*forget)(struct rl_store *, const struct rl_cell *, size_t,
		    size_t *, struct buf *);
	int	(*scan)(struct rl_store *, const char *, size_t, uint64_t, size_t,
		    int (*)(void *, const char *, size_t, uint64_t), void *,
		    int *, struct buf *);
	struct rl_store *(*local)(struct rl_store *);
	void	(*name)(struct rl_store *, struct buf *);
};

/* every backend's struct starts with this */
struct rl_store {
	const struct rl_store_ops *ops;
};

/* rl_sat_add -- a + b, saturated at UINT64_MAX */
static inline uint64_t
rl_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

#endif
