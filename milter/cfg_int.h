/*
 * cfg_int -- what cfg.c (the table and the file parser) and cfg_value.c
 * (the value checkers) share. Not for use outside the cfg module.
 */
#ifndef MXGATE_CFG_INT_H
#define MXGATE_CFG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dns.h"

#define MAX_FORWARDERS	DNS_FORWARDERS_MAX	/* the engine's bound (dns.h) */
#define NAME_MAX_LEN	32	/* user and group names */
#define CLIP		60	/* bytes of a bad value quoted in a message */

enum ptype {
	PT_SOCKET,		/* libmilter socket spec */
	PT_MODE,		/* octal permission bits */
	PT_NAME,		/* user or group name */
	PT_PATH,		/* absolute path (PF_RELATIVE: or relative) */
	PT_ENUM,		/* one word of `words` */
	PT_BOOL,		/* yes or no */
	PT_DURATION,		/* N[smhd], bare N = seconds */
	PT_COUNT,		/* decimal number */
	PT_HOSTNAME,		/* DNS host name */
	PT_FORWARDERS,		/* comma-separated IP[@PORT] */
	PT_STORE,		/* memory or redis://HOST:PORT[/DB] */
	PT_CTLSOCK,		/* unix:/PATH only */
	PT_LISTEN		/* IP:PORT or [IPv6]:PORT */
};

#define PF_EMPTY_OK	0x01	/* an empty value is allowed */
#define PF_RELATIVE	0x02	/* PT_PATH: relative to the file's directory */
#define PF_SECRET	0x04	/* PT_PATH: a file only its owner may read */

struct word {
	const char	*word;
	int		 value;
};

struct param {
	const char		*name;
	enum ptype		 type;
	const char		*def;	/* the default, as written in the file */
	uint64_t		 min, max;
	size_t			 off;	/* offsetof(struct cfg, field) */
	const struct word	*words;	/* PT_ENUM, PT_BOOL */
	unsigned		 flags;
	const char		*doc;
	const char		*notyet; /* why it has no effect yet, or NULL */
};

/* one parsed value: strings for string types, n for the others */
struct pval {
	char		*s;
	uint64_t	 n;
};

/* a checker's complaint: message, and byte offset into the value */
struct perr {
	struct buf	 msg;
	size_t		 off;
};

int	cfg_is_hostname(const char *, size_t);
const char *cfg_clip(char *, size_t, const char *, size_t);
int	cfg_check_value(const struct param *, const char *, struct pval *,
	    struct perr *);

#endif
