/*
 * ctl_explain -- mxgatectl explain, the daemon's side (see ctl.h). Not written yet.
 */
#include "config.h"

#include <sysexits.h>

#include "ctl.h"

int
ctl_explain(const struct ctl_req *req, struct buf *out)
{
	(void)req;
	buf_printf(out, "mxgatectl: explain: not implemented yet\n");
	return EX_UNAVAILABLE;
}
