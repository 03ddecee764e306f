/*
 * msock -- the listening socket the MTA connects to, and who owns it.
 *
 *   msock_open(spec, mode, uid, gid, &s, err)
 *	unix:/PATH (local:/PATH, /PATH), inet:PORT[@HOST],
 *	inet6:PORT[@HOST]. As root, before the privilege drop. A unix path
 *	that another process answers on is refused ("another process is
 *	serving it") and left alone; one nobody answers on (stale) is
 *	replaced; a path that is not a socket is refused. The new unix
 *	socket gets `mode` and uid/gid (as root), and its device and inode
 *	are kept. An inet port taken by a live listener is refused
 *	("address in use"). HOST is an address, [address], or a name from
 *	the hosts file or DNS (resolved once, now). 0, or -1 with err set.
 *   msock_close(&s)
 *	closes the listening socket; a unix socket's file is removed only
 *	when it is still the one this process made (same device and
 *	inode): another instance that took the path since keeps it.
 */
#ifndef MXGATE_MSOCK_H
#define MXGATE_MSOCK_H

#include <sys/types.h>

#include "buf.h"

struct msock {
	int	 fd;
	char	*path;		/* a unix socket's file, or NULL */
	dev_t	 dev;
	ino_t	 ino;
};

int	msock_open(const char *, unsigned, uid_t, gid_t, struct msock *,
	    struct buf *);
void	msock_close(struct msock *);

#endif
