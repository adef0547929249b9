/* SPDX-License-Identifier: GPL-2.0 */
/*
 * collect.h - the BPF side, seen from user space: load and attach the
 * programs, read the in-kernel counters and histograms as "samples", and
 * detach.  top, lat, trace and record go through this file; irq reads
 * /proc and /sys only and loads no BPF.
 */
#ifndef NVMESCOPE_COLLECT_H
#define NVMESCOPE_COLLECT_H

#include "tool.h"
#include "core/sysfs.h"

/* Cumulative numbers of one queue since attach (or a difference of two). */
struct queue_sample {
	uint32_t ctrl;
	uint16_t qid;
	uint8_t type;				/* enum ns_qtype: interrupt or poll queue */
	uint8_t type_from;			/* enum ns_qtype_from: who said so */
	bool poll_events;			/* polls counted (tnvme_poll attached) */
	struct ns_counters total;		/* summed over CPUs */
	uint64_t sq_write_by_cpu[NS_MAX_CPUS];	/* who submitted */
	uint64_t irq_by_cpu[NS_MAX_CPUS];	/* who ran the queue's handler */
	uint64_t hardirq_by_cpu[NS_MAX_CPUS];	/* its interrupts (/proc/interrupts) */
	uint64_t poll_by_cpu[NS_MAX_CPUS];	/* who polled it (poll queues) */
	struct ns_hist hist[NS_IV_COUNT];
};

#define NS_MAX_PROGS 24		/* programs in nvmescope.bpf.c, and more */

struct sample {
	double time_s;			/* CLOCK_MONOTONIC */
	size_t n;
	struct queue_sample *q;		/* sorted by (ctrl, qid) */
	uint64_t drops[NS_DROP_COUNT];
	uint64_t missed_runs;		/* BPF runs the kernel skipped (recursion) */
	/* ... program by program (the attached ones, in the skeleton's order) */
	unsigned int nprogs;
	const char *prog_name[NS_MAX_PROGS];
	uint64_t prog_missed[NS_MAX_PROGS];
};

enum collect_mode {
	COLLECT_STATS,		/* counters + histograms (top, lat) */
	COLLECT_TRACE,		/* + one ring buffer record per command */
};

struct collector;
typedef int (*cmd_handler)(void *ctx, const struct ns_cmd *cmd);

/* Checks permissions, BTF and the driver first: returns an exit code. */
int collector_open(struct collector **out, const struct options *o,
		   enum collect_mode mode, cmd_handler on_cmd, void *ctx);
int collector_sample(struct collector *c, struct sample *out);
int collector_event_fd(struct collector *c);	/* ring buffer, for epoll */
int collector_poll_events(struct collector *c);	/* consume records */
void collector_close(struct collector *c);
unsigned int collector_ncpus(struct collector *c);
/* A watched queue's type as sysfs.c found it at start (debugfs, interrupts) */
enum ns_qtype collector_queue_type(struct collector *c, uint32_t ctrl, uint16_t qid);

/* out = now - before, queue by queue (out must be freed). */
void sample_delta(struct sample *out, const struct sample *now,
		  const struct sample *before);
void sample_free(struct sample *s);
double now_monotonic(void);

#endif
