/*
 * table -- a key/value file: lines `KEY field=value ...` (rules file:
 * `table NAME "PATH"`), with `#` comments. KEY is a login name, an
 * address, `@domain`, an IP or a CIDR. A value is a word or a "quoted
 * string".
 *
 * Lookups take, for each field, the most specific key that defines it:
 * the exact login, then the exact address, then `@domain` (of the address,
 * then of the login when it has one), then the longest CIDR holding the IP.
 * Keys compare case-insensitively.
 *
 * A table re-reads its file when the file's mtime changes (checked at most
 * once a second, on lookup). A file that fails to parse on such a re-read
 * is logged with its errors and the old content stays in force. Lookups
 * are thread-safe (internal lock; the content is a refcounted snapshot).
 * Bounds: a line is at most 4096 bytes, a file at most 1,000,000 keys.
 *
 * table_open returns NULL with every error of the file in the diag as
 * FILE:LINE:COL (a key given twice is an error at its second line).
 * table_get returns 1 with the value in out, 0 when no key defines the
 * field, -1 when the value does not fit out (out is then "").
 * table_set_clock is for tests: it replaces the monotonic seconds clock
 * of the once-a-second check (NULL restores it); call it before lookups.
 */
#ifndef MXGATE_TABLE_H
#define MXGATE_TABLE_H

#include <stddef.h>
#include <time.h>

#include "diag.h"
#include "ipaddr.h"

struct table;

struct table_query {
	const char		*login;		/* SASL login or NULL */
	const char		*address;	/* local@domain, @domain, a bare domain, or NULL */
	const struct ipaddr	*ip;		/* or NULL */
};

struct table *table_open(const char *, const char *, struct diag *);
void	table_free(struct table *);
const char *table_name(const struct table *);
size_t	table_count(struct table *);
int	table_get(struct table *, const struct table_query *, const char *,
	    char *, size_t);
int	table_has(struct table *, const struct table_query *);
void	table_set_clock(time_t (*)(void));

#endif
