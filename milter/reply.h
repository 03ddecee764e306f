/*
 * reply -- reply templates and the SMTP reply text built from them.
 *
 * Templates ("... ${client_ip} ... $$ ...") are compiled at load time:
 * every ${NAME} is resolved through the caller's resolver to a variable id
 * (an enum fact), so an unknown name is a load-time error, never a runtime
 * surprise. Template literal text must be printable ASCII.
 *
 * Expansion sanitises every value: control characters (CR, LF, NUL, TAB
 * ...) are removed and bytes outside printable ASCII become '?'. Values are
 * capped at 1000 bytes each.
 *
 * reply_build() turns a code, an enhanced code and a text into at most 32
 * reply lines for libmilter: each line, as the client sees it
 * ("451-4.7.1 text"), is at most 510 octets plus CRLF; text is wrapped at
 * spaces where it can (a long word is split); '%' is doubled in the stored
 * lines for libmilter and never split from its twin. Text that does not fit
 * in 32 lines is cut and the last line ends with "..." -- the footer, when
 * there is one, is always the last line.
 *
 * Compiled templates are immutable: expansion is thread-safe.
 */
#ifndef MXGATE_REPLY_H
#define MXGATE_REPLY_H

#include <stddef.h>

#include "buf.h"
#include "diag.h"

#define REPLY_MAX_LINES		32
#define REPLY_LINE_MAX		510	/* octets per line without CRLF */

struct tmpl;

/* resolve NAME (not NUL-terminated) to a variable id; on error record it in the diag and return -1 */
typedef int	(*tmpl_resolve_fn)(void *, const char *, size_t, unsigned, int *);
/* append the (unsanitised) value of variable id to out */
typedef void	(*tmpl_value_fn)(void *, int, struct buf *);

struct tmpl *tmpl_compile(const char *, size_t, tmpl_resolve_fn, void *,
	    struct diag *, const char *, unsigned, unsigned);
void	tmpl_free(struct tmpl *);
int	tmpl_uses(const struct tmpl *, int);
void	tmpl_foreach_var(const struct tmpl *, void (*)(void *, int), void *);
void	tmpl_expand(const struct tmpl *, tmpl_value_fn, void *, struct buf *);
void	reply_sanitize(struct buf *, const char *, size_t);

struct reply {
	char		 code[4];		/* "451" */
	char		 ecode[16];		/* "4.7.1" */
	unsigned	 nlines;
	char		*line[REPLY_MAX_LINES];	/* text only, '%' doubled */
};

void	reply_build(struct reply *, const char *, const char *, const char *,
	    const char *);
void	reply_format(const struct reply *, struct buf *);
void	reply_free(struct reply *);

#endif
