// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - nvmescope's command line: the table of subcommands, and for
 * each its help and its options.  A subcommand takes only the options it
 * uses; any other is an error, not silently ignored.  The work is in the
 * run functions (live/report_*.c, devview/record.c, merge.c, timeline.c).
 * Exit codes: tool.h and docs/nvmescope.1.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "core/parse.h"
#include "live/live.h"
#include "live/collect.h"

#define VERSION "0.1"

/* What a parse_args function returns when the subcommand should run. */
#define ARGS_OK (-1)

struct subcommand {
	const char *name;
	const char *summary;	/* its line in "nvmescope --help" */
	const char *usage;	/* "nvmescope NAME --help" */
	/* Fills o from argv (argv[0] is "nvmescope NAME"): ARGS_OK or an exit code. */
	int (*parse_args)(const struct subcommand *sc, int argc, char **argv,
			  struct options *o);
	int (*run)(const struct options *o);
};

/* Long options with no short form. */
enum { OPT_PLAIN = 256, OPT_NO_BPF, OPT_IRQ_EVENTS, OPT_SAMPLE };

/* The long options; a subcommand's table lists those it takes. */
#define LOPT_INTERVAL	{ "interval", required_argument, NULL, 'i' }
#define LOPT_DURATION	{ "duration", required_argument, NULL, 'd' }
#define LOPT_CTRL	{ "ctrl", required_argument, NULL, 'C' }
#define LOPT_QUEUE	{ "queue", required_argument, NULL, 'q' }
#define LOPT_DRIVER	{ "driver", required_argument, NULL, 'D' }
#define LOPT_JSON	{ "json", no_argument, NULL, 'j' }
#define LOPT_IRQ_EVENTS	{ "irq-events", no_argument, NULL, OPT_IRQ_EVENTS }
#define LOPT_SAMPLE	{ "sample", required_argument, NULL, OPT_SAMPLE }
#define LOPT_VERBOSE	{ "verbose", no_argument, NULL, 'v' }
#define LOPT_HELP	{ "help", no_argument, NULL, 'h' }
#define LOPT_END	{ NULL, 0, NULL, 0 }

/* A bad value: one line, as every nvmescope error (tests/host/nvmescope-unit.sh). */
static int bad_value(const struct subcommand *sc, const char *fmt, const char *arg)
{
	fputs("nvmescope: ", stderr);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see nvmescope %s --help)\n", sc->name);
	return EXIT_USAGE;
}

/*
 * After getopt's own line ("nvmescope top: unrecognized option '--x'"),
 * the hint util-linux's errtryhelp() gives.
 */
static int try_help(const struct subcommand *sc)
{
	fprintf(stderr, "Try 'nvmescope %s --help' for more information.\n", sc->name);
	return EXIT_USAGE;
}

/*
 * The options that mean the same in every subcommand that takes them.
 * getopt has already refused those the subcommand does not list.
 */
static int common_option(const struct subcommand *sc, int opt, const char *arg,
			 struct options *o)
{
	long v;

	switch (opt) {
	case 'i':
		if (parse_seconds(arg, &o->interval_s))
			return bad_value(sc, "bad interval '%s': want seconds, 0.01 to 86400", arg);
		break;
	case 'd':
		if (parse_seconds(arg, &o->duration_s))
			return bad_value(sc, "bad duration '%s': want seconds, 0.01 to 86400", arg);
		break;
	case 'C':
		if (parse_number(arg, 0, 65535, &v))
			return bad_value(sc, "bad controller '%s': want a number, as in tnvme0", arg);
		o->ctrl = v;
		break;
	case 'q':
		if (parse_number(arg, 0, 65535, &v))
			return bad_value(sc, "bad queue '%s': want a queue id, 0 = admin", arg);
		o->qid = v;
		break;
	case 'D':
		if (parse_driver(arg, &o->driver))
			return bad_value(sc, "unknown driver '%s': want tnvme or nvme", arg);
		o->driver_given = true;
		break;
	case 'j':
		o->json = true;
		break;
	case OPT_PLAIN:
		o->plain = true;
		break;
	case OPT_NO_BPF:
		o->no_bpf = true;
		break;
	case OPT_IRQ_EVENTS:
		o->irq_events = true;
		break;
	case OPT_SAMPLE:
		if (parse_number(arg, 1, NS_SAMPLE_MAX, &v))
			return bad_value(sc, "bad sample '%s': want N, time 1 command in N (1 to 65536)", arg);
		o->sample = v;
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'h':
		fputs(sc->usage, stdout);
		return EXIT_OK;
	default:	/* '?': getopt printed what was wrong */
		return try_help(sc);
	}
	return ARGS_OK;
}

