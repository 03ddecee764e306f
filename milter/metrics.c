/*
 * metrics -- Prometheus metrics over HTTP (see metrics.h).
 *
 * One thread serves one HTTP connection at a time: it reads the request
 * head (at most METRICS_HEAD_MAX bytes, within METRICS_READ_MS), answers
 * and closes (Connection: close). Only GET and HEAD of /metrics are
 * served; any other path is 404, any other method 405, a head that is
 * malformed or does not fit 400. A slow client costs the scrapers at most
 * the read and write deadlines, never the mail path: the thread reads
 * the counters through stats.h's snapshots and engine_connections(),
 * both short locks.
 *
 * The body is the text exposition format, version 0.0.4: every family
 * has # HELP and # TYPE lines (even with no samples yet), label values
 * are escaped (\\, \", \n), counters end in _total, and the latency
 * histogram has cumulative _bucket{le} series, _sum and _count.
 *
 * metrics_render() and metrics_http() build the body and the whole
 * response without any socket, for the unit tests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"

#define METRICS_HEAD_MAX	8192	/* request line and header fields */
#define METRICS_READ_MS		3000	/* to read the request */
#define METRICS_WRITE_MS	10000	/* to write the answer */
#define METRICS_DRAIN_MS	500	/* to read what still comes */
#define METRICS_DRAIN_MAX	65536
#define METRICS_BACKLOG		8

static int		lfd = -1;
static int		stopfd[2] = { -1, -1 };
static pthread_t	thread;
static int		running;

/* the four DNS families, filled from one snapshot */
struct dnsout {
	struct buf	q, hit, to, err;
};

/* escape -- a label value: backslash, double quote and newline escaped */
static void
escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '"')
			buf_puts(b, "\\\"");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

/* family -- the # HELP and # TYPE lines of a family */
static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* one_decision -- stats_each_decision: one sample */
static void
one_decision(void *arg, const char *rule, const char *stage,
    const char *action, uint64_t n)
{
	struct buf	*b = arg;

	buf_puts(b, "mxgate_decisions_total{rule=\"");
	escape(b, rule);
	buf_puts(b, "\",stage=\"");
	escape(b, stage);
	buf_puts(b, "\",action=\"");
	escape(b, action);
	buf_printf(b, "\"} %llu\n", (unsigned long long)n);
}

/* one_auth -- stats_each_auth: one sample */
static void
one_auth(void *arg, const char *method, const char *result, uint64_t n)
{
	struct buf	*b = arg;

	buf_puts(b, "mxgate_auth_results_total{method=\"");
	escape(b, method);
	buf_puts(b, "\",result=\"");
	escape(b, result);
	buf_printf(b, "\"} %llu\n", (unsigned long long)n);
}

/* dns_sample -- one sample of a DNS family */
static void
dns_sample(struct buf *b, const char *name, const char *list, uint64_t n)
{
	buf_printf(b, "%s{list=\"", name);
	escape(b, list);
	buf_printf(b, "\"} %llu\n", (unsigned long long)n);
}

/* one_dns -- stats_each_dns: a sample in each of the four families */
static void
one_dns(void *arg, const char *list, const struct stats_dns *d)
{
	struct dnsout	*o = arg;

	dns_sample(&o->q, "mxgate_dns_queries_total", list, d->queries);
	dns_sample(&o->hit, "mxgate_dns_cache_hits_total", list, d->cache_hits);
	dns_sample(&o->to, "mxgate_dns_timeouts_total", list, d->timeouts);
	dns_sample(&o->err, "mxgate_dns_errors_total", list, d->errors);
}

/* render_dns -- the DNS families */
static void
render_dns(struct buf *b)
{
	struct dnsout	o = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };

	stats_each_dns(one_dns, &o);
	family(b, "mxgate_dns_queries_total", "counter",
	    "DNS list queries (one per list and client connection), by list.");
	buf_puts(b, buf_str(&o.q));
	family(b, "mxgate_dns_cache_hits_total", "counter",
	    "DNS list queries answered from the DNS engine's front cache.");
	buf_puts(b, buf_str(&o.hit));
	family(b, "mxgate_dns_timeouts_total", "counter",
	    "DNS list queries unanswered by the list's deadline.");
	buf_puts(b, buf_str(&o.to));
	family(b, "mxgate_dns_errors_total", "counter",
	    "DNS list queries that failed (SERVFAIL, REFUSED, engine errors) "
	    "or got an error answer.");
	buf_puts(b, buf_str(&o.err));
	buf_free(&o.q);
	buf_free(&o.hit);
	buf_free(&o.to);
	buf_free(&o.err);
}

