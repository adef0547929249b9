// SPDX-License-Identifier: GPL-2.0
/*
 * report_top.c - "nvmescope top": every interval, per controller and
 * queue, how busy it is and where a request's time goes.
 *
 * On a terminal it redraws in place (alternate screen, like irqtop);
 * otherwise, or with --plain, it prints one block of lines per interval;
 * with --json one object per interval.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"
#include "live/collect.h"
#include "live/live.h"
#include "core/sysfs.h"
#include "core/view.h"

struct top {
	const struct options *o;
	struct collector *c;
	struct sample prev;
	bool fullscreen;
	long reports;
	char *screen;		/* last frame, redrawn on resize */
	size_t screen_len;
};

/*
 * MMIO%: doorbell register writes per 100 doorbell updates (SQ and CQ).
 * SQ_DB/s and CQ_DB/s count every update; with shadow doorbells most of
 * them go only to host memory and do not trap, so MMIO% is what an
 * emulated controller pays for.  SQ_USED: SQ slots in use at a doorbell
 * as the host knew them (tnvme_sq_level), "-" without that event.  SQ:
 * where the SQ lives, "host" memory or the controller's memory buffer
 * ("cmb"), "-" before its first command and with the stock driver.  The
 * numeric columns end at column 80, so they stay whole on an 80-column
 * terminal.
 *
 * A poll queue has no interrupt: its row shows CQEs per poll that reaped
 * in CQE/IRQ and the CPUs that polled in IRQ_CPUS, and ends with
 * "<- poll"; print_polls() then has the rest.
 */
static void print_rates(FILE *f, enum ns_driver d, const struct queue_view *v,
			size_t n)
{
	size_t i;

	fprintf(f, "%-10s %7s %6s %4s %8s %8s %5s %9s %7s %7s  %-4s  %-11s %-11s\n",
		"QUEUE", "IOPS", "MB/s", "INFL", "SQ_DB/s", "CQ_DB/s", "MMIO%",
		"CMD/SQ_DB", "CQE/IRQ", "SQ_USED", "SQ", "SUBMIT_CPUS", "IRQ_CPUS");
	for (i = 0; i < n; i++) {
		char label[32], q[40], sqdb[16], cqdb[16], mmio[16], per_db[16], per_irq[16];
		char used[16], sub[64], irq[64];

		ctrl_label(d, v[i].ctrl, label, sizeof(label));
		snprintf(q, sizeof(q), "%s q%u", label, v[i].qid);
		format_number(sqdb, sizeof(sqdb), v[i].sq_doorbells_ps, 0);
		format_number(cqdb, sizeof(cqdb), v[i].cq_doorbells_ps, 0);
		format_number(mmio, sizeof(mmio), v[i].doorbells_mmio_pct, 0);
		format_number(per_db, sizeof(per_db), v[i].cmds_per_sq_doorbell, 2);
		format_number(used, sizeof(used), v[i].sq_used, 1);
		cpulist_format(&v[i].submit_cpus, sub, sizeof(sub));
		if (v[i].type == NS_QTYPE_POLL) {
			format_number(per_irq, sizeof(per_irq), v[i].cqes_per_poll, 2);
			if (v[i].poll_visible)
				cpulist_format(&v[i].poll_cpus, irq, sizeof(irq));
			else
				snprintf(irq, sizeof(irq), "-");
		} else {
			format_number(per_irq, sizeof(per_irq), v[i].cqes_per_irq, 2);
			cpulist_format(&v[i].irq_cpus, irq, sizeof(irq));
		}
		fprintf(f, "%-10s %7.0f %6.1f %4lld %8s %8s %5s %9s %7s %7s  %-4s  %-11s %-11s%s\n",
			q, v[i].iops, v[i].mbps, (long long)v[i].inflight, sqdb, cqdb,
			mmio, per_db, per_irq, used,
			v[i].sq_mem ? sq_mem_name(v[i].sq_mem) : "-", sub, irq,
			v[i].type == NS_QTYPE_POLL ? " <- poll" :
			v[i].cpu_mismatch ? " <- differ" : "");
	}
}

/*
 * The poll queues' own numbers: calls of the driver's ->poll per second,
 * how many found nothing, CQEs per poll that reaped.  The stock driver
 * has no event for a poll: "-" and a note, never 0.
 */