/* After the options: exactly nfiles words (HOST DEVICE), or none. */
static int positional(const struct subcommand *sc, int argc, char **argv,
		      int nfiles, struct options *o)
{
	if (nfiles && argc - optind != nfiles) {
		fprintf(stderr, "nvmescope: %s wants two files, HOST (nvmescope record) and DEVICE (device-trace.log) (see nvmescope %s --help)\n",
			sc->name, sc->name);
		return EXIT_USAGE;
	}
	if (nfiles) {
		o->host_file = argv[optind];
		o->device_file = argv[optind + 1];
		return ARGS_OK;
	}
	if (optind < argc)
		return bad_value(sc, "unexpected argument '%s'", argv[optind]);
	return ARGS_OK;
}

/*
 * What an own_option function returns for an option that means the same
 * in every subcommand: common_option() takes it.
 */
#define NOT_MINE (-2)

/*
 * A subcommand's options that mean something of its own (-n is top's
 * number of reports but timeline's number of commands): ARGS_OK, an exit
 * code, or NOT_MINE.
 */
typedef int (*own_option_fn)(const struct subcommand *sc, int opt, const char *arg,
			     struct options *o);

/*
 * getopt_long over the subcommand's options; getopt itself refuses those
 * the subcommand does not list.
 */
static int getopt_loop(const struct subcommand *sc, int argc, char **argv,
		       const char *shortopts, const struct option *longopts,
		       own_option_fn own, struct options *o)
{
	int opt;

	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int ret = own ? own(sc, opt, optarg, o) : NOT_MINE;

		if (ret == NOT_MINE)
			ret = common_option(sc, opt, optarg, o);
		if (ret != ARGS_OK)
			return ret;
	}
	return ARGS_OK;
}

/* ------------------------------------------------ top, lat, irq, trace */

static int top_option(const struct subcommand *sc, int opt, const char *arg,
		      struct options *o)
{
	if (opt != 'n')
		return NOT_MINE;
	if (parse_number(arg, 1, NS_COUNT_MAX, &o->iterations))
		return bad_value(sc, "bad iteration count '%s'", arg);
	return ARGS_OK;
}

static int top_parse_args(const struct subcommand *sc, int argc, char **argv,
			  struct options *o)
{
	static const struct option longopts[] = {
		LOPT_INTERVAL, LOPT_DURATION,
		{ "iterations", required_argument, NULL, 'n' },
		LOPT_CTRL, LOPT_QUEUE, LOPT_DRIVER, LOPT_JSON,
		{ "plain", no_argument, NULL, OPT_PLAIN },
		LOPT_SAMPLE, LOPT_IRQ_EVENTS, LOPT_VERBOSE, LOPT_HELP, LOPT_END,
	};
	int ret;

	o->sample = NS_TOP_SAMPLE;
	ret = getopt_loop(sc, argc, argv, "i:d:n:C:q:D:jvh", longopts, top_option, o);
	return ret != ARGS_OK ? ret : positional(sc, argc, argv, 0, o);
}

