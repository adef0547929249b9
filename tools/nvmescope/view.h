/* SPDX-License-Identifier: GPL-2.0 */
/*
 * view.h - from samples to the numbers a report prints for one queue
 * (rates, ratios, CPUs, latency summaries), shared by top, lat and irq
 * so that the text and JSON outputs agree.
 */
#ifndef NVMESCOPE_VIEW_H
#define NVMESCOPE_VIEW_H

#include "collect.h"
#include "json.h"
#include "procfs.h"

struct lat_summary {
	bool visible;		/* this driver shows both steps */
	uint64_t count;
	double mean_us, p50_us, p99_us;	/* NaN when count is 0 */
};

struct queue_view {
	uint32_t ctrl;
	uint16_t qid;
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
	struct cpuset submit_cpus, irq_cpus;
	bool cpu_mismatch;
	struct lat_summary lat[NS_IV_COUNT];
	struct ns_counters counters;	/* raw, in the interval */
};

void lat_summary_make(struct lat_summary *l, const struct ns_hist *h, bool visible);
void queue_view_make(struct queue_view *v, enum ns_driver d,
		     const struct queue_sample *delta,
		     const struct queue_sample *now, double secs);
/* "12.3" or "-" (not visible / no sample), right-aligned in width */
void format_number(char *buf, size_t len, double v, int precision);
/* One line listing lost/unmatched events (nothing hidden), or "none". */
void print_losses(FILE *f, const struct sample *delta);
void json_losses(struct json *j, const struct sample *delta);
void json_latency(struct json *j, const char *key, const struct lat_summary *l);
void json_cpuset(struct json *j, const char *key, const struct cpuset *s);
void json_counters(struct json *j, const struct ns_counters *c);
void json_queue_view(struct json *j, enum ns_driver d, const struct queue_view *v);

#endif
