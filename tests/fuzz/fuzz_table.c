/*
 * fuzz_table -- any bytes as a table file, then lookups.
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

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		 path[] = "/tmp/fuzz_table.XXXXXX";
	int		 fd = mkstemp(path);
	struct diag	 d = DIAG_INIT;
	struct table	*t;
	struct table_query q;
	struct ipaddr	 ip;
	char		 out[64];

	if (fd == -1)
		return 0;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	t = table_open("f", path, &d);
	if (t != NULL) {
		(void)ip_parse("192.0.2.1", 9, &ip);
		q.login = "alice";
		q.address = "alice@example.com";
		q.ip = &ip;
		(void)table_get(t, &q, "n", out, sizeof(out));
		(void)table_has(t, &q);
		table_free(t);
	}
	diag_free(&d);
	unlink(path);
	return 0;
}
