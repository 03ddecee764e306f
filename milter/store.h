/*
 * store -- where rate counters live, behind one small interface so that a
 * shared backend (Redis) can replace the memory one.
 *
 * A GCRA call takes every cell of one check (all windows of all keys of a
 * limit) at once, so a networked backend can run it as one atomic
 * server-side script: one round trip per check. For each cell it reports
 * how long the event would have to wait (0: admitted) and the cell's fill
 * level; with commit it also adds the cost to every cell, admitted or not
 * (count on accept: the caller commits only events it admitted).
 *
 * Concurrency counters are plain integers changed by +1/-1.
 */
#ifndef MXGATE_STORE_H
#define MXGATE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct rl_cell {
	const char	*key;		/* limit name, window, key value */
	size_t		 keylen;
	uint64_t	 inc;		/* cost * T, nanoseconds */
	uint64_t	 tau;		/* burst tolerance, nanoseconds */
	uint64_t	 wait;		/* out: ns until admitted, 0 when admitted */
	uint64_t	 level;		/* out: max(tat, now) - now before the event, ns */
};

struct rl_store;

struct rl_store_ops {
	int	(*gcra)(struct rl_store *, struct rl_cell *, size_t, uint64_t, int);
	int	(*conc)(struct rl_store *, const char *, size_t, int, uint64_t *);
	size_t	(*keys)(struct rl_store *);
	void	(*free)(struct rl_store *);
};

struct rl_store {
	const struct rl_store_ops *ops;
};

#endif
