/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - a small streaming JSON writer: nvmescope prints one object per
 * line (per interval, or per command in trace), see docs/nvmescope-json.md.
 * key is NULL for array elements and for the top-level object.
 */
#ifndef NVMESCOPE_JSON_H
#define NVMESCOPE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no comma before the next member */
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *s);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);	/* NaN -> null */
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* After the top-level object: newline and flush (one object per line). */
void json_end_line(struct json *j);

#endif
