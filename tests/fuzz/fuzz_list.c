/*
 * fuzz_list -- any bytes as list items and as a list file, then lookups.
 *
 * Each input line goes to list_add as an item (no NUL needed: the item is
 * a byte range) and, NUL-terminated, to list_match_str and ip_parse as a
 * query; the whole input is also loaded as a list file. Checks that an
 * item that was added matches itself as a query when it is an exact
 * address, a domain or an IP.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "ipaddr.h"
#include "list.h"
#include "xalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* query -- look a line up as text and as an IP; added: it was an item */
static void
query(const struct list *l, const char *s, size_t len, int added)
{
	char		*q = xstrndup(s, len);
	struct ipaddr	 ip;
	int		 m;

	m = list_match_str(l, q);
	if (ip_parse(s, len, &ip) == 0 && list_match_ip(l, &ip) != m)
		abort();
	/* an added plain address, domain or IP must match itself */
	if (added && strlen(q) == len && strchr(q, '*') == NULL &&
	    strchr(q, '/') == NULL && q[0] != '@' && !m)
		abort();
	free(q);
}

/* file -- the input as a list file */
static void
file(const uint8_t *data, size_t len)
{
	char		 path[] = "/tmp/fuzz_list.XXXXXX";
	int		 fd = mkstemp(path);
	struct list	*l;
	struct diag	 d = DIAG_INIT;

	if (fd == -1)
		return;
	if (write(fd, data, len) == (ssize_t)len) {
		l = list_new();
		(void)list_load_file(l, path, &d);
		(void)list_match_str(l, "postmaster@example.com");
		list_free(l);
	}
	close(fd);
	unlink(path);
	diag_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*s = (const char *)data, *end = s + len, *nl;
	struct list	*l = list_new();
	struct buf	 err = BUF_INIT;
	size_t		 n;
	int		 added;

	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		buf_reset(&err);
		added = list_add(l, s, n, &err) == 0;
		if (!added && err.len == 0)
			abort();	/* an error always says why */
		query(l, s, n, added);
	}
	buf_free(&err);
	list_free(l);
	file(data, len);
	return 0;
}
