/*
 * main -- options, daemonising, privilege drop, signals and reloads.
 *
 *   mxgate [-c FILE] [-f] [-n] [-V]
 *
 * Start-up order matters: signals are blocked before any thread exists;
 * the configuration and the rules are read and checked (every error
 * printed, exit 78); the socket is opened as root while the terminal is
 * still there to hear why it cannot be (exit 69); the process daemonises
 * before any thread starts; the pid file is written; then the process
 * drops to `user`/`group` and refuses to go on as root. Only then do the
 * engine's workers start (engine.c).
 *
 * Signals belong to the main thread alone: SIGHUP, SIGUSR1, SIGTERM and
 * SIGINT stay blocked in every thread and are read from a signalfd in the
 * main loop, so no handler runs anywhere and no signal can interrupt a
 * worker. SIGHUP and SIGUSR1 reload; SIGTERM and SIGINT stop accepting,
 * let the connections in flight finish (at most STOP_GRACE_SECS), and
 * exit 0.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "cfg.h"
#include "compat.h"
#include "ctl.h"
#include "diag.h"
#include "dkimv.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "mproto.h"
#include "ratelimit.h"
#include "refring.h"
#include "rules.h"
#include "state.h"
#include "stats.h"
#include "store_redis.h"
#include "xalloc.h"

#define STOP_GRACE_SECS	30	/* how long connections in flight may take at stop */

static void	usage(void) __attribute__((noreturn));
static int	check_only(const char *);
static struct rules *load_rules(const struct cfg *, struct diag *);
static void	reload_signal(const struct cfg *);

/* usage -- the synopsis, exit 64 */
static void
usage(void)
{
	fprintf(stderr, "usage: mxgate [-c FILE] [-f] [-n] [-V]\n");
	exit(EX_USAGE);
}

/* print_diag -- every collected error, to stderr or the log */
static void
print_diag(const struct diag *d, int to_log)
{
	const char	*p = buf_str(&d->out), *nl;

	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (to_log)
			log_warn("%.*s", (int)(nl - p), p);
		else
			fprintf(stderr, "%.*s\n", (int)(nl - p), p);
		if (*nl == '\0')
			break;
	}
}

/* version -- the protocol and the versions of the linked libraries, for -V */
static void
version(struct buf *b)
{
	buf_printf(b, "milter protocol %d (mxgate's own engine)\n",
	    SMFI_PROT_VERSION);
	buf_printf(b, "%s\n", OpenSSL_version(OPENSSL_VERSION));
	buf_printf(b, "libunbound %s\n", dns_version());
	buf_printf(b, "%s\n", dkimv_version());
	buf_printf(b, "%s\n", rl_redis_version());
}

/* load_rules -- read the rules file named by the configuration */
static struct rules *
load_rules(const struct cfg *cfg, struct diag *d)
{
	return rules_load(cfg->rules, d);
}

/*
 * check_only -- `-n`: check the configuration and the rules, print every
 * error as FILE:LINE:COL, and a summary line on success. 0 or 78.
 */
static int
check_only(const char *conf)
{
	struct cfg	 cfg;
	struct diag	 d = DIAG_INIT;
	struct buf	 warn = BUF_INIT, sum = BUF_INIT;
	struct rules	*r = NULL;
	int		 rc;

	rc = cfg_load(&cfg, conf, &d, &warn);
	if (cfg.rules != NULL)
		r = load_rules(&cfg, &d);
	fputs(buf_str(&warn), stderr);
	print_diag(&d, 0);
	if (rc == 0 && r != NULL && d.errors == 0) {
		rules_summary(r, &sum);
		printf("mxgate: %s: ok; %s: %s\n", conf, cfg.rules, buf_str(&sum));
	}
	rc = d.errors == 0 && r != NULL ? 0 : EX_CONFIG;
	if (r != NULL)
		rules_unref(r);
	buf_free(&sum);
	buf_free(&warn);
	diag_free(&d);
	cfg_free(&cfg);
	return rc;
}

/* note_config -- tell the control socket which configuration is in force */
static void
note_config(const struct cfg *cfg)
{
	const char	*path = cfg->path;
	char		*abs = NULL;

	if (path != NULL && (abs = realpath(path, NULL)) != NULL)
		path = abs;
	ctl_loaded(CTL_CONFIG, &path, path != NULL ? 1 : 0);
	free(abs);
}

