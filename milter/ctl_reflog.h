/*
 * ctl_reflog -- `mxgatectl ref REF --log FILE...`: the decision behind a
 * reference, searched for in log files (plain or .gz) instead of the
 * daemon's memory. Needs no daemon. Not written yet.
 */
#ifndef MXGATE_CTL_REFLOG_H
#define MXGATE_CTL_REFLOG_H

/* argv[0] is "ref"; returns a sysexits code */
int	ctl_reflog(int, char **, int);

#endif
