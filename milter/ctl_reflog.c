/*
 * ctl_reflog -- mxgatectl ref --log (ctl_reflog.h). Not written yet.
 */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "ctl_reflog.h"

int
ctl_reflog(int argc, char **argv, int json)
{
	(void)argc;
	(void)argv;
	(void)json;
	fprintf(stderr, "mxgatectl: ref --log: not implemented yet\n");
	return EX_UNAVAILABLE;
}
