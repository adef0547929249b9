// SPDX-License-Identifier: GPL-2.0
/*
 * report_irq.c - "nvmescope irq": for every NVMe queue interrupt (tnvme
 * and the stock driver), where it may go, where it went, and whether that
 * matches the CPUs blk-mq sends the queue's requests from.
 *
 * Works from /proc and /sys alone: counts are /proc/interrupts deltas over
 * the interval.  The "observed" CPUs and bpf_count used to come from a BPF
 * program on irq:irq_handler_entry; attaching it live-patches the path
 * every device interrupt runs, which can hang a QEMU TCG guest (issue #4),
 * so they are now the same per-CPU counts read from /proc/interrupts, and
 * irq loads no BPF at all.  --no-bpf still leaves them out (null, n/a).
 *
 * A poll queue (either driver's poll_queues) has no interrupt at all: the
 * task that submitted polled I/O reaps it, on the CPUs blk-mq sends that
 * I/O from.  It is listed with a note saying so, never as a mismatch.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "live/collect.h"
#include "core/json.h"
#include "live/live.h"
#include "core/sysfs.h"
#include "core/view.h"

struct irq_row {
	const struct nvme_queue_info *q;
	uint64_t total;
	uint64_t *per_col;		/* delta per /proc/interrupts column */
	bool have_observed;		/* false with --no-bpf */
	struct cpuset observed;		/* CPUs /proc says took it */
	bool mismatch;			/* irq CPUs outside blk-mq's CPUs */
};

static bool wanted(const struct options *o, const struct nvme_queue_info *q)
{
	if (o->driver_given && q->driver != o->driver)
		return false;
	if (o->ctrl >= 0 && (int)q->ctrl != o->ctrl)
		return false;
	return o->qid < 0 || (int)q->qid == o->qid;
}

static void print_text(const struct irq_row *rows, size_t n, const struct proc_interrupts *pi,
		       double secs, bool observed)
{
	size_t i;

	printf("nvmescope irq - %.1f s%s\n", secs,
	       observed ? "" : " - --no-bpf (no observed CPUs)");
	printf("%-12s %5s %9s  %-20s %-9s %-9s %-7s %-9s %-9s %s\n", "QUEUE", "IRQ",
	       "COUNT", "PER_CPU(cpu:count)", "AFFINITY", "EFFECTIVE", "MANAGED",
	       "BLK_MQ", "OBSERVED", "MISMATCH");
	for (i = 0; i < n; i++) {
		const struct irq_row *r = &rows[i];
		char q[40], label[32], aff[64], eff[64], mq[64], obs[64], per[256];
		size_t used = 0;
		unsigned int col;

		ctrl_label(r->q->driver, r->q->ctrl, label, sizeof(label));
		snprintf(q, sizeof(q), "%s q%u", label, r->q->qid);
		if (!r->q->has_irq) {
			poll_queue_note(per, sizeof(per),
					r->q->has_blk_mq ? &r->q->blk_mq_cpus : NULL);
			printf("%-12s %5s %9s  %s\n", q, "-", "-", per);
			continue;
		}
		cpulist_format(&r->q->affinity, aff, sizeof(aff));
		cpulist_format(&r->q->effective, eff, sizeof(eff));
		if (r->q->has_blk_mq)
			cpulist_format(&r->q->blk_mq_cpus, mq, sizeof(mq));
		else
			snprintf(mq, sizeof(mq), "%s", r->q->qid ? "?" : "(admin)");
		if (r->have_observed)
			cpulist_format(&r->observed, obs, sizeof(obs));
		else
			snprintf(obs, sizeof(obs), "n/a");
		per[0] = '\0';
		for (col = 0; col < pi->ncols; col++) {
			if (!r->per_col[col] || used >= sizeof(per))
				continue;
			used += snprintf(per + used, sizeof(per) - used, "%s%u:%llu",
					 used ? "," : "", pi->col_cpu[col],
					 (unsigned long long)r->per_col[col]);
		}
		if (!used)
			snprintf(per, sizeof(per), "-");
		printf("%-12s %5u %9llu  %-20s %-9s %-9s %-7s %-9s %-9s %s\n", q, r->q->irq,
		       (unsigned long long)r->total, per, aff, eff,
		       r->q->managed ? "yes" : "no", mq, obs,
		       !r->q->has_blk_mq ? "-" : r->mismatch ? "YES" : "no");
	}
	fflush(stdout);
}

/*
 * A queue without an interrupt line (a poll queue): the interrupt keys
 * are null, mismatch is false (no interrupt can land on a wrong CPU), and
 * polling_cpus says where it is reaped: blk-mq's CPUs for it.
 */
static void json_poll_row(struct json *j, const struct irq_row *r)
{
	char note[320];

	json_null(j, "irq");
	json_null(j, "count");
	json_null(j, "per_cpu");
	json_null(j, "smp_affinity");
	json_null(j, "effective_affinity");
	json_bool(j, "managed", false);
	if (r->q->has_blk_mq) {
		json_cpuset(j, "blk_mq_cpus", &r->q->blk_mq_cpus);
		json_cpuset(j, "polling_cpus", &r->q->blk_mq_cpus);
	} else {
		json_null(j, "blk_mq_cpus");
		json_null(j, "polling_cpus");
	}
	json_null(j, "bpf_count");
	json_null(j, "observed_cpus");
	json_bool(j, "mismatch", false);
	poll_queue_note(note, sizeof(note), r->q->has_blk_mq ? &r->q->blk_mq_cpus : NULL);
	json_string(j, "note", note);
}

