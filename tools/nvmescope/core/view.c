// SPDX-License-Identifier: GPL-2.0
/*
 * view.c - per-queue numbers for the reports (see view.h).
 */
#include <math.h>
#include <string.h>
#include "core/view.h"
#include "core/hist.h"
#include "core/sysfs.h"

void lat_summary_make(struct lat_summary *l, const struct ns_hist *h, bool visible)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < NS_HIST_SLOTS; i++)
		total += h->slots[i];
	l->visible = visible;
	l->count = total;
	l->mean_us = hist_mean_ns(h) / 1000.0;
	l->p50_us = hist_percentile_ns(h, 50) / 1000.0;
	l->p99_us = hist_percentile_ns(h, 99) / 1000.0;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / b : NAN;
}

enum ns_qtype queue_type_resolve(enum ns_qtype sys, enum ns_qtype_from sys_from,
				 const struct ns_counters *total,
				 enum ns_qtype_from *from)
{
	if (sys != NS_QTYPE_UNKNOWN && sys_from == NS_QTYPE_FROM_DEBUGFS) {
		*from = sys_from;
		return sys;
	}
	/* blk-mq calls ->poll only on a poll context; tnvme_irq only runs with an interrupt */
	if (total->poll && !total->irq) {
		*from = NS_QTYPE_FROM_EVENTS;
		return NS_QTYPE_POLL;
	}
	if (total->irq) {
		*from = NS_QTYPE_FROM_EVENTS;
		return NS_QTYPE_IRQ;
	}
	*from = sys == NS_QTYPE_UNKNOWN ? NS_QTYPE_FROM_NONE : sys_from;
	return sys;
}

/*
 * A doorbell update is a register write (MMIO, a trap into QEMU under
 * emulation) or, with shadow doorbells, only a store to the shadow buffer
 * in host memory: count the writes apart.  The stock driver's doorbells
 * are not visible (NaN).
 */
static void view_doorbells(struct queue_view *v, enum ns_driver d,
			   const struct ns_counters *c, double secs)
{
	if (d != NS_DRIVER_TNVME) {
		v->sq_doorbells_mmio_ps = v->cq_doorbells_mmio_ps = NAN;
		v->doorbells_mmio_pct = NAN;
		v->sq_doorbells_ps = v->cq_doorbells_ps = NAN;
		v->cmds_per_sq_doorbell = NAN;
		return;
	}
	v->sq_doorbells_mmio_ps = c->sq_doorbell_mmio / secs;
	v->cq_doorbells_mmio_ps = c->cq_doorbell_mmio / secs;
	v->doorbells_mmio_pct = 100 * ratio(c->sq_doorbell_mmio + c->cq_doorbell_mmio,
					    c->sq_doorbell + c->cq_doorbell);
	v->sq_doorbells_ps = c->sq_doorbell / secs;
	v->cq_doorbells_ps = c->cq_doorbell / secs;
	v->cmds_per_sq_doorbell = ratio(c->sq_doorbell_cmds, c->sq_doorbell);
}

/*
 * Polls: the stock driver has no event for one, so its numbers are
 * unknown (NaN: "-", null), never 0.  CQEs per poll counts the polls
 * that reaped (each ends with a CQ doorbell), not the empty ones: the
 * batch size, as CQEs per interrupt is on the other queues.
 */
static void view_polls(struct queue_view *v, enum ns_driver d,
		       const struct queue_sample *delta, double secs)
{
	const struct ns_counters *c = &delta->total;

	v->poll_visible = d == NS_DRIVER_TNVME && delta->poll_events;
	if (v->poll_visible) {
		v->polls_ps = c->poll / secs;
		v->empty_polls_ps = c->poll_empty / secs;
		v->empty_polls_pct = 100 * ratio(c->poll_empty, c->poll);
		v->cqes_per_poll = ratio(c->poll_reaped, c->poll_batches);
	} else {
		v->polls_ps = v->empty_polls_ps = NAN;
		v->empty_polls_pct = v->cqes_per_poll = NAN;
	}
}

