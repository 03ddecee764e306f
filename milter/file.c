/*
 * file -- read a whole regular file, refusing one that changes while it
 * is read (see file.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static void	(*read_hook)(const char *);

/* file_set_hook -- tests: run hook(path) between fstat and read */
void
file_set_hook(void (*hook)(const char *))
{
	read_hook = hook;
}

/* same -- is b the same version of the file as a? */
static int
same(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_ino == b->st_ino &&
	    a->st_dev == b->st_dev && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* read_all -- up to want bytes of fd appended to out; the count or -1 */
static ssize_t
read_all(int fd, size_t want, struct buf *out)
{
	char	chunk[65536];
	size_t	got = 0, n;
	ssize_t	r;

	while (got < want) {
		n = want - got < sizeof(chunk) ? want - got : sizeof(chunk);
		if ((r = read(fd, chunk, n)) == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		buf_append(out, chunk, (size_t)r);
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * read_once -- one attempt of file_read(): 0 read, -1 refused (reported),
 * 1 the path was renamed over while the file read stayed intact (a new
 * version was put in place atomically): try again, nothing reported
 */
static int
read_once(const char *path, size_t max, const char *what, struct buf *out,
    struct stat *st, struct diag *d, int last)
{
	struct stat	 a, b, c;
	ssize_t		 got;
	int		 fd;

	buf_reset(out);
	/* O_NONBLOCK: a FIFO named in a rules file must not hang the load */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1 ||
	    fstat(fd, &a) == -1) {
		diag_error(d, path, 0, 0, "cannot read %s: %s", what,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	if (!S_ISREG(a.st_mode))
		diag_error(d, path, 0, 0, "not a regular file");
	else if ((size_t)a.st_size > max)
		diag_error(d, path, 0, 0, "%s larger than %zu bytes", what, max);
	if (!S_ISREG(a.st_mode) || (size_t)a.st_size > max) {
		(void)close(fd);
		return -1;
	}
	if (read_hook != NULL)
		read_hook(path);
	/* one byte more than the size said: a file that grew is caught */
	got = read_all(fd, (size_t)a.st_size + 1, out);
	if (got == -1) {
		diag_error(d, path, 0, 0, "read error: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (!last && fstat(fd, &b) == 0 && same(&a, &b) &&
	    (size_t)got == (size_t)a.st_size && stat(path, &c) == 0 &&
	    !same(&a, &c)) {
		(void)close(fd);
		return 1;
	}
	if (fstat(fd, &b) == -1 || stat(path, &c) == -1 || !same(&a, &b) ||
	    !same(&a, &c) || (size_t)got > (size_t)a.st_size) {
		diag_error(d, path, 0, 0, "changed while being read");
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	if ((size_t)got < (size_t)a.st_size) {
		diag_error(d, path, 0, 0, "short read: %zd of %lld bytes", got,
		    (long long)a.st_size);
		return -1;
	}
	if (st != NULL)
		*st = a;
	return 0;
}

/*
 * file_read -- the whole of the regular file path (what names it in
 * messages, e.g. "list file") into out, at most max bytes; its stat in
 * *st when st is not NULL. 0, or -1 with the error in d. A version
 * renamed into place while the previous one was read is read again (up
 * to three tries), so that `mv new.rules default.rules` during a reload
 * loads the new file.
 */
int
file_read(const char *path, size_t max, const char *what, struct buf *out,
    struct stat *st, struct diag *d)
{
	int	i, rc = 1;

	for (i = 0; i < 3 && rc == 1; i++)
		rc = read_once(path, max, what, out, st, d, i == 2);
	return rc;
}