/* the configuration in force, for reloads asked on the control socket */
static const struct cfg	*running_cfg;
static unsigned		 ctl_left;	/* control requests running at stop */
static pthread_mutex_t	 reload_mu = PTHREAD_MUTEX_INITIALIZER;

/* note_rules -- tell the control socket which rules files are in force */
static void
note_rules(const struct rules *r)
{
	const char *const *files;
	size_t		 n;

	files = rules_files(r, &n);
	ctl_loaded(CTL_RULES, files, n);
}

/*
 * reload -- build and check a new rule set; swap it in only when valid.
 * Errors are logged, and appended to errs (NULL: not wanted); the new
 * set's summary to sum. 0, or -1 when the old rules stay in force.
 */
static int
reload(const struct cfg *cfg, struct buf *errs, struct buf *sum)
{
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	int		 rc = 0;

	pthread_mutex_lock(&reload_mu);
	r = load_rules(cfg, &d);
	if (r == NULL || d.errors > 0) {
		log_warn("reload: %s has %u error%s; the old rules stay in force",
		    cfg->rules, d.errors, d.errors == 1 ? "" : "s");
		print_diag(&d, 1);
		if (errs != NULL)
			buf_printf(errs, "%s", buf_str(&d.out));
		if (r != NULL)
			rules_unref(r);
		rc = -1;
	} else {
		milter_set_rules(r);
		note_rules(r);
		rules_summary(r, sum);
		log_info("reload: ok: %s: %s", cfg->rules, buf_str(sum));
		rules_unref(r);
	}
	pthread_mutex_unlock(&reload_mu);
	diag_free(&d);
	return rc;
}

/* ctl_do_reload -- `mxgatectl reload` (ctl.h) */
int
ctl_do_reload(struct buf *errs, struct buf *sum)
{
	return reload(running_cfg, errs, sum);
}

/* reload_signal -- SIGHUP's reload: everything goes to the log */
static void
reload_signal(const struct cfg *cfg)
{
	struct buf	sum = BUF_INIT;

	(void)reload(cfg, NULL, &sum);
	buf_free(&sum);
}

/* daemonise -- detach from the terminal (before any thread starts) */
static void
daemonise(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		log_fatal(EX_OSERR, "fork: %s", strerror(errno));
	if (pid != 0)
		_exit(0);
	if (setsid() == -1)
		log_fatal(EX_OSERR, "setsid: %s", strerror(errno));
	if ((pid = fork()) == -1)
		log_fatal(EX_OSERR, "fork: %s", strerror(errno));
	if (pid != 0)
		_exit(0);
	if (chdir("/") == -1)
		log_fatal(EX_OSERR, "chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
}

/* make_parent -- create the directory of path (one level) owned by uid/gid */
static void
make_parent(const char *path, uid_t uid, gid_t gid)
{
	char	dir[4096];
	char	*slash;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		log_fatal(EX_CONFIG, "path too long: %s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0) {
		if (geteuid() == 0 && chown(dir, uid, gid) == -1)
			log_fatal(EX_OSERR, "chown %s: %s", dir, strerror(errno));
	} else if (errno != EEXIST)
		log_fatal(EX_CANTCREAT, "mkdir %s: %s", dir, strerror(errno));
}

/* write_pid -- the pid file, owned by the daemon's user so it can remove it */
static void
write_pid(const char *path, uid_t uid, gid_t gid)
{
	FILE	*f;
	int	 fd;

	make_parent(path, uid, gid);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL)
		log_fatal(EX_CANTCREAT, "pid file %s: %s", path, strerror(errno));
	fprintf(f, "%ld\n", (long)getpid());
	if (geteuid() == 0 && fchown(fd, uid, gid) == -1)
		log_fatal(EX_OSERR, "chown %s: %s", path, strerror(errno));
	if (fclose(f) == EOF)
		log_fatal(EX_IOERR, "pid file %s: %s", path, strerror(errno));
}

/* lookup_ids -- the uid and gid of the configured user and group */
static void
lookup_ids(const struct cfg *cfg, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;

	*uid = geteuid();
	*gid = getegid();
	if (geteuid() != 0)
		return;		/* started unprivileged: stay who we are */
	if ((pw = getpwnam(cfg->user)) == NULL)
		log_fatal(EX_NOUSER, "user %s does not exist", cfg->user);
	if ((gr = getgrnam(cfg->group)) == NULL)
		log_fatal(EX_NOUSER, "group %s does not exist", cfg->group);
	if (pw->pw_uid == 0)
		log_fatal(EX_CONFIG, "user %s is root: mxgate does not handle "
		    "mail as root", cfg->user);
	*uid = pw->pw_uid;
	*gid = gr->gr_gid;
}