/* render_latency -- the stage latency histogram */
static void
render_latency(struct buf *b)
{
	struct stats_hist	h;
	const char		*name;
	unsigned		 st, i;

	family(b, "mxgate_stage_duration_seconds", "histogram",
	    "Time mxgate took to answer an SMTP stage's milter command.");
	for (st = 0; st < STAGE_COUNT; st++) {
		stats_latency_get((enum stage)st, &h);
		name = stats_stage_name((enum stage)st);
		for (i = 0; i < STATS_BUCKETS; i++)
			buf_printf(b, "mxgate_stage_duration_seconds_bucket"
			    "{stage=\"%s\",le=\"%s\"} %llu\n", name,
			    stats_bucket_name[i],
			    (unsigned long long)h.bucket[i]);
		buf_printf(b, "mxgate_stage_duration_seconds_bucket"
		    "{stage=\"%s\",le=\"+Inf\"} %llu\n", name,
		    (unsigned long long)h.bucket[STATS_BUCKETS]);
		buf_printf(b, "mxgate_stage_duration_seconds_sum{stage=\"%s\"} "
		    "%.9f\n", name, h.sum);
		buf_printf(b, "mxgate_stage_duration_seconds_count"
		    "{stage=\"%s\"} %llu\n", name, (unsigned long long)h.count);
	}
}

/* metrics_render -- the whole exposition text, appended to b */
void
metrics_render(struct buf *b)
{
	time_t	start = stats_start_time(), now = time(NULL);

	family(b, "mxgate_build_info", "gauge",
	    "The running mxgate's version (always 1).");
	buf_puts(b, "mxgate_build_info{version=\"");
	escape(b, PACKAGE_VERSION);
	buf_puts(b, "\"} 1\n");
	family(b, "mxgate_start_time_seconds", "gauge",
	    "When mxgate started, in seconds since the Unix epoch.");
	buf_printf(b, "mxgate_start_time_seconds %lld\n", (long long)start);
	family(b, "mxgate_uptime_seconds", "gauge",
	    "Seconds since mxgate started.");
	buf_printf(b, "mxgate_uptime_seconds %lld\n",
	    (long long)(start > 0 && now > start ? now - start : 0));
	family(b, "mxgate_connections", "gauge",
	    "MTA connections open now.");
	buf_printf(b, "mxgate_connections %u\n", engine_connections());
	family(b, "mxgate_decisions_total", "counter",
	    "Decisions (decision log lines) by rule, stage and action.");
	stats_each_decision(one_decision, b);
	family(b, "mxgate_auth_results_total", "counter",
	    "SPF, DKIM and DMARC results of messages, by method and result.");
	stats_each_auth(one_auth, b);
	render_dns(b);
	family(b, "mxgate_store_fallbacks_total", "counter",
	    "Rate limit checks that used the local counters because the "
	    "shared store (Redis) did not answer.");
	buf_printf(b, "mxgate_store_fallbacks_total %llu\n",
	    (unsigned long long)stats_store_fallbacks());
	render_latency(b);
}

/* answer -- a status line, the fields, and the body (unless head_only) */
static int
answer(struct buf *out, int code, const char *reason, const char *extra,
    const char *ctype, const struct buf *body, int head_only)
{
	buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", code, reason,
	    ctype, body->len, extra);
	if (!head_only)
		buf_append(out, body->data != NULL ? body->data : "",
		    body->len);
	return code;
}

/* error -- a short plain-text error answer */
static int
error(struct buf *out, int code, const char *reason, const char *extra)
{
	struct buf	body = BUF_INIT;
	int		rc;

	buf_printf(&body, "%d %s\n", code, reason);
	rc = answer(out, code, reason, extra, "text/plain; charset=utf-8",
	    &body, 0);
	buf_free(&body);
	return rc;
}

/* head_end -- does p[0..len) hold the whole request head? */
static int
head_end(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < len &&
		    p[i + 2] == '\n'))
			return 1;
	}
	return 0;
}

/* token -- the length of a run of [A-Z] (a method) */
static size_t
token(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len && p[i] >= 'A' && p[i] <= 'Z'; i++)
		;
	return i;
}

