/*
 * deadline -- one stage's deadline (see deadline.h).
 */
#include "config.h"

#include "deadline.h"

#define NS	1000000000L

/* before -- is a earlier than b? */
static int
before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* deadline_after -- *ts = *from plus ms */
void
deadline_after(struct timespec *ts, const struct timespec *from, unsigned ms)
{
	*ts = *from;
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= NS) {
		ts->tv_sec++;
		ts->tv_nsec -= NS;
	}
}

/* deadline_start -- a stage starts now and has ms */
void
deadline_start(struct deadline *d, unsigned ms)
{
	struct timespec	now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	deadline_after(&d->at, &now, ms);
	d->cut = 0;
}

/*
 * deadline_cap -- make a wait's own deadline *ts no later than the
 * stage's; 1 when the stage's is the earlier (a wait that ends unanswered
 * then was cut short by the stage), else 0. NULL d: no cap.
 */
int
deadline_cap(const struct deadline *d, struct timespec *ts)
{
	if (d == NULL || !before(&d->at, ts))
		return 0;
	*ts = d->at;
	return 1;
}

/*
 * deadline_left_ms -- milliseconds from now until d, rounded up (0 only
 * when it has passed; NULL: ~0)
 */
unsigned
deadline_left_ms(const struct deadline *d, const struct timespec *now)
{
	long long	ns;

	if (d == NULL)
		return ~0u;
	if (!before(now, &d->at))
		return 0;
	ns = ((long long)d->at.tv_sec - now->tv_sec) * NS +
	    (d->at.tv_nsec - now->tv_nsec);
	ns = (ns + 999999) / 1000000;
	return ns > (long long)~0u ? ~0u : (unsigned)ns;
}

/*
 * deadline_cap_tv -- make a relative timeout *tv no longer than the time
 * the stage has left: 1 when it was cut, 0 when it fits (or d is NULL),
 * -1 when the stage has no time left
 */
int
deadline_cap_tv(const struct deadline *d, struct timeval *tv)
{
	struct timespec	now;
	unsigned	left;

	if (d == NULL)
		return 0;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if ((left = deadline_left_ms(d, &now)) == 0)
		return -1;
	if ((unsigned long)tv->tv_sec * 1000 + (unsigned long)tv->tv_usec / 1000
	    <= left)
		return 0;
	tv->tv_sec = left / 1000;
	tv->tv_usec = (long)(left % 1000) * 1000;
	return 1;
}

/* deadline_passed -- has the stage's time run out? (NULL: never) */
int
deadline_passed(const struct deadline *d)
{
	struct timespec	now;

	if (d == NULL)
		return 0;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return !before(&now, &d->at);
}

/* deadline_cut -- a check ended unanswered because the stage's time ran out */
void
deadline_cut(struct deadline *d)
{
	if (d != NULL)
		d->cut = 1;
}

/* deadline_was_cut -- did a check of this stage run out of time? */
int
deadline_was_cut(const struct deadline *d)
{
	return d != NULL && d->cut;
}
