/*
 * test_store -- the state file and the Redis store.
 *
 * State file: a round trip keeps blocks (less the time that passed on the
 * wall clock), drops what ran out, treats a clock that went back as no
 * time passed; a truncated, damaged, foreign or oversized file loads
 * nothing and says why; the file is written whole (mode 0600, no .tmp
 * left). Table lookups are table_none.c (no overrides).
 *
 * Redis (a real redis-server this test starts on a free loopback port,
 * with its own directory; skipped when redis-server is not installed):
 * the server-side script against the memory store on the same random
 * event sequences, with the same clock (same admits, same retry_after,
 * same counts, to the nanosecond, saturation included); keys named
 * mxgate:NAME:WINDOW:VALUE with an expiry; two stores sharing counters
 * on the server's clock; the script lost (SCRIPT FLUSH); Redis stopped
 * (local counters, one log line), back (one log line, shared again);
 * store_error = tempfail; AUTH with a password, a wrong password; the
 * password file's checks; mxgatectl limit's peek (equal to the memory
 * store's, one EVALSHA, nothing created), forget (DEL of one value's
 * keys) and scan, and their failures while Redis is gone.
 *
 * The reconnect probe (a fake server of the test, no redis-server): a
 * server that loads the script but never answers EVALSHA, or closes the
 * connection on it, is still down: no "reachable again".
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "compat.h"
#include "deadline.h"
#include "ipaddr.h"
#include "log.h"
#include "ratelimit.h"
#include "state.h"
#include "store.h"
#include "store_redis.h"

#define S	1000000000ULL
#define LIMS(l)	((const struct rl_limit *const *)(l))

static uint64_t	now_ns;
static char	tmpdir[] = "/tmp/mxstore.XXXXXX";
static char	redis_bin[256];
static unsigned	redis_port;

static uint64_t
fake_clock(void)
{
	return now_ns;
}

/* limit -- a limit of one key part with up to two windows */
static struct rl_limit *
limit(const char *name, enum rl_count count, enum rl_part part, uint64_t n,
    uint64_t secs, uint64_t burst, uint64_t n2, uint64_t secs2)
{
	struct rl_limit	*l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	l->name = strdup(name);
	l->count = count;
	l->nkeys = 1;
	l->key[0].nparts = 1;
	l->key[0].part[0] = part;
	l->key[0].v4len = 24;
	l->key[0].v6len = 64;
	l->nwindows = 1;
	l->window[0].n = n;
	l->window[0].secs = secs;
	l->window[0].burst = burst ? burst : n;
	l->window[0].burst_set = burst != 0;
	if (n2 != 0) {
		l->nwindows = 2;
		l->window[1].n = n2;
		l->window[1].secs = secs2;
		l->window[1].burst = n2;
	}
	return l;
}

/* ------------------------------------------------------------ state file */

static char *
path_in(const char *name)
{
	static char	p[2][512];
	static int	k;

	k ^= 1;
	(void)snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

/* block -- a store where user u has used up `rate 2/1h` (retry 1800 s) */
static struct rl_store *
block(struct rl_limit *l, const char *u)
{
	struct rl_store	*s = rl_store_memory(1000);
	struct rl_event	 ev;
	struct rl_result r;
	int		 i;

	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = u;
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
		ck_assert(!r.exceeded);
		ck_assert_int_eq(rl_commit_message(s, LIMS(&l), 1, &ev), 0);
	}
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	ck_assert(r.exceeded);
	ck_assert_uint_eq(r.retry_after, 1800);
	return s;
}

/* retry -- retry_after of u's next message in s (0: admitted) */
static uint64_t
retry(struct rl_store *s, struct rl_limit *l, const char *u)
{
	struct rl_event	 ev;
	struct rl_result r;

	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = u;
	ck_assert_int_eq(rl_check(s, l, &ev, &r), 0);
	return r.exceeded ? r.retry_after : 0;
}

