/*
 * mxgatectl -- the administrator's tool: `mxgatectl [-c FILE] [--json]
 * COMMAND [ARGS...]` (spec section 2).
 *
 * This file holds the global options, the table of commands, and the
 * client side of the control socket (ctl.h): the commands status,
 * reload, limit, explain and ref are run by the daemon, which checks
 * their arguments and renders their output; mxgatectl finds the socket
 * in mxgate.conf (-c), sends the command line (explain's --message FILE
 * as the file's bytes), and prints the answer -- on stdout for success
 * (and for JSON), on stderr otherwise -- exiting with the daemon's
 * sysexits code. `report` and `ref --log` read log files and need no
 * daemon (ctl_report.c, ctl_reflog.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "ctl.h"
#include "ctl_reflog.h"
#include "ctl_report.h"
#include "diag.h"

#define CTL_REPLY_MAX	(64u * 1024 * 1024)	/* bytes of an answer */
#define CTL_WAIT_SECS	120			/* explain may wait for DNS */
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
static int	run_daemon(int, char **, const struct ctl_opts *);
static int	run_ref(int, char **, const struct ctl_opts *);

static const struct command commands[] = {
	{ "status", "status", "the running daemon's state: version, uptime, "
	    "rules, store, DNS, connections, decisions per rule", run_daemon },
	{ "reload", "reload", "reload the rules; ok, or every error as "
	    "FILE:LINE:COL (exit 78, the old rules stay)", run_daemon },
	{ "limit", "limit show|reset LIMIT KEY, limit top LIMIT [-n N]",
	    "a rate counter: used, maximum, window, next allowed; reset it; "
	    "the keys nearest their limit", run_daemon },
	{ "explain", "explain --ip A [--helo H] [--from S] [--rcpt R]... "
	    "[--login U] [--message FILE]", "every rule's outcome for these "
	    "facts, the reply and the log line; nothing is counted",
	    run_daemon },
	{ "ref", "ref REF [--log FILE...]", "the decision behind a reference, "
	    "from the daemon's memory or from log files", run_ref },
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

/*
 * message_field -- explain's --message FILE: the file's bytes, at most
 * CTL_FIELD_MAX. 0, or a sysexits code (said on stderr).
 */
static int
message_field(struct buf *b, const char *path)
{
	char		 chunk[65536];
	struct buf	 m = BUF_INIT;
	size_t		 n;
	FILE		*f;

	if ((f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re")) == NULL) {
		fprintf(stderr, "mxgatectl: %s: %s\n", path, strerror(errno));
		return EX_NOINPUT;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (m.len + n > CTL_FIELD_MAX) {
			fprintf(stderr, "mxgatectl: %s: larger than %u bytes\n",
			    path, CTL_FIELD_MAX);
			if (f != stdin)
				(void)fclose(f);
			buf_free(&m);
			return EX_DATAERR;
		}
		buf_append(&m, chunk, n);
	}
	if (ferror(f)) {
		fprintf(stderr, "mxgatectl: %s: read error\n", path);
		if (f != stdin)
			(void)fclose(f);
		buf_free(&m);
		return EX_IOERR;
	}
	if (f != stdin)
		(void)fclose(f);
	ctl_field(b, "--message-data", 14);
	ctl_field(b, m.data != NULL ? m.data : "", m.len);
	buf_free(&m);
	return 0;
}

/*
 * control_path -- the control socket named by mxgate.conf. 0, or a
 * sysexits code (said on stderr).
 */
static int
control_path(const char *conf, char *path, size_t len)
{
	struct cfg	 cfg;
	struct diag	 d = DIAG_INIT;
	struct buf	 warn = BUF_INIT;
	const char	*p;
	int		 rc = 0;

	if (cfg_load(&cfg, conf, &d, &warn) == -1) {
		fprintf(stderr, "%smxgatectl: %s has errors: cannot find the "
		    "control socket\n", buf_str(&d.out), conf);
		rc = EX_CONFIG;
	} else if (cfg.control_socket[0] == '\0') {
		fprintf(stderr, "mxgatectl: control_socket is empty in %s: "
		    "the daemon has no control socket\n", conf);
		rc = EX_UNAVAILABLE;
	} else {
		p = strchr(cfg.control_socket, ':') + 1;
		(void)snprintf(path, len, "%s", p);
	}
	buf_free(&warn);
	diag_free(&d);
	cfg_free(&cfg);
	return rc;
}

/* connect_to -- a connection to the control socket; -1 (said) on failure */
static int
connect_to(const char *path, int *code)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {	/* cfg checked it */
		fprintf(stderr, "mxgatectl: %s: path too long\n", path);
		*code = EX_CONFIG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "mxgatectl: socket: %s\n", strerror(errno));
		*code = EX_OSERR;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (errno == EACCES || errno == EPERM) {
		fprintf(stderr, "mxgatectl: %s: permission denied: only root "
		    "and members of mxgate's group may use the control "
		    "socket\n", path);
		*code = EX_NOPERM;
	} else {
		fprintf(stderr, "mxgatectl: cannot reach mxgate at %s: %s "
		    "(is it running?)\n", path, strerror(errno));
		*code = EX_UNAVAILABLE;
	}
	(void)close(fd);
	return -1;
}

/* exchange -- send the request, read the whole answer; 0 or a code (said) */
static int
exchange(int fd, const struct buf *req, struct buf *ans)
{
	struct timeval	 tv = { CTL_WAIT_SECS, 0 };
	const char	*p = req->data;
	size_t		 left = req->len;
	char		 chunk[65536];
	ssize_t		 n;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (left > 0) {
		n = send(fd, p, left, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the daemon may have answered already */
		p += n;
		left -= (size_t)n;
	}
	(void)shutdown(fd, SHUT_WR);
	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			return 0;
		if (n == -1) {
			fprintf(stderr, "mxgatectl: no answer from mxgate: %s\n",
			    errno == EAGAIN ? "timed out" : strerror(errno));
			return EX_UNAVAILABLE;
		}
		if (ans->len + (size_t)n > CTL_REPLY_MAX) {
			fprintf(stderr, "mxgatectl: answer larger than %u "
			    "bytes\n", CTL_REPLY_MAX);
			return EX_PROTOCOL;
		}
		buf_append(ans, chunk, (size_t)n);
	}
}

/*
 * show -- "EXIT N\n" and the body: the body on stdout for success and
 * for JSON, on stderr otherwise; returns N
 */
static int
show(const struct buf *ans, int json)
{
	const char	*body;
	int		 code = -1;

	if (ans->len < 7 || strncmp(ans->data, "EXIT ", 5) != 0 ||
	    sscanf(ans->data + 5, "%d", &code) != 1 || code < 0 ||
	    code > 255 || (body = memchr(ans->data, '\n', ans->len)) == NULL) {
		fprintf(stderr, "mxgatectl: malformed answer from mxgate\n");
		return EX_PROTOCOL;
	}
	body++;
	fwrite(body, 1, ans->len - (size_t)(body - ans->data),
	    code == 0 || (json && *body == '{') ? stdout : stderr);
	if (fflush(stdout) == EOF)
		return EX_IOERR;
	return code;
}

/* run_daemon -- a command the daemon runs, over the control socket */
static int
run_daemon(int argc, char **argv, const struct ctl_opts *o)
{
	struct buf	req = BUF_INIT, ans = BUF_INIT;
	char		path[256];
	int		i, fd, code = 0;

	ctl_field(&req, CTL_PROTO, strlen(CTL_PROTO));
	ctl_field(&req, o->json ? "json" : "text", 4);
	for (i = 0; i < argc && code == 0; i++) {
		if (strcmp(argv[0], "explain") == 0 &&
		    strcmp(argv[i], "--message") == 0 && i + 1 < argc)
			code = message_field(&req, argv[++i]);
		else
			ctl_field(&req, argv[i], strlen(argv[i]));
	}
	if (code == 0)
		code = control_path(o->conf, path, sizeof(path));
	if (code == 0 && (fd = connect_to(path, &code)) != -1) {
		if ((code = exchange(fd, &req, &ans)) == 0)
			code = show(&ans, o->json);
		(void)close(fd);
	}
	buf_free(&req);
	buf_free(&ans);
	return code;
}

/* run_ref -- `ref REF`: the daemon's memory; with --log, log files */
static int
run_ref(int argc, char **argv, const struct ctl_opts *o)
{
	int	i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--log") == 0)
			return ctl_reflog(argc, argv, o->json);
	return run_daemon(argc, argv, o);
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
		return commands[i].run(argc - a, argv + a, &o);
	}
	fprintf(stderr, "mxgatectl: unknown command: %s\n", argv[a]);
	return usage(stderr, EX_USAGE);
}
