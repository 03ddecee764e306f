/*
 * ctl -- the control socket (see ctl.h for the protocol).
 *
 * One thread accepts. Each accepted connection is checked at once: the
 * peer's credentials (SO_PEERCRED, and SO_PEERGROUPS for its
 * supplementary groups) must be root, the daemon's own uid, or a member
 * of the daemon's group -- the socket's mode says the same, this is the
 * second lock. Then a detached thread per request (at most CTL_THREADS at
 * once; beyond them the client hears "busy", exit 75) reads the request
 * with a deadline and a size bound, runs the command's handler and
 * writes the response. A handler may take seconds (explain waits for
 * DNS); it never runs on an engine worker, so mail is not held up.
 *
 * At stop the socket is closed first, then the requests in flight get a
 * bounded wait: they use the rules, the store and the DNS engine, which
 * main.c frees only when none is left.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "msock.h"
#include "xalloc.h"

#define CTL_MAX_GROUPS	256		/* supplementary groups read of a peer */
#define CTL_REFUSE_MS	500		/* to drop what a refused client sent */

struct peer {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
};

struct command {
	const char	*name;
	ctl_fn		 fn;
};

static const struct command commands[] = {
	{ "status",	ctl_status },
	{ "reload",	ctl_reload },
	{ "limit",	ctl_limit },
	{ "explain",	ctl_explain },
	{ "ref",	ctl_ref },
};

static struct msock	 ms = { -1, NULL, 0, 0 };
static int		 stop_pipe[2] = { -1, -1 };
static pthread_t	 acceptor;
static int		 started;
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 idle = PTHREAD_COND_INITIALIZER;
static unsigned		 inflight;
static uid_t		 own_uid;
static gid_t		 own_gid;
static time_t		 last_refusal;

/*
 * make_dir -- the directory of the socket, when missing (one level, as
 * for the pid file): 0755, owned by uid:gid. 0 or -1.
 */
static int
make_dir(const char *path, uid_t uid, gid_t gid, struct buf *err)
{
	char	dir[4096];
	char	*slash;

	if (strlen(path) >= sizeof(dir))
		return 0;	/* msock_open says why */
	memcpy(dir, path, strlen(path) + 1);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1) {
		if (errno == EEXIST)
			return 0;
		buf_printf(err, "control_socket: mkdir %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && chown(dir, uid, gid) == -1) {
		buf_printf(err, "control_socket: chown %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * ctl_open -- the socket, as root: mode 0660, owned by uid:gid (the
 * identity the daemon drops to, which is also who may talk to it)
 */
int
ctl_open(const struct cfg *cfg, uid_t uid, gid_t gid, struct buf *err)
{
	struct buf	e = BUF_INIT;
	int		fl;

	own_uid = uid;
	own_gid = gid;
	if (cfg->control_socket == NULL || cfg->control_socket[0] == '\0')
		return 0;
	if (make_dir(strchr(cfg->control_socket, ':') + 1, uid, gid, err) == -1)
		return -1;
	if (msock_open(cfg->control_socket, 0660, uid, gid, &ms, &e) == -1) {
		buf_printf(err, "control_socket %s: %s", cfg->control_socket,
		    buf_str(&e));
		buf_free(&e);
		return -1;
	}
	buf_free(&e);
	if ((fl = fcntl(ms.fd, F_GETFL)) == -1 ||
	    fcntl(ms.fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		buf_printf(err, "control_socket: %s", strerror(errno));
		msock_close(&ms);
		return -1;
	}
	return 0;
}

/* peer_of -- the credentials of the process at the other end; 0 or -1 */
static int
peer_of(int fd, struct peer *p)
{
	struct ucred	uc;
	socklen_t	len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc))
		return -1;
	p->uid = uc.uid;
	p->gid = uc.gid;
	p->pid = uc.pid;
	return 0;
}

/* in_group -- is the daemon's group among the peer's supplementary groups? */
static int
in_group(int fd)
{
	gid_t		groups[CTL_MAX_GROUPS];
	socklen_t	len = sizeof(groups);
	size_t		i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return 0;
	for (i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == own_gid)
			return 1;
	return 0;
}

/* allowed -- root, the daemon's own user, or a member of its group */
static int
allowed(int fd, const struct peer *p)
{
	return p->uid == 0 || p->uid == own_uid || p->gid == own_gid ||
	    in_group(fd);
}

/* send_all -- write the whole of p; the socket has a send deadline */
static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* respond -- "EXIT N\n" and the body */
static void
respond(int fd, int code, const struct buf *body)
{
	char	head[32];
	int	n;

	n = snprintf(head, sizeof(head), "EXIT %d\n", code);
	send_all(fd, head, (size_t)n);
	send_all(fd, buf_str(body), body->len);
}

/*
 * finish -- close a connection whose answer is written. What the client
 * still sends is read and dropped first (at most CTL_REFUSE_MS), else
 * closing with unread bytes would reset the connection and lose the
 * answer (a refused or oversized request).
 */
static void
finish(int fd)
{
	struct timeval	 tv = { 0, CTL_REFUSE_MS * 1000 };
	char		 sink[4096];
	struct timespec	 t0, t;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)shutdown(fd, SHUT_WR);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	while (recv(fd, sink, sizeof(sink), 0) > 0) {
		(void)clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 >= CTL_REFUSE_MS)
			break;
	}
	(void)close(fd);
}

