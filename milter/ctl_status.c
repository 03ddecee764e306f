/*
 * ctl_status -- `mxgatectl status`, the daemon's side (see ctl.h):
 * version, uptime, mode, the configuration and the rules with their load
 * time and a SHA-256 of their contents, the store (memory, or Redis up
 * or falling back since when), the DNS engine per list, connections now,
 * and decisions per rule since start.
 *
 * main.c calls ctl_loaded() at start and after every good reload; the
 * hash is of the files as read then (each file's path and bytes, in the
 * order the rules read them: the main file, then its includes), so two
 * hosts with the same hash run the same rules.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ctl.h"
#include "engine.h"
#include "milter.h"
#include "rules.h"
#include "stats.h"
#include "store.h"
#include "store_redis.h"
#include "xalloc.h"

#define HASH_FILE_MAX	(64u * 1024 * 1024)	/* bytes hashed of one file */

struct loaded {
	time_t	 at;		/* wall clock of the load */
	char	 sha[65];	/* hex SHA-256, or "" when a file was unreadable */
	char	*files;		/* the paths, NUL-separated */
	size_t	 len;		/* bytes of files */
	size_t	 nfiles;
};

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static struct loaded	 what[2];	/* CTL_CONFIG, CTL_RULES */
static time_t		 started;

/* hash_file -- feed path and its bytes to the digest; 0 or -1 */
static int
hash_file(EVP_MD_CTX *md, const char *path)
{
	unsigned char	 chunk[65536];
	size_t		 n, total = 0;
	FILE		*f;
	int		 rc = 0;

	(void)EVP_DigestUpdate(md, path, strlen(path) + 1);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if ((total += n) > HASH_FILE_MAX) {
			rc = -1;
			break;
		}
		(void)EVP_DigestUpdate(md, chunk, n);
	}
	if (ferror(f))
		rc = -1;
	(void)fclose(f);
	return rc;
}

/* ctl_loaded -- the files now in force for the configuration or the rules */
void
ctl_loaded(enum ctl_what w, const char *const *files, size_t n)
{
	struct loaded	 l;
	EVP_MD_CTX	*md;
	unsigned char	 dig[EVP_MAX_MD_SIZE];
	unsigned	 dlen = 0, i;
	size_t		 k, len = 0, off = 0;
	int		 ok = 1;

	memset(&l, 0, sizeof(l));
	l.at = time(NULL);
	for (k = 0; k < n; k++)
		len += strlen(files[k]) + 1;
	l.files = xmalloc(len + 1);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		ok = 0;
	for (k = 0; k < n; k++) {
		memcpy(l.files + off, files[k], strlen(files[k]) + 1);
		off += strlen(files[k]) + 1;
		if (ok && hash_file(md, files[k]) == -1)
			ok = 0;
	}
	l.nfiles = n;
	l.len = len;
	if (ok && EVP_DigestFinal_ex(md, dig, &dlen) == 1)
		for (i = 0; i < dlen && i < 32; i++)
			(void)snprintf(l.sha + 2 * i, 3, "%02x", dig[i]);
	EVP_MD_CTX_free(md);
	pthread_mutex_lock(&mu);
	if (started == 0)
		started = l.at;
	free(what[w].files);
	what[w] = l;
	pthread_mutex_unlock(&mu);
}

/* stamp -- a wall-clock time as "YYYY-MM-DD HH:MM:SS UTC" */
static void
stamp(time_t t, char *out, size_t len)
{
	struct tm	tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		(void)snprintf(out, len, "-");
		return;
	}
	(void)strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* stamp_json -- a time as RFC 3339 UTC, or null */
static void
stamp_json(struct buf *b, time_t t)
{
	struct tm	tm;
	char		s[40];

	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		buf_printf(b, "null");
		return;
	}
	(void)strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(b, "\"%s\"", s);
}

/* span -- seconds as "3d 4h 5m 6s" */
static void
span(uint64_t s, char *out, size_t len)
{
	if (s >= 86400)
		(void)snprintf(out, len, "%llud %lluh %llum %llus",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600),
		    (unsigned long long)(s % 3600 / 60),
		    (unsigned long long)(s % 60));
	else if (s >= 3600)
		(void)snprintf(out, len, "%lluh %llum %llus",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60),
		    (unsigned long long)(s % 60));
	else if (s >= 60)
		(void)snprintf(out, len, "%llum %llus",
		    (unsigned long long)(s / 60), (unsigned long long)(s % 60));
	else
		(void)snprintf(out, len, "%llus", (unsigned long long)s);
}

/* the store's state, read once */
struct store_state {
	int		 redis;		/* store = redis:// */
	int		 up;
	time_t		 since;
	size_t		 keys;		/* the memory store's (the fallback's) */
};

