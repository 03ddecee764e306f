/*
 * cfg -- mxgate.conf: `name = value` lines (spec section 3).
 *
 * One declarative parameter table (name, type, default, min, max, doc)
 * drives parsing, the checks of `mxgate -n`, the shipped mxgate.conf (all
 * defaults, commented) and the defaults list in mxgate.conf(5).
 * Unknown names, bad values and out-of-range numbers are errors reported
 * as FILE:LINE:COL, all of them. Parameters that belong to checks this
 * build does not have yet are accepted with a warning (never silently
 * ignored).
 *
 * A struct cfg is filled once at start-up and read-only afterwards.
 */
#ifndef MXGATE_CFG_H
#define MXGATE_CFG_H

#include <stdint.h>

#include "buf.h"
#include "diag.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define CFG_DEFAULT_PATH	SYSCONFDIR "/mxgate/mxgate.conf"
#define CFG_LINE_MAX		4096		/* bytes per line, without the newline */
#define CFG_FILE_MAX		(1024 * 1024)	/* bytes per file */

enum cfg_mode {
	CFG_MODE_ENFORCE,
	CFG_MODE_MONITOR
};

enum cfg_on_error {
	CFG_ON_ERROR_TEMPFAIL,
	CFG_ON_ERROR_ACCEPT
};

enum cfg_store_error {
	CFG_STORE_ERROR_FALLBACK,
	CFG_STORE_ERROR_TEMPFAIL
};

struct cfg {
	char			*path;		/* the file read, or NULL for built-in defaults */
	char			*socket;
	unsigned		 socket_mode;
	char			*user;
	char			*group;
	char			*pid_file;
	char			*rules;
	enum cfg_mode		 mode;
	enum log_target		 log;
	char			*hostname;
	char			*authserv_id;
	enum cfg_on_error	 on_internal_error;
	char			*dns_forwarders;
	uint64_t		 dns_timeout;	/* seconds */
	uint64_t		 stage_timeout;	/* seconds: one SMTP stage's checks */
	char			*store;
	char			*store_password_file;
	uint64_t		 store_max_keys;
	enum cfg_store_error	 store_error;
	char			*state_file;
	uint64_t		 state_interval;	/* seconds, 0: only at stop */
	int			 add_auth_results;
	uint64_t		 dkim_max_signatures;
	uint64_t		 max_connections;
	char			*control_socket;	/* unix:/PATH, or "" */
	char			*metrics_listen;	/* IP:PORT, or "" */
	uint64_t		 ref_history;	/* decisions kept for `mxgatectl ref` */
};

/* every parameter at its default; rules = SYSCONFDIR/mxgate/default.rules */
void	cfg_defaults(struct cfg *);
/*
 * cfg_load(cfg, path, diag, warnings): defaults, then the file at path
 * (NULL: defaults only). Every error goes to diag as FILE:LINE:COL;
 * warnings for parameters without effect in this build are appended to
 * warnings, one line each (NULL: logged with log_warn). Returns 0, or -1
 * when the file had an error; cfg is filled either way (valid values set,
 * the rest at defaults) and must be released with cfg_free().
 */
int	cfg_load(struct cfg *, const char *, struct diag *, struct buf *);
/* release the strings of a cfg; it may be filled again */
void	cfg_free(struct cfg *);
/* append the shipped mxgate.conf: every parameter, documented, commented */
void	cfg_write_defaults(struct buf *);

#endif
