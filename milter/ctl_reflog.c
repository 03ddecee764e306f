/*
 * ctl_reflog -- `mxgatectl ref REF --log FILE...` (see ctl_reflog.h):
 * the decision line with that reference, searched for in log files
 * (plain or gzip, "-" for standard input) through logread.h and
 * logline.h, printed as the daemon's ring prints it (refshow.h) with
 * what the log line holds (no facts: the log line does not carry them).
 *
 * A line is parsed only when it holds "ref=REF", so a large log is
 * searched at the speed of memmem. The files are searched in the order
 * given and the search stops at the first decision found.
 *
 * Exit codes: 0 found; 64 usage (no ref, not a reference, no file); 66
 * not found (or a file cannot be opened, said on stderr); 65 a damaged
 * gzip file where the ref was not found before it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "ctl_reflog.h"
#include "logline.h"
#include "logread.h"
#include "refshow.h"

/* what a search found */
struct found {
	const char	*ref;		/* normalised */
	char		 tag[REFSHOW_REF_LEN + 8];	/* "ref=REF" */
	struct logline	 l;
	struct buf	 where;
	int		 hit;
	unsigned long	 lines;		/* read */
};

/* usage -- the synopsis on stderr; EX_USAGE */
static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "mxgatectl: ref: %s\n", why);
	fprintf(stderr, "usage: mxgatectl [--json] ref REF [--log FILE...]\n");
	return EX_USAGE;
}

/* is_line -- does line hold the decision of f->ref? fills f->l */
static int
is_line(struct found *f, const char *line, size_t n,
    struct logline_ctx *ctx)
{
	if (n > LOGLINE_MAX || memmem(line, n, f->tag, strlen(f->tag)) == NULL)
		return 0;
	if (logline_parse(&f->l, line, n, ctx) != LOGLINE_DECISION ||
	    f->l.ref == NULL)
		return 0;
	return strcmp(f->l.ref, f->ref) == 0;
}

/* search -- one file; 0 (found or not: f->hit), or a sysexits code */
static int
search(struct found *f, const char *path)
{
	struct logread	 lr;
	struct logline_ctx ctx;
	const char	*line;
	size_t		 n;
	unsigned long	 lineno = 0;
	int		 rc;

	if ((rc = logread_open(&lr, path, &ctx, "ref")) != 0)
		return rc;
	while ((rc = logread_next(&lr, &line, &n)) == 1) {
		lineno++;
		f->lines++;
		if (is_line(f, line, n, &ctx)) {
			f->hit = 1;
			buf_printf(&f->where, "%s:%lu", lr.name, lineno);
			break;
		}
	}
	rc = rc == -1 ? logread_error(&lr, "ref") : 0;
	logread_close(&lr);
	return rc;
}

/* show -- the decision found, as text or JSON, on stdout; 0 or EX_IOERR */
static int
show(const struct found *f, int json)
{
	const struct logline *l = &f->l;
	struct refshow	 s;
	struct buf	 out = BUF_INIT;
	int		 rc = 0;

	memset(&s, 0, sizeof(s));
	s.has_time = l->has_time;
	s.time = l->time;
	s.usec = l->usec;
	s.f[RS_REF] = l->ref;
	s.f[RS_QID] = l->qid;
	s.f[RS_STAGE] = l->stage;
	s.f[RS_RULE] = l->rule;
	s.f[RS_ACTION] = l->action;
	s.f[RS_REPLY] = l->reply;
	s.f[RS_TEXT] = l->text;
	s.f[RS_CLIENT_NAME] = l->client_name;
	s.f[RS_CLIENT_IP] = l->client_ip;
	s.f[RS_HELO] = l->helo;
	s.f[RS_FROM] = l->from;
	s.f[RS_RCPT] = l->rcpt;
	s.f[RS_SASL] = l->sasl;
	s.f[RS_SPF] = l->spf;
	s.f[RS_DKIM] = l->dkim;
	s.f[RS_DMARC] = l->dmarc;
	s.f[RS_DNSBL] = l->dnsbl;
	s.f[RS_LIMIT] = l->limit;
	s.where = buf_str(&f->where);
	if (json)
		refshow_json(&s, &out);
	else
		refshow_text(&s, &out);
	if (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "mxgatectl: ref: standard output: write error\n");
		rc = EX_IOERR;
	}
	buf_free(&out);
	return rc;
}

/* ctl_reflog -- `ref REF --log FILE...`; a sysexits code */
int
ctl_reflog(int argc, char **argv, int json)
{
	struct found	 f;
	char		 ref[REFSHOW_REF_LEN + 1];
	const char	*arg = NULL;
	int		 i, inlog = 0, nfiles = 0, rc = 0, frc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--log") == 0)
			inlog = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage("unknown option");
		else if (inlog)
			nfiles++;
		else if (arg == NULL)
			arg = argv[i];
		else
			return usage("one reference at a time");
	}
	if (arg == NULL)
		return usage("no reference given");
	if (!inlog || nfiles == 0)
		return usage("--log needs at least one file");
	if (refshow_parse_ref(arg, ref) == -1)
		return usage("not a reference (12 letters and digits)");
	memset(&f, 0, sizeof(f));
	f.ref = ref;
	(void)snprintf(f.tag, sizeof(f.tag), "ref=%s", ref);
	logline_init(&f.l);
	for (i = 1, inlog = 0; i < argc && !f.hit; i++) {
		if (strcmp(argv[i], "--log") == 0)
			inlog = 1;
		else if (inlog && (frc = search(&f, argv[i])) != 0)
			rc = frc;
	}
	if (f.hit)
		rc = show(&f, json);
	else {
		fprintf(stderr, "mxgatectl: ref: %s is not in the log%s given "
		    "(%lu line%s read)\n", ref, nfiles > 1 ? "s" : "",
		    f.lines, f.lines == 1 ? "" : "s");
		if (rc == 0)
			rc = EX_NOINPUT;
	}
	logline_free(&f.l);
	buf_free(&f.where);
	return rc;
}
