/*
 * metrics -- Prometheus metrics over HTTP (metrics.h). Not written yet:
 * a configured metrics_listen is refused at start.
 */
#include "config.h"

#include "metrics.h"

int
metrics_open(const struct cfg *cfg, struct buf *err)
{
	if (cfg->metrics_listen[0] == '\0')
		return 0;
	buf_printf(err, "metrics_listen: not implemented yet");
	return -1;
}

int
metrics_start(struct buf *err)
{
	(void)err;
	return 0;
}

void
metrics_stop(void)
{
}
