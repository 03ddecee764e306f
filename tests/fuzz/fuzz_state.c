/*
 * fuzz_state -- any bytes as a state file. Checks what state_parse
 * promises: a refusal has a reason and loads nothing; an accepted file
 * loads no more cells than it has lines, and the store keeps its bound.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ratelimit.h"
#include "state.h"

#define MAX_KEYS	1000

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rl_store	  *s = rl_store_memory(MAX_KEYS);
	struct state_stats st;
	struct buf	   err = BUF_INIT;
	size_t		   lines = 0, i;

	for (i = 0; i < len; i++)
		lines += data[i] == '\n';
	if (state_parse(s, (const char *)data, len, "fuzz", 1000000000ULL,
	    2000000000000000000ULL, &st, &err) == -1) {
		if (err.len == 0 || rl_store_keys(s) != 0 || st.loaded != 0)
			abort();
	} else {
		if (st.loaded + st.expired + 2 > lines ||
		    rl_store_keys(s) > MAX_KEYS || rl_store_keys(s) > st.loaded)
			abort();
	}
	buf_free(&err);
	rl_store_free(s);
	return 0;
}