/* drop_privileges -- become uid/gid for good, and check that it stuck */
static void
drop_privileges(uid_t uid, gid_t gid)
{
	if (geteuid() != 0) {
		if (getuid() == 0)
			log_fatal(EX_CONFIG, "refusing to run with a real uid of root");
		return;
	}
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 || setuid(uid) == -1)
		log_fatal(EX_OSERR, "cannot drop privileges to %ld:%ld: %s",
		    (long)uid, (long)gid, strerror(errno));
	if (setuid(0) != -1 || geteuid() == 0 || getuid() == 0)
		log_fatal(EX_SOFTWARE, "still root after the privilege drop");
}

/*
 * wait_sessions -- let connections in flight finish, at most
 * STOP_GRACE_SECS. Signals wait meanwhile in the signalfd; a stop is a
 * stop.
 */
static void
wait_sessions(void)
{
	struct timespec	t = { 0, 100 * 1000 * 1000 };
	int		i;

	for (i = 0; i < STOP_GRACE_SECS * 10 && engine_connections() > 0; i++)
		(void)nanosleep(&t, NULL);
	if (engine_connections() > 0)
		log_warn("stop: %u connection%s still open after %d s",
		    engine_connections(), engine_connections() == 1 ? "" : "s",
		    STOP_GRACE_SECS);
}

/* save_state -- write the state file now (when there is one); log failures */
static void
save_state(const struct cfg *cfg, struct rl_store *store, int at_stop)
{
	struct buf	err = BUF_INIT;
	int		n;

	if (cfg->state_file == NULL || cfg->state_file[0] == '\0')
		return;
	if ((n = state_save(store, cfg->state_file, rl_now(), state_wallclock(),
	    &err)) == -1)
		log_warn("state_file: cannot write: %s", buf_str(&err));
	else if (at_stop)
		log_info("state_file %s: %d counter%s saved", cfg->state_file,
		    n, n == 1 ? "" : "s");
	buf_free(&err);
}

/* load_state -- read the state file at start; a bad one is reported and ignored */
static void
load_state(const struct cfg *cfg, struct rl_store *store)
{
	struct state_stats st;
	struct buf	 err = BUF_INIT;
	char		*dir;

	if (cfg->state_file == NULL || cfg->state_file[0] == '\0')
		return;
	if (access(cfg->state_file, F_OK) == -1 && errno == ENOENT)
		log_info("state_file %s: none yet; counters start afresh",
		    cfg->state_file);
	else if (state_load(store, cfg->state_file,
	    (size_t)cfg->store_max_keys, rl_now(), state_wallclock(), &st,
	    &err) == -1)
		log_warn("state_file: %s; ignored, counters start afresh",
		    buf_str(&err));
	else
		log_info("state_file %s: %zu counter%s restored, %zu expired "
		    "meanwhile", cfg->state_file, st.loaded,
		    st.loaded == 1 ? "" : "s", st.expired);
	/* tell now, not at stop, when it cannot be written */
	dir = xstrdup(cfg->state_file);
	if (access(dirname(dir), W_OK | X_OK) == -1)
		log_warn("state_file %s: the directory is not writable by "
		    "this user (%s): counters will not be saved",
		    cfg->state_file, strerror(errno));
	free(dir);
	buf_free(&err);
}

/*
 * serve -- the main loop: signals from the signalfd (reload, stop), the
 * state file every state_interval, the engine's tick once a second.
 * Returns at stop, after the connections in flight (bounded wait).
 */
