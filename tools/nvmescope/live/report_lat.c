// SPDX-License-Identifier: GPL-2.0
/*
 * report_lat.c - "nvmescope lat": per-queue latency histograms, end to end
 * and for each step interval, over -d SECONDS or until Ctrl-C.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "live/collect.h"
#include "core/hist.h"
#include "live/live.h"
#include "core/sysfs.h"
#include "core/view.h"

/* Intervals in the order a reader follows a request: end to end first. */
static const enum ns_interval lat_order[NS_IV_COUNT] = {
	NS_IV_RQ_START_RQ_END, NS_IV_RQ_START_SQ_WRITE, NS_IV_SQ_WRITE_SQ_DOORBELL,
	NS_IV_SQ_DOORBELL_IRQ, NS_IV_IRQ_CQE, NS_IV_CQE_CQ_DOORBELL,
};

static void json_buckets(struct json *j, const struct ns_hist *h)
{
	unsigned int i;

	json_array_begin(j, "buckets");
	for (i = 0; i < NS_HIST_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		json_object_begin(j, NULL);
		json_uint(j, "low_ns", hist_slot_low(i));
		json_uint(j, "high_ns", hist_slot_high(i));
		json_uint(j, "count", h->slots[i]);
		json_object_end(j);
	}
	json_array_end(j);
}

static void print_text(const struct options *o, const struct sample *d)
{
	size_t i, shown = 0;
	unsigned int k;

	printf("nvmescope lat - %s - %.1f s\n", driver_name(o->driver), d->time_s);
	print_losses(stdout, d);
	for (i = 0; i < d->n; i++) {
		const struct queue_sample *q = &d->q[i];
		char label[32];

		if (!q->total.rq_end && !q->hist[NS_IV_IRQ_CQE].count)
			continue;
		shown++;
		ctrl_label(o->driver, q->ctrl, label, sizeof(label));
		/* a poll queue's irq step is the poll that found the CQE */
		printf("\n=== %s q%u%s: %llu commands", label, q->qid,
		       q->type == NS_QTYPE_POLL ? " (poll queue, no interrupt)" : "",
		       (unsigned long long)q->total.rq_end);
		if (o->sample > 1)
			printf(", 1 in %u timed", o->sample);
		printf(" ===\n");
		for (k = 0; k < NS_IV_COUNT; k++) {
			enum ns_interval iv = lat_order[k];
			struct lat_summary l;

			printf("\n%s -> %s  (%s)\n", interval_from_for(iv, q->type),
			       interval_to_for(iv, q->type), interval_help_for(iv, q->type));
			if (!interval_visible(o->driver, iv)) {
				printf("    n/a: the %s driver has no event at one end of this interval\n",
				       driver_name(o->driver));
				continue;
			}
			lat_summary_make(&l, &q->hist[iv], true);
			if (l.count)
				printf("    count %llu  mean %.1f us  p50 %.1f us  p99 %.1f us\n",
				       (unsigned long long)l.count, l.mean_us, l.p50_us, l.p99_us);
			hist_print_log2(stdout, &q->hist[iv], "    ");
		}
	}
	if (!shown)
		printf("no command completed on the selected queues\n");
	fflush(stdout);
}

static void print_json(const struct options *o, const struct sample *d)
{
	struct json j;
	size_t i;
	unsigned int k;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "report", "lat");
	json_string(&j, "driver", driver_name(o->driver));
	json_double(&j, "interval_s", d->time_s);
	json_uint(&j, "sample_every", o->sample);
	json_losses(&j, d);
	json_array_begin(&j, "queues");
	for (i = 0; i < d->n; i++) {
		const struct queue_sample *q = &d->q[i];
		char label[32];

		ctrl_label(o->driver, q->ctrl, label, sizeof(label));
		json_object_begin(&j, NULL);
		json_string(&j, "controller", label);
		json_uint(&j, "ctrl", q->ctrl);
		json_uint(&j, "qid", q->qid);
		json_queue_type(&j, q->type, q->type_from);
		json_uint(&j, "completions", q->total.rq_end);
		json_uint(&j, "timed", q->total.timed);
		json_object_begin(&j, "latency");
		for (k = 0; k < NS_IV_COUNT; k++) {
			const char *key = interval_key_for(k, q->type);
			struct lat_summary l;

			lat_summary_make(&l, &q->hist[k], interval_visible(o->driver, k));
			if (!l.visible) {
				json_null(&j, key);
				continue;
			}
			json_object_begin(&j, key);
			json_uint(&j, "count", l.count);
			json_double(&j, "mean_us", l.mean_us);
			json_double(&j, "p50_us", l.p50_us);
			json_double(&j, "p99_us", l.p99_us);
			json_buckets(&j, &q->hist[k]);
			json_object_end(&j);
		}
		json_object_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_end_line(&j);
}

int report_lat(const struct options *o)
{
	struct live_options lo = { .duration_s = o->duration_s, .events_fd = -1 };
	struct live_callbacks cb = { 0 };
	struct sample start, end, delta;
	struct collector *c;
	int ret;

	ret = collector_open(&c, o, COLLECT_STATS, NULL, NULL);
	if (ret)
		return ret;
	if (live_interrupted()) {
		collector_close(c);
		print_error("interrupted before collecting");
		return EXIT_INTERRUPTED;
	}
	if (collector_sample(c, &start)) {
		collector_close(c);
		print_error("cannot read the BPF maps");
		return EXIT_FAILURE_RUNTIME;
	}
	if (!o->json && !o->duration_s)
		fprintf(stderr, "nvmescope lat: collecting, Ctrl-C to print the histograms\n");
	ret = live_run(&lo, &cb);
	if (!collector_sample(c, &end)) {
		sample_delta(&delta, &end, &start);
		if (o->json)
			print_json(o, &delta);
		else
			print_text(o, &delta);
		sample_free(&delta);
		sample_free(&end);
	}
	sample_free(&start);
	collector_close(c);
	return ret ? EXIT_FAILURE_RUNTIME : EXIT_OK;
}
