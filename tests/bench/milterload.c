/*
 * milterload -- drive a running milter as N concurrent Postfix smtpd
 * processes would (milter protocol version 6; see milterload_sess.c for
 * what is sent when) and print what it costs. A benchmark: it measures
 * and asserts nothing (it exits 1 only when it cannot run at all).
 *
 *   milterload -s SOCKET -F MESSAGE [-c CONNS] [-n MESSAGES]
 *	[-m PER_CONNECTION] [-i FIRST_IP[-LAST_IP]] [-H HELO] [-f FROM]
 *	[-r RCPT] [-p MILTER_PID]
 *
 *   -s  unix:PATH or inet:PORT@HOST (numeric: no DNS)
 *   -F  the message: header fields, an empty line, the body (LF or CRLF)
 *   -c  concurrent connections (10); -n messages in all (2000);
 *   -m  messages per connection (1), as one SMTP session delivering them
 *   -i  client IPv4 addresses, one per connection in turn
 *	 (203.0.113.2-203.0.113.254; one address: every connection the same
 *	 client, as rate limits and DNS lists then see it)
 *   -H  HELO name (mail.sender.example); -f MAIL FROM
 *	 (bounce@sender.example); -r RCPT TO (bench@rcpt.test)
 *   -p  the milter's PID: its CPU time per message from /proc/PID/stat
 *
 * Prints msg/s, p50/p99 latency per message (from connect, or from MAIL
 * for later messages of a connection, to the end-of-message reply), the
 * decisions (tempfails and rejects counted by reply code), the milter
 * round trips per message (commands that waited for a reply, OPTNEG
 * included) and the negotiated options.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milterload.h"
#include "num.h"
#include "xalloc.h"

#define ML_MAX_FILE	(10 * 1024 * 1024)

static const struct ml_cfg *g_cfg;
static atomic_uint_fast64_t g_next;	/* the next message to send */
static atomic_uint_fast32_t g_conn;	/* connections opened */
static double		*g_lat;		/* seconds, by message */

static void	usage(void) __attribute__((noreturn));
static void	die(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
static double	now(void);
static uint64_t	parse_num(const char *, const char *, uint64_t, uint64_t);
static void	parse_ips(struct ml_cfg *, const char *);
static void	read_file(const char *, struct buf *);
static void	parse_message(struct ml_cfg *, const char *);
static void	parse_opts(struct ml_cfg *, int, char *[], const char **,
		    long *);
static void	*worker(void *);
static int	cpu_ticks(long, uint64_t *);
static int	cmp_double(const void *, const void *);
static void	merge(struct ml_stats *, const struct ml_stats *);
static void	report(const struct ml_stats *, double, long, uint64_t,
		    uint64_t);

/* usage -- the synopsis, exit 1 */
static void
usage(void)
{
	fprintf(stderr, "usage: milterload -s unix:PATH|inet:PORT@HOST "
	    "-F MESSAGE [-c CONNS] [-n MESSAGES] [-m PER_CONN]\n"
	    "\t[-i FIRST_IP[-LAST_IP]] [-H HELO] [-f FROM] [-r RCPT] "
	    "[-p MILTER_PID]\n");
	exit(1);
}

/* die -- an error that stops the benchmark */
static void
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("milterload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* now -- the monotonic clock in seconds */
static double
now(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* parse_num -- an option's number within [min, max] */
static uint64_t
parse_num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t	v;

	if (num_parse(s, strlen(s), min, max, &v) == -1)
		die("%s: not a number from %llu to %llu: %s", opt,
		    (unsigned long long)min, (unsigned long long)max, s);
	return v;
}

/* parse_ips -- FIRST[-LAST], IPv4 */
static void
parse_ips(struct ml_cfg *cfg, const char *s)
{
	struct in_addr	 a, b;
	const char	*dash = strchr(s, '-');
	char		 first[INET_ADDRSTRLEN];
	uint32_t	 lo, hi;

	if (dash == NULL)
		dash = s + strlen(s);
	if ((size_t)(dash - s) >= sizeof(first))
		die("-i: not an IPv4 address: %s", s);
	memcpy(first, s, (size_t)(dash - s));
	first[dash - s] = '\0';
	if (inet_pton(AF_INET, first, &a) != 1 ||
	    inet_pton(AF_INET, *dash == '-' ? dash + 1 : first, &b) != 1)
		die("-i: not FIRST_IP[-LAST_IP]: %s", s);
	lo = ntohl(a.s_addr);
	hi = ntohl(b.s_addr);
	if (hi < lo)
		die("-i: the last address is below the first: %s", s);
	cfg->ip_first = lo;
	cfg->ip_count = hi - lo + 1;
}

/* read_file -- a whole file of at most ML_MAX_FILE bytes */
static void
read_file(const char *path, struct buf *b)
{
	FILE	*f;
	char	 chunk[8192];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > ML_MAX_FILE)
			die("%s: larger than %d bytes", path, ML_MAX_FILE);
		buf_append(b, chunk, n);
	}
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
}

