/*
 * store_redis -- rate counters in Redis, shared by every mxgate that uses
 * the same server and database (store = redis://HOST:PORT[/DB]).
 *
 * Each check is one round trip: EVALSHA of one server-side script that
 * runs GCRA over all windows of the check atomically (store_redis.lua.h).
 * Keys are "mxgate:NAME:WINDOW:VALUE" and expire when their state has
 * decayed. Concurrency counters (count concurrent) stay in the local
 * store: a connection is held by one host, and a shared counter would
 * keep the slots of a host that died.
 *
 * When Redis cannot be reached, answers an error or is slower than the
 * command timeout, the store logs it once and uses its local (memory)
 * store until a background thread reaches Redis again (retrying with
 * backoff from 1 s to 30 s), and logs that once too. With tempfail set,
 * checks fail instead (the session defers with 451 4.3.0).
 */
#ifndef MXGATE_STORE_REDIS_H
#define MXGATE_STORE_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct rl_store;
struct buf;

struct rl_redis_conf {
	const char	*host;		/* name or address (IPv6 without brackets) */
	unsigned	 port;
	unsigned	 db;
	const char	*user;		/* ACL user, or NULL */
	const char	*password;	/* or NULL */
	unsigned	 connect_ms;	/* connect timeout */
	unsigned	 command_ms;	/* command timeout: slower is a failure */
	unsigned	 pool;		/* most connections open at once */
	int		 tempfail;	/* store_error = tempfail */
	int		 caller_clock;	/* tests: the caller's now, not the server's TIME */
};

struct rl_store *rl_store_redis(const struct rl_redis_conf *,
	    struct rl_store *);
int	rl_redis_url(const char *, struct rl_redis_conf *, char **);
int	rl_redis_secret(const char *, char **, char **, struct buf *);
int	rl_store_redis_up(struct rl_store *);
int	rl_store_redis_state(struct rl_store *, time_t *);
const char *rl_redis_version(void);

#endif