START_TEST(test_state_round_trip)
{
	struct rl_limit	*l = limit("msgs", RL_COUNT_MESSAGES, RL_PART_SASL_USER,
			    2, 3600, 0, 0, 0);
	struct rl_store	*a, *b, *c, *d;
	struct state_stats st;
	struct buf	 err = BUF_INIT;
	struct stat	 sb;
	const char	*f = path_in("state");
	uint64_t	 wall = 1800000000 * S;

	rl_set_clock(fake_clock);
	now_ns = 5000 * S;
	a = block(l, "alice");
	ck_assert_int_eq(state_save(a, f, now_ns, wall, &err), 1);
	ck_assert_int_eq(stat(f, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(access(path_in("state.tmp"), F_OK), -1);

	/* after a reboot (the monotonic clock starts again), 600 s later */
	now_ns = 7 * S;
	b = rl_store_memory(1000);
	ck_assert_int_eq(state_load(b, f, 1000, now_ns, wall + 600 * S, &st,
	    &err), 0);
	ck_assert_uint_eq(st.loaded, 1);
	ck_assert_uint_eq(st.expired, 0);
	ck_assert_uint_eq(retry(b, l, "alice"), 1200);
	ck_assert_uint_eq(retry(b, l, "bob"), 0);

	/* the wall clock went back: no time passed */
	c = rl_store_memory(1000);
	ck_assert_int_eq(state_load(c, f, 1000, now_ns, wall - 3600 * S, &st,
	    &err), 0);
	ck_assert_uint_eq(retry(c, l, "alice"), 1800);

	/* two hours later the whole state has run out: dropped */
	d = rl_store_memory(1000);
	ck_assert_int_eq(state_load(d, f, 1000, now_ns, wall + 7200 * S, &st,
	    &err), 0);
	ck_assert_uint_eq(st.loaded, 0);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert_uint_eq(rl_store_keys(d), 0);
	ck_assert_str_eq(buf_str(&err), "");
	rl_store_free(a);
	rl_store_free(b);
	rl_store_free(c);
	rl_store_free(d);
	rl_limit_free(l);
	buf_free(&err);
}
END_TEST

/* damage -- ways to spoil a good state file, and the words of the complaint */
static const struct {
	const char	*what;
	long		 cut;		/* keep this many bytes (-1: all) */
	long		 flip;		/* change the byte at this offset (-1: none) */
	const char	*append;
	const char	*want;
} damage[] = {
	{ "truncated", 40, -1, NULL, "truncated or damaged" },
	{ "last byte gone", -2, -1, NULL, "truncated or damaged" },
	{ "a flipped byte", -1, 20, NULL, "truncated or damaged" },
	{ "appended junk", -1, -1, "x\n", "truncated or damaged" },
	{ "empty", 0, -1, NULL, "truncated or damaged" },
};

START_TEST(test_state_damaged)
{
	struct rl_limit	*l = limit("msgs", RL_COUNT_MESSAGES, RL_PART_SASL_USER,
			    2, 3600, 0, 0, 0);
	struct rl_store	*a, *b;
	struct state_stats st;
	struct buf	 err = BUF_INIT;
	const char	*f = path_in("damaged");
	struct stat	 sb;
	FILE		*fp;
	long		 keep;
	int		 ch;

	rl_set_clock(fake_clock);
	now_ns = 5000 * S;
	a = block(l, "alice");
	ck_assert_int_eq(state_save(a, f, now_ns, 100 * S, &err), 1);
	ck_assert_int_eq(stat(f, &sb), 0);
	keep = damage[_i].cut == -1 ? sb.st_size : damage[_i].cut < -1 ?
	    sb.st_size + damage[_i].cut + 1 : damage[_i].cut;
	ck_assert_int_eq(truncate(f, keep), 0);
	if (damage[_i].flip >= 0) {
		ck_assert_ptr_nonnull(fp = fopen(f, "r+"));
		ck_assert_int_eq(fseek(fp, damage[_i].flip, SEEK_SET), 0);
		ch = fgetc(fp);
		ck_assert_int_eq(fseek(fp, damage[_i].flip, SEEK_SET), 0);
		ck_assert_int_ne(fputc(ch == '7' ? '8' : '7', fp), EOF);
		fclose(fp);
	}
	if (damage[_i].append != NULL) {
		ck_assert_ptr_nonnull(fp = fopen(f, "a"));
		fputs(damage[_i].append, fp);
		fclose(fp);
	}
	b = rl_store_memory(1000);
	ck_assert_int_eq(state_load(b, f, 1000, now_ns, 100 * S, &st, &err), -1);
	ck_assert_msg(strstr(buf_str(&err), damage[_i].want) != NULL,
	    "%s: %s", damage[_i].what, buf_str(&err));
	ck_assert_uint_eq(rl_store_keys(b), 0);
	ck_assert_uint_eq(retry(b, l, "alice"), 0);
	rl_store_free(a);
	rl_store_free(b);
	rl_limit_free(l);
	buf_free(&err);
}
END_TEST

/* fnv -- the digest the file format uses, to forge well-sealed bad files */
static unsigned long long
fnv(const char *p)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* bodies that are sealed correctly but wrong inside */
static const struct {
	const char	*body;
	const char	*want;
} forged[] = {
	{ "mxgate-state 2 100\n", "not an mxgate state file" },
	{ "hello\n", "not an mxgate state file" },
	{ "mxgate-state 1 100\n5 6d0031680061\n", "end line says" },
	{ "mxgate-state 1 100\nx 6d0031680061\n", ":2: bad level" },
	{ "mxgate-state 1 100\n5 6d003168006\n", ":2: bad key length" },
	{ "mxgate-state 1 100\n5 6d00316800zz\n", ":2: bad hex" },
	{ "mxgate-state 1 100\n5 6d6d6d\n", ":2: bad key" },
	{ "mxgate-state 1 100\n5 006d31680061\n", ":2: bad key" },
	{ "mxgate-state 1 100\n5 6d0000680061\n", ":2: bad key" },
	{ "mxgate-state 1 100\n99999999999999999999 6d0031680061\n",
	  ":2: bad level" },
};

START_TEST(test_state_forged)
{
	struct rl_store	*b = rl_store_memory(1000);
	struct state_stats st;
	struct buf	 err = BUF_INIT;
	const char	*f = path_in("forged");
	FILE		*fp;
	int		 lines = 0;
	const char	*p;

	for (p = forged[_i].body; *p; p++)
		lines += *p == '\n';
	ck_assert_ptr_nonnull(fp = fopen(f, "w"));
	fprintf(fp, "%send %d %016llx\n", forged[_i].body,
	    strstr(forged[_i].want, "end line") ? 2 : lines - 1,
	    fnv(forged[_i].body));
	fclose(fp);
	ck_assert_int_eq(state_load(b, f, 1000, 0, 0, &st, &err), -1);
	ck_assert_msg(strstr(buf_str(&err), forged[_i].want) != NULL, "%s",
	    buf_str(&err));
	ck_assert_uint_eq(rl_store_keys(b), 0);
	rl_store_free(b);
	buf_free(&err);
}
END_TEST

START_TEST(test_state_bounds)
{
	struct rl_store	*b = rl_store_memory(1000);
	struct state_stats st;
	struct buf	 err = BUF_INIT;
	const char	*f = path_in("big");
	FILE		*fp;
	int		 i;

	/* larger than max_keys lines could ever need: not read at all */
	ck_assert_ptr_nonnull(fp = fopen(f, "w"));
	for (i = 0; i < 20000; i++)
		fputs("1 6d00316800610000000000000000000000000000000000000000000000\n",
		    fp);
	fclose(fp);
	ck_assert_int_eq(state_load(b, f, 1, 0, 0, &st, &err), -1);
	ck_assert_msg(strstr(buf_str(&err), "larger than") != NULL, "%s",
	    buf_str(&err));
	buf_reset(&err);
	ck_assert_int_eq(state_load(b, path_in("absent"), 1000, 0, 0, &st, &err),
	    -1);
	ck_assert_msg(strstr(buf_str(&err), "No such file") != NULL, "%s",
	    buf_str(&err));
	buf_reset(&err);
	ck_assert_int_eq(symlink(f, path_in("link")), 0);
	ck_assert_int_eq(state_load(b, path_in("link"), 1000, 0, 0, &st, &err),
	    -1);
	ck_assert_uint_eq(rl_store_keys(b), 0);
	/* an unwritable place: an error, and no file */
	buf_reset(&err);
	ck_assert_int_eq(state_save(b, "/nonexistent/dir/state", 0, 0, &err), -1);
	ck_assert_msg(strstr(buf_str(&err), "/nonexistent/dir/state") != NULL,
	    "%s", buf_str(&err));
	rl_store_free(b);
	buf_free(&err);
}
END_TEST

/* many keys survive a round trip in their recency order, within the bound */
START_TEST(test_state_many)
{
	struct rl_limit	*l = limit("m", RL_COUNT_MESSAGES, RL_PART_SASL_USER,
			    1, 3600, 0, 0, 0);
	struct rl_store	*a = rl_store_memory(5000), *b = rl_store_memory(1000);
	struct state_stats st;
	struct rl_event	 ev;
	struct buf	 err = BUF_INIT;
	char		 u[32];
	int		 i;

	rl_set_clock(fake_clock);
	now_ns = 10 * S;
	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = u;
	for (i = 0; i < 3000; i++) {
		(void)snprintf(u, sizeof(u), "user%d", i);
		ck_assert_int_eq(rl_commit_message(a, LIMS(&l), 1, &ev), 0);
	}
	ck_assert_int_eq(state_save(a, path_in("many"), now_ns, 0, &err), 3000);
	ck_assert_int_eq(state_load(b, path_in("many"), 5000, now_ns, 0, &st,
	    &err), 0);
	ck_assert_uint_eq(st.loaded, 3000);
	/* the store keeps its bound: the newest 1000 stay */
	ck_assert_uint_eq(rl_store_keys(b), 1000);
	ck_assert_uint_eq(retry(b, l, "user2999"), 3600);
	ck_assert_uint_eq(retry(b, l, "user2000"), 3600);
	ck_assert_uint_eq(retry(b, l, "user1999"), 0);
	rl_store_free(a);
	rl_store_free(b);
	rl_limit_free(l);
	buf_free(&err);
}
END_TEST

/* ------------------------------------------------------------ redis */

static const char *
redis_pidfile(void)
{
	return path_in("redis.pid");
}

/* free_port -- a loopback TCP port nobody listens on now */
static unsigned
free_port(void)
{
	struct sockaddr_in a;
	socklen_t	 len = sizeof(a);
	int		 fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) == -1)
		abort();
	close(fd);
	return ntohs(a.sin_port);
}