static void print_polls(FILE *f, enum ns_driver d, const struct queue_view *v,
			size_t n)
{
	bool any = false, unknown = false;
	size_t i;

	for (i = 0; i < n; i++)
		any |= v[i].type == NS_QTYPE_POLL;
	if (!any)
		return;
	fputc('\n', f);
	fprintf(f, "%-10s %9s %9s %6s %8s  %-11s  %s\n", "POLL QUEUE", "POLLS/s",
		"EMPTY/s", "EMPTY%", "CQE/POLL", "POLL_CPUS", "(no interrupt: reaped by polling)");
	for (i = 0; i < n; i++) {
		char label[32], q[40], polls[16], empty[16], pct[16], per[16], cpus[64];

		if (v[i].type != NS_QTYPE_POLL)
			continue;
		ctrl_label(d, v[i].ctrl, label, sizeof(label));
		snprintf(q, sizeof(q), "%s q%u", label, v[i].qid);
		format_number(polls, sizeof(polls), v[i].polls_ps, 0);
		format_number(empty, sizeof(empty), v[i].empty_polls_ps, 0);
		format_number(pct, sizeof(pct), v[i].empty_polls_pct, 1);
		format_number(per, sizeof(per), v[i].cqes_per_poll, 2);
		if (v[i].poll_visible)
			cpulist_format(&v[i].poll_cpus, cpus, sizeof(cpus));
		else
			snprintf(cpus, sizeof(cpus), "-");
		unknown |= !v[i].poll_visible;
		fprintf(f, "%-10s %9s %9s %6s %8s  %-11s\n", q, polls, empty, pct, per, cpus);
	}
	if (unknown)
		fprintf(f, "(-: the %s driver has no event for a poll)\n", driver_name(d));
}

static void print_latency(FILE *f, enum ns_driver d, const struct queue_view *v,
			  size_t n)
{
	size_t i;
	unsigned int iv;

	fprintf(f, "%-10s %-24s %9s %9s %9s %9s\n", "QUEUE", "FROM -> TO (usecs)",
		"MEAN", "P50", "P99", "COUNT");
	for (i = 0; i < n; i++) {
		char label[32], q[40];

		if (!v[i].completions && !v[i].lat[NS_IV_IRQ_CQE].count)
			continue;	/* idle in this interval */
		ctrl_label(d, v[i].ctrl, label, sizeof(label));
		snprintf(q, sizeof(q), "%s q%u", label, v[i].qid);
		for (iv = 0; iv < NS_IV_COUNT; iv++) {
			/* end to end first, then the steps in causal order */
			unsigned int k = iv == 0 ? NS_IV_RQ_START_RQ_END : iv - 1;
			const struct lat_summary *l = &v[i].lat[k];
			char name[64], mean[16], p50[16], p99[16];

			snprintf(name, sizeof(name), "%s -> %s", interval_from_for(k, v[i].type),
				 interval_to_for(k, v[i].type));
			if (!l->visible) {
				fprintf(f, "%-10s %-24s %9s %9s %9s %9s\n", iv ? "" : q, name,
					"n/a", "n/a", "n/a", "(no event)");
				continue;
			}
			format_number(mean, sizeof(mean), l->mean_us, 1);
			format_number(p50, sizeof(p50), l->p50_us, 1);
			format_number(p99, sizeof(p99), l->p99_us, 1);
			fprintf(f, "%-10s %-24s %9s %9s %9s %9llu\n", iv ? "" : q, name,
				mean, p50, p99, (unsigned long long)l->count);
		}
	}
}

