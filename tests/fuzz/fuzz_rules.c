/*
 * fuzz_rules -- any bytes as a rules file: rules_load must report errors
 * or load, never crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		 path[] = "/tmp/fuzz_rules.XXXXXX";
	int		 fd = mkstemp(path);
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	struct buf	 b = BUF_INIT;

	if (fd == -1)
		return 0;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	r = rules_load(path, &d);
	if (r != NULL) {
		rules_summary(r, &b);
		rules_unref(r);
	}
	buf_free(&b);
	diag_free(&d);
	unlink(path);
	return 0;
}