/*
 * parse_message -- header fields (continuation lines joined with "\n",
 * as Postfix hands folded headers to milters) and the body with CRLF
 * line ends.
 */
static void
parse_message(struct ml_cfg *cfg, const char *path)
{
	struct buf	 f = BUF_INIT, v = BUF_INIT;
	char		*line, *next, *colon;
	int		 inbody = 0;

	read_file(path, &f);
	for (line = f.data; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (inbody) {
			buf_puts(&cfg->body, line);
			buf_puts(&cfg->body, "\r\n");
		} else if (*line == '\0') {
			inbody = 1;
		} else if ((*line == ' ' || *line == '\t') && cfg->nhdr > 0) {
			buf_reset(&v);
			buf_printf(&v, "%s\n%s", cfg->hdr[cfg->nhdr - 1].value,
			    line);
			free(cfg->hdr[cfg->nhdr - 1].value);
			cfg->hdr[cfg->nhdr - 1].value = xstrdup(buf_str(&v));
		} else if ((colon = strchr(line, ':')) != NULL &&
		    colon > line && cfg->nhdr < ML_MAX_HEADERS) {
			cfg->hdr[cfg->nhdr].name = xstrndup(line,
			    (size_t)(colon - line));
			cfg->hdr[cfg->nhdr++].value = xstrdup(colon + 1);
		} else
			die("%s: not a header field, or more than %d: %.40s",
			    path, ML_MAX_HEADERS, line);
	}
	if (!inbody)
		die("%s: no empty line after the header", path);
	buf_free(&v);
	buf_free(&f);
}

/* parse_opts -- the defaults, then the command line */
static void
parse_opts(struct ml_cfg *cfg, int argc, char *argv[], const char **msgfile,
    long *pid)
{
	int	ch;

	cfg->conns = 10;
	cfg->total = 2000;
	cfg->per_conn = 1;
	cfg->helo = "mail.sender.example";
	cfg->from = "bounce@sender.example";
	cfg->rcpt = "bench@rcpt.test";
	parse_ips(cfg, "203.0.113.2-203.0.113.254");
	while ((ch = getopt(argc, argv, "c:F:f:H:i:m:n:p:r:s:")) != -1) {
		switch (ch) {
		case 'c':
			cfg->conns = (unsigned)parse_num("-c", optarg, 1, 1000);
			break;
		case 'F':
			*msgfile = optarg;
			break;
		case 'f':
			cfg->from = optarg;
			break;
		case 'H':
			cfg->helo = optarg;
			break;
		case 'i':
			parse_ips(cfg, optarg);
			break;
		case 'm':
			cfg->per_conn = (unsigned)parse_num("-m", optarg, 1,
			    1000000);
			break;
		case 'n':
			cfg->total = parse_num("-n", optarg, 1, 100000000);
			break;
		case 'p':
			*pid = (long)parse_num("-p", optarg, 1, 4194304);
			break;
		case 'r':
			cfg->rcpt = optarg;
			break;
		case 's':
			cfg->sock = optarg;
			break;
		default:
			usage();
		}
	}
}