static int lat_parse_args(const struct subcommand *sc, int argc, char **argv,
			  struct options *o)
{
	static const struct option longopts[] = {
		LOPT_DURATION, LOPT_CTRL, LOPT_QUEUE, LOPT_DRIVER, LOPT_JSON,
		LOPT_SAMPLE, LOPT_IRQ_EVENTS, LOPT_VERBOSE, LOPT_HELP, LOPT_END,
	};
	int ret;

	ret = getopt_loop(sc, argc, argv, "d:C:q:D:jvh", longopts, NULL, o);
	return ret != ARGS_OK ? ret : positional(sc, argc, argv, 0, o);
}

/* irq loads no BPF: no --irq-events, no -v; one window of -i seconds. */
static int irq_parse_args(const struct subcommand *sc, int argc, char **argv,
			  struct options *o)
{
	static const struct option longopts[] = {
		LOPT_INTERVAL, LOPT_CTRL, LOPT_QUEUE, LOPT_DRIVER, LOPT_JSON,
		{ "no-bpf", no_argument, NULL, OPT_NO_BPF },
		LOPT_HELP, LOPT_END,
	};
	int ret;

	ret = getopt_loop(sc, argc, argv, "i:C:q:D:jh", longopts, NULL, o);
	return ret != ARGS_OK ? ret : positional(sc, argc, argv, 0, o);
}

static int trace_option(const struct subcommand *sc, int opt, const char *arg,
			struct options *o)
{
	if (opt == 'c') {
		if (parse_number(arg, 1, NS_COUNT_MAX, &o->max_cmds))
			return bad_value(sc, "bad command count '%s'", arg);
		return ARGS_OK;
	}
	if (opt == 'o') {
		if (parse_opcode(arg, &o->opcode))
			return bad_value(sc, "bad opcode '%s': want read, write, flush or 0-255", arg);
		return ARGS_OK;
	}
	return NOT_MINE;
}

static int trace_parse_args(const struct subcommand *sc, int argc, char **argv,
			    struct options *o)
{
	static const struct option longopts[] = {
		LOPT_DURATION,
		{ "count", required_argument, NULL, 'c' },
		LOPT_CTRL, LOPT_QUEUE,
		{ "opcode", required_argument, NULL, 'o' },
		LOPT_DRIVER, LOPT_JSON, LOPT_IRQ_EVENTS, LOPT_VERBOSE, LOPT_HELP, LOPT_END,
	};
	int ret;

	ret = getopt_loop(sc, argc, argv, "d:c:C:q:o:D:jvh", longopts, trace_option, o);
	return ret != ARGS_OK ? ret : positional(sc, argc, argv, 0, o);
}

/* ------------------------------------------------ record, merge, timeline */

/* record's -o is its output file, not an opcode. */
static int record_option(const struct subcommand *sc, int opt, const char *arg,
			 struct options *o)
{
	(void)sc;
	if (opt != 'o')
		return NOT_MINE;
	o->file = arg;
	return ARGS_OK;
}

/* record follows one tnvme controller, tnvme0 unless -C says otherwise. */
static int record_parse_args(const struct subcommand *sc, int argc, char **argv,
			     struct options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		LOPT_DURATION, LOPT_CTRL, LOPT_VERBOSE, LOPT_HELP, LOPT_END,
	};
	int ret;

	o->ctrl = 0;
	ret = getopt_loop(sc, argc, argv, "o:d:C:vh", longopts, record_option, o);
	return ret != ARGS_OK ? ret : positional(sc, argc, argv, 0, o);
}

static int merge_option(const struct subcommand *sc, int opt, const char *arg,
			struct options *o)
{
	long v;

	if (opt == 'a') {
		o->count = (size_t)-1;
		return ARGS_OK;
	}
	if (opt != 'c')
		return NOT_MINE;
	if (parse_number(arg, 1, NS_COUNT_MAX, &v))
		return bad_value(sc, "bad command count '%s'", arg);
	o->count = v;
	return ARGS_OK;
}

