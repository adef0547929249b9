/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - the latency histograms the BPF side fills (struct ns_hist):
 * slot arithmetic, subtraction of two readings, percentiles, printing.
 */
#ifndef NVMESCOPE_HIST_H
#define NVMESCOPE_HIST_H

#include <stdio.h>
#include <stdint.h>
#include <linux/types.h>
#include "tool.h"

unsigned int hist_slot_of(uint64_t ns);		/* same rule as the BPF side */
uint64_t hist_slot_low(unsigned int slot);	/* first ns value in the slot */
uint64_t hist_slot_high(unsigned int slot);	/* one past the last value */
void hist_add(struct ns_hist *sum, const struct ns_hist *h);
/* out = now - before (both cumulative readings of the same histogram) */
void hist_sub(struct ns_hist *out, const struct ns_hist *now,
	      const struct ns_hist *before);
double hist_mean_ns(const struct ns_hist *h);		/* NaN if empty */
/* p in [0, 100]; linear within the slot; NaN if empty */
double hist_percentile_ns(const struct ns_hist *h, double p);
/* biolatency-style power-of-two table, in microseconds */
void hist_print_log2(FILE *f, const struct ns_hist *h, const char *indent);

#endif
