/*
 * stats -- counters since start for mxgatectl status and the metrics
 * (decisions per rule, stage and action; SPF, DKIM, DMARC results; DNS
 * per list; store fallbacks; stage latency). Not written yet.
 */
#ifndef MXGATE_STATS_H
#define MXGATE_STATS_H

#endif