/*
 * Where the SQ lives, from every tnvme_sq_write since attach (total), so
 * that a quiet interval still says it.
 */
static enum ns_sq_mem view_sq_mem(enum ns_driver d, const struct ns_counters *total)
{
	if (d != NS_DRIVER_TNVME || !total->sq_write)
		return NS_SQ_MEM_UNKNOWN;
	if (!total->sq_write_cmb)
		return NS_SQ_MEM_HOST;
	return total->sq_write_cmb == total->sq_write ? NS_SQ_MEM_CMB : NS_SQ_MEM_MIXED;
}

/* Who submitted, who took the interrupts, who polled; do they differ. */
static void view_cpus(struct queue_view *v, const struct queue_sample *delta)
{
	unsigned int cpu;

	for (cpu = 0; cpu < NS_MAX_CPUS; cpu++) {
		if (delta->sq_write_by_cpu[cpu])
			cpuset_add(&v->submit_cpus, cpu);
		if (delta->irq_by_cpu[cpu])
			cpuset_add(&v->irq_cpus, cpu);
		if (delta->poll_by_cpu[cpu])
			cpuset_add(&v->poll_cpus, cpu);
	}
	v->cpu_mismatch = !cpuset_empty(&v->irq_cpus) && !cpuset_empty(&v->submit_cpus) &&
			  !cpuset_equal(&v->submit_cpus, &v->irq_cpus);
}

void queue_view_make(struct queue_view *v, enum ns_driver d,
		     const struct queue_sample *delta,
		     const struct queue_sample *now, double secs)
{
	const struct ns_counters *c = &delta->total;
	unsigned int iv;

	memset(v, 0, sizeof(*v));
	if (secs <= 0)
		secs = 1;
	v->ctrl = delta->ctrl;
	v->qid = delta->qid;
	v->type = delta->type;
	v->type_from = delta->type_from;
	v->sq_mem = view_sq_mem(d, now ? &now->total : c);
	v->completions = c->rq_end;
	v->counters = *c;
	v->iops = c->rq_end / secs;
	v->mbps = (c->bytes_read + c->bytes_written) / secs / 1e6;
	v->inflight = now ? (int64_t)(now->total.tracked_start - now->total.tracked_end -
				      now->total.stale) : 0;
	if (v->inflight < 0)
		v->inflight = 0;
	v->irqs = d == NS_DRIVER_TNVME ? c->irq : c->hardirq;
	v->hardirqs = c->hardirq;
	view_doorbells(v, d, c, secs);
	v->cqes_per_irq = ratio(c->cqe, v->irqs);
	view_polls(v, d, delta, secs);
	v->sq_used = NAN;
	/* LAB-TODO(10) begin: SQ_USED, the mean "used" of the interval's tnvme_sq_level */
	if (d == NS_DRIVER_TNVME)
		v->sq_used = ratio(c->sq_level_used, c->sq_level);
	/* LAB-TODO(10) end */
	view_cpus(v, delta);
	for (iv = 0; iv < NS_IV_COUNT; iv++)
		lat_summary_make(&v->lat[iv], &delta->hist[iv], interval_visible(d, iv));
}

void poll_queue_note(char *buf, size_t len, const struct cpuset *cpus)
{
	char list[256];

	if (!cpus || cpuset_empty(cpus)) {
		snprintf(buf, len, "poll queue: no interrupt, reaped by polling");
		return;
	}
	cpulist_format(cpus, list, sizeof(list));
	snprintf(buf, len, "poll queue: no interrupt, reaped by polling on CPU(s) %s (blk-mq's CPUs for it)",
		 list);
}

void format_number(char *buf, size_t len, double v, int precision)
{
	if (isfinite(v))
		snprintf(buf, len, "%.*f", precision, v);
	else
		snprintf(buf, len, "-");
}

/*
 * Completions nvmescope did not see: a tracked command whose cid was
 * started again before its completion event came ("stale" in the BPF
 * counters).  Every program is a raw tracepoint program, so the kernel
 * runs it even when another one is running on that CPU, and counts the
 * runs it skips (bpf_runs_skipped); a completion missed here is one of
 * those, or a command that ended without its event (docs/nvmescope.md).
 */
