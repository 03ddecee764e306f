/*
 * ctl_limit_int -- what the parts of `mxgatectl limit` share: a KEY
 * parsed as a limit's key value (struct kval), the request being
 * answered (struct lreq), and the writers of what every answer holds
 * (the head naming the limit and its store, when the next event is
 * allowed, a value made safe for a terminal). ctl_limit.c reads the
 * arguments, does show and reset and defines these; ctl_limit_top.c
 * does top with them. Nothing else uses this header.
 *
 * Control thread only; a struct lreq lives for one request.
 */
#ifndef MXGATE_CTL_LIMIT_INT_H
#define MXGATE_CTL_LIMIT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "ctl.h"
#include "ipaddr.h"
#include "ratelimit.h"
#include "store.h"

#define NS		1000000000ULL

/* one key value that KEY names, and the event its override is read for */
struct kval {
	char		*v;			/* the key value, as stored */
	char		*part[RL_MAX_PARTS];	/* its parts, lower-cased */
	struct ipaddr	 ip;
	int		 has_ip;
	struct rl_event	 ev;
};

/* what one request works on */
struct lreq {
	const struct ctl_req	*req;
	const struct rl_limit	*l;
	struct rl_store		*s;		/* the store asked */
	const char		*label;		/* NULL, or: s is local */
	struct buf		 why;		/* Redis's failure, then */
	uint64_t		 now;		/* rl_now() */
	time_t			 wall;
	int			 json;
};

/* ctl_limit.c */
void	lim_text_str(struct buf *, const char *);
void	lim_kval_free(struct kval *);
int	lim_parse_value(const struct rl_key *, const char *, size_t,
	    struct kval *, struct buf *);
void	lim_put_next(const struct lreq *, struct buf *, uint64_t);
void	lim_head(const struct lreq *, struct buf *);
void	lim_window_str(const struct rl_limit *, unsigned, char *, size_t);

/* ctl_limit_top.c */
int	lim_top(struct lreq *, size_t, struct buf *, struct buf *);

#endif
