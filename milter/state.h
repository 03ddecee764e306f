/*
 * state -- the state file: the memory store's counters written at stop
 * (and every state_interval), read at start, so that a restart does not
 * lift a block (spec section 6, state_file).
 *
 * The file is text, written to PATH.tmp (mode 0600), synced and renamed
 * over PATH, so a crash leaves the old file or the new one, never half
 * of one:
 *     mxgate-state 1 WALLCLOCK_NS
 *     LEVEL_NS HEXKEY            one line per cell that still holds state
 *     end COUNT FNV1A64          count and a digest of all lines above
 * LEVEL is the time the cell's state still lasts (tat - now) when the
 * file was written; it is converted through the wall clock, because the
 * monotonic clock starts again at boot. Reading checks everything first
 * -- header, every line, the count, the digest, the size -- and loads
 * nothing from a file that fails any check. Cells whose state has run
 * out since the file was written are dropped; a wall clock that went
 * back counts as no time passed.
 */
#ifndef MXGATE_STATE_H
#define MXGATE_STATE_H

#include <stddef.h>
#include <stdint.h>

struct rl_store;
struct buf;

struct state_stats {
	size_t	loaded;		/* cells put into the store */
	size_t	expired;	/* cells whose state ran out meanwhile */
};

int	state_save(struct rl_store *, const char *, uint64_t, uint64_t,
	    struct buf *);
int	state_load(struct rl_store *, const char *, size_t, uint64_t, uint64_t,
	    struct state_stats *, struct buf *);
int	state_parse(struct rl_store *, const char *, size_t, const char *,
	    uint64_t, uint64_t, struct state_stats *, struct buf *);
uint64_t state_wallclock(void);

#endif