/* redis_cmd -- a test connection to the server (NULL when down) */
static redisContext *
redis_conn(void)
{
	struct timeval	 tv = { 1, 0 };
	redisContext	*c = redisConnectWithTimeout("127.0.0.1", (int)redis_port,
			    tv);

	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* redis_start -- redis-server on redis_port, optionally with a password */
static void
redis_start(const char *pass)
{
	char		 port[16];
	redisContext	*c;
	pid_t		 pid;
	int		 i, st;

	(void)snprintf(port, sizeof(port), "%u", redis_port);
	if ((pid = fork()) == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execl(redis_bin, redis_bin, "--port", port, "--bind", "127.0.0.1",
		    "--save", "", "--appendonly", "no", "--daemonize", "yes",
		    "--pidfile", redis_pidfile(), "--dir", tmpdir,
		    "--logfile", path_in("redis.log"),
		    pass != NULL ? "--requirepass" : NULL, pass, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "redis-server failed");
	for (i = 0; i < 200; i++) {
		if ((c = redis_conn()) != NULL) {
			redisReply *r = redisCommand(c, "PING");
			int ok = r != NULL;

			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			if (ok && access(redis_pidfile(), F_OK) == 0)
				return;
		}
		usleep(20000);
	}
	ck_abort_msg("redis-server does not answer on %u", redis_port);
}

/* redis_stop -- end the server this test started (by its pid file) and wait */
static void
redis_stop(void)
{
	char	buf[32] = "";
	FILE	*fp = fopen(redis_pidfile(), "r");
	pid_t	pid;
	int	i;

	if (fp == NULL)
		return;
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	pid = (pid_t)strtol(buf, NULL, 10);
	if (pid <= 1)
		return;
	(void)kill(pid, SIGTERM);
	for (i = 0; i < 300 && kill(pid, 0) == 0; i++)
		usleep(20000);
	if (kill(pid, 0) == 0)
		(void)kill(pid, SIGKILL);
	for (i = 0; i < 100 && kill(pid, 0) == 0; i++)
		usleep(20000);
	(void)unlink(redis_pidfile());
}

static void
redis_setup(void)
{
	redis_port = free_port();
	redis_start(NULL);
}

static void
redis_teardown(void)
{
	redis_stop();
}

/* flush -- empty the database */
static void
flush(void)
{
	redisContext	*c = redis_conn();
	redisReply	*r;

	ck_assert_ptr_nonnull(c);
	r = redisCommand(c, "FLUSHALL");
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);
	redisFree(c);
}

/* rstore -- a Redis store on the test server over a fresh memory store */
static struct rl_store *
rstore(int caller_clock, int tempfail, const char *pass)
{
	struct rl_redis_conf c;

	memset(&c, 0, sizeof(c));
	c.host = "127.0.0.1";
	c.port = redis_port;
	c.password = pass;
	c.connect_ms = 500;
	c.command_ms = 500;
	c.pool = 4;
	c.tempfail = tempfail;
	c.caller_clock = caller_clock;
	return rl_store_redis(&c, rl_store_memory(10000));
}

/* a small random generator, the same for both stores */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define NLIM	5

/* same -- both results equal, field by field */
static void
same(const struct rl_result *a, const struct rl_result *b, int step,
    const char *what)
{
	ck_assert_msg(a->exceeded == b->exceeded && a->retry_after ==
	    b->retry_after && a->count == b->count && a->max == b->max &&
	    a->window == b->window && strcmp(a->key, b->key) == 0,
	    "step %d %s: memory %d/%llu/%llu/%llu/%llu/%s, redis "
	    "%d/%llu/%llu/%llu/%llu/%s", step, what, a->exceeded,
	    (unsigned long long)a->retry_after, (unsigned long long)a->count,
	    (unsigned long long)a->max, (unsigned long long)a->window, a->key,
	    b->exceeded, (unsigned long long)b->retry_after,
	    (unsigned long long)b->count, (unsigned long long)b->max,
	    (unsigned long long)b->window, b->key);
}

/*
 * The script against the memory store: random messages (1..4 recipients,
 * random sizes, three logins, two networks) and connections at random
 * times (nanosecond steps), checked and counted on accept in both.
 */
START_TEST(test_script_equals_memory)
{
	struct rl_limit	*l[NLIM];
	struct rl_store	*m, *r;
	struct rl_result ra, rb;
	struct rl_event	 ev;
	struct ipaddr	 ip;
	const char	*users[] = { "ann", "bob", "cy" };
	const char	*doms[] = { "a.example", "b.example" };
	const char	*pend[4];
	char		 ipstr[32];
	uint64_t	 x = 0x9e3779b97f4a7c15ULL + (uint64_t)_i * 7919;
	int		 step, i, k, nr, refused = 0, admitted = 0, ok;

	flush();
	l[0] = limit("rcpt", RL_COUNT_RECIPIENTS, RL_PART_SASL_USER, 5, 60, 3,
	    20, 3600);
	l[1] = limit("msg", RL_COUNT_MESSAGES, RL_PART_SENDER_DOMAIN, 2, 3600, 0,
	    0, 0);
	l[2] = limit("bytes", RL_COUNT_BYTES, RL_PART_CLIENT_IP, 100000, 86400,
	    200000, 0, 0);
	l[3] = limit("conn", RL_COUNT_CONNECTIONS, RL_PART_CLIENT_IP, 7, 13, 0,
	    0, 0);
	/* saturates: cost * 366 d / 1 and the burst are far beyond 2^64 ns */
	l[4] = limit("huge", RL_COUNT_BYTES, RL_PART_SASL_USER, 1, 366 * 86400ULL,
	    4294967295ULL, 0, 0);
	rl_set_clock(fake_clock);
	now_ns = 1700000000ULL * S + 123456789;
	m = rl_store_memory(10000);
	r = rstore(1, 0, NULL);
	ck_assert(rl_store_redis_up(r));
	for (step = 0; step < 300; step++) {
		now_ns += rnd(&x) % (40 * S);
		memset(&ev, 0, sizeof(ev));
		(void)snprintf(ipstr, sizeof(ipstr), "192.0.%d.%d",
		    (int)(rnd(&x) % 2), (int)(rnd(&x) % 200));
		ck_assert_int_eq(ip_parse(ipstr, strlen(ipstr), &ip), 0);
		ev.client_ip = &ip;
		ev.sasl_user = users[rnd(&x) % 3];
		ev.sender_domain = doms[rnd(&x) % 2];
		ev.sender = "x@a.example";
		if (rnd(&x) % 4 == 0) {		/* a connection */
			ck_assert_int_eq(rl_check(m, l[3], &ev, &ra), 0);
			ck_assert_int_eq(rl_check(r, l[3], &ev, &rb), 0);
			same(&ra, &rb, step, "conn");
			if (!ra.exceeded) {
				rl_commit_connection(m, LIMS(l), NLIM, &ev);
				rl_commit_connection(r, LIMS(l), NLIM, &ev);
			}
			continue;
		}
		nr = 1 + (int)(rnd(&x) % 4);
		ev.pending = pend;
		for (i = 0; i < nr; i++) {
			ev.rcpt_domain = "rcpt.example";
			ck_assert_int_eq(rl_check(m, l[0], &ev, &ra), 0);
			ck_assert_int_eq(rl_check(r, l[0], &ev, &rb), 0);
			same(&ra, &rb, step, "rcpt");
			if (!ra.exceeded)
				pend[ev.npending++] = "rcpt.example";
		}
		ev.rcpt_domain = NULL;
		ev.size = 1 + rnd(&x) % 90000;
		ok = ev.npending > 0;
		for (k = 1; k < NLIM && ok; k++) {
			if (k == 3)
				continue;
			ck_assert_int_eq(rl_check(m, l[k], &ev, &ra), 0);
			ck_assert_int_eq(rl_check(r, l[k], &ev, &rb), 0);
			same(&ra, &rb, step, l[k]->name);
			ok = !ra.exceeded;
		}
		if (ok) {
			admitted++;
			ck_assert_int_eq(rl_commit_message(m, LIMS(l), NLIM, &ev), 0);
			ck_assert_int_eq(rl_commit_message(r, LIMS(l), NLIM, &ev), 0);
		} else
			refused++;
	}
	/* the sequence exercised both sides */
	ck_assert_int_gt(admitted, 5);
	ck_assert_int_gt(refused, 5);
	ck_assert(rl_store_redis_up(r));
	rl_store_free(m);
	rl_store_free(r);
	for (k = 0; k < NLIM; k++)
		rl_limit_free(l[k]);
}
END_TEST

/* keys: mxgate:NAME:WINDOW:VALUE, expiring when the state has decayed */
START_TEST(test_keys_expire)
{
	struct rl_limit	*l = limit("per-user", RL_COUNT_MESSAGES,
			    RL_PART_SASL_USER, 2, 3600, 0, 10, 86400);
	struct rl_store	*r;
	struct rl_event	 ev;
	redisContext	*c;
	redisReply	*rp;

	flush();
	rl_set_clock(NULL);
	r = rstore(0, 0, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = "Carol";
	ck_assert_int_eq(rl_commit_message(r, LIMS(&l), 1, &ev), 0);
	ck_assert_ptr_nonnull(c = redis_conn());
	rp = redisCommand(c, "PTTL mxgate:per-user:1h:carol");
	ck_assert_ptr_nonnull(rp);
	ck_assert_int_eq(rp->type, REDIS_REPLY_INTEGER);
	/* 1800 s of state plus 1 s of slack */
	ck_assert_int_gt(rp->integer, 1795 * 1000);
	ck_assert_int_le(rp->integer, 1801 * 1000);
	freeReplyObject(rp);
	rp = redisCommand(c, "PTTL mxgate:per-user:1d:carol");
	ck_assert_int_gt(rp->integer, 8635 * 1000);
	ck_assert_int_le(rp->integer, 8641 * 1000);
	freeReplyObject(rp);
	rp = redisCommand(c, "KEYS mxgate:per-user:*");
	ck_assert_uint_eq(rp->elements, 2);
	freeReplyObject(rp);
	/* a check that is not committed creates nothing */
	ev.sasl_user = "dave";
	{
		struct rl_result res;

		ck_assert_int_eq(rl_check(r, l, &ev, &res), 0);
	}
	rp = redisCommand(c, "KEYS mxgate:per-user:*");
	ck_assert_uint_eq(rp->elements, 2);
	freeReplyObject(rp);
	/* a key another program wrote counts as absent and is overwritten */
	freeReplyObject(redisCommand(c, "HSET mxgate:per-user:1h:dave a b"));
	ck_assert_int_eq(rl_commit_message(r, LIMS(&l), 1, &ev), 0);
	rp = redisCommand(c, "TYPE mxgate:per-user:1h:dave");
	ck_assert_str_eq(rp->str, "string");
	freeReplyObject(rp);
	ck_assert(rl_store_redis_up(r));
	redisFree(c);
	rl_store_free(r);
	rl_limit_free(l);
}
END_TEST

/* evalsha_calls -- EVALSHA calls the server has answered since RESETSTAT */
static long
evalsha_calls(redisContext *c)
{
	redisReply	*r = redisCommand(c, "INFO commandstats");
	const char	*p;
	long		 n = 0;

	ck_assert_ptr_nonnull(r);
	if ((p = strstr(r->str, "cmdstat_evalsha:calls=")) != NULL)
		n = strtol(p + 22, NULL, 10);
	freeReplyObject(r);
	return n;
}

/* scan_sum -- scan's callback: counts the cells and adds up their levels */
static int
scan_sum(void *arg, const char *key, size_t len, uint64_t level)
{
	uint64_t	*sum = arg;

	ck_assert_ptr_nonnull(memchr(key, '\0', len));	/* NAME\0W\0VALUE */
	sum[0]++;
	sum[1] += level;
	return 0;
}

/*
 * mxgatectl limit's operations on Redis: peek gives what the memory
 * store gives for the same events (one EVALSHA, no key created), forget
 * deletes the keys of one value (DEL), scan finds the cells of one limit
 * with their levels; while Redis is down each fails with a reason and
 * the store is not marked down by them.
 */
START_TEST(test_redis_admin)
{
	struct rl_limit	*l = limit("adm", RL_COUNT_MESSAGES,
			    RL_PART_SASL_USER, 2, 3600, 0, 10, 86400);
	struct rl_store	*r, *m = rl_store_memory(100);
	struct rl_event	 ev;
	struct rl_cell	 rc[2], mc[2];
	struct buf	 k[2], k2[2], err = BUF_INIT;
	redisContext	*c;
	redisReply	*rp;
	uint64_t	 sum[2] = { 0, 0 };
	size_t		 gone = 0;
	int		 i, cut = 1;

	flush();
	now_ns = 5000 * S;
	rl_set_clock(fake_clock);
	r = rstore(1, 0, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = "erin";
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(rl_commit_message(r, LIMS(&l), 1, &ev), 0);
		ck_assert_int_eq(rl_commit_message(m, LIMS(&l), 1, &ev), 0);
	}
	ev.sasl_user = "fred";
	ck_assert_int_eq(rl_commit_message(r, LIMS(&l), 1, &ev), 0);
	now_ns += 100 * S;
	for (i = 0; i < 2; i++) {
		buf_init(&k[i]);
		buf_init(&k2[i]);
		(void)rl_window_cell(l, (unsigned)i, &ev, "erin", &k[i], &rc[i]);
		(void)rl_window_cell(l, (unsigned)i, &ev, "erin", &k2[i], &mc[i]);
	}
	ck_assert_ptr_nonnull(c = redis_conn());
	freeReplyObject(redisCommand(c, "CONFIG RESETSTAT"));
	ck_assert_int_eq(r->ops->peek(r, rc, 2, now_ns, &err), 0);
	ck_assert_int_eq(evalsha_calls(c), 1);
	ck_assert_int_eq(m->ops->peek(m, mc, 2, now_ns, &err), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(rc[i].level, mc[i].level);
		ck_assert_uint_eq(rc[i].wait, mc[i].wait);
	}
	ck_assert_uint_eq(rc[0].level, 3500 * S);
	ck_assert_uint_eq(rc[0].wait, 1700 * S);
	/* a peek at a key nobody used creates nothing */
	(void)rl_window_cell(l, 0, &ev, "nobody", &k2[0], &mc[0]);
	ck_assert_int_eq(r->ops->peek(r, mc, 1, now_ns, &err), 0);
	ck_assert_uint_eq(mc[0].level, 0);
	rp = redisCommand(c, "KEYS mxgate:adm:*");
	ck_assert_uint_eq(rp->elements, 4);
	freeReplyObject(rp);
	/* scan: erin's two cells and fred's two */
	ck_assert_int_eq(r->ops->scan(r, "adm", 4, now_ns, 100000, scan_sum,
	    sum, &cut, &err), 0);
	ck_assert_int_eq(cut, 0);
	ck_assert_uint_eq(sum[0], 4);
	ck_assert_uint_eq(sum[1], rc[0].level + rc[1].level +
	    1700 * S + (8640 - 100) * S);
	/* forget erin: her two keys, not fred's */
	ck_assert_int_eq(r->ops->forget(r, rc, 2, &gone, &err), 0);
	ck_assert_uint_eq(gone, 2);
	rp = redisCommand(c, "KEYS mxgate:adm:*");
	ck_assert_uint_eq(rp->elements, 2);
	freeReplyObject(rp);
	ck_assert_int_eq(r->ops->peek(r, rc, 2, now_ns, &err), 0);
	ck_assert_uint_eq(rc[0].level, 0);
	ck_assert_ptr_nonnull(r->ops->local(r));
	buf_reset(&err);
	r->ops->name(r, &err);
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "redis 127.0.0.1:"));
	/* Redis gone: each says why and fails; the store is not marked down */
	redis_stop();
	buf_reset(&err);
	ck_assert_int_eq(r->ops->peek(r, rc, 2, now_ns, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_str(&err), "redis 127.0.0.1:"));
	ck_assert_int_eq(r->ops->forget(r, rc, 2, &gone, &err), -1);
	ck_assert_int_eq(r->ops->scan(r, "adm", 4, now_ns, 100000, scan_sum,
	    sum, &cut, &err), -1);
	ck_assert(rl_store_redis_up(r));
	redis_start(NULL);
	for (i = 0; i < 2; i++) {
		buf_free(&k[i]);
		buf_free(&k2[i]);
	}
	buf_free(&err);
	redisFree(c);
	rl_store_free(r);
	rl_store_free(m);
	rl_limit_free(l);
	rl_set_clock(NULL);
}
END_TEST

