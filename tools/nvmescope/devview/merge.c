// SPDX-License-Identifier: GPL-2.0
/*
 * merge.c - "nvmescope merge HOST DEVICE": the guest's record (HOST, from
 * "nvmescope record") and QEMU's trace (DEVICE, labvm --device-trace)
 * joined per command, on the device's clock: the offset between the
 * clocks, the seven steps of each command, and per queue the six
 * intervals between them.  The work is in hostrec.c, devtrace.c, join.c
 * and clocksync.c; this file reads the files and prints.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "devview/devview.h"
#include "core/json.h"

int devview_load(const char *cmd, const char *host_file, const char *device_file,
		 struct hrec *r, struct dlog *d)
{
	char err[512] = "";
	FILE *f;

	memset(r, 0, sizeof(*r));
	dlog_init(d);
	f = fopen(host_file, "r");
	if (!f) {
		print_error("cannot read %s: %s", host_file, strerror(errno));
		return EXIT_NOT_FOUND;
	}
	if (hrec_read(r, f, err, sizeof(err))) {
		fclose(f);
		print_error("%s: %s", host_file, err);
		return EXIT_USAGE;
	}
	fclose(f);
	/*
	 * Checked before the (large) device file is read: a doorbell that
	 * went only to the shadow buffer has no MMIO event in QEMU's trace,
	 * so the doorbell FIFO would give commands the wrong doorbells and
	 * the clock bounds would be wrong.  Refuse rather than mislead.
	 */
	if (hrec_shadow_only(r, err, sizeof(err))) {
		fprintf(stderr, "nvmescope %s: %s\n", cmd, err);
		hrec_free(r);
		return EXIT_USAGE;
	}
	f = fopen(device_file, "r");
	if (!f) {
		print_error("cannot read %s: %s", device_file, strerror(errno));
		hrec_free(r);
		return EXIT_NOT_FOUND;
	}
	if (dlog_read(d, f)) {
		fclose(f);
		print_error("%s: read error", device_file);
		hrec_free(r);
		dlog_free(d);
		return EXIT_FAILURE_RUNTIME;
	}
	fclose(f);
	if (!d->events) {
		print_error("%s: no pci_nvme_* trace events (was it recorded with labvm --device-trace?)",
			device_file);
		hrec_free(r);
		dlog_free(d);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static const char *op_name(const struct mcmd *c)
{
	return opcode_name(c->h->qid, c->h->opcode);
}

static double us(double ns)
{
	return ns / 1e3;
}

/* ------------------------------------------------------------ text */

static void print_clock_text(const struct merged *m, const struct hrec *r)
{
	const struct csync *cs = &m->cs;
	double off_s = ((double)cs->base + cs_offset_at(cs, cs->g0)) / 1e9;

	printf("joined   %zu of %zu guest commands (%.2f %%)", m->joined, m->guest,
	       m->guest ? 100.0 * m->joined / m->guest : 0.0);
	if (r->lost)
		printf(", %llu more lost by the guest's ring buffer", (unsigned long long)r->lost);
	printf("\n         the device fetched %zu commands while the guest recorded (%zu in its trace)\n",
	       m->device_in_window, m->device);
	printf("clock    device = guest + %.9f s, +- %.3f us%s, drift %+.2f ppm over %.2f s%s\n",
	       off_s, us(cs->unc_ns), cs->consistent ? "" : " (INCONSISTENT bounds)",
	       cs->b * 1e6, cs->span_s, cs->piecewise ? " (not linear: per 0.25 s window)" : "");
	printf("         bounds from %zu SQ doorbells (upper), %zu CQ doorbells, %zu CQEs, "
	       "%zu interrupts (lower; dropped: %zu interrupts, %zu outliers)\n",
	       cs->used[CS_SQ_DOORBELL], cs->used[CS_CQ_DOORBELL], cs->used[CS_CQE],
	       cs->used[CS_IRQ], cs->dropped_soft, cs->outliers);
	if (m->have_coarse)
		printf("         the guest's REALTIME - MONOTONIC guess was off by %.3f ms\n",
		       ((double)cs->base + cs_offset_at(cs, cs->g0) - (double)m->coarse_offset_ns) / 1e6);
	printf("causal   %zu of %zu joined commands have their steps in order\n\n",
	       m->joined - m->not_causal, m->joined);
}

/*
 * Where a queue's SQ lived for its joined commands: what the sq_doorbell
 * -> fetch interval is about (host memory: the controller reads the
 * command by DMA; the CMB: from its own memory).  NULL: not recorded
 * (a record from before tnvme_sq_write said it).
 */
static const char *queue_sq_mem(const struct mqueue *q)
{
	if (q->sq_host && q->sq_cmb)
		return "mixed";
	if (q->sq_cmb)
		return "cmb";
	return q->sq_host ? "host" : NULL;
}

static void print_queues_text(const struct merged *m)
{
	size_t i;
	unsigned int s;

	for (i = 0; i < m->nq; i++) {
		const struct mqueue *q = &m->q[i];
		const char *where = queue_sq_mem(q);

		printf("queue %u: %zu of %zu commands joined%s%s\n", q->qid, q->joined, q->guest,
		       where ? ", SQ in " : "",
		       !where ? "" : !strcmp(where, "cmb") ? "the controller memory buffer" :
		       !strcmp(where, "host") ? "host memory" : "both (the queue was re-created)");
		if (!q->joined)
			continue;
		printf("  %-22s %9s %9s %9s %9s  %s\n", "INTERVAL", "N", "P50(us)", "P99(us)",
		       "MAX(us)", "WHAT");
		for (s = 0; s < M_IV_COUNT; s++)
			printf("  %-22s %9zu %9.1f %9.1f %9.1f  %s\n", miv_key(s), q->niv[s],
			       us(sorted_percentile(q->iv[s], q->niv[s], 50)),
			       us(sorted_percentile(q->iv[s], q->niv[s], 99)),
			       us(sorted_percentile(q->iv[s], q->niv[s], 100)), miv_help(s));
		printf("  %-22s %9zu %9.1f %9.1f %9.1f  %s\n\n", "sq_doorbell-irq", q->ndevtime,
		       us(sorted_percentile(q->devtime, q->ndevtime, 50)),
		       us(sorted_percentile(q->devtime, q->ndevtime, 99)),
		       us(sorted_percentile(q->devtime, q->ndevtime, 100)),
		       "doorbell MMIO to MSI-X (top's device time also holds the delivery to the handler)");
	}
}

static void print_cmds_text(const struct merged *m, size_t count)
{
	size_t i;
	unsigned int s;
	int64_t t0;

	if (!m->n || !count)
		return;
	t0 = m->cmd[0].t[M_SQ_WRITE];
	printf("%4s %5s %-6s %12s", "QID", "CID", "OP", "SQ_WRITE(us)");
	for (s = 1; s < M_STEP_COUNT; s++)
		printf(" %11s", mstep_name(s));
	printf("   (steps: us after sq_write)\n");
	for (i = 0; i < m->n && i < count; i++) {
		const struct mcmd *c = &m->cmd[i];

		printf("%4u %5u %-6s %12.3f", c->h->qid, c->h->cid, op_name(c),
		       us((double)(c->t[M_SQ_WRITE] - t0)));
		for (s = 1; s < M_STEP_COUNT; s++) {
			if (c->t[s])
				printf(" %11.3f", us((double)(c->t[s] - c->t[M_SQ_WRITE])));
			else
				printf(" %11s", "-");
		}
		printf("%s\n", c->causal ? "" : "  NOT IN ORDER");
	}
	putchar('\n');
}

/* ------------------------------------------------------------ JSON */

static void json_cmd(const struct mcmd *c, int64_t t0)
{
	static const char *const gnames[MG_COUNT] = {
		"sq_doorbell", "irq", "cqe", "rq_end", "cq_doorbell",
	};
	struct json j;
	unsigned int s;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "report", "merge_cmd");
	json_uint(&j, "qid", c->h->qid);
	json_uint(&j, "cid", c->h->cid);
	json_uint(&j, "sq_slot", c->h->sq_slot);
	json_uint(&j, "seq", c->d->seq);
	json_uint(&j, "opcode", c->h->opcode);
	json_string(&j, "op", op_name(c));
	json_uint(&j, "bytes", c->h->bytes);
	json_uint(&j, "status", c->h->status);
	json_bool(&j, "causal", c->causal);
	json_object_begin(&j, "steps_ns");
	for (s = 0; s < M_STEP_COUNT; s++) {
		if (c->t[s])
			json_int(&j, mstep_name(s), c->t[s] - t0);
		else
			json_null(&j, mstep_name(s));
	}
	json_object_end(&j);
	json_object_begin(&j, "intervals_ns");
	for (s = 0; s < M_IV_COUNT; s++) {
		if (c->t[s] && c->t[s + 1])
			json_int(&j, miv_key(s), c->t[s + 1] - c->t[s]);
		else
			json_null(&j, miv_key(s));
	}
	json_object_end(&j);
	json_object_begin(&j, "guest_ns");
	for (s = 0; s < MG_COUNT; s++) {
		if (c->g[s])
			json_int(&j, gnames[s], c->g[s] - t0);
		else
			json_null(&j, gnames[s]);
	}
	json_object_end(&j);
	json_object_end(&j);
	json_end_line(&j);
}

