/*
 * engine -- the milter engine (see engine.h).
 *
 * One epoll set holds the listening socket and every MTA connection, each
 * registered EPOLLONESHOT. A bounded pool of workers all wait in
 * epoll_wait(); the kernel gives each ready socket to exactly one of
 * them, which then owns the connection until it re-arms it:
 *
 *	MTA --> socket ready --> one worker:
 *		read() once      (every command already sent: the header
 *				  fields, body chunks and the command that
 *				  waits for a reply arrive together)
 *		mconn_input()    (milter.c: parse, run the session, append
 *				  every reply and header change to out)
 *		write() once     (the whole round trip's answer)
 *		re-arm           (EPOLL_CTL_MOD: the next event may go to
 *				  any worker)
 *
 * There is no hand-off between threads per command or per round trip:
 * the worker that reads a command answers it. A check that waits (DNS,
 * Redis) blocks only its own worker; the others keep serving every other
 * connection. The pool is bounded (16 + 8 per CPU, at most
 * max_connections + ENGINE_OVERFLOW_MAX): when every worker waits at
 * once, the next commands wait in their sockets until a worker is free,
 * and stage_timeout bounds how long that can be.
 *
 * Connections beyond max_connections are still accepted (at most
 * ENGINE_OVERFLOW_MAX of them) so that their MTA hears mxgate's own
 * 421 4.3.2 (milter.c, session_overflow) instead of a silent close or a
 * timeout; beyond those the listener is paused until a connection ends.
 * Memory per connection is bounded by milter.c (see milter.h) and by the
 * output of one round trip.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "milter.h"
#include "mproto.h"
#include "msock.h"
#include "xalloc.h"

#define READ_SIZE	(2 * MPROTO_MAX_PACKET)	/* one read: up to two packets */
#define FD_RESERVE	256	/* descriptors besides the MTA's: DNS, Redis, logs */

struct econn {
	int		 fd;
	struct mconn	*m;
	struct buf	 out;		/* not yet written */
	size_t		 off;		/* of out, written */
	int		 overflow;
};

static struct msock	 sock = { -1, NULL, 0, 0 };
static int		 epfd = -1, wakefd = -1;
static pthread_t	*workers;
static unsigned		 nworkers;
static unsigned		 max_conns;
static int		 listen_tag, wake_tag;	/* epoll data of the two */

/* under lock: the listener's state and the connection counts */
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned		 nconn, nover;
static int		 paused;	/* listener not re-armed */
static int		 unlistened;	/* engine_unlisten() was called */
static time_t		 fd_warned;

/* engine_open -- the socket, as root; the open-file limit for max_connections */
int
engine_open(const struct cfg *cfg, uid_t uid, gid_t gid, struct buf *err)
{
	struct rlimit	rl;
	rlim_t		want = (rlim_t)cfg->max_connections +
			    ENGINE_OVERFLOW_MAX + FD_RESERVE;

	max_conns = (unsigned)cfg->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want &&
		    geteuid() != 0)
			rl.rlim_cur = rl.rlim_max;
		else {
			rl.rlim_cur = want;
			if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
				rl.rlim_max = want;
		}
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
			log_warn("open-file limit %llu is below what "
			    "max_connections = %u needs (%llu): connections "
			    "may be refused", (unsigned long long)rl.rlim_cur,
			    max_conns, (unsigned long long)want);
	}
	return msock_open(cfg->socket, cfg->socket_mode, uid, gid, &sock, err);
}

/* arm -- (re-)arm fd for events, one-shot, with data ptr */
static int
arm(int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events | EPOLLONESHOT;
	ev.data.ptr = ptr;
	return epoll_ctl(epfd, op, fd, &ev);
}

/*
 * conn_close -- the connection is over: its socket (closing it takes it
 * out of the epoll set: it is never duplicated), session, slot
 */
static void
conn_close(struct econn *e)
{
	(void)close(e->fd);
	mconn_free(e->m);
	buf_free(&e->out);
	pthread_mutex_lock(&lock);
	if (e->overflow)
		nover--;
	else
		nconn--;
	if (paused && !unlistened) {
		paused = 0;
		if (arm(EPOLL_CTL_MOD, sock.fd, EPOLLIN, &listen_tag) == -1)
			log_warn("epoll: cannot resume accepting: %s",
			    strerror(errno));
	}
	pthread_mutex_unlock(&lock);
	free(e);
}

/* accept_all -- every connection waiting (under lock); re-arm unless paused */
static void
accept_all(void)
{
	struct econn	*e;
	int		 fd, over;

	while (!unlistened) {
		over = nconn >= max_conns;
		if (over && nover >= ENGINE_OVERFLOW_MAX) {
			paused = 1;	/* conn_close() resumes */
			return;
		}
		fd = accept4(sock.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			log_warn_limited(&fd_warned, "accept: %s: pausing new "
			    "MTA connections (logged at most once a minute)",
			    strerror(errno));
			paused = 1;	/* engine_tick() or conn_close() resumes */
			return;
		}
		e = xcalloc(1, sizeof(*e));
		e->fd = fd;
		e->overflow = over;
		e->m = mconn_new(over);
		buf_init(&e->out);
		if (arm(EPOLL_CTL_ADD, fd, EPOLLIN, e) == -1) {
			log_warn("epoll: cannot add a connection: %s",
			    strerror(errno));
			(void)close(fd);
			mconn_free(e->m);
			free(e);
			continue;
		}
		if (over)
			nover++;
		else
			nconn++;
	}
	if (!unlistened && arm(EPOLL_CTL_MOD, sock.fd, EPOLLIN,
	    &listen_tag) == -1)
		log_warn("epoll: cannot re-arm the listener: %s",
		    strerror(errno));
}