static uint64_t completions_missed(const struct sample *delta)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < delta->n; i++)
		n += delta->q[i].total.stale;
	return n;
}

void print_losses(FILE *f, const struct sample *delta)
{
	uint64_t missed = completions_missed(delta);
	bool any = false;
	unsigned int i;

	fputs("lost/unmatched:", f);
	for (i = 0; i < NS_DROP_COUNT; i++) {
		if (!delta->drops[i])
			continue;
		fprintf(f, " %s=%llu", drop_name(i), (unsigned long long)delta->drops[i]);
		any = true;
	}
	if (delta->missed_runs) {
		const char *sep = " (";

		fprintf(f, " bpf_runs_skipped=%llu", (unsigned long long)delta->missed_runs);
		for (i = 0; i < delta->nprogs; i++) {
			if (!delta->prog_missed[i])
				continue;
			fprintf(f, "%s%s=%llu", sep, delta->prog_name[i],
				(unsigned long long)delta->prog_missed[i]);
			sep = " ";
		}
		fputs(")", f);
		any = true;
	}
	if (missed) {
		fprintf(f, " completions_missed=%llu", (unsigned long long)missed);
		any = true;
	}
	fputs(any ? "\n" : " none\n", f);
}

void json_losses(struct json *j, const struct sample *delta)
{
	unsigned int i;

	json_object_begin(j, "lost");
	for (i = 0; i < NS_DROP_COUNT; i++)
		json_uint(j, drop_name(i), delta->drops[i]);
	json_uint(j, "bpf_runs_skipped", delta->missed_runs);
	json_object_begin(j, "bpf_runs_skipped_by_program");
	for (i = 0; i < delta->nprogs; i++)
		json_uint(j, delta->prog_name[i], delta->prog_missed[i]);
	json_object_end(j);
	json_uint(j, "completions_missed", completions_missed(delta));
	json_object_end(j);
}

void json_latency(struct json *j, const char *key, const struct lat_summary *l)
{
	if (!l->visible) {
		json_null(j, key);	/* this driver has no event for a step */
		return;
	}
	json_object_begin(j, key);
	json_uint(j, "count", l->count);
	json_double(j, "mean_us", l->mean_us);
	json_double(j, "p50_us", l->p50_us);
	json_double(j, "p99_us", l->p99_us);
	json_object_end(j);
}

void json_cpuset(struct json *j, const char *key, const struct cpuset *s)
{
	unsigned int cpu;

	json_array_begin(j, key);
	for (cpu = 0; cpu < NS_MAX_CPUS; cpu++)
		if (cpuset_has(s, cpu))
			json_uint(j, NULL, cpu);
	json_array_end(j);
}

/* A poll counter: unknown (null) without a poll event, never 0. */
static void json_poll_counter(struct json *j, const char *key, uint64_t v,
			      bool poll_events)
{
	if (poll_events)
		json_uint(j, key, v);
	else
		json_null(j, key);
}