/* one round trip per check, one per commit, however many limits and windows */
START_TEST(test_round_trips)
{
	struct rl_limit	*l[3];
	struct rl_store	*r;
	struct rl_event	 ev;
	struct rl_result res;
	redisContext	*c;
	const char	*pend[] = { "x.example", "y.example" };

	flush();
	rl_set_clock(NULL);
	l[0] = limit("a", RL_COUNT_RECIPIENTS, RL_PART_SASL_USER, 10, 60, 0,
	    100, 3600);
	l[1] = limit("b", RL_COUNT_MESSAGES, RL_PART_SENDER_DOMAIN, 10, 60, 0,
	    100, 86400);
	l[2] = limit("c", RL_COUNT_BYTES, RL_PART_SASL_USER, 1000000, 3600, 0,
	    0, 0);
	r = rstore(0, 0, NULL);
	ck_assert_ptr_nonnull(c = redis_conn());
	freeReplyObject(redisCommand(c, "CONFIG RESETSTAT"));
	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = "u";
	ev.sender_domain = "s.example";
	ev.pending = pend;
	ev.npending = 2;
	ev.size = 1000;
	ck_assert_int_eq(rl_check(r, l[0], &ev, &res), 0);
	ck_assert_int_eq(evalsha_calls(c), 1);
	ck_assert_int_eq(rl_commit_message(r, LIMS(l), 3, &ev), 0);
	ck_assert_int_eq(evalsha_calls(c), 2);
	/* and all five cells were counted */
	{
		redisReply *k = redisCommand(c, "KEYS mxgate:[abc]:*");

		ck_assert_uint_eq(k->elements, 5);
		freeReplyObject(k);
	}
	ck_assert(rl_store_redis_up(r));
	redisFree(c);
	rl_store_free(r);
	rl_limit_free(l[0]);
	rl_limit_free(l[1]);
	rl_limit_free(l[2]);
}
END_TEST