/* refuse -- tell a client no, with a reason, and close */
static void
refuse(int fd, int code, const char *why)
{
	struct buf	 b = BUF_INIT;
	struct timeval	 tv = { 0, CTL_REFUSE_MS * 1000 };

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	buf_printf(&b, "mxgatectl: %s\n", why);
	respond(fd, code, &b);
	buf_free(&b);
	finish(fd);
}

/*
 * read_request -- everything the client sends, until it shuts down its
 * side, at most CTL_REQUEST_MAX bytes. 0, or a sysexits code with why.
 */
static int
read_request(int fd, struct buf *in, const char **why)
{
	char	chunk[65536];
	ssize_t	n;

	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*why = errno == EAGAIN || errno == EWOULDBLOCK ?
			    "the request did not arrive in time" :
			    "cannot read the request";
			return EX_PROTOCOL;
		}
		if (n == 0)
			return 0;
		if (in->len + (size_t)n > CTL_REQUEST_MAX) {
			*why = "request too large";
			return EX_DATAERR;
		}
		buf_append(in, chunk, (size_t)n);
	}
}

/* dispatch -- run the request's command; its code and body */
static int
dispatch(struct peer *p, size_t argc, char **argv, size_t *arglen,
    struct buf *out)
{
	struct ctl_req	req;
	size_t		i;

	if (argc < 3 || strcmp(argv[0], CTL_PROTO) != 0) {
		buf_printf(out, "mxgatectl: the daemon speaks %s; this "
		    "mxgatectl does not (install matching versions)\n",
		    CTL_PROTO);
		return EX_PROTOCOL;
	}
	memset(&req, 0, sizeof(req));
	req.json = strcmp(argv[1], "json") == 0;
	req.uid = p->uid;
	req.gid = p->gid;
	req.pid = p->pid;
	req.argc = argc - 2;
	req.argv = argv + 2;
	req.arglen = arglen + 2;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(req.argv[0], commands[i].name) == 0)
			return commands[i].fn(&req, out);
	buf_printf(out, "mxgatectl: unknown command: %.64s\n", req.argv[0]);
	return EX_USAGE;
}

/* done -- one request fewer in flight */
static void
done(void)
{
	pthread_mutex_lock(&mu);
	if (--inflight == 0)
		pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&mu);
}

/* the argument of a request thread */
struct job {
	int		fd;
	struct peer	peer;
};

/* serve -- one request: read, run, answer, close */
static void *
serve(void *arg)
{
	struct job	*j = arg;
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	struct timeval	 tv = { CTL_IO_SECS, 0 };
	const char	*why = NULL;
	char		**argv = NULL, *store = NULL;
	size_t		*arglen = NULL, argc = 0;
	int		 code;

	(void)setsockopt(j->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((code = read_request(j->fd, &in, &why)) == 0) {
		if (ctl_parse(buf_str(&in), in.len, &argv, &arglen,
		    &argc, &store, &why) == -1)
			code = EX_PROTOCOL;
		else
			code = dispatch(&j->peer, argc, argv, arglen, &out);
	}
	buf_free(&in);
	if (why != NULL) {
		buf_reset(&out);
		buf_printf(&out, "mxgatectl: %s\n", why);
	}
	respond(j->fd, code, &out);
	finish(j->fd);
	buf_free(&out);
	free(argv);
	free(arglen);
	free(store);
	free(j);
	done();
	return NULL;
}

/* refused -- log a refused peer, at most once a minute */
static void
refused(const struct peer *p)
{
	time_t	now = time(NULL);

	if (now - last_refusal < 60)
		return;
	last_refusal = now;
	log_warn("control socket: uid %ld (pid %ld) refused: not root, not "
	    "uid %ld, not in group %ld (logged at most once a minute)",
	    (long)p->uid, (long)p->pid, (long)own_uid, (long)own_gid);
}

/* take -- check one accepted connection and start its thread */
static void
take(int fd)
{
	struct job	*j;
	pthread_attr_t	 at;
	pthread_t	 t;
	struct peer	 p;
	int		 busy;

	if (peer_of(fd, &p) == -1) {
		(void)close(fd);
		return;
	}
	if (!allowed(fd, &p)) {
		refused(&p);
		refuse(fd, EX_NOPERM, "permission denied: only root, the "
		    "mxgate user and members of its group may use the "
		    "control socket");
		return;
	}
	pthread_mutex_lock(&mu);
	busy = inflight >= CTL_THREADS;
	if (!busy)
		inflight++;
	pthread_mutex_unlock(&mu);
	if (busy) {
		refuse(fd, EX_TEMPFAIL, "the daemon is busy with other "
		    "mxgatectl requests; try again");
		return;
	}
	j = xmalloc(sizeof(*j));
	j->fd = fd;
	j->peer = p;
	(void)pthread_attr_init(&at);
	(void)pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, serve, j) != 0) {
		free(j);
		refuse(fd, EX_OSERR, "the daemon cannot start a thread");
		done();
	}
	(void)pthread_attr_destroy(&at);
}

