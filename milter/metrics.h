/*
 * metrics -- Prometheus metrics over HTTP (metrics_listen), from the
 * counters of stats.h. See metrics.c for the design and mxgate(8),
 * METRICS, for every metric.
 *
 *   metrics_open(cfg, err)   the listening socket, before the privilege
 *			      drop; 0 (also when metrics_listen is empty)
 *			      or -1
 *   metrics_start(err)       the thread that serves GET /metrics; 0 or -1
 *   metrics_stop()           end the thread, close the socket
 *   metrics_render(b)        the exposition text (tests)
 *   metrics_http(p, len, b)  the whole HTTP response to a request head
 *			      (tests); returns its status code
 */
#ifndef MXGATE_METRICS_H
#define MXGATE_METRICS_H

#include <stddef.h>

#include "buf.h"
#include "cfg.h"

int	metrics_open(const struct cfg *, struct buf *);
int	metrics_start(struct buf *);
void	metrics_stop(void);
void	metrics_render(struct buf *);
int	metrics_http(const char *, size_t, struct buf *);

#endif