/* The raw event counts behind the rates (named as in struct ns_counters). */
void json_counters(struct json *j, const struct ns_counters *c, bool poll_events)
{
	json_object_begin(j, "events");
	json_uint(j, "rq_start", c->rq_start);
	json_uint(j, "rq_end", c->rq_end);
	json_uint(j, "tracked_start", c->tracked_start);
	json_uint(j, "tracked_end", c->tracked_end);
	json_uint(j, "stale", c->stale);
	json_uint(j, "timed", c->timed);
	json_uint(j, "bytes_read", c->bytes_read);
	json_uint(j, "bytes_written", c->bytes_written);
	json_uint(j, "errors", c->errors);
	json_uint(j, "sq_write", c->sq_write);
	json_uint(j, "sq_write_cmb", c->sq_write_cmb);
	json_uint(j, "sq_doorbell", c->sq_doorbell);
	json_uint(j, "sq_doorbell_cmds", c->sq_doorbell_cmds);
	json_uint(j, "sq_doorbell_mmio", c->sq_doorbell_mmio);
	json_uint(j, "cqe", c->cqe);
	json_uint(j, "cq_doorbell", c->cq_doorbell);
	json_uint(j, "cq_doorbell_cqes", c->cq_doorbell_cqes);
	json_uint(j, "cq_doorbell_mmio", c->cq_doorbell_mmio);
	json_uint(j, "irq", c->irq);
	json_uint(j, "irq_cqes", c->irq_cqes);
	json_uint(j, "hardirq", c->hardirq);
	json_poll_counter(j, "poll", c->poll, poll_events);
	json_poll_counter(j, "poll_empty", c->poll_empty, poll_events);
	json_poll_counter(j, "poll_cqes", c->poll_cqes, poll_events);
	json_poll_counter(j, "poll_batches", c->poll_batches, poll_events);
	json_poll_counter(j, "poll_reaped", c->poll_reaped, poll_events);
	/* LAB-TODO(10) begin: the tnvme_sq_level counters in "events" */
	json_uint(j, "sq_level", c->sq_level);
	json_uint(j, "sq_level_used", c->sq_level_used);
	/* LAB-TODO(10) end */
	json_object_end(j);
}

void json_queue_type(struct json *j, enum ns_qtype t, enum ns_qtype_from from)
{
	if (t == NS_QTYPE_UNKNOWN) {
		json_null(j, "queue_type");
		json_null(j, "queue_type_from");
		return;
	}
	json_string(j, "queue_type", queue_type_name(t));
	json_string(j, "queue_type_from", queue_type_from_name(from));
}

void json_queue_view(struct json *j, enum ns_driver d, const struct queue_view *v)
{
	char label[32];
	unsigned int iv;

	ctrl_label(d, v->ctrl, label, sizeof(label));
	json_object_begin(j, NULL);
	json_string(j, "controller", label);
	json_uint(j, "ctrl", v->ctrl);
	json_uint(j, "qid", v->qid);
	json_queue_type(j, v->type, v->type_from);
	if (v->sq_mem == NS_SQ_MEM_UNKNOWN)
		json_null(j, "sq_mem");
	else
		json_string(j, "sq_mem", sq_mem_name(v->sq_mem));
	json_uint(j, "completions", v->completions);
	json_double(j, "iops", v->iops);
	json_double(j, "mb_per_s", v->mbps);
	json_int(j, "inflight", v->inflight);
	json_double(j, "sq_doorbells_per_s", v->sq_doorbells_ps);
	json_double(j, "cq_doorbells_per_s", v->cq_doorbells_ps);
	json_double(j, "sq_doorbells_mmio_per_s", v->sq_doorbells_mmio_ps);
	json_double(j, "cq_doorbells_mmio_per_s", v->cq_doorbells_mmio_ps);
	json_double(j, "doorbells_mmio_pct", v->doorbells_mmio_pct);
	json_double(j, "cmds_per_sq_doorbell", v->cmds_per_sq_doorbell);
	json_double(j, "cqes_per_irq", v->cqes_per_irq);
	json_double(j, "sq_used", v->sq_used);
	json_double(j, "polls_per_s", v->polls_ps);
	json_double(j, "empty_polls_per_s", v->empty_polls_ps);
	json_double(j, "empty_polls_pct", v->empty_polls_pct);
	json_double(j, "cqes_per_poll", v->cqes_per_poll);
	json_uint(j, "irqs", v->irqs);
	json_uint(j, "hardirqs", v->hardirqs);
	json_cpuset(j, "submit_cpus", &v->submit_cpus);
	json_cpuset(j, "irq_cpus", &v->irq_cpus);
	if (v->poll_visible)
		json_cpuset(j, "poll_cpus", &v->poll_cpus);
	else
		json_null(j, "poll_cpus");
	json_bool(j, "cpu_mismatch", v->cpu_mismatch);
	json_object_begin(j, "latency");
	for (iv = 0; iv < NS_IV_COUNT; iv++)
		json_latency(j, interval_key_for(iv, v->type), &v->lat[iv]);
	json_object_end(j);
	json_counters(j, &v->counters, v->poll_visible);
	json_object_end(j);
}
