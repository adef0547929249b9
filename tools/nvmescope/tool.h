/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tool.h - what the parts of the command-line tool share: options,
 * exit codes, and the subcommands.
 */
#ifndef NVMESCOPE_TOOL_H
#define NVMESCOPE_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "nvmescope.h"	/* bpf/nvmescope.h: types shared with BPF */

/* Documented in docs/nvmescope.1 (EXIT STATUS); keep them in step. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILURE_RUNTIME = 1,	/* something failed while running */
	EXIT_USAGE = 2,			/* bad option, argument or interval */
	EXIT_PERMISSION = 3,		/* not root / no CAP_BPF + CAP_PERFMON */
	EXIT_NO_BTF = 4,		/* kernel without /sys/kernel/btf/vmlinux */
	EXIT_NO_DRIVER = 5,		/* tnvme (or nvme) not loaded */
	EXIT_NOT_FOUND = 6,		/* unknown controller or queue */
	EXIT_INTERRUPTED = 130,		/* Ctrl-C before the first report */
};

/*
 * What reaps a queue's completions: an interrupt (blk-mq's "default" and
 * "read" hardware contexts) or polling (its "poll" contexts: the CQ was
 * created without an interrupt, and the submitting task calls the
 * driver's ->poll).  Where nvmescope learnt it, best source first.
 */
enum ns_qtype {
	NS_QTYPE_UNKNOWN = 0,
	NS_QTYPE_IRQ,
	NS_QTYPE_POLL,
};

enum ns_qtype_from {
	NS_QTYPE_FROM_NONE = 0,
	NS_QTYPE_FROM_DEBUGFS,		/* /sys/kernel/debug/block/DISK/hctxN/type */
	NS_QTYPE_FROM_EVENTS,		/* the driver's events: polls, no irq */
	NS_QTYPE_FROM_INTERRUPTS,	/* a line in /proc/interrupts, or none */
};

/*
 * Where a queue's SQ lives, from its tnvme_sq_write events (sq=): host
 * memory, or the controller's memory buffer (the driver's use_cmb_sqes).
 * Unknown before its first command, and always with the stock driver.
 */
enum ns_sq_mem {
	NS_SQ_MEM_UNKNOWN = 0,
	NS_SQ_MEM_HOST,
	NS_SQ_MEM_CMB,
	NS_SQ_MEM_MIXED,	/* both since attach: the queue was re-created */
};

/* CPUs nvmescope keeps per-CPU numbers for (more are folded into the last). */
#define NS_MAX_CPUS 256

struct options {
	double start_s;		/* CLOCK_MONOTONIC when nvmescope started */
	enum ns_driver driver;
	double interval_s;	/* top: refresh; irq: measuring window */
	double duration_s;	/* 0 = until Ctrl-C (or 'q') */
	long iterations;	/* top: stop after this many reports, 0 = never */
	long max_cmds;		/* trace: stop after this many commands */
	int ctrl;		/* -1 = every controller */
	int qid;		/* -1 = every queue */
	int opcode;		/* -1 = every opcode (trace) */
	unsigned int sample;	/* top, lat: time 1 command in this many */
	bool json;
	bool verbose;
	bool no_bpf;		/* irq: only /proc and /sys */
	bool plain;		/* top: plain lines even on a terminal */
	bool irq_events;	/* count interrupts on irq:irq_handler_entry */
	bool driver_given;	/* irq: -D given, only that driver's queues */
	/* the device view (record, merge, timeline) */
	const char *file;	/* record: its output; timeline: the SVG */
	const char *host_file;	/* merge, timeline: nvmescope record's file */
	const char *device_file; /* merge, timeline: QEMU's trace */
	size_t count;		/* merge: commands printed; timeline: drawn */
	size_t skip;		/* timeline: joined commands left out first */
};

/*
 * The subcommands, run once main.c has filled the options from the
 * command line (each takes only the options it uses).
 */
int report_top(const struct options *o);
int report_lat(const struct options *o);
int report_irq(const struct options *o);
int report_trace(const struct options *o);
int record_run(const struct options *o);
int merge_run(const struct options *o);
int timeline_run(const struct options *o);

/* steps.c: names of steps and intervals, and what each driver can see. */
const char *driver_name(enum ns_driver d);		/* "tnvme", "nvme" */
const char *step_name(enum ns_step s);			/* "sq_write" */
const char *interval_from(enum ns_interval iv);		/* "sq_write" */
const char *interval_to(enum ns_interval iv);		/* "sq_doorbell" */
const char *interval_key(enum ns_interval iv);		/* "sq_write-sq_doorbell" */
const char *interval_help(enum ns_interval iv);		/* what it measures */
bool interval_visible(enum ns_driver d, enum ns_interval iv);
/*
 * The same on a queue of this type: on a poll queue the irq step is the
 * poll that found the CQE, "poll" in names and keys ("sq_doorbell-poll").
 */
const char *step_name_for(enum ns_step s, enum ns_qtype t);	/* "poll" */
const char *interval_from_for(enum ns_interval iv, enum ns_qtype t);
const char *interval_to_for(enum ns_interval iv, enum ns_qtype t);
const char *interval_key_for(enum ns_interval iv, enum ns_qtype t);
const char *interval_help_for(enum ns_interval iv, enum ns_qtype t);
const char *queue_type_name(enum ns_qtype t);		/* "interrupt", "poll" */
const char *queue_type_from_name(enum ns_qtype_from f);	/* "debugfs" */
const char *sq_mem_name(enum ns_sq_mem m);		/* "host", "cmb" */
bool step_visible(enum ns_driver d, enum ns_step s);
const char *opcode_name(int qid, unsigned int opcode);	/* "read", "write" */
const char *drop_name(enum ns_drop d);			/* "ringbuf_full" */

/* Print "nvmescope: MESSAGE" to stderr (one line); the caller decides how to end. */
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* NVMESCOPE_TOOL_H */