static int
serve(const struct cfg *cfg, const sigset_t *set, struct rl_store *store)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd;
	time_t			 next_save = 0, now;
	int			 sfd, wait_ms;
	ssize_t			 n;

	if ((sfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		log_fatal(EX_OSERR, "signalfd: %s", strerror(errno));
	if (cfg->state_interval > 0)
		next_save = time(NULL) + (time_t)cfg->state_interval;
	for (;;) {
		wait_ms = 1000;
		if (next_save != 0) {
			now = time(NULL);
			if (now >= next_save) {
				save_state(cfg, store, 0);
				next_save = now + (time_t)cfg->state_interval;
			}
			if ((next_save - now) * 1000 < wait_ms)
				wait_ms = (int)(next_save - now) * 1000;
		}
		pfd.fd = sfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, wait_ms) == -1 && errno != EINTR)
			log_fatal(EX_OSERR, "poll: %s", strerror(errno));
		engine_tick();
		while ((n = read(sfd, &si, sizeof(si))) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP || si.ssi_signo == SIGUSR1) {
				reload_signal(cfg);
				continue;
			}
			log_info("stop: signal %u, waiting for %u connection%s",
			    si.ssi_signo, engine_connections(),
			    engine_connections() == 1 ? "" : "s");
			if ((ctl_left = ctl_stop()) > 0)
				log_warn("stop: %u mxgatectl request%s still "
				    "running after %d s", ctl_left,
				    ctl_left == 1 ? "" : "s", CTL_STOP_WAIT_SECS);
			metrics_stop();
			engine_unlisten();
			wait_sessions();
			if (engine_connections() == 0)
				engine_stop();
			save_state(cfg, store, 1);
			(void)close(sfd);
			return 0;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			log_fatal(EX_OSERR, "signalfd: %s", strerror(errno));
	}
}

/*
 * make_store -- the rate counters: the memory store with the state file
 * read into it, behind Redis when store = redis://
 */
static struct rl_store *
make_store(const struct cfg *cfg, char *user, char *pass)
{
	struct rl_redis_conf rc;
	struct rl_store	*local;
	char		*host;

	local = rl_store_memory((size_t)cfg->store_max_keys);
	load_state(cfg, local);
	if (strncmp(cfg->store, "redis://", 8) != 0)
		return local;
	memset(&rc, 0, sizeof(rc));
	if (rl_redis_url(cfg->store, &rc, &host) == -1)
		log_fatal(EX_CONFIG, "bad store %s", cfg->store);
	rc.user = user;
	rc.password = pass;
	rc.connect_ms = 1000;
	rc.command_ms = 250;
	rc.pool = 16;
	rc.tempfail = cfg->store_error == CFG_STORE_ERROR_TEMPFAIL;
	local = rl_store_redis(&rc, local);
	free(host);
	return local;
}

