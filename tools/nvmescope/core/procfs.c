// SPDX-License-Identifier: GPL-2.0
/*
 * procfs.c - parsers for /proc/interrupts, CPU lists and queue names.
 *
 * /proc/interrupts looks like this (columns only for online CPUs, so the
 * header is the only place that says which CPU a column is):
 *
 *            CPU0       CPU1       CPU2       CPU3
 *   32:          0          0         16          0   PCI-MSI 524288-edge      nvme0q0
 *   24:          0          0          0          0   PCI-MSI 65536-edge      PCIe PME, aerdrv
 *  NMI:          0          0          0          0   Non-maskable interrupts
 *  ERR:          0
 *
 * After the counts: the irq chip, then "hwirq-trigger" (e.g. 524288-edge;
 * some chips print more words before it), then the action names, which
 * may contain spaces and commas.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/procfs.h"

void cpuset_clear(struct cpuset *s)
{
	memset(s, 0, sizeof(*s));
}

void cpuset_add(struct cpuset *s, unsigned int cpu)
{
	if (cpu < NS_MAX_CPUS)
		s->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

bool cpuset_has(const struct cpuset *s, unsigned int cpu)
{
	return cpu < NS_MAX_CPUS && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

bool cpuset_empty(const struct cpuset *s)
{
	unsigned int i;

	for (i = 0; i < NS_MAX_CPUS / 64; i++)
		if (s->bits[i])
			return false;
	return true;
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
	return !memcmp(a, b, sizeof(*a));
}

bool cpuset_subset(const struct cpuset *a, const struct cpuset *b)
{
	unsigned int i;

	for (i = 0; i < NS_MAX_CPUS / 64; i++)
		if (a->bits[i] & ~b->bits[i])
			return false;
	return true;
}

static const char *skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

/* A decimal number below NS_MAX_CPUS; NULL on error. */
static const char *parse_cpu(const char *p, unsigned int *cpu)
{
	char *end;
	unsigned long v;

	p = skip_spaces(p);
	if (!isdigit((unsigned char)*p))
		return NULL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || v >= NS_MAX_CPUS)
		return NULL;
	*cpu = v;
	return skip_spaces(end);
}

int cpulist_parse(const char *text, struct cpuset *out)
{
	const char *p = skip_spaces(text);
	unsigned int a, b, c;

	cpuset_clear(out);
	if (!*p)
		return 0;	/* empty list: an empty set */
	for (;;) {
		p = parse_cpu(p, &a);
		if (!p)
			return -1;
		b = a;
		if (*p == '-') {
			p = parse_cpu(p + 1, &b);
			if (!p || b < a)
				return -1;
		}
		for (c = a; c <= b; c++)
			cpuset_add(out, c);
		if (!*p)
			return 0;
		if (*p != ',')
			return -1;
		p++;
	}
}

void cpulist_format(const struct cpuset *s, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int c = 0, start;

	if (!len)
		return;
	buf[0] = '\0';
	while (c < NS_MAX_CPUS) {
		if (!cpuset_has(s, c)) {
			c++;
			continue;
		}
		start = c;
		while (c + 1 < NS_MAX_CPUS && cpuset_has(s, c + 1))
			c++;
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%u", used ? "," : "", start);
		if (c > start && used < len)
			used += snprintf(buf + used, len - used, "-%u", c);
		c++;
	}
	if (!used)
		snprintf(buf, len, "-");
}

/* ------------------------------------------------------ /proc/interrupts */

static int parse_header(const char *line, struct proc_interrupts *pi)
{
	const char *p = line;
	unsigned int n = 0, cap = 16, *cols = malloc(cap * sizeof(*cols));

	if (!cols)
		return -1;
	for (;;) {
		char *end;
		unsigned long cpu;

		p = skip_spaces(p);
		if (!*p)
			break;
		if (strncmp(p, "CPU", 3) != 0) {
			free(cols);
			return -1;
		}
		cpu = strtoul(p + 3, &end, 10);
		if (end == p + 3) {
			free(cols);
			return -1;
		}
		if (n == cap) {
			unsigned int *bigger = realloc(cols, 2 * cap * sizeof(*cols));

			if (!bigger) {
				free(cols);
				return -1;
			}
			cols = bigger;
			cap *= 2;
		}
		cols[n++] = cpu;
		p = end;
	}
	pi->ncols = n;
	pi->col_cpu = cols;
	return n ? 0 : -1;
}