/* Show the last frame from the top left, each line cut to the width. */
static void draw(struct top *t)
{
	int cols, rows, row = 0;
	char *line = t->screen;

	live_term_size(&cols, &rows);
	fputs("\033[H", stdout);
	while (line && *line && row < rows) {
		char *nl = strchr(line, '\n');
		int w = nl ? (int)(nl - line) : (int)strlen(line);

		fprintf(stdout, "%.*s\033[K%s", w < cols ? w : cols, line,
			row + 1 < rows ? "\n" : "");
		row++;
		line = nl ? nl + 1 : NULL;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

/* Build the report for one interval into a memory stream, then show it. */
static void print_json_report(const struct top *t, const struct sample *now,
			      const struct sample *delta, const struct queue_view *views,
			      size_t n)
{
	enum ns_driver d = t->o->driver;
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "report", "top");
	json_string(&j, "driver", driver_name(d));
	json_double(&j, "time", now->time_s);
	json_double(&j, "interval_s", delta->time_s);
	json_uint(&j, "sample_every", t->o->sample);
	json_losses(&j, delta);
	json_array_begin(&j, "queues");
	for (i = 0; i < n; i++)
		json_queue_view(&j, d, &views[i]);
	json_array_end(&j);
	json_object_end(&j);
	json_end_line(&j);
}

/*
 * The text report, built in memory first: the full-screen view redraws
 * it (on a resize too) from t->screen.
 */
static void print_text_report(struct top *t, const struct sample *delta,
			      const struct queue_view *views, size_t n)
{
	enum ns_driver d = t->o->driver;
	time_t wall = time(NULL);
	char clock[16];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&wall));
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	fprintf(f, "nvmescope top - %s - %s - interval %.1f s", driver_name(d), clock,
		delta->time_s);
	if (t->o->sample > 1)
		fprintf(f, " - latency of 1 in %u commands", t->o->sample);
	fprintf(f, "%s\n", t->fullscreen ? " - q quits" : "");
	print_losses(f, delta);
	fputc('\n', f);
	print_rates(f, d, views, n);
	print_polls(f, d, views, n);
	fputc('\n', f);
	print_latency(f, d, views, n);
	if (!t->fullscreen)
		fputc('\n', f);
	fclose(f);
	free(t->screen);
	t->screen = buf;
	t->screen_len = len;
	if (t->fullscreen)
		draw(t);
	else
		fwrite(buf, 1, len, stdout);
	fflush(stdout);
}

static int top_tick(void *ctx)
{
	struct top *t = ctx;
	const struct options *o = t->o;
	struct sample now, delta;
	struct queue_view *views;
	size_t i;

	if (collector_sample(t->c, &now))
		return 1;
	sample_delta(&delta, &now, &t->prev);
	views = calloc(delta.n ? delta.n : 1, sizeof(*views));
	if (!views) {
		sample_free(&now);
		sample_free(&delta);
		return 1;
	}
	for (i = 0; i < delta.n; i++)
		queue_view_make(&views[i], o->driver, &delta.q[i], &now.q[i], delta.time_s);
	if (o->json)
		print_json_report(t, &now, &delta, views, delta.n);
	else
		print_text_report(t, &delta, views, delta.n);
	free(views);
	sample_free(&delta);
	sample_free(&t->prev);
	t->prev = now;
	t->reports++;
	return o->iterations && t->reports >= o->iterations;
}

static void top_resize(void *ctx)
{
	struct top *t = ctx;

	fputs("\033[2J", stdout);
	if (t->screen) {
		draw(t);
	} else {
		fputs("\033[Hnvmescope top: waiting for the first interval...", stdout);
		fflush(stdout);
	}
}

/*
 * The reports come every interval from the moment nvmescope started, as
 * "-i 1" promises, not from the end of loading and attaching (a fifth of
 * a second idle under QEMU TCG, two thirds under fio load): the first
 * interval is that much shorter, and its length is in the report.  It is
 * never shorter than a quarter of an interval, or its rates would mean
 * little.
 */
static double first_tick(const struct options *o)
{
	double first = o->start_s + o->interval_s;
	double earliest = now_monotonic() + o->interval_s / 4;

	return first > earliest ? first : earliest;
}

int report_top(const struct options *o)
{
	struct top t = { .o = o };
	struct live_options lo = {
		.interval_s = o->interval_s,
		.duration_s = o->duration_s,
		.events_fd = -1,
	};
	struct live_callbacks cb = { .ctx = &t, .on_tick = top_tick, .on_resize = top_resize };
	int ret;

	ret = collector_open(&t.c, o, COLLECT_STATS, NULL, NULL);
	if (ret)
		return ret;
	if (live_interrupted() || collector_sample(t.c, &t.prev)) {
		collector_close(t.c);
		if (live_interrupted()) {
			print_error("interrupted before the first report");
			return EXIT_INTERRUPTED;
		}
		print_error("cannot read the BPF maps");
		return EXIT_FAILURE_RUNTIME;
	}
	t.fullscreen = !o->json && !o->plain && isatty(STDOUT_FILENO);
	lo.fullscreen = t.fullscreen;
	lo.first_tick_s = first_tick(o);
	ret = live_run(&lo, &cb);
	sample_free(&t.prev);
	free(t.screen);
	collector_close(t.c);
	return ret ? EXIT_FAILURE_RUNTIME : EXIT_OK;
}