/*
 * metrics_http -- the whole response to a request head p[0..len) (as
 * much as was read, at most METRICS_HEAD_MAX bytes); returns the status
 */
int
metrics_http(const char *p, size_t len, struct buf *out)
{
	const char	*sp, *nl, *target, *ver;
	size_t		 mlen, tlen, plen, i;
	struct buf	 body = BUF_INIT;
	int		 rc, head;

	if (!head_end(p, len) || (nl = memchr(p, '\n', len)) == NULL)
		return error(out, 400, "Bad Request", "");
	if (nl > p && nl[-1] == '\r')
		nl--;
	mlen = token(p, (size_t)(nl - p));
	if (mlen == 0 || p + mlen >= nl || p[mlen] != ' ')
		return error(out, 400, "Bad Request", "");
	target = p + mlen + 1;
	if ((sp = memchr(target, ' ', (size_t)(nl - target))) == NULL)
		return error(out, 400, "Bad Request", "");
	tlen = (size_t)(sp - target);
	ver = sp + 1;
	if (tlen == 0 || target[0] != '/' || nl - ver != 8 ||
	    memcmp(ver, "HTTP/1.", 7) != 0 || ver[7] < '0' || ver[7] > '9')
		return error(out, 400, "Bad Request", "");
	for (i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= ' ' || target[i] == 0x7f)
			return error(out, 400, "Bad Request", "");
	head = mlen == 4 && memcmp(p, "HEAD", 4) == 0;
	if (!head && !(mlen == 3 && memcmp(p, "GET", 3) == 0))
		return error(out, 405, "Method Not Allowed",
		    "Allow: GET, HEAD\r\n");
	plen = strcspn(target, "? ");
	if (plen > tlen)
		plen = tlen;
	if (plen != 8 || memcmp(target, "/metrics", 8) != 0)
		return error(out, 404, "Not Found", "");
	metrics_render(&body);
	rc = answer(out, 200, "OK", "",
	    "text/plain; version=0.0.4; charset=utf-8", &body, head);
	buf_free(&body);
	return rc;
}

/* ms_left -- milliseconds until the deadline (CLOCK_MONOTONIC), >= 0 */
static int
ms_left(const struct timespec *dl)
{
	struct timespec	now;
	long long	ms;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(dl->tv_sec - now.tv_sec) * 1000 +
	    (dl->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* deadline -- now plus ms */
static void
deadline(struct timespec *dl, int ms)
{
	(void)clock_gettime(CLOCK_MONOTONIC, dl);
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl->tv_nsec >= 1000000000L) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000L;
	}
}

/* wait_fd -- fd ready for events before the deadline; -1 on timeout or stop */
static int
wait_fd(int fd, short events, const struct timespec *dl)
{
	struct pollfd	pfd[2];
	int		n;

	for (;;) {
		pfd[0].fd = fd;
		pfd[0].events = events;
		pfd[1].fd = stopfd[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		n = poll(pfd, 2, ms_left(dl));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || pfd[1].revents != 0)
			return -1;
		return 0;
	}
}

