/*
 * engine -- mxgate's own milter engine: the listening socket, the MTA
 * connections, and a bounded pool of workers that serve them from one
 * epoll set. See engine.c for the design.
 *
 *   engine_open(cfg, uid, gid, err)   the socket (msock.c), as root,
 *					before the privilege drop; raises
 *					the open-file limit for
 *					max_connections. 0 or -1.
 *   engine_start(cfg, err)            the epoll set and the workers
 *					(after the drop). 0 or -1.
 *   engine_unlisten()                 stop accepting: the socket is
 *					closed (its file removed if still
 *					ours); connections in flight go on
 *   engine_connections()              MTA connections open now
 *   engine_tick()                     once a second from the main loop:
 *					resume accepting after a pause
 *					(file descriptors ran out)
 *   engine_stop()                     end the workers and wait for them;
 *					only when no connection is open
 */
#ifndef MXGATE_ENGINE_H
#define MXGATE_ENGINE_H

#include <sys/types.h>

#include "buf.h"
#include "cfg.h"

#define ENGINE_OVERFLOW_MAX	64	/* connections beyond max_connections
					   kept to hear their 421 */

int	 engine_open(const struct cfg *, uid_t, gid_t, struct buf *);
int	 engine_start(const struct cfg *, struct buf *);
void	 engine_unlisten(void);
unsigned engine_connections(void);
unsigned engine_workers(void);
void	 engine_tick(void);
void	 engine_stop(void);

#endif
