/*
 * table_none -- a double of table.h's lookups that knows no one, for the
 * programs that link ratelimit.c without table.c (test_store and the
 * rate-limit benchmarks): no override ever applies.
 */
#include "config.h"

#include <stddef.h>

#include "table.h"

int
table_get(struct table *t, const struct table_query *q, const char *f,
    char *out, size_t len)
{
	(void)t, (void)q, (void)f, (void)out, (void)len;
	return 0;
}

const char *
table_name(const struct table *t)
{
	(void)t;
	return "none";
}
