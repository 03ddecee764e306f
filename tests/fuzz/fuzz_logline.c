/*
 * fuzz_logline -- any bytes as one line of a log that `mxgatectl report`
 * and `ref --log` read back. Checks what logline promises: a decision
 * has its required fields (rule, stage, action, client), every value is
 * a NUL-free string within the line's length, a malformed line says why;
 * and never a crash or a read outside the line (the copy is exact-size).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logline.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check -- a decoded value is NULL or a string no longer than the line */
static void
check(const char *v, size_t len)
{
	if (v != NULL && strlen(v) > len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct logline	 l;
	static int		 ready;
	struct logline_ctx	 ctx;
	enum logline_kind	 k;
	char			*line;

	if (!ready) {
		logline_init(&l);
		ready = 1;
	}
	/* the parser gets exactly len bytes: ASan sees any read beyond */
	if ((line = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(line, data, len);
	logline_context(&ctx, (time_t)1764666000);	/* 2025-12-02 */
	k = logline_parse(&l, line, len, &ctx);
	if (k == LOGLINE_DECISION) {
		if (l.rule == NULL || l.stage == NULL || l.action == NULL ||
		    l.client_name == NULL)
			abort();
		check(l.qid, len); check(l.ref, len); check(l.rule, len);
		check(l.stage, len); check(l.action, len); check(l.reply, len);
		check(l.text, len); check(l.client_name, len);
		check(l.client_ip, len); check(l.helo, len); check(l.from, len);
		check(l.rcpt, len); check(l.sasl, len); check(l.spf, len);
		check(l.dkim, len); check(l.dmarc, len); check(l.dnsbl, len);
		check(l.limit, len);
	} else if (k == LOGLINE_MALFORMED && l.why == NULL)
		abort();
	free(line);
	return 0;
}
