// SPDX-License-Identifier: GPL-2.0
/*
 * record.c - "nvmescope record": the guest's half of the device view.  It
 * streams what "nvmescope trace" streams (one record per finished command
 * from the BPF ring buffer, guest CLOCK_MONOTONIC) into a file, one line
 * per command (format in hostrec.c), plus the guest's REALTIME and
 * MONOTONIC clocks read together, as a first guess of the offset to the
 * host machine's clock (the guest's RTC comes from the host).
 *
 * "nvmescope merge" (and "timeline") joins the file with QEMU's trace
 * (labvm --device-trace).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"
#include "live/collect.h"
#include "devview/devview.h"
#include "live/live.h"

struct rec {
	FILE *f;
	struct collector *c;
	unsigned long long n;
};

static long long now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* REALTIME and MONOTONIC as close together as we can read them */
static void clock_line(FILE *f, const char *what)
{
	long long r1 = now_ns(CLOCK_REALTIME), m = now_ns(CLOCK_MONOTONIC),
		  r2 = now_ns(CLOCK_REALTIME);

	fprintf(f, "# %s realtime_ns=%lld monotonic_ns=%lld read_ns=%lld\n", what,
		r1 + (r2 - r1) / 2, m, r2 - r1);
}

static int on_cmd(void *ctx, const struct ns_cmd *cmd)
{
	struct rec *r = ctx;

	hrec_write_cmd(r->f, cmd);
	r->n++;
	return 0;
}

static int on_events(void *ctx)
{
	struct rec *r = ctx;

	return collector_poll_events(r->c);
}

/* The output: -o, else $LABVM_OUT/host-trace.log, else ./host-trace.log. */
static const char *output_path(const struct options *o, char *buf, size_t size)
{
	const char *dir = getenv("LABVM_OUT");

	if (o->file)
		return o->file;
	snprintf(buf, size, "%s/host-trace.log", dir && *dir ? dir : ".");
	return buf;
}

/* "# attached": the file's header, written once the programs run. */
static void write_header(FILE *f, int ctrl)
{
	/* a big buffer: the file is on 9p in the lab VM */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fprintf(f, "%s\n", HREC_MAGIC);
	clock_line(f, "clock");
	fprintf(f, "# attached ctrl=%d driver=tnvme\n", ctrl);
	fprintf(f, "# C ctrl qid cid opcode write bytes status sq_slot cq_slot sq_db_seq "
		"sq_db_cmds cq_db_cqes rq_start dma_map sq_write sq_doorbell irq cqe fetch "
		"rq_end dma_unmap cq_doorbell sq_mem\n");
	fflush(f);
}

/*
 * "# end": the controller's doorbell updates while we recorded, and how
 * many were MMIO writes: merge needs every doorbell to be one (QEMU
 * traces only those), so it checks these totals.  Returns the updates
 * that went only to the shadow doorbell buffer.
 */
static uint64_t write_end(struct rec *r, int ctrl)
{
	struct ns_counters db = { 0 };
	struct sample s;
	size_t i;

	memset(&s, 0, sizeof(s));
	if (collector_sample(r->c, &s))
		return 0;
	for (i = 0; i < s.n; i++) {
		if (s.q[i].ctrl != (uint32_t)ctrl)
			continue;
		db.sq_doorbell += s.q[i].total.sq_doorbell;
		db.sq_doorbell_mmio += s.q[i].total.sq_doorbell_mmio;
		db.cq_doorbell += s.q[i].total.cq_doorbell;
		db.cq_doorbell_mmio += s.q[i].total.cq_doorbell_mmio;
	}
	clock_line(r->f, "clock_end");
	fprintf(r->f, "# end commands=%llu lost=%llu not_started=%llu "
		"sq_doorbells=%llu sq_doorbells_mmio=%llu "
		"cq_doorbells=%llu cq_doorbells_mmio=%llu\n", r->n,
		(unsigned long long)s.drops[NS_DROP_RINGBUF_FULL],
		(unsigned long long)s.drops[NS_DROP_NOT_STARTED],
		(unsigned long long)db.sq_doorbell,
		(unsigned long long)db.sq_doorbell_mmio,
		(unsigned long long)db.cq_doorbell,
		(unsigned long long)db.cq_doorbell_mmio);
	sample_free(&s);
	return db.sq_doorbell - db.sq_doorbell_mmio +
	       db.cq_doorbell - db.cq_doorbell_mmio;
}

int record_run(const struct options *o)
{
	struct live_options lo = { .duration_s = o->duration_s, .events_fd = -1 };
	struct rec r = { 0 };
	struct live_callbacks cb = { .ctx = &r, .on_events = on_events };
	char path[4096];
	const char *out = output_path(o, path, sizeof(path));
	uint64_t shadow;
	int ret;

	ret = collector_open(&r.c, o, COLLECT_TRACE, on_cmd, &r);
	if (ret)
		return ret;
	if (live_interrupted()) {
		collector_close(r.c);
		print_error("interrupted before recording");
		return EXIT_INTERRUPTED;
	}
	r.f = fopen(out, "w");
	if (!r.f) {
		print_error("cannot write %s: %m", out);
		collector_close(r.c);
		return EXIT_FAILURE_RUNTIME;
	}
	write_header(r.f, o->ctrl);
	lo.events_fd = collector_event_fd(r.c);
	fprintf(stderr, "nvmescope record: recording tnvme%d into %s, Ctrl-C to stop\n",
		o->ctrl, out);
	ret = live_run(&lo, &cb);
	collector_poll_events(r.c);
	shadow = write_end(&r, o->ctrl);
	collector_close(r.c);
	if (fclose(r.f)) {
		print_error("writing %s: %m", out);
		return EXIT_FAILURE_RUNTIME;
	}
	fprintf(stderr, "nvmescope record: %llu commands\n", r.n);
	if (shadow)
		fprintf(stderr, "nvmescope record: %llu doorbells went only to the shadow doorbell buffer: merge will refuse this record (load tnvme with shadow_doorbells=0)\n",
			(unsigned long long)shadow);
	return ret ? EXIT_FAILURE_RUNTIME : EXIT_OK;
}