/* worker -- connections one after another until every message is sent */
static void *
worker(void *arg)
{
	struct ml_stats		*st = arg;
	struct ml_conn		*c = xcalloc(1, sizeof(*c));
	const struct ml_cfg	*cfg = g_cfg;
	enum ml_decision	 dec;
	enum ml_sess		 s = ML_S_OK;
	uint64_t		 idx;
	uint32_t		 ip;
	unsigned		 k;
	double			 t0;

	while ((idx = atomic_fetch_add(&g_next, 1)) < cfg->total) {
		t0 = now();
		ip = cfg->ip_first +
		    atomic_fetch_add(&g_conn, 1) % cfg->ip_count;
		if (ml_conn_open(c, cfg, st, ip) == -1) {
			g_lat[idx] = now() - t0;
			st->dec[ML_D_ERROR]++;
			st->msgs++;
			continue;
		}
		for (k = 0; k < cfg->per_conn; k++) {
			if (k > 0) {
				if ((idx = atomic_fetch_add(&g_next, 1)) >=
				    cfg->total)
					break;
				t0 = now();
			}
			s = ml_message(c, idx, &dec);
			g_lat[idx] = now() - t0;
			st->dec[dec]++;
			st->msgs++;
			if (s == ML_S_CLOSE)
				break;
		}
		ml_conn_close(c);
	}
	free(c);
	return NULL;
}

/* cpu_ticks -- utime + stime of a process (fields 14 and 15 of stat) */
static int
cpu_ticks(long pid, uint64_t *ticks)
{
	struct buf	 b = BUF_INIT;
	char		 path[64], *p, *e;
	uint64_t	 v[2];
	int		 i, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (access(path, R_OK) == -1)
		return -1;
	read_file(path, &b);
	/* the command name may hold spaces and ')': count after the last ')' */
	if ((p = strrchr(b.data, ')')) == NULL)
		goto fail;
	for (field = 2, i = 0; i < 2 && *p != '\0'; p = e) {
		while (*p == ' ' || *p == ')')
			p++;
		e = p + strcspn(p, " ");
		if (++field < 14)
			continue;
		if (num_parse(p, (size_t)(e - p), 0, UINT64_MAX, &v[i++]) == -1)
			goto fail;
	}
	if (i != 2)
		goto fail;
	*ticks = v[0] + v[1];
	buf_free(&b);
	return 0;
fail:
	buf_free(&b);
	return -1;
}

/* cmp_double -- qsort order */
static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* merge -- add one thread's counters to the total */
static void
merge(struct ml_stats *t, const struct ml_stats *s)
{
	size_t	i, j;

	t->msgs += s->msgs;
	for (i = 0; i < ML_D_N; i++)
		t->dec[i] += s->dec[i];
	t->roundtrips += s->roundtrips;
	t->commands += s->commands;
	t->mods += s->mods;
	t->codes_other += s->codes_other;
	for (i = 0; i < ML_MAX_CODES && s->codes[i].code[0] != '\0'; i++) {
		for (j = 0; j < ML_MAX_CODES &&
		    t->codes[j].code[0] != '\0'; j++)
			if (strcmp(t->codes[j].code, s->codes[i].code) == 0)
				break;
		if (j == ML_MAX_CODES)
			t->codes_other += s->codes[i].n;
		else if (t->codes[j].code[0] == '\0')
			t->codes[j] = s->codes[i];
		else
			t->codes[j].n += s->codes[i].n;
	}
	if (s->neg.version != 0)
		t->neg = s->neg;
	if (t->err[0] == '\0')
		memcpy(t->err, s->err, sizeof(t->err));
}

