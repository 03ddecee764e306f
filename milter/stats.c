/*
 * stats -- counters since start (stats.h). Not written yet.
 */
#include "config.h"

#include "stats.h"