/*
 * flush -- write what is pending: 1 all written, 0 the socket is full
 * (wait for EPOLLOUT), -1 the MTA is gone
 */
static int
flush(struct econn *e)
{
	ssize_t	n;

	while (e->off < e->out.len) {
		n = write(e->fd, e->out.data + e->off, e->out.len - e->off);
		if (n > 0) {
			e->off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	buf_reset(&e->out);
	e->off = 0;
	return 1;
}

/* serve -- one event of a connection: read, answer, write, re-arm */
static void
serve(struct econn *e, unsigned char *rbuf)
{
	enum mconn_rc	rc = MCONN_OPEN;
	ssize_t		n;
	int		fl;

	if (e->off < e->out.len) {
		/* the MTA reads its answer before it sends more */
		fl = flush(e);
		if (fl == -1) {
			conn_close(e);
			return;
		}
		if (fl == 0) {
			(void)arm(EPOLL_CTL_MOD, e->fd, EPOLLOUT, e);
			return;
		}
	}
	do
		n = read(e->fd, rbuf, READ_SIZE);
	while (n == -1 && errno == EINTR);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		conn_close(e);
		return;
	}
	if (n > 0)
		rc = mconn_input(e->m, rbuf, (size_t)n, &e->out);
	fl = flush(e);
	if (rc == MCONN_CLOSE || fl == -1) {
		conn_close(e);
		return;
	}
	if (arm(EPOLL_CTL_MOD, e->fd, fl == 0 ? EPOLLOUT : EPOLLIN, e) == -1) {
		log_warn("epoll: cannot re-arm a connection: %s",
		    strerror(errno));
		conn_close(e);
	}
}

/* worker -- wait for a ready socket, serve it; until engine_stop() */
static void *
worker(void *arg)
{
	struct epoll_event	 ev;
	unsigned char		*rbuf = xmalloc(READ_SIZE);
	int			 n;

	(void)arg;
	for (;;) {
		n = epoll_wait(epfd, &ev, 1, -1);
		if (n == -1 && errno != EINTR)
			log_panic("epoll_wait: %s", strerror(errno));
		if (n != 1)
			continue;
		if (ev.data.ptr == &wake_tag)
			break;		/* level-triggered: wakes every worker */
		if (ev.data.ptr == &listen_tag) {
			pthread_mutex_lock(&lock);
			accept_all();
			pthread_mutex_unlock(&lock);
			continue;
		}
		serve(ev.data.ptr, rbuf);
	}
	free(rbuf);
	return NULL;
}

/* engine_start -- the epoll set and the workers (after the privilege drop) */
int
engine_start(const struct cfg *cfg, struct buf *err)
{
	struct epoll_event	ev;
	long			ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned		i;

	if (ncpu < 1)
		ncpu = 1;
	nworkers = 16 + 8 * (unsigned)(ncpu > 64 ? 64 : ncpu);
	if (nworkers > cfg->max_connections + ENGINE_OVERFLOW_MAX)
		nworkers = (unsigned)cfg->max_connections + ENGINE_OVERFLOW_MAX;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		buf_printf(err, "epoll: %s", strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &wake_tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) == -1 ||
	    arm(EPOLL_CTL_ADD, sock.fd, EPOLLIN, &listen_tag) == -1) {
		buf_printf(err, "epoll: %s", strerror(errno));
		return -1;
	}
	workers = xcalloc(nworkers, sizeof(*workers));
	for (i = 0; i < nworkers; i++)
		if (pthread_create(&workers[i], NULL, worker, NULL) != 0) {
			buf_printf(err, "cannot start worker %u", i);
			return -1;
		}
	return 0;
}

/* engine_workers -- the size of the pool */
unsigned
engine_workers(void)
{
	return nworkers;
}

/* engine_unlisten -- stop accepting; the socket file goes if still ours */
void
engine_unlisten(void)
{
	pthread_mutex_lock(&lock);
	if (!unlistened) {
		unlistened = 1;
		if (epfd != -1 && sock.fd != -1)
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, sock.fd, NULL);
		msock_close(&sock);
	}
	pthread_mutex_unlock(&lock);
}

/* engine_connections -- MTA connections open now (beyond the limit too) */
unsigned
engine_connections(void)
{
	unsigned	n;

	pthread_mutex_lock(&lock);
	n = nconn + nover;
	pthread_mutex_unlock(&lock);
	return n;
}

/* engine_tick -- resume accepting after descriptors ran out */
void
engine_tick(void)
{
	pthread_mutex_lock(&lock);
	if (paused && !unlistened && epfd != -1 &&
	    (nconn < max_conns || nover < ENGINE_OVERFLOW_MAX)) {
		paused = 0;
		(void)arm(EPOLL_CTL_MOD, sock.fd, EPOLLIN, &listen_tag);
	}
	pthread_mutex_unlock(&lock);
}

/* engine_stop -- wake every worker for good and wait for them */
void
engine_stop(void)
{
	uint64_t	one = 1;
	unsigned	i;

	engine_unlisten();
	if (wakefd == -1)
		return;
	if (write(wakefd, &one, sizeof(one)) == -1)
		log_warn("eventfd: %s", strerror(errno));
	for (i = 0; i < nworkers; i++)
		(void)pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	nworkers = 0;
	(void)close(wakefd);
	(void)close(epfd);
	wakefd = epfd = -1;
}
