// SPDX-License-Identifier: GPL-2.0
/*
 * record.c - "nvmescope record": the guest's half of the device view.  It
 * streams what "nvmescope trace" streams (one record per finished command
 * from the BPF ring buffer, guest CLOCK_MONOTONIC) into a file, one line
 * per command (format in hostrec.c), plus the guest's REALTIME and
 * MONOTONIC clocks read together, as a first guess of the offset to the
 * host machine's clock (the guest's RTC comes from the host).
 *
 * "nvmescope merge" joins the file with QEMU's trace (labvm --device-trace).
 */
#include <getopt.h>
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

static void usage(FILE *f)
{
	fputs(
"Usage: nvmescope record [-d SECONDS] [-C N] [-o FILE]\n"
"Record every tnvme command, event by event with guest timestamps, into FILE\n"
"for 'nvmescope merge' (the device side comes from labvm --device-trace).\n"
"\n"
"  -o, --output FILE       default $LABVM_OUT/host-trace.log, or ./host-trace.log\n"
"  -d, --duration SECONDS  stop after SECONDS (default: Ctrl-C or SIGTERM)\n"
"  -C, --ctrl N            the tnvme controller (default 0: tnvme0)\n"
"  -v, --verbose           show libbpf's messages\n"
"\n"
"The file says '# attached' once the BPF programs run: start the workload\n"
"after that.\n", f);
}

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

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ctrl", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = {
		.driver = NS_DRIVER_TNVME, .interval_s = 1.0, .ctrl = 0, .qid = -1, .opcode = -1,
	};
	struct live_options lo = { .events_fd = -1 };
	struct rec r = { 0 };
	struct live_callbacks cb = { .ctx = &r, .on_events = on_events };
	char path[4096];
	const char *out = NULL;
	struct sample s;
	uint64_t shadow = 0;	/* doorbell updates that were not MMIO writes */
	int opt, ret;
	char *end;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "o:d:C:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'd':
			o.duration_s = strtod(optarg, &end);
			if (*end || end == optarg || !(o.duration_s >= 0.01 && o.duration_s <= 86400)) {
				print_error("bad duration '%s': want seconds, 0.01 to 86400 (see nvmescope record --help)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'C':
			o.ctrl = strtol(optarg, &end, 0);
			if (*end || end == optarg || o.ctrl < 0 || o.ctrl > 65535) {
				print_error("bad controller '%s': want a number, as in tnvme0 (see nvmescope record --help)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fputs("nvmescope: see nvmescope record --help\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		print_error("unexpected argument '%s' (see nvmescope record --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (!out) {
		const char *dir = getenv("LABVM_OUT");

		snprintf(path, sizeof(path), "%s/host-trace.log", dir && *dir ? dir : ".");
		out = path;
	}
	lo.duration_s = o.duration_s;

	ret = collector_open(&r.c, &o, COLLECT_TRACE, on_cmd, &r);
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
	/* a big buffer: the file is on 9p in the lab VM */
	setvbuf(r.f, NULL, _IOFBF, 1 << 20);
	fprintf(r.f, "%s\n", HREC_MAGIC);
	clock_line(r.f, "clock");
	fprintf(r.f, "# attached ctrl=%d driver=tnvme\n", o.ctrl);
	fprintf(r.f, "# C ctrl qid cid opcode write bytes status sq_slot cq_slot sq_db_seq "
		"sq_db_cmds cq_db_cqes rq_start dma_map sq_write sq_doorbell irq cqe fetch "
		"rq_end dma_unmap cq_doorbell\n");
	fflush(r.f);
	lo.events_fd = collector_event_fd(r.c);
	fprintf(stderr, "nvmescope record: recording tnvme%d into %s, Ctrl-C to stop\n",
		o.ctrl, out);
	ret = live_run(&lo, &cb);
	collector_poll_events(r.c);
	memset(&s, 0, sizeof(s));
	if (!collector_sample(r.c, &s)) {
		struct ns_counters db = { 0 };
		size_t i;

		/*
		 * The controller's doorbell updates while we recorded, and how
		 * many were MMIO writes: merge needs every doorbell to be one
		 * (QEMU traces only those), so it checks these totals.
		 */
		for (i = 0; i < s.n; i++) {
			if (s.q[i].ctrl != (uint32_t)o.ctrl)
				continue;
			db.sq_doorbell += s.q[i].total.sq_doorbell;
			db.sq_doorbell_mmio += s.q[i].total.sq_doorbell_mmio;
			db.cq_doorbell += s.q[i].total.cq_doorbell;
			db.cq_doorbell_mmio += s.q[i].total.cq_doorbell_mmio;
		}
		clock_line(r.f, "clock_end");
		fprintf(r.f, "# end commands=%llu lost=%llu not_started=%llu "
			"sq_doorbells=%llu sq_doorbells_mmio=%llu "
			"cq_doorbells=%llu cq_doorbells_mmio=%llu\n", r.n,
			(unsigned long long)s.drops[NS_DROP_RINGBUF_FULL],
			(unsigned long long)s.drops[NS_DROP_NOT_STARTED],
			(unsigned long long)db.sq_doorbell,
			(unsigned long long)db.sq_doorbell_mmio,
			(unsigned long long)db.cq_doorbell,
			(unsigned long long)db.cq_doorbell_mmio);
		shadow = db.sq_doorbell - db.sq_doorbell_mmio +
			 db.cq_doorbell - db.cq_doorbell_mmio;
		sample_free(&s);
	}
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