/* start -- load everything, open the socket, drop privileges, serve */
static int
start(const char *conf, int foreground, const sigset_t *set)
{
	/* static: sessions past the stop grace period may still read it */
	static struct cfg cfg;
	struct diag	 d = DIAG_INIT;
	struct buf	 warn = BUF_INIT, err = BUF_INIT, sum = BUF_INIT;
	struct rules	*r = NULL;
	struct rl_store	*store;
	struct dns	*dns;
	char		*user = NULL, *pass = NULL;
	uid_t		 uid;
	gid_t		 gid;
	int		 rc;

	rc = cfg_load(&cfg, conf, &d, &warn);
	if (cfg.rules != NULL)
		r = load_rules(&cfg, &d);
	fputs(buf_str(&warn), stderr);
	if (rc != 0 || r == NULL || d.errors > 0) {
		print_diag(&d, 0);
		if (r != NULL)
			rules_unref(r);
		buf_free(&warn);
		diag_free(&d);
		cfg_free(&cfg);
		return EX_CONFIG;
	}
	if (foreground && cfg.log == LOG_TO_SYSLOG &&
	    access("/dev/log", W_OK) == -1) {
		/* no syslog daemon: a foreground mxgate must not log into the void */
		fprintf(stderr, "mxgate: no syslog socket /dev/log: logging to stderr\n");
		cfg.log = LOG_TO_STDERR;
	}
	log_open(foreground && cfg.log == LOG_TO_STDERR ? LOG_TO_STDERR :
	    LOG_TO_SYSLOG);
	lookup_ids(&cfg, &uid, &gid);
	/* the Redis password file may be readable by root only */
	if (strncmp(cfg.store, "redis://", 8) == 0 &&
	    cfg.store_password_file[0] != '\0' &&
	    rl_redis_secret(cfg.store_password_file, &user, &pass, &err) == -1)
		log_fatal(EX_CONFIG, "store_password_file: %s", buf_str(&err));
	milter_init(&cfg, r);
	refring_init((size_t)cfg.ref_history);
	stats_init();	/* metrics: the start time */
	/* before daemonising: whoever starts mxgate hears why it cannot */
	if (engine_open(&cfg, uid, gid, &err) == -1 ||
	    ctl_open(&cfg, uid, gid, &err) == -1 ||
	    metrics_open(&cfg, &err) == -1) {
		if (!foreground || cfg.log != LOG_TO_STDERR)
			fprintf(stderr, "mxgate: %s\n", buf_str(&err));
		log_fatal(EX_UNAVAILABLE, "%s", buf_str(&err));
	}
	/* before chdir("/"): the paths may be relative */
	note_config(&cfg);
	note_rules(r);
	if (!foreground)
		daemonise();
	write_pid(cfg.pid_file, uid, gid);
	drop_privileges(uid, gid);
	store = make_store(&cfg, user, pass);
	if (pass != NULL)
		explicit_bzero(pass, strlen(pass));
	free(user);
	free(pass);
	milter_set_store(store);
	/* after the fork and the drop: its threads run as the mxgate user */
	if ((dns = dns_new(cfg.dns_forwarders, &err)) == NULL ||
	    dns_start(dns, &err) == -1)
		log_fatal(EX_UNAVAILABLE, "DNS engine: %s", buf_str(&err));
	if (dkimv_init(dns, (unsigned)cfg.dns_timeout * 1000,
	    (unsigned)cfg.dkim_max_signatures, &err) == -1)
		log_fatal(EX_UNAVAILABLE, "DKIM: %s", buf_str(&err));
	milter_set_dns(dns);
	if (engine_start(&cfg, &err) == -1)
		log_fatal(EX_OSERR, "engine: %s", buf_str(&err));
	running_cfg = &cfg;
	if (ctl_start(&cfg, &err) == -1 || metrics_start(&err) == -1)
		log_fatal(EX_OSERR, "%s", buf_str(&err));
	rules_summary(r, &sum);
	log_info("mxgate %s starting: rules %s: %s; socket %s; mode %s; dns %s; "
	    "max_connections %llu, %u workers", PACKAGE_VERSION, cfg.rules,
	    buf_str(&sum), cfg.socket,
	    cfg.mode == CFG_MODE_MONITOR ? "monitor" : "enforce",
	    cfg.dns_forwarders != NULL && cfg.dns_forwarders[0] != '\0' ?
	    cfg.dns_forwarders : "recursive",
	    (unsigned long long)cfg.max_connections, engine_workers());
	rules_unref(r);
	rc = serve(&cfg, set, store);
	if (unlink(cfg.pid_file) == -1 && errno != ENOENT)
		log_warn("cannot remove %s: %s", cfg.pid_file, strerror(errno));
	if (engine_connections() > 0 || ctl_left > 0) {
		/*
		 * Sessions still open after the grace period run on the
		 * engine's workers and read the configuration, their rules,
		 * the store and the DNS engine: free none of it, and end the
		 * process at once, without the exit handlers that tear
		 * libraries down under them.
		 */
		if (ctl_left == 0)
			log_info("mxgate stopped; %u connection%s still open: "
			    "exiting without waiting for them",
			    engine_connections(),
			    engine_connections() == 1 ? "" : "s");
		else
			log_info("mxgate stopped; %u connection%s and %u "
			    "mxgatectl request%s still open: exiting without "
			    "waiting for them", engine_connections(),
			    engine_connections() == 1 ? "" : "s", ctl_left,
			    ctl_left == 1 ? "" : "s");
		_exit(rc);
	}
	log_info("mxgate stopped");
	milter_set_rules(NULL);
	dkimv_shutdown();
	dns_free(dns);
	rl_store_free(store);
	buf_free(&warn);
	buf_free(&err);
	buf_free(&sum);
	diag_free(&d);
	cfg_free(&cfg);
	return rc;
}

int
main(int argc, char *argv[])
{
	sigset_t	 set;
	const char	*conf = CFG_DEFAULT_PATH;
	int		 ch, foreground = 0, check = 0;
	struct buf	 v = BUF_INIT;

	/* before any thread exists: every thread inherits this mask */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return EX_OSERR;
	(void)signal(SIGPIPE, SIG_IGN);
	log_open(LOG_TO_STDERR);

	while ((ch = getopt(argc, argv, "c:fnV")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			version(&v);
			printf("mxgate %s\n%s", PACKAGE_VERSION, buf_str(&v));
			buf_free(&v);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (check)
		return check_only(conf);
	return start(conf, foreground, &set);
}