static bool is_hwirq_token(const char *tok, size_t len)
{
	size_t i = 0;

	while (i < len && isdigit((unsigned char)tok[i]))
		i++;
	return i > 0 && i < len && tok[i] == '-';
}

static char *strndup_trim(const char *s, size_t len)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t'))
		len--;
	return strndup(s, len);
}

/* "  32:   0   1   PCI-MSI 524288-edge   nvme0q0" */
static int parse_irq_line(const char *line, const struct proc_interrupts *pi,
			  struct irq_line *out)
{
	const char *p = skip_spaces(line), *rest, *tok;
	char *end;
	unsigned int col;

	if (!isdigit((unsigned char)*p))
		return 1;	/* NMI:, LOC:, ... not a numbered interrupt */
	out->irq = strtoul(p, &end, 10);
	if (*end != ':')
		return -1;
	p = end + 1;
	out->count = calloc(pi->ncols, sizeof(*out->count));
	if (!out->count)
		return -1;
	for (col = 0; col < pi->ncols; col++) {
		p = skip_spaces(p);
		if (!isdigit((unsigned char)*p))
			break;	/* short line: the rest stays 0 */
		out->count[col] = strtoull(p, &end, 10);
		p = end;
	}
	/* chip: the first word; actions: after the hwirq-trigger word */
	p = skip_spaces(p);
	tok = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	out->chip = strndup(tok, p - tok);
	rest = p;
	for (;;) {
		p = skip_spaces(p);
		if (!*p)
			break;
		tok = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (is_hwirq_token(tok, p - tok)) {
			rest = p;
			break;
		}
	}
	/* no hwirq word: everything after the chip is the action list */
	rest = skip_spaces(rest);
	out->actions = strndup_trim(rest, strlen(rest));
	if (!out->chip || !out->actions)
		return -1;
	return 0;
}

void proc_interrupts_free(struct proc_interrupts *pi)
{
	size_t i;

	for (i = 0; i < pi->nlines; i++) {
		free(pi->lines[i].count);
		free(pi->lines[i].chip);
		free(pi->lines[i].actions);
	}
	free(pi->lines);
	free(pi->col_cpu);
	memset(pi, 0, sizeof(*pi));
}

int proc_interrupts_parse(FILE *f, struct proc_interrupts *pi)
{
	char *line = NULL;
	size_t cap = 0, lines_cap = 0;
	int ret = -1;

	memset(pi, 0, sizeof(*pi));
	if (getline(&line, &cap, f) < 0 || parse_header(line, pi))
		goto out;
	while (getline(&line, &cap, f) >= 0) {
		struct irq_line il = { 0 };
		int r = parse_irq_line(line, pi, &il);

		if (r > 0)
			continue;
		if (r < 0) {
			free(il.count);
			free(il.chip);
			free(il.actions);
			goto out;
		}
		if (pi->nlines == lines_cap) {
			size_t n = lines_cap ? 2 * lines_cap : 64;
			struct irq_line *bigger = realloc(pi->lines, n * sizeof(*bigger));

			if (!bigger) {
				free(il.count);
				free(il.chip);
				free(il.actions);
				goto out;
			}
			pi->lines = bigger;
			lines_cap = n;
		}
		pi->lines[pi->nlines++] = il;
	}
	ret = 0;
out:
	free(line);
	if (ret)
		proc_interrupts_free(pi);
	return ret;
}

int proc_interrupts_read(struct proc_interrupts *pi)
{
	FILE *f = fopen("/proc/interrupts", "r");
	int ret;

	if (!f)
		return -1;
	ret = proc_interrupts_parse(f, pi);
	fclose(f);
	return ret;
}

const struct irq_line *proc_interrupts_find(const struct proc_interrupts *pi,
					    unsigned int irq)
{
	size_t i;

	for (i = 0; i < pi->nlines; i++)
		if (pi->lines[i].irq == irq)
			return &pi->lines[i];
	return NULL;
}

/* The count of cpu on line l of pi (0 if the CPU has no column). */
static uint64_t count_of_cpu(const struct proc_interrupts *pi,
			     const struct irq_line *l, unsigned int cpu)
{
	unsigned int k;

	for (k = 0; k < pi->ncols; k++)
		if (pi->col_cpu[k] == cpu)
			return l->count[k];
	return 0;
}

