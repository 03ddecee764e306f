/*
 * deadline -- the one deadline of an SMTP stage, shared by every check
 * that waits in it (DNS lists, SPF, DKIM keys, DMARC, the TXT behind a
 * reply, the Redis store), as postscreen passes one deadline through its
 * tests. No check has a private timeout that runs past it.
 *
 * The session starts it when a stage starts (deadline_start: now plus
 * stage_timeout, CLOCK_MONOTONIC) and hands a pointer to it down; a check
 * caps its own wait with deadline_cap(), and when a wait that the stage
 * cut short ends without an answer it calls deadline_cut(), so that the
 * session answers the stage itself (451 4.4.3) instead of deciding on a
 * check that could not finish. A NULL deadline is none (no cap).
 *
 * One session (one thread at a time) owns a deadline: no lock.
 */
#ifndef MXGATE_DEADLINE_H
#define MXGATE_DEADLINE_H

#include <sys/time.h>
#include <time.h>

struct deadline {
	struct timespec	at;	/* CLOCK_MONOTONIC */
	int		cut;	/* a wait ended unanswered because of it */
};

void	 deadline_start(struct deadline *, unsigned);
void	 deadline_after(struct timespec *, const struct timespec *, unsigned);
int	 deadline_cap(const struct deadline *, struct timespec *);
int	 deadline_cap_tv(const struct deadline *, struct timeval *);
int	 deadline_passed(const struct deadline *);
unsigned deadline_left_ms(const struct deadline *, const struct timespec *);
void	 deadline_cut(struct deadline *);
int	 deadline_was_cut(const struct deadline *);

#endif
