/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - the one set of parsers for the values of every subcommand's
 * options: seconds, counts and ids, opcodes, drivers.  Each returns 0 and
 * stores the value, or -1 and leaves *out alone; the caller says what was
 * wrong in words that fit its option.
 */
#ifndef NVMESCOPE_PARSE_H
#define NVMESCOPE_PARSE_H

#include "tool.h"

/* Longest -i/-d, and the shortest: a day, and 10 ms. */
#define NS_SECONDS_MIN 0.01
#define NS_SECONDS_MAX 86400.0
/* Largest -n of top, -c of trace and merge, -k of timeline. */
#define NS_COUNT_MAX 1000000000L
/* --sample of top and lat: the largest N, and top's default. */
#define NS_SAMPLE_MAX 65536L
#define NS_TOP_SAMPLE 16

/*
 * Seconds as a decimal number ("1", "0.5", "2e-2"), from NS_SECONDS_MIN to
 * NS_SECONDS_MAX; no unit, no sign, no space, nothing after it.
 */
int parse_seconds(const char *arg, double *out);
/*
 * A whole number from min to max: decimal, 0x hex or 0 octal (as C
 * writes it, strtol base 0); no sign, no space, nothing after it.
 */
int parse_number(const char *arg, long min, long max, long *out);
/* read, write, flush or a number from 0 to 255. */
int parse_opcode(const char *arg, int *out);
/* tnvme or nvme. */
int parse_driver(const char *arg, enum ns_driver *out);

#endif /* NVMESCOPE_PARSE_H */
