// SPDX-License-Identifier: GPL-2.0
/*
 * hostrec.c - the file "nvmescope record" writes in the guest, and reads
 * back in "merge".  Plain text, one line per command, so it streams and a
 * reader can look at it:
 *
 *   # nvmescope-record 1
 *   # clock realtime_ns=R monotonic_ns=M        guest clocks at the start
 *   # attached ctrl=0                            the BPF programs run
 *   C ctrl qid cid opcode write bytes status sq_slot cq_slot sq_db_seq
 *     sq_db_cmds cq_db_cqes ts[0] .. ts[9]       (one line; ns, 0 = none)
 *   # end commands=N lost=L                      lost = ring buffer full
 *
 * ts[] are in enum ns_step order (rq_start .. cq_doorbell), guest
 * CLOCK_MONOTONIC (bpf_ktime_get_ns).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devview.h"

void hrec_write_cmd(FILE *f, const struct ns_cmd *c)
{
	unsigned int i;

	fprintf(f, "C %u %u %u %u %u %u %u %u %u %llu %u %u", c->ctrl, c->qid, c->cid,
		c->opcode, c->write, c->bytes, c->status, c->sq_slot, c->cq_slot,
		(unsigned long long)c->sq_doorbell_seq, c->sq_doorbell_cmds,
		c->cq_doorbell_cqes);
	for (i = 0; i < NS_STEP_COUNT; i++)
		fprintf(f, " %llu", (unsigned long long)c->ts[i]);
	fputc('\n', f);
}

static int add_cmd(struct hrec *r, const struct hcmd *c)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4096;
		struct hcmd *p = realloc(r->cmd, cap * sizeof(*p));

		if (!p)
			return -1;
		r->cmd = p;
		r->cap = cap;
	}
	r->cmd[r->n++] = *c;
	return 0;
}

/* "key=NUMBER" anywhere in s */
static bool find_num(const char *s, const char *key, long long *out)
{
	const char *p = strstr(s, key);
	char *end;

	if (!p)
		return false;
	p += strlen(key);
	*out = strtoll(p, &end, 10);
	return end != p;
}

int hrec_parse_line(struct hrec *r, const char *line)
{
	unsigned long long v[12 + NS_STEP_COUNT];
	struct hcmd c = { 0 };
	const char *p = line;
	unsigned int i;
	long long a, b;

	if (line[0] == '#') {
		if (!strncmp(line, "# clock ", 8) && find_num(line, "realtime_ns=", &a) &&
		    find_num(line, "monotonic_ns=", &b)) {
			r->have_coarse = true;
			r->coarse_offset_ns = a - b;
		} else if (!strncmp(line, "# end ", 6) && find_num(line, "lost=", &a)) {
			r->lost = a;
		}
		return 0;
	}
	if (line[0] == '\n' || line[0] == '\0')
		return 0;
	if (line[0] != 'C' || line[1] != ' ')
		goto bad;
	p = line + 2;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *end;

		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			goto bad;
		v[i] = strtoull(p, &end, 10);
		p = end;
	}
	while (*p == ' ' || *p == '\n' || *p == '\r')
		p++;
	if (*p || v[1] > 65535 || v[2] > 65535)
		goto bad;
	c.ctrl = v[0];
	c.qid = v[1];
	c.cid = v[2];
	c.opcode = v[3];
	c.write = v[4];
	c.bytes = v[5];
	c.status = v[6];
	c.sq_slot = v[7];
	c.cq_slot = v[8];
	c.sq_db_seq = v[9];
	c.sq_db_cmds = v[10];
	c.cq_db_cqes = v[11];
	for (i = 0; i < NS_STEP_COUNT; i++)
		c.ts[i] = v[12 + i];
	return add_cmd(r, &c);
bad:
	r->bad_lines++;
	return -1;
}

int hrec_read(struct hrec *r, FILE *f, char *err, size_t errlen)
{
	char line[1024];
	size_t lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (lineno == 1 && strncmp(line, HREC_MAGIC, strlen(HREC_MAGIC))) {
			snprintf(err, errlen, "not an 'nvmescope record' file (first line is not '%s')",
				 HREC_MAGIC);
			return -1;
		}
		hrec_parse_line(r, line);
	}
	if (!lineno) {
		snprintf(err, errlen, "empty file");
		return -1;
	}
	return 0;
}

void hrec_free(struct hrec *r)
{
	free(r->cmd);
	memset(r, 0, sizeof(*r));
}
