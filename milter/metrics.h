/*
 * metrics -- Prometheus metrics over HTTP (metrics_listen). Not written yet.
 *
 *   metrics_open(cfg, err)   the listening socket, before the privilege
 *			      drop; 0 (also when metrics_listen is empty) or -1
 *   metrics_start(err)       the thread that serves GET /metrics; 0 or -1
 *   metrics_stop()           close the socket, end the thread
 */
#ifndef MXGATE_METRICS_H
#define MXGATE_METRICS_H

#include "buf.h"
#include "cfg.h"

int	metrics_open(const struct cfg *, struct buf *);
int	metrics_start(struct buf *);
void	metrics_stop(void);

#endif
