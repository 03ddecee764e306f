/*
 * ctl -- the control socket (ctl.h). Being written.
 */
#include "config.h"

#include "ctl.h"

int
ctl_open(const struct cfg *cfg, uid_t uid, gid_t gid, struct buf *err)
{
	(void)cfg; (void)uid; (void)gid; (void)err;
	return 0;
}

int
ctl_start(const struct cfg *cfg, struct buf *err)
{
	(void)cfg; (void)err;
	return 0;
}

void
ctl_stop(void)
{
}

int
ctl_reload(const struct ctl_req *req, struct buf *out)
{
	(void)req;
	buf_printf(out, "mxgatectl: reload: not implemented yet\n");
	return 69;
}
