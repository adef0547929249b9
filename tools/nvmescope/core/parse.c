// SPDX-License-Identifier: GPL-2.0
/*
 * parse.c - option values, the same syntax for every subcommand.
 *
 * strtod() and strtol() alone accept more than the docs promise: leading
 * spaces, a sign ("-1" becomes a huge unsigned count), "inf" and "nan",
 * and for strtod hexadecimal floats.  So the first character must be a
 * digit (or the '.' of ".5"), and the whole string must be used.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"

int parse_seconds(const char *arg, double *out)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)arg[0]) && arg[0] != '.')
		return -1;
	/* "0x1p3" would be 8 seconds to strtod: not a number of seconds */
	if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X'))
		return -1;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) ||
	    v < NS_SECONDS_MIN || v > NS_SECONDS_MAX)
		return -1;
	*out = v;
	return 0;
}

int parse_number(const char *arg, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)arg[0]))
		return -1;
	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_opcode(const char *arg, int *out)
{
	long v;

	if (!strcmp(arg, "read"))
		*out = 0x02;
	else if (!strcmp(arg, "write"))
		*out = 0x01;
	else if (!strcmp(arg, "flush"))
		*out = 0x00;
	else if (!parse_number(arg, 0, 255, &v))
		*out = v;
	else
		return -1;
	return 0;
}

int parse_driver(const char *arg, enum ns_driver *out)
{
	if (!strcmp(arg, "tnvme"))
		*out = NS_DRIVER_TNVME;
	else if (!strcmp(arg, "nvme"))
		*out = NS_DRIVER_NVME;
	else
		return -1;
	return 0;
}