/* read_head -- the request head into p (max bytes at most); length or -1 */
static ssize_t
read_head(int fd, char *p, size_t max)
{
	struct timespec	dl;
	size_t		len = 0;
	ssize_t		n;

	deadline(&dl, METRICS_READ_MS);
	while (len < max && !head_end(p, len)) {
		if (wait_fd(fd, POLLIN, &dl) == -1)
			return -1;
		n = read(fd, p + len, max - len);
		if (n == 0)
			break;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1)
			return -1;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* write_all -- the answer, within METRICS_WRITE_MS; 0 or -1 */
static int
write_all(int fd, const struct buf *b)
{
	struct timespec	dl;
	size_t		off = 0;
	ssize_t		n;

	deadline(&dl, METRICS_WRITE_MS);
	while (off < b->len) {
		if (wait_fd(fd, POLLOUT, &dl) == -1)
			return -1;
		n = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/*
 * drain -- after the answer: read what the client still sends (briefly),
 * so that closing does not reset the connection before it read the answer
 */
static void
drain(int fd)
{
	struct timespec	dl;
	char		junk[4096];
	size_t		total = 0;
	ssize_t		n;

	(void)shutdown(fd, SHUT_WR);
	deadline(&dl, METRICS_DRAIN_MS);
	while (total < METRICS_DRAIN_MAX && wait_fd(fd, POLLIN, &dl) == 0) {
		n = read(fd, junk, sizeof(junk));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

/* converse -- one HTTP connection: read the head, answer, close */
static void
converse(int fd)
{
	char		*head = malloc(METRICS_HEAD_MAX);
	struct buf	 out = BUF_INIT;
	ssize_t		 len;

	if (head == NULL)
		return;
	if ((len = read_head(fd, head, METRICS_HEAD_MAX)) > 0) {
		(void)metrics_http(head, (size_t)len, &out);
		if (write_all(fd, &out) == 0)
			drain(fd);
	}
	buf_free(&out);
	free(head);
}

/* serve -- the thread: one connection at a time until metrics_stop() */
static void *
serve(void *arg)
{
	struct pollfd	pfd[2];
	struct timespec	pause = { 0, 100 * 1000 * 1000 };
	int		fd;

	(void)arg;
	for (;;) {
		pfd[0].fd = lfd;
		pfd[1].fd = stopfd[0];
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) == -1 && errno != EINTR) {
			log_warn("metrics: poll: %s", strerror(errno));
			(void)nanosleep(&pause, NULL);
			continue;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents == 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			/* out of descriptors: do not spin on the listener */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				(void)nanosleep(&pause, NULL);
			continue;
		}
		converse(fd);
		(void)close(fd);
	}
	return NULL;
}

/* parse_listen -- "IP:PORT" or "[IPv6]:PORT" (checked by cfg) into ss */
static int
parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sl,
    struct buf *err)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 ip[INET6_ADDRSTRLEN + 1];
	const char		*colon = strrchr(v, ':');
	size_t			 len;
	long			 port;
	char			*end;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || colon - v < 2)
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		goto bad;
	if (v[0] == '[') {
		len = (size_t)(colon - v) - 2;
		if (colon[-1] != ']' || len >= sizeof(ip))
			goto bad;
		memcpy(ip, v + 1, len);
		ip[len] = '\0';
		if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*sin6);
		return 0;
	}
	len = (size_t)(colon - v);
	if (len >= sizeof(ip))
		goto bad;
	memcpy(ip, v, len);
	ip[len] = '\0';
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		goto bad;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*sl = sizeof(*sin);
	return 0;
bad:
	buf_printf(err, "metrics_listen: bad address '%s'", v);
	return -1;
}

/*
 * metrics_open -- the listening socket of metrics_listen (before the
 * privilege drop: the port may be below 1024); 0 when it is empty
 */
int
metrics_open(const struct cfg *cfg, struct buf *err)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;
	int			one = 1;

	if (cfg->metrics_listen == NULL || cfg->metrics_listen[0] == '\0')
		return 0;
	if (parse_listen(cfg->metrics_listen, &ss, &sl, err) == -1)
		return -1;
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (lfd == -1)
		goto fail;
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(lfd, METRICS_BACKLOG) == -1 ||
	    pipe2(stopfd, O_CLOEXEC) == -1)
		goto fail;
	return 0;
fail:
	buf_printf(err, "metrics_listen %s: %s", cfg->metrics_listen,
	    strerror(errno));
	if (lfd != -1)
		(void)close(lfd);
	lfd = -1;
	return -1;
}

/* metrics_start -- the thread that serves GET /metrics (after the drop) */
int
metrics_start(struct buf *err)
{
	int	rc;

	if (lfd == -1)
		return 0;
	if ((rc = pthread_create(&thread, NULL, serve, NULL)) != 0) {
		buf_printf(err, "metrics: cannot start the thread: %s",
		    strerror(rc));
		return -1;
	}
	running = 1;
	return 0;
}

/* metrics_stop -- end the thread (it leaves a scrape at once) and close */
void
metrics_stop(void)
{
	char	c = 0;

	if (running) {
		while (write(stopfd[1], &c, 1) == -1 && errno == EINTR)
			;
		(void)pthread_join(thread, NULL);
		running = 0;
	}
	if (lfd != -1)
		(void)close(lfd);
	if (stopfd[0] != -1)
		(void)close(stopfd[0]);
	if (stopfd[1] != -1)
		(void)close(stopfd[1]);
	lfd = stopfd[0] = stopfd[1] = -1;
}
