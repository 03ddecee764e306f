/*
 * num -- the bounded number parser (see num.h).
 */
#include "config.h"

#include <stdio.h>

#include "num.h"

/* num_parse -- decimal digits only, value within [min, max]; 0 or -1 */
int
num_parse(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* num_parse_duration -- N followed by s, m, h or d, in seconds within [min, max] */
int
num_parse_duration(const char *s, size_t len, enum num_unit unit,
    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v, mul = 1;

	if (len == 0)
		return -1;
	switch (s[len - 1]) {
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		if (unit == NUM_UNIT_REQUIRED)
			return -1;
		mul = 0;
		break;
	}
	if (mul == 0)
		mul = 1;
	else
		len--;
	if (num_parse(s, len, 0, UINT64_MAX / 86400, &v) == -1)
		return -1;
	v *= mul;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* num_format_duration -- seconds as the largest exact unit: 3600 -> "1h" */
void
num_format_duration(uint64_t secs, char *out, size_t outlen)
{
	if (secs != 0 && secs % 86400 == 0)
		(void)snprintf(out, outlen, "%llud", (unsigned long long)(secs / 86400));
	else if (secs != 0 && secs % 3600 == 0)
		(void)snprintf(out, outlen, "%lluh", (unsigned long long)(secs / 3600));
	else if (secs != 0 && secs % 60 == 0)
		(void)snprintf(out, outlen, "%llum", (unsigned long long)(secs / 60));
	else
		(void)snprintf(out, outlen, "%llus", (unsigned long long)secs);
}
