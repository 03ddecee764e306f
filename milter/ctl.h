/*
 * ctl -- the control socket of the daemon, for mxgatectl(8).
 *
 *   ctl_open(cfg, uid, gid, err)   the socket (control_socket), as root
 *				    before the privilege drop: mode 0660,
 *				    owned by uid:gid. 0 (also when
 *				    control_socket is empty), or -1.
 *   ctl_start(cfg, err)            the thread that accepts (after the
 *				    drop). 0 or -1.
 *   ctl_stop()                     close the socket (its file removed if
 *				    still ours) and wait (bounded) for the
 *				    requests in flight; returns how many
 *				    are still running.
 *   ctl_loaded(what, files, n)     main.c, at start and after each good
 *				    reload: the files read for the
 *				    configuration (CTL_CONFIG) or the rules
 *				    (CTL_RULES), for status (load time and
 *				    a SHA-256 of their contents).
 *
 * The protocol (one request per connection; both sides bounded):
 *
 *   request   fields, each "LEN:BYTES," (LEN decimal, at most
 *	       CTL_FIELD_MAX bytes; at most CTL_FIELDS fields and
 *	       CTL_REQUEST_MAX bytes in all), then the client shuts down
 *	       its side. Field 0 is "mxgatectl 1" (the protocol version),
 *	       field 1 "text" or "json", field 2 the command, the rest its
 *	       arguments as mxgatectl got them (explain --message FILE
 *	       arrives as "--message-data" and the file's bytes).
 *   response  "EXIT N\n" (N a sysexits code, 0 for success), then the
 *	       body: mxgatectl writes it to stdout when N is 0, to stderr
 *	       otherwise. The daemon renders the body, text or JSON.
 *
 * Who may ask: the socket's mode and group decide (0660, group of the
 * daemon); the daemon also reads the peer's credentials (SO_PEERCRED)
 * and refuses anyone who is not root, its own uid, or a member of its
 * group (defence in depth, and the uid goes into the log of a reset).
 *
 * Each command has a handler, one ctl_fn, in its own file
 * (ctl_status.c, ctl_limit.c, ctl_explain.c, ctl_ref.c). A handler
 * runs on a control thread, never on an engine worker; several may run
 * at once (at most CTL_THREADS). It reads what it needs through the
 * accessors below and milter.h, writes its output in out, and returns
 * a sysexits code (out then holds the error message, one or more
 * lines, printed by mxgatectl on stderr).
 */
#ifndef MXGATE_CTL_H
#define MXGATE_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "cfg.h"

#define CTL_PROTO	"mxgatectl 1"
#define CTL_FIELD_MAX	(16u * 1024 * 1024)	/* one field: explain's message */
#define CTL_REQUEST_MAX	(17u * 1024 * 1024)
#define CTL_FIELDS	1024
#define CTL_THREADS	8		/* requests served at once */
#define CTL_IO_SECS	10		/* to read a request, write a response */
#define CTL_STOP_WAIT_SECS 5		/* for the requests in flight at stop */

struct ctl_req {
	int		  json;		/* --json */
	uid_t		  uid;		/* the peer */
	gid_t		  gid;
	pid_t		  pid;
	size_t		  argc;		/* argv[0] is the command */
	char		**argv;		/* NUL-terminated; may hold NULs inside */
	size_t		 *arglen;	/* the length of each argv[i] */
};

typedef int (*ctl_fn)(const struct ctl_req *, struct buf *);

int	ctl_open(const struct cfg *, uid_t, gid_t, struct buf *);
int	ctl_start(const struct cfg *, struct buf *);
unsigned ctl_stop(void);

/* the handlers */
int	ctl_status(const struct ctl_req *, struct buf *);
int	ctl_reload(const struct ctl_req *, struct buf *);
int	ctl_limit(const struct ctl_req *, struct buf *);
int	ctl_explain(const struct ctl_req *, struct buf *);
int	ctl_ref(const struct ctl_req *, struct buf *);

/*
 * main.c's side: reload the rules now (the same as SIGHUP, and logged the
 * same way), with every error appended to the first buffer as
 * FILE:LINE:COL lines and the new rules' summary to the second. 0, or -1
 * when the new rules are invalid (the old ones stay in force).
 * Serialised with SIGHUP's reload.
 */
int	ctl_do_reload(struct buf *, struct buf *);

/* the framing (ctl_proto.c) */
void	ctl_field(struct buf *, const char *, size_t);
int	ctl_parse(const char *, size_t, char ***, size_t **, size_t *, char **,
	    const char **);

enum ctl_what { CTL_CONFIG, CTL_RULES };

void	ctl_loaded(enum ctl_what, const char *const *, size_t);

/*
 * JSON helpers for the handlers: a quoted, escaped string (always valid
 * JSON: bytes that are not UTF-8 become U+FFFD; NULL: null), and each
 * line of a text as a string, comma-separated (for an array)
 */
void	ctl_json_str(struct buf *, const char *);
void	ctl_json_strn(struct buf *, const char *, size_t);
void	ctl_json_lines(struct buf *, const char *);

#endif
