// SPDX-License-Identifier: GPL-2.0
/*
 * hostrec.c - the file "nvmescope record" writes in the guest, and reads
 * back in "merge" and "timeline".  Plain text, one line per command, so it
 * streams and a reader can look at it:
 *
 *   # nvmescope-record 1
 *   # clock realtime_ns=R monotonic_ns=M read_ns=T
 *                                                guest clocks at the start
 *   # attached ctrl=0 driver=tnvme               the BPF programs run
 *   # C ctrl qid cid ... cq_doorbell             the column names
 *   C ctrl qid cid opcode write bytes status sq_slot cq_slot sq_db_seq
 *     sq_db_cmds cq_db_cqes ts[0] .. ts[9] sq_mem
 *                                                (one line; ns, 0 = none)
 *   # clock_end realtime_ns=R monotonic_ns=M read_ns=T
 *                                                at the end (not read back)
 *   # end commands=N lost=L not_started=S sq_doorbells=A sq_doorbells_mmio=B
 *         cq_doorbells=C cq_doorbells_mmio=D     (one line)
 *
 * lost: records the ring buffer could not hold; not_started: commands in
 * flight when the programs attached.  The doorbell totals count every
 * doorbell update of the controller while recording, and of those the
 * MMIO register writes; the rest went only to the shadow doorbell buffer
 * (tnvme's shadow_doorbells=1), invisible in QEMU's trace.  Files written
 * before shadow doorbells have no doorbell totals.
 *
 * ts[] are in enum ns_step order (rq_start .. cq_doorbell), guest
 * CLOCK_MONOTONIC (bpf_ktime_get_ns).  sq_mem: where the command's SQ
 * lives, 0 host memory, 1 the controller memory buffer (tnvme_sq_write);
 * files written before it was added end with ts[9], and read back with
 * sq_mem unknown.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devview/devview.h"

void hrec_write_cmd(FILE *f, const struct ns_cmd *c)
{
	unsigned int i;

	fprintf(f, "C %u %u %u %u %u %u %u %u %u %llu %u %u", c->ctrl, c->qid, c->cid,
		c->opcode, c->write, c->bytes, c->status, c->sq_slot, c->cq_slot,
		(unsigned long long)c->sq_doorbell_seq, c->sq_doorbell_cmds,
		c->cq_doorbell_cqes);
	for (i = 0; i < NS_STEP_COUNT; i++)
		fprintf(f, " %llu", (unsigned long long)c->ts[i]);
	fprintf(f, " %u\n", c->sq_mem);
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

/* The doorbell totals of an "# end" line, if it has all four. */
static void parse_doorbells(struct hrec *r, const char *line)
{
	long long sq, sq_mmio, cq, cq_mmio;

	if (!find_num(line, " sq_doorbells=", &sq) ||
	    !find_num(line, " sq_doorbells_mmio=", &sq_mmio) ||
	    !find_num(line, " cq_doorbells=", &cq) ||
	    !find_num(line, " cq_doorbells_mmio=", &cq_mmio) ||
	    sq < 0 || cq < 0 || sq_mmio < 0 || cq_mmio < 0)
		return;
	r->have_doorbells = true;
	r->sq_db = sq;
	r->sq_db_mmio = sq_mmio;
	r->cq_db = cq;
	r->cq_db_mmio = cq_mmio;
}

bool hrec_shadow_only(const struct hrec *r, char *msg, size_t len)
{
	uint64_t sq_shadow, cq_shadow;
	char sq[64] = "", cq[64] = "", ctrl[32] = "";

	if (!r->have_doorbells)
		return false;	/* an older record: nothing to check */
	sq_shadow = r->sq_db > r->sq_db_mmio ? r->sq_db - r->sq_db_mmio : 0;
	cq_shadow = r->cq_db > r->cq_db_mmio ? r->cq_db - r->cq_db_mmio : 0;
	if (!sq_shadow && !cq_shadow)
		return false;
	if (sq_shadow)
		snprintf(sq, sizeof(sq), "%llu of %llu SQ doorbells",
			 (unsigned long long)sq_shadow, (unsigned long long)r->sq_db);
	if (cq_shadow)
		snprintf(cq, sizeof(cq), "%llu of %llu CQ doorbells",
			 (unsigned long long)cq_shadow, (unsigned long long)r->cq_db);
	if (r->have_ctrl)
		snprintf(ctrl, sizeof(ctrl), " of ctrl %u", r->ctrl);
	snprintf(msg, len,
		 "%s%s%s%s went only to the shadow doorbell buffer, QEMU saw no MMIO write for them: load tnvme with shadow_doorbells=0 for the device view",
		 sq, sq_shadow && cq_shadow ? " and " : "", cq, ctrl);
	return true;
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
		} else if (!strncmp(line, "# attached ", 11) && find_num(line, "ctrl=", &a)) {
			r->have_ctrl = true;
			r->ctrl = a;
		} else if (!strncmp(line, "# end ", 6)) {
			if (find_num(line, "lost=", &a))
				r->lost = a;
			parse_doorbells(r, line);
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
	/* then where the SQ lives, 0 or 1 (not in records before issue 18) */
	c.sq_mem = -1;
	while (*p == ' ')
		p++;
	if (*p == '0' || *p == '1') {
		c.sq_mem = *p - '0';
		p++;
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
