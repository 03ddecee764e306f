/*
 * refring -- the daemon's bounded memory of recent decisions, for
 * `mxgatectl ref REF` (ctl_ref.c): a ring of at most ref_history
 * records with a hash index by reference.
 *
 *   refring_init(n)          keep the last n decisions (0: none); main
 *			      calls it once at start, from ref_history.
 *			      Before it is called the ring keeps
 *			      REFRING_DEFAULT (the first decision sets it
 *			      up). A new call drops what was kept.
 *   refring_deinit()         free everything (tests, exit)
 *   refring_size()           the number of decisions kept at most
 *   refring_decision(...)    record a decision as verdict.c logs it:
 *			      the log line's fields, the time now, and the
 *			      value of every fact the rule used (asked of
 *			      the session through src->value)
 *   refring_put(s)           record a decision given as a refshow
 *			      (copied; the time is the caller's)
 *   refring_get(ref, s)      the decision with that (normalised) ref:
 *			      fills s and returns the block its strings
 *			      live in (free() it), or NULL when not kept
 *
 * Bounds: a record takes at most REFRING_REC_MAX bytes. A value longer
 * than its share (REFRING_VAL_MAX; the reply and the text
 * REFRING_LONG_MAX) is cut and ends in "..."; facts that no longer fit
 * are left out, and a last fact "..." says so. Memory grows with the
 * decisions recorded, never beyond n records; an overwritten record
 * leaves the index.
 *
 * Thread-safe: one mutex around the ring and the index; a record is
 * built before the lock is taken and copied out under it.
 */
#ifndef MXGATE_REFRING_H
#define MXGATE_REFRING_H

#include <stddef.h>

#include "refshow.h"
#include "reply.h"
#include "rules.h"
#include "verdict.h"

#define REFRING_DEFAULT		100000
#define REFRING_REC_MAX		1024
#define REFRING_VAL_MAX		160
#define REFRING_LONG_MAX	400

void	 refring_init(size_t);
void	 refring_deinit(void);
size_t	 refring_size(void);
void	 refring_decision(const struct rules_match *,
	    const struct verdict_src *, const char *, const char *,
	    const struct reply *, const char *);
void	 refring_put(const struct refshow *);
void	*refring_get(const char *, struct refshow *);

#endif