/*
 * How often irq fired on each CPU between two readings: by_cpu[cpu] gets
 * after - before (by CPU number, not column: a CPU that came online in
 * between has no "before" and counts from 0).  An irq missing from either
 * reading, or a counter that went backwards (the number was freed and
 * reused), counts nothing.  Returns the sum.
 *
 * This counts what the irq_handler_entry program counts (only with
 * --irq-events, no longer the default): the kernel bumps this per-CPU
 * counter once per interrupt before it runs the handlers, and reading it
 * live-patches nothing into the interrupt path.
 */
uint64_t proc_interrupts_delta(const struct proc_interrupts *before,
			       const struct proc_interrupts *after,
			       unsigned int irq, uint64_t by_cpu[NS_MAX_CPUS])
{
	const struct irq_line *a = proc_interrupts_find(before, irq);
	const struct irq_line *b = proc_interrupts_find(after, irq);
	uint64_t total = 0;
	unsigned int i;

	if (!a || !b)
		return 0;
	for (i = 0; i < after->ncols; i++)
		if (b->count[i] < count_of_cpu(before, a, after->col_cpu[i]))
			return 0;	/* reused: nothing sensible to count */
	for (i = 0; i < after->ncols; i++) {
		unsigned int cpu = after->col_cpu[i];
		uint64_t d = b->count[i] - count_of_cpu(before, a, cpu);

		total += d;
		if (cpu < NS_MAX_CPUS)
			by_cpu[cpu] += d;
	}
	return total;
}

/* ------------------------------------------------------ queue types */

/*
 * blk-mq names its hardware context types "default", "read" and "poll"
 * (hctx_types[] in block/blk-mq-debugfs.c).  The first two take
 * interrupts in both drivers; only "poll" contexts are reaped by polling.
 */
enum ns_qtype hctx_type_parse(const char *text)
{
	size_t len;

	text = skip_spaces(text);
	len = strcspn(text, " \t\n");
	if (len == 4 && !strncmp(text, "poll", 4))
		return NS_QTYPE_POLL;
	if ((len == 7 && !strncmp(text, "default", 7)) ||
	    (len == 4 && !strncmp(text, "read", 4)))
		return NS_QTYPE_IRQ;
	return NS_QTYPE_UNKNOWN;
}

/* ------------------------------------------------------ queue names */

/*
 * Digits at p (before end) into *v; returns their end, NULL if none or too
 * many.
 */
static const char *parse_uint(const char *p, const char *end, unsigned int *v)
{
	const char *start = p;
	unsigned long n = 0;

	while (p < end && isdigit((unsigned char)*p) && n < 100000000)
		n = n * 10 + (*p++ - '0');
	if (p == start || (p < end && isdigit((unsigned char)*p)))
		return NULL;
	*v = n;
	return p;
}

static bool queue_name_parse_n(const char *name, size_t len,
			       enum ns_driver *driver, unsigned int *ctrl,
			       unsigned int *qid)
{
	const char *p = name, *end = name + len;

	if (len > 5 && !strncmp(p, "tnvme", 5)) {
		*driver = NS_DRIVER_TNVME;
		p += 5;
	} else if (len > 4 && !strncmp(p, "nvme", 4)) {
		*driver = NS_DRIVER_NVME;
		p += 4;
	} else {
		return false;
	}
	p = parse_uint(p, end, ctrl);
	if (!p || p >= end || *p != 'q')
		return false;
	p = parse_uint(p + 1, end, qid);
	return p == end && *qid < 65536;
}

bool nvme_queue_name_parse(const char *name, enum ns_driver *driver,
			   unsigned int *ctrl, unsigned int *qid)
{
	return queue_name_parse_n(name, strlen(name), driver, ctrl, qid);
}

bool nvme_queue_in_actions(const char *actions, enum ns_driver *driver,
			   unsigned int *ctrl, unsigned int *qid)
{
	const char *p = actions;

	while (*p) {
		size_t len;

		p = skip_spaces(p);
		len = strcspn(p, ", \t\n");
		if (len && queue_name_parse_n(p, len, driver, ctrl, qid))
			return true;
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
		if (!len && *p)
			p++;
	}
	return false;
}
