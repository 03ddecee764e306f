/*
 * num -- the one bounded number parser. Every number that comes from a
 * file or a peer goes through here (atoi/strtol are not used elsewhere).
 *
 * Input is a byte range, not a C string: no NUL needed, nothing past
 * `len` is read. Only plain decimal digits are accepted (no sign, no
 * spaces, no 0x); a value outside [min, max] is an error.
 */
#ifndef MXGATE_NUM_H
#define MXGATE_NUM_H

#include <stddef.h>
#include <stdint.h>

enum num_unit {
	NUM_UNIT_REQUIRED,	/* durations in rules files: N[smhd], suffix required */
	NUM_UNIT_OPTIONAL	/* durations in mxgate.conf: a bare N is seconds */
};

int	num_parse(const char *, size_t, uint64_t, uint64_t, uint64_t *);
int	num_parse_duration(const char *, size_t, enum num_unit, uint64_t,
	    uint64_t, uint64_t *);
void	num_format_duration(uint64_t, char *, size_t);

#endif
