/*
 * ctl_status -- mxgatectl status, the daemon's side (see ctl.h). Not written yet.
 */
#include "config.h"

#include <sysexits.h>

#include "ctl.h"

int
ctl_status(const struct ctl_req *req, struct buf *out)
{
	(void)req;
	buf_printf(out, "mxgatectl: status: not implemented yet\n");
	return EX_UNAVAILABLE;
}