/* report -- the figures */
static void
report(const struct ml_stats *t, double secs, long pid, uint64_t c0,
    uint64_t c1)
{
	const struct ml_cfg	*cfg = g_cfg;
	uint64_t		 n = t->msgs ? t->msgs : 1;
	size_t			 i;

	qsort(g_lat, cfg->total, sizeof(g_lat[0]), cmp_double);
	printf("milterload: %llu messages, %u connections, %u per connection,"
	    " %zu headers, body %zu bytes, %u client addresses\n",
	    (unsigned long long)t->msgs, cfg->conns, cfg->per_conn, cfg->nhdr,
	    cfg->body.len, cfg->ip_count);
	printf("throughput:  %.0f msg/s (%.3f s)\n", (double)t->msgs / secs,
	    secs);
	printf("latency:     p50 %.3f ms, p99 %.3f ms, max %.3f ms "
	    "per message\n",
	    g_lat[cfg->total / 2] * 1e3, g_lat[cfg->total * 99 / 100] * 1e3,
	    g_lat[cfg->total - 1] * 1e3);
	printf("decisions:   continue/accept %llu, tempfail %llu, reject %llu,"
	    " discard %llu, error %llu\n",
	    (unsigned long long)t->dec[ML_D_CONTINUE],
	    (unsigned long long)t->dec[ML_D_TEMPFAIL],
	    (unsigned long long)t->dec[ML_D_REJECT],
	    (unsigned long long)t->dec[ML_D_DISCARD],
	    (unsigned long long)t->dec[ML_D_ERROR]);
	for (i = 0; i < ML_MAX_CODES && t->codes[i].code[0] != '\0'; i++)
		printf("  refused %-16s %llu\n", t->codes[i].code,
		    (unsigned long long)t->codes[i].n);
	if (t->codes_other)
		printf("  refused (other codes) %llu\n",
		    (unsigned long long)t->codes_other);
	if (t->err[0] != '\0')
		printf("  first error: %s\n", t->err);
	printf("round trips: %.2f per message (commands that waited for a "
	    "reply), %.2f packets sent, %.2f modifications\n",
	    (double)t->roundtrips / (double)n, (double)t->commands / (double)n,
	    (double)t->mods / (double)n);
	printf("negotiated:  version %u, actions 0x%x, protocol 0x%x\n",
	    t->neg.version, t->neg.actions, t->neg.protocol);
	if (pid > 0)
		printf("milter CPU:  %.4f ms per message (pid %ld, "
		    "utime+stime)\n",
		    (double)(c1 - c0) * 1e3 / (double)sysconf(_SC_CLK_TCK) /
		    (double)n, pid);
}

int
main(int argc, char *argv[])
{
	static struct ml_cfg	 cfg;
	struct ml_stats		*st, tot;
	pthread_t		*th;
	const char		*msgfile = NULL;
	long			 pid = 0;
	uint64_t		 c0 = 0, c1 = 0;
	unsigned		 i;
	double			 t0, secs;

	parse_opts(&cfg, argc, argv, &msgfile, &pid);
	if (cfg.sock == NULL || msgfile == NULL || optind != argc)
		usage();
	parse_message(&cfg, msgfile);
	g_cfg = &cfg;
	g_lat = xcalloc(cfg.total, sizeof(*g_lat));
	st = xcalloc(cfg.conns, sizeof(*st));
	th = xcalloc(cfg.conns, sizeof(*th));
	if (pid > 0 && cpu_ticks(pid, &c0) == -1)
		die("no process %ld", pid);
	t0 = now();
	for (i = 0; i < cfg.conns; i++)
		if (pthread_create(&th[i], NULL, worker, &st[i]) != 0)
			die("pthread_create failed");
	for (i = 0; i < cfg.conns; i++)
		pthread_join(th[i], NULL);
	secs = now() - t0;
	if (pid > 0 && cpu_ticks(pid, &c1) == -1)
		die("process %ld is gone", pid);
	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < cfg.conns; i++)
		merge(&tot, &st[i]);
	report(&tot, secs, pid, c0, c1);
	for (i = 0; i < cfg.nhdr; i++) {
		free(cfg.hdr[i].name);
		free(cfg.hdr[i].value);
	}
	buf_free(&cfg.body);
	free(g_lat);
	free(st);
	free(th);
	return 0;
}