/* accept_loop -- the acceptor thread, until the stop pipe is written */
static void *
accept_loop(void *arg)
{
	struct pollfd	pfd[2];
	int		fd;

	(void)arg;
	pfd[0].fd = ms.fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = stop_pipe[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("control socket: poll: %s", strerror(errno));
			return NULL;
		}
		if (pfd[1].revents != 0)
			return NULL;
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		fd = accept4(ms.fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				/* let descriptors come back before trying again */
				(void)poll(NULL, 0, 100);
			}
			continue;
		}
		take(fd);
	}
}

/* ctl_start -- the acceptor thread (after the privilege drop) */
int
ctl_start(const struct cfg *cfg, struct buf *err)
{
	(void)cfg;
	if (ms.fd == -1)
		return 0;
	if (pipe2(stop_pipe, O_CLOEXEC) == -1) {
		buf_printf(err, "control socket: pipe: %s", strerror(errno));
		return -1;
	}
	if (pthread_create(&acceptor, NULL, accept_loop, NULL) != 0) {
		buf_printf(err, "control socket: cannot start its thread");
		return -1;
	}
	started = 1;
	return 0;
}

/*
 * ctl_stop -- stop accepting, remove the socket (when still ours), and
 * wait at most CTL_STOP_WAIT_SECS for the requests in flight. Returns how
 * many are still running.
 */
unsigned
ctl_stop(void)
{
	struct timespec	until;
	unsigned	left;

	if (started) {
		while (write(stop_pipe[1], "x", 1) == -1 && errno == EINTR)
			;	/* a pipe with room: the only failure is EINTR */
		(void)pthread_join(acceptor, NULL);
		started = 0;
		(void)close(stop_pipe[0]);
		(void)close(stop_pipe[1]);
	}
	if (ms.fd != -1)
		msock_close(&ms);
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CTL_STOP_WAIT_SECS;
	pthread_mutex_lock(&mu);
	while (inflight > 0 &&
	    pthread_cond_timedwait(&idle, &mu, &until) != ETIMEDOUT)
		;
	left = inflight;
	pthread_mutex_unlock(&mu);
	return left;
}

/* ctl_reload -- `reload`: the same as SIGHUP, with every error shown */
int
ctl_reload(const struct ctl_req *req, struct buf *out)
{
	struct buf	diag = BUF_INIT, sum = BUF_INIT;
	struct passwd	*pw;
	const char	*who;
	int		 rc;

	if (req->argc != 1) {
		buf_printf(out, "usage: mxgatectl reload\n");
		return EX_USAGE;
	}
	pw = getpwuid(req->uid);
	who = pw != NULL ? pw->pw_name : "?";
	log_info("reload asked by uid %ld (%s) on the control socket",
	    (long)req->uid, who);
	rc = ctl_do_reload(&diag, &sum);
	if (req->json) {
		buf_printf(out, "{\"ok\":%s,\"summary\":", rc == 0 ? "true" :
		    "false");
		ctl_json_str(out, rc == 0 ? buf_str(&sum) : "");
		buf_printf(out, ",\"errors\":[");
		ctl_json_lines(out, buf_str(&diag));
		buf_printf(out, "]}\n");
	} else if (rc == 0)
		buf_printf(out, "ok: %s\n", buf_str(&sum));
	else
		buf_printf(out, "%sreload failed: the old rules stay in "
		    "force\n", buf_str(&diag));
	buf_free(&diag);
	buf_free(&sum);
	if (rc == 0)
		return 0;
	/* JSON goes to stdout whatever the code: scripts read one place */
	return EX_CONFIG;
}