static int merge_parse_args(const struct subcommand *sc, int argc, char **argv,
			    struct options *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		LOPT_JSON, LOPT_HELP, LOPT_END,
	};
	int ret;

	ret = getopt_loop(sc, argc, argv, "c:ajh", longopts, merge_option, o);
	return ret != ARGS_OK ? ret : positional(sc, argc, argv, 2, o);
}

static int timeline_option(const struct subcommand *sc, int opt, const char *arg,
			   struct options *o)
{
	long v;

	switch (opt) {
	case 's':
		o->file = arg;
		return ARGS_OK;
	case 'n':
		if (parse_number(arg, 1, 1000, &v))
			return bad_value(sc, "bad count '%s': want 1 to 1000", arg);
		o->count = v;
		return ARGS_OK;
	case 'k':
		if (parse_number(arg, 0, NS_COUNT_MAX, &v))
			return bad_value(sc, "bad skip '%s': want 0 to 1000000000", arg);
		o->skip = v;
		return ARGS_OK;
	}
	return NOT_MINE;
}

static int timeline_parse_args(const struct subcommand *sc, int argc, char **argv,
			       struct options *o)
{
	static const struct option longopts[] = {
		{ "svg", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "skip", required_argument, NULL, 'k' },
		LOPT_QUEUE, LOPT_HELP, LOPT_END,
	};
	int ret;

	o->count = 50;
	ret = getopt_loop(sc, argc, argv, "s:n:k:q:h", longopts, timeline_option, o);
	if (ret != ARGS_OK)
		return ret;
	if (!o->file) {
		fputs("nvmescope: timeline wants --svg FILE (see nvmescope timeline --help)\n", stderr);
		return EXIT_USAGE;
	}
	return positional(sc, argc, argv, 2, o);
}

/* ------------------------------------------------ the table */

