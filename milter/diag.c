/*
 * diag -- collect file:line:col errors (see diag.h).
 */
#include "config.h"

#include <stdarg.h>

#include "diag.h"

/* diag_error -- record one error; a line or column of 0 is left out */
void
diag_error(struct diag *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	va_list		ap;
	unsigned	max = d->max ? d->max : 1000;

	d->errors++;
	if (d->errors > max)
		return;
	if (d->errors == max) {
		buf_printf(&d->out, "%s: error: too many errors, giving up\n", file);
		return;
	}
	buf_puts(&d->out, file);
	if (line > 0)
		buf_printf(&d->out, ":%u", line);
	if (line > 0 && col > 0)
		buf_printf(&d->out, ":%u", col);
	buf_puts(&d->out, ": error: ");
	va_start(ap, fmt);
	buf_vprintf(&d->out, fmt, ap);
	va_end(ap);
	buf_putc(&d->out, '\n');
}

/* diag_free -- release the collected text */
void
diag_free(struct diag *d)
{
	buf_free(&d->out);
	d->errors = 0;
}
