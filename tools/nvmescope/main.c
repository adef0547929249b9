// SPDX-License-Identifier: GPL-2.0
/*
 * cli.c - nvmescope's main(): the subcommand, the options, the checks on
 * them, and the exit codes (tool.h, docs/nvmescope.1).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "live/live.h"
#include "devview/devview.h"

#define VERSION "0.1"

static void usage(FILE *f)
{
	fputs(
"Usage: nvmescope COMMAND [OPTIONS]\n"
"Trace NVMe commands through the tnvme driver (or the stock nvme driver)\n"
"event by event, with eBPF.\n"
"\n"
"Commands:\n"
"  top     live view per controller and queue: IOPS, MB/s, in-flight,\n"
"          latency between events, doorbells, CQEs per interrupt, CPUs;\n"
"          on poll queues (no interrupt) polls, empty polls, CQEs per poll\n"
"  lat     latency histograms per queue, end to end and per interval\n"
"  irq     IRQ-to-CPU affinity of every NVMe queue (BPF optional)\n"
"  trace   one block per command: its events with timestamps and deltas\n"
"  record  in the guest: every command's events into a file, for merge\n"
"  merge HOST DEVICE      join record's file with QEMU's device trace\n"
"          (labvm --device-trace) on one clock: per command and per queue\n"
"  timeline --svg FILE HOST DEVICE   the joined commands as a waterfall\n"
"          (record, merge, timeline: see 'nvmescope COMMAND --help')\n"
"\n"
"Options:\n"
"  -i, --interval SECONDS  top: refresh interval; irq: measuring window (default 1)\n"
"  -d, --duration SECONDS  stop after SECONDS (default: Ctrl-C, or 'q' in top)\n"
"  -n, --iterations N      top: stop after N reports\n"
"  -c, --count N           trace: stop after N commands\n"
"  -C, --ctrl N            only controller N (tnvme<N> or nvme<N>)\n"
"  -q, --queue QID         only queue QID (0 = admin)\n"
"  -o, --opcode OP         trace: only this opcode (read, write, flush or a number)\n"
"  -D, --driver DRIVER     tnvme (default) or nvme (the stock driver: the events\n"
"                          it has no tracepoint for are shown as n/a)\n"
"  -j, --json              one JSON object per line (docs/nvmescope-json.md)\n"
"      --plain             top: plain lines even on a terminal\n"
"      --no-bpf            irq: leave out the observed CPUs (OBSERVED)\n"
"      --irq-events        top, lat, trace: count interrupts (and, for the stock\n"
"                          driver, take its irq event) on irq:irq_handler_entry\n"
"                          instead of /proc/interrupts; can hang a QEMU TCG guest\n"
"                          with a thread per vCPU (see nvmescope(1))\n"
"  -v, --verbose           show libbpf's messages\n"
"  -h, --help              this help\n"
"  -V, --version           the version\n"
"\n"
"Examples:\n"
"  nvmescope top                          # live view of tnvme, every second\n"
"  nvmescope top --driver nvme -C 0       # the stock driver's nvme0\n"
"  nvmescope lat -d 5                     # histograms over 5 seconds\n"
"  nvmescope irq                          # who takes each queue's interrupts\n"
"  nvmescope trace -c 1 -o read           # the events of one read\n"
"  nvmescope top --json -n 3 | jq .queues # machine-readable\n"
"  nvmescope merge host-trace.log device-trace.log   # guest + QEMU, one clock\n"
"\n"
"Exit status: 0 ok, 1 runtime error, 2 bad usage, 3 not root (no CAP_BPF),\n"
"4 no kernel BTF, 5 driver not loaded, 6 unknown controller or queue,\n"
"130 interrupted before the first report.  See nvmescope(1).\n", f);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fputs("nvmescope: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see nvmescope --help)\n", stderr);
	return EXIT_USAGE;
}

/* A number of seconds: > 0, at most a day, nothing after it. */
static int parse_seconds(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0.01 || v > 86400)
		return -1;
	*out = v;
	return 0;
}