static const struct subcommand subcommands[] = {
	{
		.name = "top",
		.summary = "live view per controller and queue: IOPS, MB/s, in-flight,\n"
			   "latency between events, doorbells, CQEs per interrupt, CPUs;\n"
			   "on poll queues (no interrupt) polls, empty polls, CQEs per poll",
		.parse_args = top_parse_args,
		.run = report_top,
		.usage =
"Usage: nvmescope top [OPTIONS]\n"
"Every interval, per controller and queue: IOPS, MB/s, in-flight, doorbells,\n"
"CQEs per interrupt (per poll on a poll queue), CPUs, and the latency between\n"
"events.  On a terminal it redraws in place; q or Ctrl-C quits.\n"
"\n"
"  -i, --interval SECONDS  refresh interval (default 1, 0.01 to 86400)\n"
"  -d, --duration SECONDS  stop after SECONDS (default: Ctrl-C or q)\n"
"  -n, --iterations N      stop after N reports\n"
"  -C, --ctrl N            only controller N (tnvme<N> or nvme<N>)\n"
"  -q, --queue QID         only queue QID (0 = admin)\n"
"  -D, --driver DRIVER     tnvme (default) or nvme (the stock driver: the events\n"
"                          it has no tracepoint for are shown as n/a)\n"
"  -j, --json              one JSON object per interval (docs/nvmescope-json.md)\n"
"      --plain             plain lines even on a terminal\n"
"      --sample N          time 1 command in N per CPU and queue (default 16);\n"
"                          the latency figures come from that sample (its size\n"
"                          in COUNT), every count from all commands\n"
"      --irq-events        count interrupts on irq:irq_handler_entry instead of\n"
"                          /proc/interrupts; can hang a QEMU TCG guest with a\n"
"                          thread per vCPU (see nvmescope(1))\n"
"  -v, --verbose           show libbpf's messages\n"
"  -h, --help              this help\n",
	},
	{
		.name = "lat",
		.summary = "latency histograms per queue, end to end and per interval",
		.parse_args = lat_parse_args,
		.run = report_lat,
		.usage =
"Usage: nvmescope lat [OPTIONS]\n"
"Log2 latency histograms per queue, end to end and per interval, collected\n"
"until Ctrl-C or for -d seconds.\n"
"\n"
"  -d, --duration SECONDS  collect for SECONDS (default: until Ctrl-C)\n"
"  -C, --ctrl N            only controller N (tnvme<N> or nvme<N>)\n"
"  -q, --queue QID         only queue QID (0 = admin)\n"
"  -D, --driver DRIVER     tnvme (default) or nvme\n"
"  -j, --json              one JSON object (docs/nvmescope-json.md)\n"
"      --sample N          time 1 command in N per CPU and queue (default 1:\n"
"                          every command)\n"
"      --irq-events        count interrupts on irq:irq_handler_entry (see top --help)\n"
"  -v, --verbose           show libbpf's messages\n"
"  -h, --help              this help\n",
	},
	{
		.name = "irq",
		.summary = "IRQ-to-CPU affinity of every NVMe queue (no BPF, no privileges)",
		.parse_args = irq_parse_args,
		.run = report_irq,
		.usage =
"Usage: nvmescope irq [OPTIONS]\n"
"For every NVMe queue interrupt of both drivers: per-CPU interrupts over one\n"
"window, the affinity, the CPUs blk-mq maps to the queue, and a mismatch flag.\n"
"Reads /proc and /sys only.\n"
"\n"
"  -i, --interval SECONDS  the measuring window (default 1, 0.01 to 86400)\n"
"  -C, --ctrl N            only controller N\n"
"  -q, --queue QID         only queue QID (0 = admin)\n"
"  -D, --driver DRIVER     only tnvme's or only nvme's queues (default: both)\n"
"  -j, --json              one JSON object (docs/nvmescope-json.md)\n"
"      --no-bpf            leave out the observed CPUs (OBSERVED n/a)\n"
"  -h, --help              this help\n",
	},
	{
		.name = "trace",
		.summary = "one block per command: its events with timestamps and deltas",
		.parse_args = trace_parse_args,
		.run = report_trace,
		.usage =
"Usage: nvmescope trace [OPTIONS]\n"
"One block per command: its events sorted by time, with the time since the\n"
"first traced command, since the command's start and since the previous event.\n"
"\n"
"  -d, --duration SECONDS  stop after SECONDS (default: Ctrl-C)\n"
"  -c, --count N           stop after N commands\n"
"  -C, --ctrl N            only controller N (tnvme<N> or nvme<N>)\n"
"  -q, --queue QID         only queue QID (0 = admin)\n"
"  -o, --opcode OP         only this opcode: read, write, flush or a number\n"
"  -D, --driver DRIVER     tnvme (default) or nvme\n"
"  -j, --json              one JSON object per command (docs/nvmescope-json.md)\n"
"      --irq-events        count interrupts on irq:irq_handler_entry (see top --help)\n"
"  -v, --verbose           show libbpf's messages\n"
"  -h, --help              this help\n",
	},
	{
		.name = "record",
		.summary = "in the guest: every command's events into a file, for merge",
		.parse_args = record_parse_args,
		.run = record_run,
		.usage =
"Usage: nvmescope record [-d SECONDS] [-C N] [-o FILE]\n"
"Record every tnvme command, event by event with guest timestamps, into FILE\n"
"for 'nvmescope merge' (the device side comes from labvm --device-trace).\n"
"\n"
"  -o, --output FILE       default $LABVM_OUT/host-trace.log, or ./host-trace.log\n"
"  -d, --duration SECONDS  stop after SECONDS (default: Ctrl-C or SIGTERM)\n"
"  -C, --ctrl N            the tnvme controller (default 0: tnvme0)\n"
"  -v, --verbose           show libbpf's messages\n"
"  -h, --help              this help\n"
"\n"
"The file says '# attached' once the BPF programs run: start the workload\n"
"after that.\n",
	},
	{
		.name = "merge",
		.summary = "join record's file HOST with QEMU's device trace DEVICE\n"
			   "(labvm --device-trace) on one clock: per command and per queue",
		.parse_args = merge_parse_args,
		.run = merge_run,
		.usage =
"Usage: nvmescope merge [OPTIONS] HOST DEVICE\n"
"Join the guest's record (HOST: nvmescope record) with QEMU's NVMe trace\n"
"(DEVICE: labvm --device-trace, OUT/device-trace.log) per command, align the\n"
"two clocks, and print the clock offset, the seven steps of each command on\n"
"one clock, and per queue the six intervals between them.\n"
"\n"
"  -c, --count N      also print the first N joined commands\n"
"  -a, --all          also print every joined command\n"
"  -j, --json         JSON lines (docs/nvmescope-json.md)\n"
"  -h, --help         this help\n"
"\n"
"Example (host machine):\n"
"  tools/labvm run --device-trace -- sh -c 'tnvme-bind; nvmescope record & ...'\n"
"  nvmescope merge build/labvm/out/host-trace.log build/labvm/out/device-trace.log\n",
	},
	{
		.name = "timeline",
		.summary = "--svg FILE HOST DEVICE: the joined commands as a waterfall",
		.parse_args = timeline_parse_args,
		.run = timeline_run,
		.usage =
"Usage: nvmescope timeline --svg FILE [-n N] [--skip K] [-q QID] HOST DEVICE\n"
"Draw N joined commands (nvmescope merge HOST DEVICE) as a waterfall: one\n"
"lane per queue, one row per command, the seven steps and the six intervals\n"
"between them on the device's clock.\n"
"\n"
"  -s, --svg FILE     write the picture to FILE ('-' = stdout)\n"
"  -n, --count N      commands to draw (default 50, at most 1000)\n"
"  -k, --skip K       start after the first K joined commands (default 0)\n"
"  -q, --queue QID    only this queue\n"
"  -h, --help         this help\n",
	},
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: nvmescope COMMAND [OPTIONS]\n"
	      "Trace NVMe commands through the tnvme driver (or the stock nvme driver)\n"
	      "event by event, with eBPF.\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		const char *s = subcommands[i].summary, *nl;

		/* a summary of several lines: the next ones indented */
		fprintf(f, "  %-9s ", subcommands[i].name);
		while ((nl = strchr(s, '\n'))) {
			fprintf(f, "%.*s\n            ", (int)(nl - s), s);
			s = nl + 1;
		}
		fprintf(f, "%s\n", s);
	}
	fputs("\n"
	      "Each command has its own options: nvmescope COMMAND --help.\n"
	      "  -h, --help     this help\n"
	      "  -V, --version  the version\n"
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

static const struct subcommand *find_subcommand(const char *name)
{
	size_t i;

	for (i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct options o = {
		.driver = NS_DRIVER_TNVME,
		.interval_s = 1.0,
		.ctrl = -1,
		.qid = -1,
		.opcode = -1,
		.sample = 1,
	};
	const struct subcommand *sc;
	char prog[32];
	int ret;

	/* First, so that Ctrl-C during BPF loading is handled, not fatal. */
	live_block_signals();
	o.start_s = now_monotonic();

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
	sc = find_subcommand(argv[1]);
	if (!sc) {
		fprintf(stderr, "nvmescope: unknown command '%s': use top, lat, irq, trace, record, merge or timeline (see nvmescope --help)\n",
			argv[1]);
		return EXIT_USAGE;
	}
	/*
	 * The subcommand's arguments start at argv[1], named "nvmescope top":
	 * getopt's messages then say which subcommand refused an option.
	 */
	snprintf(prog, sizeof(prog), "nvmescope %s", sc->name);
	argv[1] = prog;
	ret = sc->parse_args(sc, argc - 1, argv + 1, &o);
	if (ret != ARGS_OK)
		return ret;
	return sc->run(&o);
}
