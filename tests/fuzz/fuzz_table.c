/*
 * fuzz_table -- any bytes as a table file, then lookups.
 *
 * When the file loads, the key of every entry line must be found again:
 * a login/address/@domain key as a login query, an IP or CIDR key by its
 * network address. Lookups also run with fixed queries and with the
 * field names of the file.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "ipaddr.h"
#include "table.h"
#include "xalloc.h"

#define LINES_CHECKED	256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_line -- the key of one line of a loaded table is found */
static void
check_line(struct table *t, const char *s, size_t len)
{
	struct table_query	 q = { NULL, NULL, NULL };
	struct ipaddr		 ip;
	unsigned		 plen;
	size_t			 b = 0, e;
	char			*key, *field, out[64];

	while (b < len && (s[b] == ' ' || s[b] == '\t'))
		b++;
	if (b == len || s[b] == '#' || s[b] == '\r')
		return;
	for (e = b; e < len && s[e] != ' ' && s[e] != '\t' && s[e] != '\r'; e++)
		;
	key = xstrndup(s + b, e - b);
	if (ip_parse_cidr(key, e - b, &ip, &plen) == 0)
		q.ip = &ip;
	else
		q.login = key;
	if (table_has(t, &q) != 1)
		abort();
	/* the first field name of the line, if any, is found for the key */
	while (e < len && (s[e] == ' ' || s[e] == '\t'))
		e++;
	b = e;
	while (e < len && s[e] != '=')
		e++;
	if (e < len && e > b && s[b] != '#') {
		field = xstrndup(s + b, e - b);
		if (table_get(t, &q, field, out, sizeof(out)) == 0)
			abort();
		free(field);
	}
	free(key);
}

/* lookups -- fixed queries and the keys of the first lines */
static void
lookups(struct table *t, const uint8_t *data, size_t len)
{
	const char		*s = (const char *)data, *end = s + len, *nl;
	struct table_query	 q;
	struct ipaddr		 ip;
	char			 out[64];
	int			 n;

	(void)ip_parse("192.0.2.1", 9, &ip);
	q.login = "alice";
	q.address = "alice@example.com";
	q.ip = &ip;
	(void)table_get(t, &q, "n", out, sizeof(out));
	(void)table_get(t, &q, "customer", out, 1);
	(void)table_has(t, &q);
	q.login = NULL;
	q.address = "example.com";
	(void)table_has(t, &q);
	for (n = 0; s < end && n < LINES_CHECKED; s = nl + 1, n++) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		check_line(t, s, (size_t)(nl - s));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		 path[] = "/tmp/fuzz_table.XXXXXX";
	int		 fd = mkstemp(path);
	struct diag	 d = DIAG_INIT;
	struct table	*t;

	if (fd == -1)
		return 0;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	t = table_open("f", path, &d);
	if (t == NULL && d.errors == 0)
		abort();	/* a refusal always says why */
	if (t != NULL) {
		lookups(t, data, len);
		table_free(t);
	}
	diag_free(&d);
	unlink(path);
	return 0;
}