/* two hosts, one Redis, the server's clock: one counter */
START_TEST(test_shared)
{
	struct rl_limit	*l = limit("cust", RL_COUNT_MESSAGES,
			    RL_PART_CUSTOMER, 3, 3600, 0, 0, 0);
	struct rl_store	*a, *b;
	struct rl_event	 ev;
	struct rl_result res;
	redisContext	*c;
	int		 i;

	flush();
	rl_set_clock(NULL);
	a = rstore(0, 0, NULL);
	b = rstore(0, 0, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.customer = "acme";
	for (i = 0; i < 3; i++) {
		struct rl_store *s = i % 2 ? b : a;

		ck_assert_int_eq(rl_check(s, l, &ev, &res), 0);
		ck_assert_msg(!res.exceeded, "message %d refused", i);
		ck_assert_int_eq(rl_commit_message(s, LIMS(&l), 1, &ev), 0);
	}
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert(res.exceeded);
	ck_assert_int_eq(rl_check(b, l, &ev, &res), 0);
	ck_assert(res.exceeded);
	ck_assert_uint_ge(res.retry_after, 1199);
	ck_assert_uint_le(res.retry_after, 1200);
	/* the script lost (a restart behind a proxy): EVAL loads it again */
	ck_assert_ptr_nonnull(c = redis_conn());
	freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
	redisFree(c);
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert(res.exceeded);
	ck_assert(rl_store_redis_up(a));
	rl_store_free(a);
	rl_store_free(b);
	rl_limit_free(l);
}
END_TEST

/* count -- lines of the captured log that hold s */
static int
count(const struct buf *log, const char *s)
{
	const char	*p = buf_str(log);
	int		 n = 0;

	while ((p = strstr(p, s)) != NULL) {
		n++;
		p += strlen(s);
	}
	return n;
}

/* Redis stopped: local counters, logged once; back: shared, logged once */
START_TEST(test_failover)
{
	struct rl_limit	*l = limit("cust", RL_COUNT_MESSAGES,
			    RL_PART_CUSTOMER, 2, 3600, 0, 0, 0);
	struct rl_store	*a, *t;
	struct rl_event	 ev;
	struct rl_result res;
	struct buf	 log = BUF_INIT;
	int		 i;

	flush();
	rl_set_clock(NULL);
	log_capture(&log);
	a = rstore(0, 0, NULL);
	t = rstore(0, 1, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.customer = "acme";
	ck_assert_int_eq(rl_commit_message(a, LIMS(&l), 1, &ev), 0);
	ck_assert_int_eq(count(&log, "connected; rate counters are shared"), 2);

	redis_stop();
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
		ck_assert(!res.exceeded);	/* the local counter is empty */
	}
	ck_assert(!rl_store_redis_up(a));
	/* counted locally meanwhile */
	ck_assert_int_eq(rl_commit_message(a, LIMS(&l), 1, &ev), 0);
	ck_assert_int_eq(rl_commit_message(a, LIMS(&l), 1, &ev), 0);
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert(res.exceeded);
	ck_assert_int_eq(count(&log, "using local counters until it is back"), 1);
	/* store_error = tempfail: the check fails */
	ck_assert_int_eq(rl_check(t, l, &ev, &res), -1);
	ck_assert_int_eq(rl_check(t, l, &ev, &res), -1);
	ck_assert_int_eq(count(&log, "(store_error = tempfail)"), 1);

	redis_start(NULL);		/* empty: its counters were lost */
	/* both probers back off (1, 2, 4 ... s): wait up to 30 s on a busy machine */
	for (i = 0; i < 3000 && (!rl_store_redis_up(a) || !rl_store_redis_up(t));
	    i++)
		usleep(10000);
	ck_assert(rl_store_redis_up(a));
	ck_assert_int_eq(count(&log, "reachable again; rate counters are shared "
	    "again"), 2);
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert(!res.exceeded);	/* Redis again, which is empty */
	ck_assert_int_eq(rl_check(t, l, &ev, &res), 0);
	ck_assert_int_eq(count(&log, "using local counters"), 1);
	log_capture(NULL);
	rl_store_free(a);
	rl_store_free(t);
	rl_limit_free(l);
	buf_free(&log);
}
END_TEST

/* the server closes idle connections: a new one is taken, Redis stays up */
START_TEST(test_idle_closed)
{
	struct rl_limit	*l = limit("idle", RL_COUNT_MESSAGES, RL_PART_SASL_USER,
			    10, 60, 0, 0, 0);
	struct rl_store	*r;
	struct rl_event	 ev;
	struct rl_result res;
	struct buf	 log = BUF_INIT;
	redisContext	*c;
	redisReply	*k;

	flush();
	rl_set_clock(NULL);
	log_capture(&log);
	r = rstore(0, 0, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = "u";
	ck_assert_int_eq(rl_commit_message(r, LIMS(&l), 1, &ev), 0);
	ck_assert_ptr_nonnull(c = redis_conn());
	freeReplyObject(redisCommand(c, "CONFIG SET timeout 1"));
	redisFree(c);
	sleep(3);			/* the server closed the idle connection */
	ck_assert_int_eq(rl_commit_message(r, LIMS(&l), 1, &ev), 0);
	ck_assert_int_eq(rl_check(r, l, &ev, &res), 0);
	ck_assert(rl_store_redis_up(r));
	ck_assert_int_eq(count(&log, "using local counters"), 0);
	/* and both messages were counted in Redis */
	ck_assert_ptr_nonnull(c = redis_conn());
	k = redisCommand(c, "GET mxgate:idle:1m:u");
	ck_assert_int_eq(k->type, REDIS_REPLY_STRING);
	freeReplyObject(k);
	ck_assert_uint_eq(res.count, 2);
	freeReplyObject(redisCommand(c, "CONFIG SET timeout 0"));
	redisFree(c);
	log_capture(NULL);
	rl_store_free(r);
	rl_limit_free(l);
	buf_free(&log);
}
END_TEST

/*
 * the stage's deadline (issue 12): a check never waits past it; a stage
 * with no time left does not touch Redis, and a command the deadline
 * cuts short is not held against Redis (no "down", nothing logged), but
 * marks the stage as cut
 */
START_TEST(test_stage_deadline)
{
	struct rl_limit	*l = limit("stage", RL_COUNT_MESSAGES, RL_PART_SASL_USER,
			    10, 60, 0, 0, 0);
	struct rl_store	*a, *t;
	struct rl_event	 ev;
	struct rl_result res;
	struct deadline	 stage;
	struct buf	 log = BUF_INIT;
	redisContext	*c;
	long		 calls;

	flush();
	rl_set_clock(NULL);
	log_capture(&log);
	a = rstore(0, 0, NULL);
	t = rstore(0, 1, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = "u";
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert_int_eq(rl_check(t, l, &ev, &res), 0);
	ck_assert_ptr_nonnull(c = redis_conn());
	calls = evalsha_calls(c);

	/* no time left: no network, the fallback, the stage cut */
	deadline_start(&stage, 0);
	ev.stage = &stage;
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert_int_eq(deadline_was_cut(&stage), 1);
	deadline_start(&stage, 0);
	ck_assert_int_eq(rl_check(t, l, &ev, &res), -1);	/* store_error = tempfail */
	ck_assert_int_eq(deadline_was_cut(&stage), 1);
	ck_assert_int_eq(evalsha_calls(c), calls);

	/* Redis stalls (1 s) past the stage's 100 ms, inside its 500 ms timeout */
	freeReplyObject(redisCommand(c, "CLIENT PAUSE 1000 ALL"));
	deadline_start(&stage, 100);
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert_int_eq(deadline_was_cut(&stage), 1);
	ck_assert(rl_store_redis_up(a));
	ck_assert(rl_store_redis_up(t));
	usleep(1100000);
	ck_assert_int_eq(count(&log, "using local counters"), 0);
	ck_assert_int_eq(count(&log, "deferred (store_error"), 0);

	/* a stage with time: Redis as before */
	deadline_start(&stage, 5000);
	calls = evalsha_calls(c);
	ck_assert_int_eq(rl_check(a, l, &ev, &res), 0);
	ck_assert_int_eq(deadline_was_cut(&stage), 0);
	ck_assert_int_eq(evalsha_calls(c), calls + 1);
	ck_assert(rl_store_redis_up(a));
	redisFree(c);
	log_capture(NULL);
	rl_store_free(a);
	rl_store_free(t);
	rl_limit_free(l);
	buf_free(&log);
}
END_TEST

/* AUTH: the right password works, a wrong one is a failure that is logged */
START_TEST(test_auth)
{
	struct rl_limit	*l = limit("u", RL_COUNT_MESSAGES, RL_PART_SASL_USER,
			    1, 60, 0, 0, 0);
	struct rl_store	*a, *b;
	struct buf	 log = BUF_INIT;
	struct rl_event	 ev;

	redis_stop();
	redis_start("s3cret pass");
	rl_set_clock(NULL);
	log_capture(&log);
	a = rstore(0, 0, "s3cret pass");
	ck_assert(rl_store_redis_up(a));
	b = rstore(0, 0, "wrong");
	ck_assert(!rl_store_redis_up(b));
	ck_assert_msg(strstr(buf_str(&log), "WRONGPASS") != NULL ||
	    strstr(buf_str(&log), "invalid password") != NULL, "%s",
	    buf_str(&log));
	/* and a message through the good one is counted in Redis */
	memset(&ev, 0, sizeof(ev));
	ev.sasl_user = "u1";
	ck_assert_int_eq(rl_commit_message(a, LIMS(&l), 1, &ev), 0);
	ck_assert(rl_store_redis_up(a));
	log_capture(NULL);
	rl_store_free(a);
	rl_store_free(b);
	rl_limit_free(l);
	buf_free(&log);
	redis_stop();
	redis_start(NULL);
}
END_TEST

/* the password file: owner-only, one line, PASSWORD or USER PASSWORD */
static const struct {
	const char	*text;
	int		 mode;
	int		 ok;
	const char	*user, *pass, *why;
} secrets[] = {
	{ "pw\n", 0600, 1, NULL, "pw", NULL },
	{ "pw", 0400, 1, NULL, "pw", NULL },
	{ "mx s3cret\r\nignored\n", 0600, 1, "mx", "s3cret", NULL },
	{ "pw\n", 0640, 0, NULL, NULL, "mode 0640" },
	{ "pw\n", 0604, 0, NULL, NULL, "owner only" },
	{ "\n", 0600, 0, NULL, NULL, "no password" },
	{ "", 0600, 0, NULL, NULL, "no password" },
	{ "a b c\n", 0600, 1, "a", "b c", NULL },
	{ "a  b\n", 0600, 0, NULL, NULL, "USER PASSWORD" },
	{ " pw\n", 0600, 0, NULL, NULL, "USER PASSWORD" },
};

START_TEST(test_secret)
{
	const char	*f = path_in("secret");
	struct buf	 err = BUF_INIT;
	char		*u, *p;
	FILE		*fp;

	(void)unlink(f);
	ck_assert_ptr_nonnull(fp = fopen(f, "w"));
	fputs(secrets[_i].text, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(f, (mode_t)secrets[_i].mode), 0);
	ck_assert_int_eq(rl_redis_secret(f, &u, &p, &err),
	    secrets[_i].ok ? 0 : -1);
	if (secrets[_i].ok) {
		ck_assert_pstr_eq(u, secrets[_i].user);
		ck_assert_str_eq(p, secrets[_i].pass);
	} else
		ck_assert_msg(strstr(buf_str(&err), secrets[_i].why) != NULL,
		    "%s", buf_str(&err));
	free(u);
	free(p);
	buf_free(&err);
}
END_TEST

START_TEST(test_url)
{
	static const struct {
		const char	*url;
		int		 rc;
		const char	*host;
		unsigned	 port, db;
	} c[] = {
		{ "redis://127.0.0.1:6379", 0, "127.0.0.1", 6379, 0 },
		{ "redis://redis.example:7000/3", 0, "redis.example", 7000, 3 },
		{ "redis://[::1]:6380/15", 0, "::1", 6380, 15 },
		{ "redis://host", -1, NULL, 0, 0 },
		{ "redis://:6379", -1, NULL, 0, 0 },
		{ "redis://h:0", -1, NULL, 0, 0 },
		{ "redis://h:1/x", -1, NULL, 0, 0 },
		{ "memory", -1, NULL, 0, 0 },
	};
	struct rl_redis_conf conf;
	size_t		 i;
	char		*h;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&conf, 0, sizeof(conf));
		ck_assert_int_eq(rl_redis_url(c[i].url, &conf, &h), c[i].rc);
		if (c[i].rc == 0) {
			ck_assert_str_eq(conf.host, c[i].host);
			ck_assert_uint_eq(conf.port, c[i].port);
			ck_assert_uint_eq(conf.db, c[i].db);
		}
		free(h);
	}
}
END_TEST

/* ------------------------------------------------------------ fake server */

struct fake {
	int		 lfd;		/* listening socket */
	int		 close_on_eval;	/* 1: close at EVALSHA, 0: never answer it */
	volatile int	 stop;
	int		 held[64];	/* connections left unanswered */
	int		 nheld;
	volatile int	 evals;		/* EVALSHA seen */
	pthread_t	 t;
};

/* fake_conn -- serve one connection: SCRIPT LOAD answered, EVALSHA not */
static void
fake_conn(struct fake *f, int fd)
{
	struct pollfd	 p;
	char		 in[8192];
	ssize_t		 n;
	static const char sha[] = "$40\r\n"
	    "0123456789012345678901234567890123456789\r\n";

	p.fd = fd;
	p.events = POLLIN;
	while (!f->stop) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((n = read(fd, in, sizeof(in) - 1)) <= 0)
			break;
		in[n] = '\0';
		if (strstr(in, "EVALSHA") != NULL) {
			f->evals++;
			if (!f->close_on_eval && f->nheld < 64) {
				f->held[f->nheld++] = fd;
				return;
			}
			break;
		}
		if (strstr(in, "SCRIPT") != NULL &&
		    write(fd, sha, sizeof(sha) - 1) != (ssize_t)sizeof(sha) - 1)
			break;
	}
	close(fd);
}

