/*
 * store_redis_cfg -- what the Redis store takes from the configuration:
 * the store URL taken apart, and the password file read (see
 * store_redis.h). Kept apart from the store itself, which is network code.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "num.h"
#include "store_redis.h"
#include "xalloc.h"

#define SECRET_MAX	512	/* bytes of the password file's first line */

/*
 * rl_redis_url -- "redis://HOST:PORT[/DB]" (HOST may be [IPv6]) into
 * conf->host (malloc'd, in *host), port and db; 0 or -1. The syntax was
 * checked with the configuration; this only takes it apart.
 */
int
rl_redis_url(const char *url, struct rl_redis_conf *conf, char **host)
{
	const char	*h, *end, *p;
	uint64_t	 port, db = 0;
	char		*slash;

	*host = NULL;
	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			return -1;
		*host = xstrndup(h + 1, (size_t)(end - h - 1));
		p = end + 2;
	} else {
		if ((end = strchr(h, ':')) == NULL || end == h)
			return -1;
		*host = xstrndup(h, (size_t)(end - h));
		p = end + 1;
	}
	slash = strchr(p, '/');
	if (num_parse(p, slash ? (size_t)(slash - p) : strlen(p), 1, 65535,
	    &port) == -1 || (slash != NULL && num_parse(slash + 1,
	    strlen(slash + 1), 0, 65535, &db) == -1)) {
		free(*host);
		*host = NULL;
		return -1;
	}
	conf->host = *host;
	conf->port = (unsigned)port;
	conf->db = (unsigned)db;
	return 0;
}

/*
 * rl_redis_secret -- read the password file: a regular file that only
 * its owner may read or write (mode 0600 or 0400), holding "PASSWORD" or
 * "USER PASSWORD" on its first line (the password is what follows the
 * first space, so a password with spaces needs the user: "default a b"). 0 with *user (or NULL) and *pass
 * malloc'd, or -1 with the reason in err.
 */
int
rl_redis_secret(const char *path, char **user, char **pass, struct buf *err)
{
	struct stat	 st;
	char		 line[SECRET_MAX + 2], *sp;
	ssize_t		 n;
	size_t		 len;
	int		 fd;

	*user = *pass = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		buf_printf(err, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & 077) {
		buf_printf(err, "%s: mode %04o: a password file must be "
		    "readable by its owner only (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	n = read(fd, line, sizeof(line) - 1);
	if (n < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		goto fail;
	}
	line[n] = '\0';
	len = strcspn(line, "\r\n");
	if (len > SECRET_MAX) {
		buf_printf(err, "%s: the first line is longer than %d bytes",
		    path, SECRET_MAX);
		goto fail;
	}
	line[len] = '\0';
	if (len == 0 || memchr(line, '\0', len) != NULL) {
		buf_printf(err, "%s: no password on the first line", path);
		goto fail;
	}
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp = '\0';
		if (line[0] == '\0' || sp[1] == '\0' || sp[1] == ' ') {
			buf_printf(err, "%s: expected PASSWORD or USER PASSWORD",
			    path);
			goto fail;
		}
		*user = xstrdup(line);
		*pass = xstrdup(sp + 1);
	} else
		*pass = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	close(fd);
	return 0;
fail:
	explicit_bzero(line, sizeof(line));
	close(fd);
	return -1;
}
