// SPDX-License-Identifier: GPL-2.0
/*
 * hist.c - latency histograms.
 *
 * Slot layout (NS_HIST_SLOTS, hist_slot() on the BPF side): values 0..3 ns
 * have their own slot; a value v >= 4 with l = floor(log2 v) falls in slot
 * 4*(l-1) + q, where q (0..3) is the two bits below the top bit.  So each
 * power of two is cut in four equal parts: [4,5) [5,6) [6,7) [7,8) [8,10)
 * [10,12) ...
 */
#include <math.h>
#include <string.h>
#include "core/hist.h"

unsigned int hist_slot_of(uint64_t v)
{
	unsigned int l, slot;

	if (v < 4)
		return v;
	l = 63 - __builtin_clzll(v);
	slot = 4 * (l - 1) + ((v >> (l - 2)) & 3);
	return slot < NS_HIST_SLOTS ? slot : NS_HIST_SLOTS - 1;
}

uint64_t hist_slot_low(unsigned int slot)
{
	unsigned int l, q;

	if (slot < 4)
		return slot;
	l = slot / 4 + 1;
	q = slot % 4;
	return (uint64_t)(4 + q) << (l - 2);
}

uint64_t hist_slot_high(unsigned int slot)
{
	if (slot < 4)
		return slot + 1;
	return hist_slot_low(slot) + (1ULL << (slot / 4 - 1));
}

void hist_add(struct ns_hist *sum, const struct ns_hist *h)
{
	unsigned int i;

	sum->count += h->count;
	sum->sum_ns += h->sum_ns;
	for (i = 0; i < NS_HIST_SLOTS; i++)
		sum->slots[i] += h->slots[i];
}

/* Unsigned wrap-around makes a difference right even if a counter wrapped. */
void hist_sub(struct ns_hist *out, const struct ns_hist *now,
	      const struct ns_hist *before)
{
	unsigned int i;

	out->count = now->count - before->count;
	out->sum_ns = now->sum_ns - before->sum_ns;
	for (i = 0; i < NS_HIST_SLOTS; i++)
		out->slots[i] = now->slots[i] - before->slots[i];
}

double hist_mean_ns(const struct ns_hist *h)
{
	return h->count ? (double)h->sum_ns / h->count : NAN;
}

/*
 * The value below which p % of the samples lie.  Samples are spread evenly
 * inside their slot, so the answer is exact to within a quarter of a power
 * of two.  The total is the sum of the slots (not h->count: the two are
 * read at slightly different moments from the kernel).
 */
double hist_percentile_ns(const struct ns_hist *h, double p)
{
	uint64_t total = 0, seen = 0;
	double rank;
	unsigned int i;

	for (i = 0; i < NS_HIST_SLOTS; i++)
		total += h->slots[i];
	if (!total)
		return NAN;
	if (p <= 0)
		p = 0;
	if (p >= 100)
		p = 100;
	rank = p / 100.0 * total;
	for (i = 0; i < NS_HIST_SLOTS; i++) {
		uint64_t n = h->slots[i];

		if (n && seen + n >= rank) {
			double lo = hist_slot_low(i), hi = hist_slot_high(i);
			double frac = (rank - seen) / n;

			return lo + frac * (hi - lo);
		}
		seen += n;
	}
	return hist_slot_high(NS_HIST_SLOTS - 1);
}

/* Print like biolatency: one line per power of two (four slots merged). */
void hist_print_log2(FILE *f, const struct ns_hist *h, const char *indent)
{
	uint64_t rows[NS_HIST_SLOTS / 4 + 1] = { 0 }, max = 0;
	int first = -1, last = -1, r;
	unsigned int i;

	/* row r holds [2^r, 2^(r+1)) ns; slots 0..3 are 0,1,2,3 ns */
	for (i = 0; i < NS_HIST_SLOTS; i++) {
		uint64_t lo = hist_slot_low(i);

		r = lo ? 63 - __builtin_clzll(lo) : 0;
		rows[r] += h->slots[i];
	}
	for (r = 0; r <= NS_HIST_SLOTS / 4; r++) {
		if (!rows[r])
			continue;
		if (first < 0)
			first = r;
		last = r;
		if (rows[r] > max)
			max = rows[r];
	}
	if (first < 0) {
		fprintf(f, "%s(no samples)\n", indent);
		return;
	}
	fprintf(f, "%s%21s : %-10s %s\n", indent, "usecs", "count", "distribution");
	for (r = first; r <= last; r++) {
		double lo = (double)(1ULL << r) / 1000.0;
		double hi = (double)(1ULL << (r + 1)) / 1000.0;
		int bar = (int)(rows[r] * 40 / max), k;

		fprintf(f, "%s%9.3f -> %-9.3f : %-10llu |", indent, lo, hi,
			(unsigned long long)rows[r]);
		for (k = 0; k < 40; k++)
			fputc(k < bar ? '*' : ' ', f);
		fputs("|\n", f);
	}
}