/* fake_run -- accept and serve connections one at a time until stopped */
static void *
fake_run(void *arg)
{
	struct fake	*f = arg;
	struct pollfd	 p;
	int		 fd;

	p.fd = f->lfd;
	p.events = POLLIN;
	while (!f->stop) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((fd = accept(f->lfd, NULL, NULL)) >= 0)
			fake_conn(f, fd);
	}
	return NULL;
}

/* fake_start -- the fake server on 127.0.0.1:port */
static void
fake_start(struct fake *f, unsigned port, int close_on_eval)
{
	struct sockaddr_in a;
	int		 one = 1;

	memset(f, 0, sizeof(*f));
	f->close_on_eval = close_on_eval;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ck_assert_int_ge(f->lfd = socket(AF_INET, SOCK_STREAM, 0), 0);
	(void)setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(f->lfd, 16), 0);
	ck_assert_int_eq(pthread_create(&f->t, NULL, fake_run, f), 0);
}

/* fake_stop -- stop the thread, close everything */
static void
fake_stop(struct fake *f)
{
	int	i;

	f->stop = 1;
	pthread_join(f->t, NULL);
	for (i = 0; i < f->nheld; i++)
		close(f->held[i]);
	close(f->lfd);
}

/*
 * the reconnect probe: Redis down at start (nothing listens), then a
 * server that loads the script but times out (_i 0) or drops the
 * connection (_i 1) on EVALSHA is still down: never "reachable again"
 */