static int parse_count(const char *arg, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_opcode(const char *arg, int *out)
{
	long v;

	if (!strcmp(arg, "read"))
		*out = 0x02;
	else if (!strcmp(arg, "write"))
		*out = 0x01;
	else if (!strcmp(arg, "flush"))
		*out = 0x00;
	else if (!parse_count(arg, 255, &v))
		*out = v;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_PLAIN = 256, OPT_NO_BPF, OPT_IRQ_EVENTS };
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ "ctrl", required_argument, NULL, 'C' },
		{ "queue", required_argument, NULL, 'q' },
		{ "opcode", required_argument, NULL, 'o' },
		{ "driver", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "plain", no_argument, NULL, OPT_PLAIN },
		{ "no-bpf", no_argument, NULL, OPT_NO_BPF },
		{ "irq-events", no_argument, NULL, OPT_IRQ_EVENTS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = {
		.driver = NS_DRIVER_TNVME,
		.interval_s = 1.0,
		.ctrl = -1,
		.qid = -1,
		.opcode = -1,
	};
	bool driver_given = false;
	const char *cmd;
	long v;
	int opt;

	/* First, so that Ctrl-C during BPF loading is handled, not fatal. */
	live_block_signals();

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("nvmescope %s\n", VERSION);
		return EXIT_OK;
	}
	cmd = argv[1];
	/* the device view (docs/device-view.md) has its own options */
	if (!strcmp(cmd, "record"))
		return cmd_record(argc, argv);
	if (!strcmp(cmd, "merge"))
		return cmd_merge(argc, argv);
	if (!strcmp(cmd, "timeline"))
		return cmd_timeline(argc, argv);
	if (strcmp(cmd, "top") && strcmp(cmd, "lat") && strcmp(cmd, "irq") &&
	    strcmp(cmd, "trace"))
		return bad_usage("unknown command '%s': use top, lat, irq or trace", cmd);

	optind = 2;
	while ((opt = getopt_long(argc, argv, "i:d:n:c:C:q:o:D:jvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (parse_seconds(optarg, &o.interval_s))
				return bad_usage("bad interval '%s': want seconds, 0.01 to 86400", optarg);
			break;
		case 'd':
			if (parse_seconds(optarg, &o.duration_s))
				return bad_usage("bad duration '%s': want seconds, 0.01 to 86400", optarg);
			break;
		case 'n':
			if (parse_count(optarg, 1000000000, &o.iterations) || !o.iterations)
				return bad_usage("bad iteration count '%s'", optarg);
			break;
		case 'c':
			if (parse_count(optarg, 1000000000, &o.max_cmds) || !o.max_cmds)
				return bad_usage("bad command count '%s'", optarg);
			break;
		case 'C':
			if (parse_count(optarg, 65535, &v))
				return bad_usage("bad controller '%s': want a number, as in tnvme0", optarg);
			o.ctrl = v;
			break;
		case 'q':
			if (parse_count(optarg, 65535, &v))
				return bad_usage("bad queue '%s': want a queue id, 0 = admin", optarg);
			o.qid = v;
			break;
		case 'o':
			if (parse_opcode(optarg, &o.opcode))
				return bad_usage("bad opcode '%s': want read, write, flush or 0-255", optarg);
			break;
		case 'D':
			if (!strcmp(optarg, "tnvme"))
				o.driver = NS_DRIVER_TNVME;
			else if (!strcmp(optarg, "nvme"))
				o.driver = NS_DRIVER_NVME;
			else
				return bad_usage("unknown driver '%s': want tnvme or nvme", optarg);
			driver_given = true;
			break;
		case 'j':
			o.json = true;
			break;
		case OPT_PLAIN:
			o.plain = true;
			break;
		case OPT_NO_BPF:
			o.no_bpf = true;
			break;
		case OPT_IRQ_EVENTS:
			o.irq_events = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("nvmescope %s\n", VERSION);
			return EXIT_OK;
		default:
			fputs("nvmescope: see nvmescope --help\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (o.no_bpf && strcmp(cmd, "irq"))
		return bad_usage("--no-bpf is for 'irq' only; '%s' needs BPF", cmd);
	if (o.irq_events && !strcmp(cmd, "irq"))
		return bad_usage("--irq-events is for top, lat and trace; '%s' counts from /proc/interrupts", cmd);

	if (!strcmp(cmd, "top"))
		return report_top(&o);
	if (!strcmp(cmd, "lat"))
		return report_lat(&o);
	if (!strcmp(cmd, "irq"))
		return report_irq(&o, driver_given);
	return report_trace(&o);
}
