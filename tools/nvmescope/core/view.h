/* SPDX-License-Identifier: GPL-2.0 */
/*
 * view.h - from samples to the numbers a report prints for one queue
 * (rates, ratios, CPUs, latency summaries), shared by top, lat and irq
 * so that the text and JSON outputs agree.
 */
#ifndef NVMESCOPE_VIEW_H
#define NVMESCOPE_VIEW_H

#include "live/collect.h"
#include "core/json.h"
#include "core/procfs.h"

struct lat_summary {
	bool visible;		/* this driver shows both steps */
	uint64_t count;
	double mean_us, p50_us, p99_us;	/* NaN when count is 0 */
};

struct queue_view {
	uint32_t ctrl;
	uint16_t qid;
	enum ns_qtype type;		/* interrupt or poll queue (or unknown) */
	enum ns_qtype_from type_from;
	enum ns_sq_mem sq_mem;	/* since attach */
	uint64_t completions;	/* in the interval */
	double iops, mbps;
	int64_t inflight;	/* now */
	double sq_doorbells_ps, cq_doorbells_ps;	/* NaN = not visible */
	/*
	 * Of those, the MMIO register writes (the rest went only to the
	 * shadow doorbell buffer), and MMIO writes per 100 doorbell updates
	 * of both kinds.  NaN = not visible (stock driver) or no doorbells.
	 */
	double sq_doorbells_mmio_ps, cq_doorbells_mmio_ps, doorbells_mmio_pct;
	double cmds_per_sq_doorbell, cqes_per_irq;	/* NaN = not measured */
	/*
	 * SQ slots in use at a tail doorbell, as the host knew them: the mean
	 * of tnvme_sq_level's "used" (lab 10).  NaN: no such event (the stock
	 * driver, a driver or nvmescope without it, no doorbell).
	 */
	double sq_used;
	uint64_t irqs, hardirqs;
	/*
	 * Polls (poll queues: no interrupt, the submitting task calls the
	 * driver's ->poll in a loop): calls per second, those that found
	 * nothing (per second and per 100 calls), and CQEs per poll that
	 * reaped (what CQEs per interrupt is for the other queues).  NaN =
	 * unknown: the stock driver has no event for a poll.
	 */
	bool poll_visible;
	double polls_ps, empty_polls_ps, empty_polls_pct, cqes_per_poll;
	struct cpuset submit_cpus, irq_cpus;
	struct cpuset poll_cpus;	/* CPUs that polled it */
	bool cpu_mismatch;
	struct lat_summary lat[NS_IV_COUNT];
	struct ns_counters counters;	/* raw, in the interval */
};

void lat_summary_make(struct lat_summary *l, const struct ns_hist *h, bool visible);
/*
 * A queue's type from what nvme_queues_discover() read at start (sys,
 * sys_from) and its events since then (total): debugfs is the kernel's
 * own word; else a queue with polls and no tnvme_irq is a poll queue and
 * one with tnvme_irq events an interrupt-driven one; else whether it has
 * a line in /proc/interrupts.  *from says which rule decided.
 */
enum ns_qtype queue_type_resolve(enum ns_qtype sys, enum ns_qtype_from sys_from,
				 const struct ns_counters *total,
				 enum ns_qtype_from *from);
void queue_view_make(struct queue_view *v, enum ns_driver d,
		     const struct queue_sample *delta,
		     const struct queue_sample *now, double secs);
/*
 * The irq report's line for a poll queue, which has no interrupt and so
 * no affinity to mismatch: "poll queue: no interrupt, reaped by polling
 * on CPU(s) 0-1 (blk-mq's CPUs for it)"; cpus NULL: not known.
 */
void poll_queue_note(char *buf, size_t len, const struct cpuset *cpus);
/* "12.3" or "-" (not visible / no sample) into buf; the caller pads it */
void format_number(char *buf, size_t len, double v, int precision);
/* One line listing lost/unmatched events (nothing hidden), or "none". */
void print_losses(FILE *f, const struct sample *delta);
void json_losses(struct json *j, const struct sample *delta);
void json_latency(struct json *j, const char *key, const struct lat_summary *l);
void json_cpuset(struct json *j, const char *key, const struct cpuset *s);
/* poll_events: false -> the poll counters are null (unknown), not 0 */
void json_counters(struct json *j, const struct ns_counters *c, bool poll_events);
void json_queue_view(struct json *j, enum ns_driver d, const struct queue_view *v);
/* "queue_type" and "queue_type_from" (null when unknown) */
void json_queue_type(struct json *j, enum ns_qtype t, enum ns_qtype_from from);

#endif