START_TEST(test_probe_dead)
{
	struct rl_redis_conf c;
	struct rl_store	*r;
	struct fake	 f;
	struct buf	 log = BUF_INIT;
	unsigned	 port = free_port();
	int		 i;

	memset(&c, 0, sizeof(c));
	c.host = "127.0.0.1";
	c.port = port;
	c.connect_ms = 300;
	c.command_ms = 300;
	c.pool = 2;
	log_capture(&log);
	r = rl_store_redis(&c, rl_store_memory(100));
	ck_assert(!rl_store_redis_up(r));
	fake_start(&f, port, _i);
	/* probes after 1 s and 3 s */
	for (i = 0; i < 40 && f.evals < 2; i++)
		usleep(100000);
	ck_assert_int_ge(f.evals, 1);
	usleep(500000);
	ck_assert_msg(count(&log, "reachable again") == 0, "got: %s",
	    buf_str(&log));
	ck_assert(!rl_store_redis_up(r));
	log_capture(NULL);
	rl_store_free(r);
	fake_stop(&f);
	buf_free(&log);
}
END_TEST

/* find_redis -- the redis-server binary, or 0 */
static int
find_redis(void)
{
	static const char *dirs[] = { "/usr/bin", "/usr/sbin", "/usr/local/bin" };
	size_t	i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		(void)snprintf(redis_bin, sizeof(redis_bin), "%s/redis-server",
		    dirs[i]);
		if (access(redis_bin, X_OK) == 0)
			return 1;
	}
	return 0;
}

