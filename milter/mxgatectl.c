/*
 * mxgatectl -- the administrator's tool: `mxgatectl [-c FILE] [--json]
 * COMMAND [ARGS...]` (spec section 2).
 *
 * This file holds the global options and the table of commands; each
 * command is its own module (ctl_report.c: report). A command gets its
 * own arguments (argv[0] is its name), the configuration file named by
 * -c and whether --json was given, and returns a sysexits code. The
 * commands that talk to the running daemon over control_socket (status,
 * reload, limit, explain, ref) are listed but not implemented yet: they
 * say so and exit 69 (EX_UNAVAILABLE).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ctl_report.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

/* what a command gets besides its arguments */
struct ctl_opts {
	const char	*conf;		/* mxgate.conf (-c) */
	int		 json;		/* --json */
};

struct command {
	const char	*name;
	const char	*synopsis;
	const char	*purpose;
	int		(*run)(int, char **, const struct ctl_opts *);
};

static int	run_report(int, char **, const struct ctl_opts *);

static const struct command commands[] = {
	{ "status", "status", "the running daemon's state (not implemented "
	    "yet)", NULL },
	{ "reload", "reload", "reload the rules; ok or every error (not "
	    "implemented yet)", NULL },
	{ "limit", "limit show|reset LIMIT KEY, limit top LIMIT [-n N]",
	    "a rate counter (not implemented yet)", NULL },
	{ "explain", "explain --ip A [--helo H] [--from S] [--rcpt R]... "
	    "[--login U] [--message FILE]", "every rule's outcome for these "
	    "facts (not implemented yet)", NULL },
	{ "ref", "ref REF [--log FILE...]", "the decision behind a reference "
	    "(not implemented yet)", NULL },
	{ "report", "report [--since T] [--until T] [--html FILE] [-n N] "
	    "[LOGFILE...]", "deferrals per rule, DNS list, login, client "
	    "network and hour, from log files (no daemon needed)", run_report },
};

/* usage -- the synopsis and the commands on f; returns code */
static int
usage(FILE *f, int code)
{
	size_t	i;

	fprintf(f, "usage: mxgatectl [-c FILE] [--json] COMMAND [ARGS...]\n"
	    "  -c FILE  mxgate.conf (default %s/mxgate/mxgate.conf)\n"
	    "  --json   output for scripts: one JSON object\n"
	    "commands:\n", SYSCONFDIR);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n      %s\n", commands[i].synopsis,
		    commands[i].purpose);
	return code;
}

/* run_report -- `report`: log files only; -c is accepted and not read */
static int
run_report(int argc, char **argv, const struct ctl_opts *o)
{
	return ctl_report(argc, argv, o->json);
}

/* main -- global options, then the command */
int
main(int argc, char **argv)
{
	struct ctl_opts	 o = { SYSCONFDIR "/mxgate/mxgate.conf", 0 };
	size_t		 i;
	int		 a;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--json") == 0)
			o.json = 1;
		else if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0)
			return usage(stdout, 0);
		else if (strcmp(argv[a], "-c") == 0) {
			if (a + 1 == argc) {
				fprintf(stderr, "mxgatectl: -c wants a file\n");
				return usage(stderr, EX_USAGE);
			}
			o.conf = argv[++a];
		} else if (strcmp(argv[a], "--") == 0) {
			a++;
			break;
		} else {
			fprintf(stderr, "mxgatectl: bad option: %s\n", argv[a]);
			return usage(stderr, EX_USAGE);
		}
	}
	if (a == argc)
		return usage(stderr, EX_USAGE);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[a], commands[i].name) != 0)
			continue;
		if (commands[i].run == NULL) {
			fprintf(stderr, "mxgatectl: %s: not implemented yet\n",
			    commands[i].name);
			return EX_UNAVAILABLE;
		}
		return commands[i].run(argc - a, argv + a, &o);
	}
	fprintf(stderr, "mxgatectl: unknown command: %s\n", argv[a]);
	return usage(stderr, EX_USAGE);
}
