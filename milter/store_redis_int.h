/*
 * store_redis_int -- what store_redis.c (the rate checks, the pool, the
 * prober) shares with store_redis_admin.c (mxgatectl's peek, forget and
 * scan): the store itself and the pool calls an administrator's request
 * goes through. Nothing else uses this header.
 *
 * rstore_take -- a connection of the pool within tv (connect, command):
 *	0; -1 when the store is down or none came free (err may say
 *	which); -2 when a new one could not be set up (err)
 * rstore_give -- a connection back to the pool (closed when the store
 *	went down since it was taken)
 * rstore_discard -- close a connection that failed, without marking
 *	the store down
 * rstore_call -- one command: the reply (the caller frees it), or NULL
 *	with the reason in err (an error reply too)
 * rstore_eval -- the GCRA script for the cells on one connection
 *	(commit 0: read only): 0, -1 (a wrong answer) or -2 (the
 *	connection failed), with err
 * rstore_peek, rstore_forget, rstore_scan, rstore_local, rstore_name --
 *	the store's ops of those names (store.h), in store_redis_admin.c
 *
 * rs->lock guards the pool and the state (see store_redis.c); none of
 * these is called with it held.
 */
#ifndef MXGATE_STORE_REDIS_INT_H
#define MXGATE_STORE_REDIS_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "store.h"

#define POOL_MAX	64
#define PREFIX		"mxgate:"
#define KEY_MAX		1024

/* a connection of the pool, as taken */
struct rconn {
	redisContext	*c;
	unsigned	 gen;
	int		 reused;	/* taken from the idle ones (the server
				   may have closed it) */
};

/* the store: its settings, then its pool and state (under lock) */
struct rstore {
	struct rl_store	 base;
	struct rl_store	*local;
	char		*host, *user, *pass;
	unsigned	 port, db, pool;
	struct timeval	 conn_tv, cmd_tv;
	int		 tempfail, caller_clock;
	char		 where[300];	/* HOST:PORT/DB for logs */
	char		 sha[48];

	pthread_mutex_t	 lock;
	pthread_cond_t	 freed;		/* a connection came back */
	pthread_cond_t	 wake;		/* the prober: down, or stop */
	struct rconn	 idle[POOL_MAX];
	unsigned	 nidle, nopen;
	unsigned	 gen;		/* bumped at every up -> down */
	int		 up, stop;
	time_t		 since;		/* wall clock of the last up <-> down */
	pthread_t	 prober;
	int		 have_prober;
};

/* store_redis.c: the pool */
int	rstore_take(struct rstore *, const struct timeval[2], struct rconn *,
	    char *, size_t);
void	rstore_give(struct rstore *, struct rconn *);
void	rstore_discard(struct rstore *, struct rconn *);
redisReply *rstore_call(redisContext *, int, const char **, const size_t *,
	    char *, size_t);
int	rstore_eval(struct rstore *, redisContext *, struct rl_cell *, size_t,
	    uint64_t, int, char *, size_t);

/* store_redis_admin.c: the store's ops for mxgatectl (store.h) */
int	rstore_peek(struct rl_store *, struct rl_cell *, size_t, uint64_t,
	    struct buf *);
int	rstore_forget(struct rl_store *, const struct rl_cell *, size_t,
	    size_t *, struct buf *);
int	rstore_scan(struct rl_store *, const char *, size_t, uint64_t, size_t,
	    int (*)(void *, const char *, size_t, uint64_t), void *, int *,
	    struct buf *);
struct rl_store *rstore_local(struct rl_store *);
void	rstore_name(struct rl_store *, struct buf *);

#endif
