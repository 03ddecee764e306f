/*
 * ctl_ref -- `mxgatectl ref REF`, the daemon's side (see ctl.h): the
 * decision with that reference from the ring of recent decisions
 * (refring.h), as text or JSON (refshow.h).
 *
 * Exit codes: 0 found; 64 (EX_USAGE) no ref or not a reference; 66
 * (EX_NOINPUT) not among the decisions kept, with a hint to search the
 * log files instead (`mxgatectl ref REF --log FILE...`).
 */
#include "config.h"

#include <stdlib.h>
#include <sysexits.h>

#include "ctl.h"
#include "refring.h"
#include "refshow.h"

/* ctl_ref -- look a reference up among the recent decisions */
int
ctl_ref(const struct ctl_req *req, struct buf *out)
{
	struct refshow	 s;
	char		 ref[REFSHOW_REF_LEN + 1];
	void		*blk;
	size_t		 n;

	if (req->argc != 2) {
		buf_puts(out, "usage: mxgatectl [--json] ref REF "
		    "[--log FILE...]\n");
		return EX_USAGE;
	}
	if (refshow_parse_ref(req->argv[1], ref) == -1) {
		buf_puts(out, "mxgatectl: ref: not a reference (12 letters "
		    "and digits, as in \"(ref 0K4QZ7D2M8XA)\")\n");
		return EX_USAGE;
	}
	if ((blk = refring_get(ref, &s)) == NULL) {
		n = refring_size();
		buf_printf(out, "mxgatectl: ref: %s is not among the %zu most "
		    "recent decisions this daemon keeps (ref_history)%s;\n"
		    "search the logs: mxgatectl ref %s --log "
		    "/var/log/mail.log\n", ref, n,
		    n == 0 ? ": it keeps none" : "", ref);
		return EX_NOINPUT;
	}
	if (req->json)
		refshow_json(&s, out);
	else
		refshow_text(&s, out);
	free(blk);
	return 0;
}
