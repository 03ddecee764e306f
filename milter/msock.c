/*
 * msock -- the listening socket (see msock.h).
 *
 * A unix socket file can outlive its process (a crash, SIGKILL), so a
 * start that finds one asks it: a connect() that succeeds means a live
 * mxgate (or anything else) serves it, and it is left alone; a refused
 * connect() means nobody listens, and the file is replaced. A stop
 * removes the file only when its device and inode are still those of the
 * socket this process bound: an instance that started since on the same
 * path keeps its socket.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "msock.h"
#include "num.h"
#include "xalloc.h"

#define BACKLOG	SOMAXCONN

/* unix_path -- the file of a unix socket spec, or NULL */
static const char *
unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/*
 * probe -- is anybody answering on the unix socket at path? 1 yes, 0 no
 * (stale: connection refused), -1 cannot tell (err set)
 */
static int
probe(const struct sockaddr_un *sun, struct buf *err)
{
	int	fd, rc, e;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		buf_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	do
		rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	while (rc == -1 && errno == EINTR);
	e = errno;
	(void)close(fd);
	if (rc == 0 || e == EAGAIN)	/* EAGAIN: a full backlog, but alive */
		return 1;
	if (e == ECONNREFUSED)
		return 0;
	buf_printf(err, "socket %s: cannot tell whether it is in use (%s); "
	    "not starting", sun->sun_path, strerror(e));
	return -1;
}

/* open_unix -- a unix socket at path, after the ownership checks */
static int
open_unix(const char *path, unsigned mode, uid_t uid, gid_t gid,
    struct msock *s, struct buf *err)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		buf_printf(err, "socket %s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			buf_printf(err, "socket %s: exists and is not a socket; "
			    "not starting (remove it, or choose another path)",
			    path);
			return -1;
		}
		if ((rc = probe(&sun, err)) == -1)
			return -1;
		if (rc == 1) {
			buf_printf(err, "socket %s: another process is serving "
			    "it; not starting (stop that instance first, or "
			    "choose another socket)", path);
			return -1;
		}
		log_info("socket %s: replacing stale socket (nobody answers "
		    "on it)", path);
		if (unlink(path) == -1 && errno != ENOENT) {
			buf_printf(err, "socket %s: cannot remove the stale "
			    "socket: %s", path, strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		buf_printf(err, "socket %s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		buf_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	/* nobody may connect before the mode and owner are right */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(old);
	if (rc == -1) {
		buf_printf(err, "socket %s: %s", path, errno == EADDRINUSE ?
		    "address in use (another process took it meanwhile)" :
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (lstat(path, &st) == -1 ||
	    (geteuid() == 0 && chown(path, uid, gid) == -1) ||
	    chmod(path, (mode_t)mode) == -1 || listen(fd, BACKLOG) == -1) {
		buf_printf(err, "socket %s: %s", path, strerror(errno));
		(void)unlink(path);
		(void)close(fd);
		return -1;
	}
	s->fd = fd;
	s->path = xstrdup(path);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

/*
 * resolve -- HOST of an inet socket into ss (port set); an empty host is
 * any address. 0 or -1 (err set).
 */
static int
resolve(const char *spec, int af, const char *host, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len, struct buf *err)
{
	struct addrinfo	 hints, *res = NULL;
	char		 h[256];
	size_t		 n = strlen(host);
	int		 rc;

	memset(ss, 0, sizeof(*ss));
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(h)) {
		buf_printf(err, "socket %s: host name too long", spec);
		return -1;
	}
	memcpy(h, host, n);
	h[n] = '\0';
	if (n == 0) {
		if (af == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
			sin->sin_port = htons(port);
			*len = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = in6addr_any;
			sin6->sin6_port = htons(port);
			*len = sizeof(*sin6);
		}
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = af;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(h, NULL, &hints, &res)) != 0 || res == NULL) {
		buf_printf(err, "socket %s: cannot resolve %s: %s", spec, h,
		    rc != 0 ? gai_strerror(rc) : "no address");
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (af == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return 0;
}

/* open_inet -- inet:PORT[@HOST] or inet6:PORT[@HOST] */
static int
open_inet(const char *spec, struct msock *s, struct buf *err)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = 0;
	int			 af = strncmp(spec, "inet6:", 6) == 0 ?
				    AF_INET6 : AF_INET;
	const char		*rest = strchr(spec, ':') + 1, *at;
	uint64_t		 port;
	int			 fd, one = 1;

	if ((at = strchr(rest, '@')) == NULL)
		at = rest + strlen(rest);
	if (num_parse(rest, (size_t)(at - rest), 1, 65535, &port) == -1) {
		buf_printf(err, "socket %s: bad port", spec);
		return -1;
	}
	if (resolve(spec, af, *at == '@' ? at + 1 : "", (uint16_t)port, &ss,
	    &len, err) == -1)
		return -1;
	if ((fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		buf_printf(err, "socket %s: %s", spec, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, BACKLOG) == -1) {
		buf_printf(err, "socket %s: %s", spec, errno == EADDRINUSE ?
		    "address in use (another process listens there); not "
		    "starting" : strerror(errno));
		(void)close(fd);
		return -1;
	}
	s->fd = fd;
	return 0;
}

/* msock_open -- the listening socket of spec (see msock.h) */
int
msock_open(const char *spec, unsigned mode, uid_t uid, gid_t gid,
    struct msock *s, struct buf *err)
{
	const char	*path = unix_path(spec);

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (path != NULL)
		return open_unix(path, mode, uid, gid, s, err);
	if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0)
		return open_inet(spec, s, err);
	buf_printf(err, "bad socket %s", spec);
	return -1;
}

/* msock_close -- stop listening; remove the unix socket if still ours */
void
msock_close(struct msock *s)
{
	struct stat	st;

	if (s->fd != -1)
		(void)close(s->fd);
	s->fd = -1;
	if (s->path == NULL)
		return;
	if (lstat(s->path, &st) == -1) {
		if (errno != ENOENT)
			log_warn("socket %s: %s", s->path, strerror(errno));
	} else if (st.st_dev == s->dev && st.st_ino == s->ino) {
		if (unlink(s->path) == -1)
			log_warn("socket %s: cannot remove: %s", s->path,
			    strerror(errno));
	} else
		log_info("socket %s: no longer ours (another process made "
		    "it since); left in place", s->path);
	free(s->path);
	s->path = NULL;
}