/* The fields of a queue that has an interrupt, after its names. */
static void json_irq_row(struct json *j, const struct irq_row *r,
			 const struct proc_interrupts *pi)
{
	unsigned int col;

	json_uint(j, "irq", r->q->irq);
	json_uint(j, "count", r->total);
	json_array_begin(j, "per_cpu");
	for (col = 0; col < pi->ncols; col++) {
		json_object_begin(j, NULL);
		json_uint(j, "cpu", pi->col_cpu[col]);
		json_uint(j, "count", r->per_col[col]);
		json_object_end(j);
	}
	json_array_end(j);
	json_cpuset(j, "smp_affinity", &r->q->affinity);
	json_cpuset(j, "effective_affinity", &r->q->effective);
	json_bool(j, "managed", r->q->managed);
	if (r->q->has_blk_mq)
		json_cpuset(j, "blk_mq_cpus", &r->q->blk_mq_cpus);
	else
		json_null(j, "blk_mq_cpus");
	if (r->have_observed) {
		json_uint(j, "bpf_count", r->total);
		json_cpuset(j, "observed_cpus", &r->observed);
	} else {
		json_null(j, "bpf_count");
		json_null(j, "observed_cpus");
	}
	if (r->q->has_blk_mq)
		json_bool(j, "mismatch", r->mismatch);
	else
		json_null(j, "mismatch");
}

static void print_json(const struct irq_row *rows, size_t n, const struct proc_interrupts *pi,
		       double secs, bool observed)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "report", "irq");
	json_double(&j, "interval_s", secs);
	/* the name is from when BPF counted them: "observed CPUs filled in" */
	json_bool(&j, "bpf", observed);
	json_array_begin(&j, "queues");
	for (i = 0; i < n; i++) {
		const struct irq_row *r = &rows[i];
		char label[32];

		ctrl_label(r->q->driver, r->q->ctrl, label, sizeof(label));
		json_object_begin(&j, NULL);
		json_string(&j, "driver", driver_name(r->q->driver));
		json_string(&j, "controller", label);
		json_uint(&j, "ctrl", r->q->ctrl);
		json_uint(&j, "qid", r->q->qid);
		json_queue_type(&j, r->q->type, r->q->type_from);
		if (r->q->has_irq)
			json_irq_row(&j, r, pi);
		else
			json_poll_row(&j, r);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_end_line(&j);
}

/* Queue q's row: its interrupts per CPU over the window, the mismatch flag. */
static int fill_row(struct irq_row *r, const struct nvme_queue_info *q,
		    const struct proc_interrupts *before,
		    const struct proc_interrupts *after, bool observed)
{
	const struct irq_line *a = proc_interrupts_find(before, q->irq);
	const struct irq_line *b = proc_interrupts_find(after, q->irq);
	unsigned int col;

	r->q = q;
	r->per_col = calloc(after->ncols ? after->ncols : 1, sizeof(uint64_t));
	if (!r->per_col)
		return -1;
	if (!q->has_irq)
		return 0;	/* a poll queue: json_poll_row() */
	for (col = 0; a && b && col < after->ncols && col < before->ncols; col++) {
		r->per_col[col] = b->count[col] - a->count[col];
		r->total += r->per_col[col];
		if (r->per_col[col])
			cpuset_add(&r->observed, after->col_cpu[col]);
	}
	r->have_observed = observed;
	/* interrupts landing on CPUs that do not submit to this queue */
	r->mismatch = q->has_blk_mq &&
		      (!cpuset_subset(&q->effective, &q->blk_mq_cpus) ||
		       !cpuset_subset(&r->observed, &q->blk_mq_cpus));
	return 0;
}

/* Wait one window of -i seconds; returns its length, or < 0. */
static double measure_window(const struct options *o)
{
	struct live_options lo = { .duration_s = o->interval_s, .events_fd = -1 };
	struct live_callbacks cb = { 0 };
	double t0 = now_monotonic();

	if (live_run(&lo, &cb))
		return -1;
	return now_monotonic() - t0;
}

int report_irq(const struct options *o)
{
	struct proc_interrupts before = { 0 }, after = { 0 };
	struct nvme_queues qs = { 0 };
	struct irq_row *rows = NULL;
	bool observed = !o->no_bpf;
	double secs;
	size_t i, n = 0;
	int ret = EXIT_FAILURE_RUNTIME;

	if (proc_interrupts_read(&before) || nvme_queues_discover(&before, &qs)) {
		print_error("cannot read /proc/interrupts");
		goto out;
	}
	for (i = 0; i < qs.n; i++)
		n += wanted(o, &qs.q[i]);
	if (!n) {
		print_error("no NVMe queue interrupt matches (see /proc/interrupts)");
		ret = EXIT_NOT_FOUND;
		goto out;
	}
	if (live_interrupted()) {
		print_error("interrupted before measuring");
		ret = EXIT_INTERRUPTED;
		goto out;
	}
	secs = measure_window(o);
	if (secs < 0)
		goto out;
	if (proc_interrupts_read(&after)) {
		print_error("cannot read /proc/interrupts");
		goto out;
	}
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		goto out;
	n = 0;
	for (i = 0; i < qs.n; i++)
		if (wanted(o, &qs.q[i]) &&
		    fill_row(&rows[n++], &qs.q[i], &before, &after, observed))
			goto out;
	if (o->json)
		print_json(rows, n, &after, secs, observed);
	else
		print_text(rows, n, &after, secs, observed);
	ret = EXIT_OK;
out:
	for (i = 0; rows && i < n; i++)
		free(rows[i].per_col);
	free(rows);
	nvme_queues_free(&qs);
	proc_interrupts_free(&before);
	proc_interrupts_free(&after);
	return ret;
}