/* store_state -- what status says of the store */
static void
store_state(const struct cfg *cfg, struct store_state *st)
{
	struct rl_store	*s = milter_store();

	memset(st, 0, sizeof(*st));
	st->redis = strncmp(cfg->store, "redis://", 8) == 0;
	if (s == NULL)
		return;
	st->keys = s->ops->keys(s);
	if (st->redis)
		st->up = rl_store_redis_state(s, &st->since);
}

/* text_loaded -- a loaded set: its files, load time and hash */
static void
text_loaded(struct buf *out, const char *name, const struct loaded *l)
{
	const char	*p = l->files;
	char		 t[40];
	size_t		 i;

	stamp(l->at, t, sizeof(t));
	buf_printf(out, "%-12s%s\n", name, l->nfiles > 0 ? p : "(built-in "
	    "defaults)");
	for (i = 1, p += strlen(p) + 1; i < l->nfiles; i++, p += strlen(p) + 1)
		buf_printf(out, "%-12s  includes %s\n", "", p);
	buf_printf(out, "%-12s  loaded %s, sha256 %s\n", "", t,
	    l->sha[0] != '\0' ? l->sha : "(a file could not be read)");
}

/* json_loaded -- {"files":[...],"loaded":...,"sha256":...} */
static void
json_loaded(struct buf *out, const struct loaded *l)
{
	const char	*p = l->files;
	size_t		 i;

	buf_printf(out, "{\"files\":[");
	for (i = 0; i < l->nfiles; i++, p += strlen(p) + 1) {
		if (i > 0)
			buf_printf(out, ",");
		ctl_json_str(out, p);
	}
	buf_printf(out, "],\"loaded\":");
	stamp_json(out, l->at);
	buf_printf(out, ",\"sha256\":");
	ctl_json_str(out, l->sha[0] != '\0' ? l->sha : NULL);
	buf_printf(out, "}");
}

/* the argument of the stats walks */
struct walk {
	struct buf	*out;
	int		 json;
	int		 n;
};

/* one_dns -- one DNS list's counters */
static void
one_dns(void *arg, const char *list, const struct stats_dns *d)
{
	struct walk	*w = arg;

	if (w->json) {
		buf_printf(w->out, "%s{\"list\":", w->n++ > 0 ? "," : "");
		ctl_json_str(w->out, list);
		buf_printf(w->out, ",\"queries\":%llu,\"cache_hits\":%llu,"
		    "\"timeouts\":%llu,\"errors\":%llu}",
		    (unsigned long long)d->queries,
		    (unsigned long long)d->cache_hits,
		    (unsigned long long)d->timeouts,
		    (unsigned long long)d->errors);
		return;
	}
	if (w->n++ == 0)
		buf_printf(w->out, "  %-24s %10s %10s %10s %10s\n", "list",
		    "queries", "cache hits", "timeouts", "errors");
	buf_printf(w->out, "  %-24s %10llu %10llu %10llu %10llu\n", list,
	    (unsigned long long)d->queries, (unsigned long long)d->cache_hits,
	    (unsigned long long)d->timeouts, (unsigned long long)d->errors);
}

/* status_dns -- per DNS list: queries, cache hits, timeouts, errors */
static void
status_dns(struct buf *out, int json)
{
	struct walk	w = { out, json, 0 };

	stats_each_dns(one_dns, &w);
	if (!json && w.n == 0)
		buf_printf(out, "  no DNS list asked yet\n");
}

/* one_decision -- one rule, stage and action's count */
static void
one_decision(void *arg, const char *rule, const char *stage,
    const char *action, uint64_t n)
{
	struct walk	*w = arg;

	if (w->json) {
		buf_printf(w->out, "%s{\"rule\":", w->n++ > 0 ? "," : "");
		ctl_json_str(w->out, rule);
		buf_printf(w->out, ",\"stage\":");
		ctl_json_str(w->out, stage);
		buf_printf(w->out, ",\"action\":");
		ctl_json_str(w->out, action);
		buf_printf(w->out, ",\"count\":%llu}", (unsigned long long)n);
		return;
	}
	if (w->n++ == 0)
		buf_printf(w->out, "  %-24s %-8s %-16s %10s\n", "rule", "stage",
		    "action", "decisions");
	buf_printf(w->out, "  %-24s %-8s %-16s %10llu\n", rule, stage, action,
	    (unsigned long long)n);
}

/* status_decisions -- decisions per rule, stage and action since start */
static void
status_decisions(struct buf *out, int json)
{
	struct walk	w = { out, json, 0 };

	stats_each_decision(one_decision, &w);
	if (!json && w.n == 0)
		buf_printf(out, "  none yet\n");
}