#define NCASES(a)	((int)(sizeof(a) / sizeof(a[0])))

int
main(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("state");
	TCase	*tr = tcase_create("redis");
	SRunner	*sr;
	int	 failed;
	char	 cmd[600];

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_loop_test(tc, test_state_damaged, 0, NCASES(damage));
	tcase_add_loop_test(tc, test_state_forged, 0, NCASES(forged));
	tcase_add_test(tc, test_state_bounds);
	tcase_add_test(tc, test_state_many);
	tcase_add_loop_test(tc, test_secret, 0, NCASES(secrets));
	tcase_add_test(tc, test_url);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_probe_dead, 0, 2);
	suite_add_tcase(s, tc);
	if (find_redis()) {
		tcase_set_timeout(tr, 60);
		tcase_add_unchecked_fixture(tr, redis_setup, redis_teardown);
		tcase_add_loop_test(tr, test_script_equals_memory, 0, 4);
		tcase_add_test(tr, test_keys_expire);
		tcase_add_test(tr, test_round_trips);
		tcase_add_test(tr, test_shared);
		tcase_add_test(tr, test_failover);
		tcase_add_test(tr, test_idle_closed);
		tcase_add_test(tr, test_stage_deadline);
		tcase_add_test(tr, test_auth);
		tcase_add_test(tr, test_redis_admin);
		suite_add_tcase(s, tr);
	} else
		printf("SKIP: redis-server is not installed: the Redis cases "
		    "do not run\n");
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	redis_stop();
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		failed++;
	return failed == 0 ? 0 : 1;
}