static void json_dist(struct json *j, const char *key, const double *v, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += v[i];
	json_object_begin(j, key);
	json_uint(j, "count", n);
	json_double(j, "p50_us", us(sorted_percentile(v, n, 50)));
	json_double(j, "p99_us", us(sorted_percentile(v, n, 99)));
	json_double(j, "max_us", us(sorted_percentile(v, n, 100)));
	json_double(j, "mean_us", n ? us(sum / n) : NAN);
	json_object_end(j);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "clock": the offset, its uncertainty and drift, and the bounds used. */
static void json_clock(struct json *j, const struct merged *m)
{
	const struct csync *cs = &m->cs;
	unsigned int s;

	json_object_begin(j, "clock");
	json_int(j, "offset_ns", cs->base + (int64_t)llround(cs_offset_at(cs, cs->g0)));
	json_double(j, "uncertainty_ns", cs->unc_ns);
	json_double(j, "drift_ppm", cs->b * 1e6);
	json_double(j, "span_s", cs->span_s);
	json_bool(j, "consistent", cs->consistent);
	json_string(j, "model", cs->piecewise ? "piecewise" : "linear");
	json_int(j, "g0_ns", cs->g0);
	json_uint(j, "windows", cs->windows);
	if (m->have_coarse)
		json_int(j, "coarse_offset_ns", m->coarse_offset_ns);
	else
		json_null(j, "coarse_offset_ns");
	json_object_begin(j, "bounds");
	for (s = 0; s < CS_KIND_COUNT; s++)
		json_uint(j, cs_kind_name(s), cs->used[s]);
	json_uint(j, "irq_dropped", cs->dropped_soft);
	json_uint(j, "outliers", cs->outliers);
	json_uint(j, "cq_slot_mismatch", m->cq_slot_mismatch);
	json_object_end(j);
	json_object_end(j);
}

/* "queues": per queue its counts and the distribution of each interval. */
static void json_queues(struct json *j, const struct merged *m)
{
	size_t i;
	unsigned int s;

	json_array_begin(j, "queues");
	for (i = 0; i < m->nq; i++) {
		const struct mqueue *q = &m->q[i];

		json_object_begin(j, NULL);
		json_uint(j, "qid", q->qid);
		json_uint(j, "guest_commands", q->guest);
		json_uint(j, "joined", q->joined);
		if (queue_sq_mem(q))
			json_string(j, "sq_mem", queue_sq_mem(q));
		else
			json_null(j, "sq_mem");
		json_object_begin(j, "intervals");
		for (s = 0; s < M_IV_COUNT; s++)
			json_dist(j, miv_key(s), q->iv[s], q->niv[s]);
		json_object_end(j);
		json_dist(j, "device_time", q->devtime, q->ndevtime);
		json_object_end(j);
	}
	json_array_end(j);
}

/* Every queue's device times in one sorted array (*n = 0 if out of memory). */
static double *all_device_times(const struct merged *m, size_t *n)
{
	size_t i, total = 0;
	double *all;

	*n = 0;
	for (i = 0; i < m->nq; i++)
		total += m->q[i].ndevtime;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return NULL;
	for (i = 0; i < m->nq; i++) {
		if (!m->q[i].ndevtime)
			continue;	/* devtime may be NULL then */
		memcpy(all + *n, m->q[i].devtime, m->q[i].ndevtime * sizeof(*all));
		*n += m->q[i].ndevtime;
	}
	qsort(all, *n, sizeof(double), cmp_dbl);
	return all;
}

static void json_summary(const struct merged *m, const struct hrec *r, int64_t t0)
{
	struct json j;
	double *all;
	size_t nall;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "report", "merge");
	json_uint(&j, "guest_commands", m->guest);
	json_uint(&j, "joined", m->joined);
	json_double(&j, "join_rate", m->guest ? (double)m->joined / m->guest : NAN);
	json_uint(&j, "guest_lost", r->lost);
	json_uint(&j, "device_commands", m->device);
	json_uint(&j, "device_commands_while_recording", m->device_in_window);
	json_uint(&j, "not_causal", m->not_causal);
	json_int(&j, "t0_ns", t0);
	json_clock(&j, m);
	json_queues(&j, m);
	all = all_device_times(m, &nall);
	json_dist(&j, "device_time", all, nall);
	json_object_end(&j);
	json_end_line(&j);
	free(all);
}

int merge_run(const struct options *o)
{
	struct merged m;
	struct hrec r;
	struct dlog d;
	char err[256] = "";
	int64_t t0;
	int ret;

	ret = devview_load("merge", o->host_file, o->device_file, &r, &d);
	if (ret)
		return ret;
	if (merge_build(&m, &r, &d, err, sizeof(err))) {
		print_error("%s", err);
		hrec_free(&r);
		dlog_free(&d);
		return EXIT_FAILURE_RUNTIME;
	}
	t0 = m.n ? m.cmd[0].t[M_SQ_WRITE] : 0;
	if (o->json) {
		size_t i;

		for (i = 0; i < m.n && i < o->count; i++)
			json_cmd(&m.cmd[i], t0);
		json_summary(&m, &r, t0);
	} else {
		print_clock_text(&m, &r);
		print_cmds_text(&m, o->count);
		print_queues_text(&m);
	}
	merge_free(&m);
	hrec_free(&r);
	dlog_free(&d);
	return EXIT_OK;
}
