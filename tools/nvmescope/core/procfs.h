/* SPDX-License-Identifier: GPL-2.0 */
/*
 * procfs.h - parsers for the text files nvmescope reads: /proc/interrupts,
 * CPU lists ("0-3,8"; smp_affinity_list, blk-mq cpu_list), and NVMe queue
 * interrupt names ("nvme0q1", "tnvme2q0").  Pure functions on text, so the
 * unit tests feed them odd inputs.
 */
#ifndef NVMESCOPE_PROCFS_H
#define NVMESCOPE_PROCFS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "tool.h"

struct cpuset {
	uint64_t bits[NS_MAX_CPUS / 64];
};

void cpuset_clear(struct cpuset *s);
void cpuset_add(struct cpuset *s, unsigned int cpu);
bool cpuset_has(const struct cpuset *s, unsigned int cpu);
bool cpuset_empty(const struct cpuset *s);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
bool cpuset_subset(const struct cpuset *a, const struct cpuset *b); /* a in b */
/* "0-3,8" (also " 0 - 3 , 8\n"); -1 on malformed text or CPU >= NS_MAX_CPUS */
int cpulist_parse(const char *text, struct cpuset *out);
/* "0-3,8"; "-" for an empty set */
void cpulist_format(const struct cpuset *s, char *buf, size_t len);

/* One numbered line of /proc/interrupts. */
struct irq_line {
	unsigned int irq;
	uint64_t *count;	/* per column of the CPU header */
	char *chip;		/* "PCI-MSI", "IR-PCI-MSIX-0000:01:00.0", ... */
	char *actions;		/* "nvme0q1", "PCIe PME, aerdrv", may be "" */
};

struct proc_interrupts {
	unsigned int ncols;	/* CPU columns in the header */
	unsigned int *col_cpu;	/* CPU number of each column ("CPU3" -> 3) */
	size_t nlines;
	struct irq_line *lines;
};

/* Parse the whole text (the lines with letters, NMI: LOC: ..., are skipped). */
int proc_interrupts_parse(FILE *f, struct proc_interrupts *out);
int proc_interrupts_read(struct proc_interrupts *out);	/* /proc/interrupts */
void proc_interrupts_free(struct proc_interrupts *pi);
const struct irq_line *proc_interrupts_find(const struct proc_interrupts *pi,
					    unsigned int irq);
/* by_cpu[cpu] += interrupts of irq per CPU from before to after; the sum */
uint64_t proc_interrupts_delta(const struct proc_interrupts *before,
			       const struct proc_interrupts *after,
			       unsigned int irq, uint64_t by_cpu[NS_MAX_CPUS]);

/*
 * The text of debugfs' block/DISK/hctxN/type: "poll" -> a poll queue,
 * "default" or "read" -> interrupt-driven, anything else unknown.
 */
enum ns_qtype hctx_type_parse(const char *text);

/* "nvme0q1" -> driver nvme, ctrl 0, qid 1; false if not a queue name. */
bool nvme_queue_name_parse(const char *name, enum ns_driver *driver,
			   unsigned int *ctrl, unsigned int *qid);
/* Find a queue name in an action list ("foo, nvme0q1") */
bool nvme_queue_in_actions(const char *actions, enum ns_driver *driver,
			   unsigned int *ctrl, unsigned int *qid);

#endif