/* ctl_status -- `status` */
int
ctl_status(const struct ctl_req *req, struct buf *out)
{
	const struct cfg	*cfg = milter_cfg();
	struct rules		*r;
	struct store_state	 st;
	struct loaded		 l[2];
	struct buf		 sum = BUF_INIT;
	time_t			 now = time(NULL), t0;
	char			 up[64], since[40];
	const char		*mode;
	int			 i;

	if (req->argc != 1) {
		buf_printf(out, "usage: mxgatectl status\n");
		return EX_USAGE;
	}
	r = milter_rules();
	rules_summary(r, &sum);
	rules_unref(r);
	store_state(cfg, &st);
	pthread_mutex_lock(&mu);
	for (i = 0; i < 2; i++) {
		l[i] = what[i];
		l[i].files = xmalloc(what[i].len + 1);
		if (what[i].len > 0)
			memcpy(l[i].files, what[i].files, what[i].len);
	}
	t0 = started;
	pthread_mutex_unlock(&mu);
	span(now > t0 ? (uint64_t)(now - t0) : 0, up, sizeof(up));
	mode = cfg->mode == CFG_MODE_MONITOR ? "monitor" : "enforce";
	if (req->json) {
		buf_printf(out, "{\"version\":");
		ctl_json_str(out, PACKAGE_VERSION);
		buf_printf(out, ",\"pid\":%ld,\"started\":", (long)getpid());
		stamp_json(out, t0);
		buf_printf(out, ",\"uptime_seconds\":%lld,\"mode\":\"%s\","
		    "\"config\":", (long long)(now - t0), mode);
		json_loaded(out, &l[CTL_CONFIG]);
		buf_printf(out, ",\"rules\":");
		json_loaded(out, &l[CTL_RULES]);
		/* the summary goes inside the rules object */
		buf_truncate(out, out->len - 1);
		buf_printf(out, ",\"summary\":");
		ctl_json_str(out, buf_str(&sum));
		buf_printf(out, "},\"store\":{\"kind\":\"%s\"",
		    st.redis ? "redis" : "memory");
		if (st.redis) {
			buf_printf(out, ",\"url\":");
			ctl_json_str(out, cfg->store);
			buf_printf(out, ",\"state\":\"%s\",\"since\":",
			    st.up ? "up" : "fallback");
			stamp_json(out, st.since);
			buf_printf(out, ",\"local_keys\":%zu,\"fallbacks\":%llu",
			    st.keys, (unsigned long long)stats_store_fallbacks());
		} else
			buf_printf(out, ",\"keys\":%zu", st.keys);
		buf_printf(out, ",\"max_keys\":%llu},\"dns\":{\"forwarders\":",
		    (unsigned long long)cfg->store_max_keys);
		ctl_json_str(out, cfg->dns_forwarders[0] != '\0' ?
		    cfg->dns_forwarders : NULL);
		buf_printf(out, ",\"lists\":[");
		status_dns(out, 1);
		buf_printf(out, "]},\"connections\":{\"mta\":%u,\"sessions\":%u,"
		    "\"max\":%llu},\"decisions\":[", engine_connections(),
		    milter_sessions(), (unsigned long long)cfg->max_connections);
		status_decisions(out, 1);
		buf_printf(out, "]}\n");
	} else {
		buf_printf(out, "mxgate %s, pid %ld, up %s (since ",
		    PACKAGE_VERSION, (long)getpid(), up);
		stamp(t0, since, sizeof(since));
		buf_printf(out, "%s)\n%-12s%s\n", since, "mode", mode);
		text_loaded(out, "config", &l[CTL_CONFIG]);
		text_loaded(out, "rules", &l[CTL_RULES]);
		buf_printf(out, "%-12s  %s\n", "", buf_str(&sum));
		if (st.redis) {
			stamp(st.since, since, sizeof(since));
			if (st.up)
				buf_printf(out, "%-12s%s: up%s%s\n", "store",
				    cfg->store, st.since != 0 ? " since " : "",
				    st.since != 0 ? since : "");
			else
				buf_printf(out, "%-12s%s: DOWN, falling back to "
				    "local counters since %s (%zu keys)\n",
				    "store", cfg->store, since, st.keys);
			buf_printf(out, "%-12s  %llu checks answered by the local "
			    "counters since start\n", "",
			    (unsigned long long)stats_store_fallbacks());
		} else
			buf_printf(out, "%-12smemory, %zu keys (at most %llu)\n",
			    "store", st.keys,
			    (unsigned long long)cfg->store_max_keys);
		buf_printf(out, "%-12s%s\n", "dns", cfg->dns_forwarders[0] !=
		    '\0' ? cfg->dns_forwarders : "recursive from the root");
		status_dns(out, 0);
		buf_printf(out, "%-12s%u from the MTA (%u in a session), at "
		    "most %llu\n", "connections", engine_connections(),
		    milter_sessions(), (unsigned long long)cfg->max_connections);
		buf_printf(out, "decisions since start:\n");
		status_decisions(out, 0);
	}
	for (i = 0; i < 2; i++)
		free(l[i].files);
	buf_free(&sum);
	return 0;
}
