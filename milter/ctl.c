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
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "msock.h"
#include "xalloc.h"

#define CTL_MAX_GROUPS	256		/* supplementary groups read of a peer */

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

/* refuse -- tell a client no, with a reason, and close */
static void
refuse(int fd, int code, const char *why)
{
	struct buf	b = BUF_INIT;

	buf_printf(&b, "mxgatectl: %s\n", why);
	respond(fd, code, &b);
	buf_free(&b);
	(void)close(fd);
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

/*
 * parse_fields -- "LEN:BYTES," fields into argv/arglen (pointers into a
 * copy with a NUL after each field). 0, or -1 with why.
 */
static int
parse_fields(const char *p, size_t len, char ***argvp, size_t **lenp,
    size_t *argcp, char **store, const char **why)
{
	char	 *copy, **argv = NULL;
	size_t	 *arglen = NULL, argc = 0, pos = 0, flen, out = 0;

	copy = xmalloc(len + 1);
	while (pos < len) {
		flen = 0;
		if (pos >= len || p[pos] < '0' || p[pos] > '9')
			goto bad;
		while (pos < len && p[pos] >= '0' && p[pos] <= '9') {
			flen = flen * 10 + (size_t)(p[pos] - '0');
			if (flen > CTL_FIELD_MAX)
				goto bad;
			pos++;
		}
		if (pos >= len || p[pos] != ':' || len - pos - 1 < flen + 1 ||
		    p[pos + 1 + flen] != ',')
			goto bad;
		if (argc == CTL_FIELDS) {
			*why = "too many fields";
			goto fail;
		}
		argv = xreallocarray(argv, argc + 2, sizeof(*argv));
		arglen = xreallocarray(arglen, argc + 1, sizeof(*arglen));
		memcpy(copy + out, p + pos + 1, flen);
		argv[argc] = copy + out;
		arglen[argc++] = flen;
		out += flen;
		copy[out++] = '\0';
		pos += flen + 2;
	}
	if (argv == NULL)
		goto bad;
	argv[argc] = NULL;
	*argvp = argv;
	*lenp = arglen;
	*argcp = argc;
	*store = copy;
	return 0;
bad:
	*why = "malformed request";
fail:
	free(copy);
	free(argv);
	free(arglen);
	return -1;
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
		if (parse_fields(buf_str(&in), in.len, &argv, &arglen,
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
	(void)close(j->fd);
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
		(void)write(stop_pipe[1], "x", 1);
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

/* utf8_len -- the length of the valid UTF-8 sequence at p, or 0 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t		need, i;
	uint32_t	c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (need == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return need;
}

/*
 * ctl_json_strn -- s (n bytes) as a JSON string: quotes, backslashes and
 * control characters escaped; bytes that are not UTF-8 become U+FFFD,
 * so the output is always valid JSON
 */
void
ctl_json_strn(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k;

	buf_append(b, "\"", 1);
	while (i < n) {
		if (p[i] == '"' || p[i] == '\\') {
			buf_printf(b, "\\%c", p[i]);
			i++;
		} else if (p[i] == '\n') {
			buf_append(b, "\\n", 2);
			i++;
		} else if (p[i] == '\t') {
			buf_append(b, "\\t", 2);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			buf_printf(b, "\\u%04x", p[i]);
			i++;
		} else if ((k = utf8_len(p + i, n - i)) == 0) {
			buf_append(b, "\\ufffd", 6);
			i++;
		} else {
			buf_append(b, s + i, k);
			i += k;
		}
	}
	buf_append(b, "\"", 1);
}

/* ctl_json_str -- a C string as a JSON string (NULL: null) */
void
ctl_json_str(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_append(b, "null", 4);
	else
		ctl_json_strn(b, s, strlen(s));
}

/* ctl_json_lines -- each line of text as a JSON string, comma-separated */
void
ctl_json_lines(struct buf *b, const char *text)
{
	const char	*nl;
	int		 first = 1;

	for (; *text != '\0'; text = *nl == '\0' ? nl : nl + 1) {
		if ((nl = strchr(text, '\n')) == NULL)
			nl = text + strlen(text);
		if (nl == text)
			continue;
		if (!first)
			buf_append(b, ",", 1);
		first = 0;
		ctl_json_strn(b, text, (size_t)(nl - text));
	}
}
