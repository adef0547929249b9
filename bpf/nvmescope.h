/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvmescope.h - the types shared by the BPF programs (nvmescope.bpf.c) and
 * the command-line tool (tools/nvmescope).  Only fixed-width __u8.. __u64
 * types, so both sides agree on every offset without kernel headers.
 *
 * The BPF side aggregates in the kernel: per-CPU counters and histograms,
 * keyed by (controller, queue).  User space reads them once per interval
 * and subtracts the previous reading, so the kernel never has to reset a
 * map while it is being updated.
 */
#ifndef NVMESCOPE_H
#define NVMESCOPE_H

/* Which driver the programs watch (one at a time: both number from 0). */
enum ns_driver {
	NS_DRIVER_TNVME = 0,
	NS_DRIVER_NVME = 1,
};

/*
 * The moments in the life of one command, in the order the tnvme driver
 * fires them for a read (see docs/nvmescope.md, "Causal order"):
 *
 *   queue_rq():   rq_start, dma_map, sq_write, sq_doorbell
 *   interrupt:    irq, cqe, fetch, rq_end, dma_unmap, ..., cq_doorbell
 *
 * sq_doorbell, irq and cq_doorbell are events of a queue, not of a
 * command; nvmescope gives each command the doorbell that covered it and
 * the interrupt whose handler found its completion.  On a poll queue
 * (no interrupt) the poll that found the completion takes the irq step's
 * place: NS_STEP_IRQ holds its time, and the reports call it "poll".
 */
enum ns_step {
	NS_STEP_RQ_START,
	NS_STEP_DMA_MAP,
	NS_STEP_SQ_WRITE,
	NS_STEP_SQ_DOORBELL,
	NS_STEP_IRQ,
	NS_STEP_CQE,
	NS_STEP_FETCH,
	NS_STEP_RQ_END,
	NS_STEP_DMA_UNMAP,
	NS_STEP_CQ_DOORBELL,
	NS_STEP_COUNT,
};

/*
 * The intervals nvmescope measures; each is "from step A to step B".
 * The names are in tools/nvmescope/core/steps.c.
 */
enum ns_interval {
	NS_IV_RQ_START_SQ_WRITE,	/* driver: build command, map data */
	NS_IV_SQ_WRITE_SQ_DOORBELL,	/* waiting for the batch's doorbell */
	NS_IV_SQ_DOORBELL_IRQ,		/* device time (+ interrupt delivery) */
	NS_IV_IRQ_CQE,			/* handler start to this CQE */
	NS_IV_CQE_CQ_DOORBELL,		/* CQE to the batch's head doorbell */
	NS_IV_RQ_START_RQ_END,		/* end to end, as the driver sees it */
	NS_IV_COUNT,
};

/*
 * Latency histograms: log2 buckets, each split in 4 linear sub-buckets, so
 * a percentile is known to within 25 % (plain log2: within 100 %).
 * Values 0..3 ns have a slot each; a value v >= 4 with l = floor(log2 v)
 * goes to slot 4 * (l - 1) + (the two bits below the top bit).
 * 160 slots reach 2^41 ns (36 minutes).
 */
#define NS_HIST_SLOTS 160

struct ns_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 slots[NS_HIST_SLOTS];
};

struct ns_queue_key {
	__u32 ctrl;
	__u16 qid;
	__u16 interval;		/* enum ns_interval; 0 in the counters map */
};

/*
 * Per-CPU event counters of one queue (the per-CPU split says which CPU).
 * All but hardirq are counted by the BPF programs; hardirq is counted on
 * irq:irq_handler_entry with --irq-events, and otherwise filled in by
 * user space from /proc/interrupts (tools/nvmescope/live/collect.c): the same
 * count, without attaching to the kernel's interrupt path.
 */
struct ns_counters {
	__u64 rq_start;		/* requests started (tnvme_rq_start, nvme_setup_cmd) */
	__u64 rq_end;		/* requests completed */
	__u64 tracked_start;	/* ... of those, put into the in-flight map */
	__u64 tracked_end;	/* ... and found there again at completion */
	__u64 stale;		/* ... replaced: their completion was missed */
	__u64 timed;		/* ... timed step by step: 1 in sample_every */
	__u64 bytes_read;
	__u64 bytes_written;
	__u64 errors;		/* completions with a non-zero status */
	__u64 sq_write;
	__u64 sq_write_cmb;	/* ... into an SQ in the controller's memory (CMB) */
	__u64 sq_doorbell;	/* SQ tail updates (register or shadow buffer) */
	__u64 sq_doorbell_cmds;	/* sum of the doorbells' "cmds" */
	__u64 sq_doorbell_mmio;	/* ... of the updates, MMIO register writes */
	__u64 cqe;
	__u64 cq_doorbell;	/* CQ head updates (register or shadow buffer) */
	__u64 cq_doorbell_cqes;	/* sum of the doorbells' "cqes" */
	__u64 cq_doorbell_mmio;	/* ... of the updates, MMIO register writes */
	__u64 irq;		/* the driver's own irq event (tnvme_irq) */
	__u64 irq_cqes;		/* CQEs visible when the handler started */
	__u64 hardirq;		/* interrupts of this queue's vector */
	/*
	 * A poll queue has no interrupt: the submitting task calls the
	 * driver's ->poll (tnvme_poll) in a loop.  Most calls find nothing,
	 * so the BPF side only counts those; the stock driver has no such
	 * event, and all five stay 0 with it (user space shows "unknown").
	 */
	__u64 poll;		/* tnvme_poll events */
	__u64 poll_empty;	/* ... that saw no new CQE (cqes=0) */
	__u64 poll_cqes;	/* CQEs visible when the polls started */
	__u64 poll_batches;	/* polls that reaped CQEs (one CQ doorbell each) */
	__u64 poll_reaped;	/* CQEs reaped by polls */
	/* LAB-TODO(10) begin: two counters for tnvme_sq_level */
	__u64 sq_level;		/* tnvme_sq_level events (one per SQ doorbell) */
	__u64 sq_level_used;	/* ... the sum of their "used" */
	/* LAB-TODO(10) end */
};

/* Lost or unmatched events, per CPU; index = enum ns_drop. */
enum ns_drop {
	NS_DROP_INFLIGHT_FULL,	/* no in-flight entry for its cid: command not tracked */
	NS_DROP_INFLIGHT_BUSY,	/* never counted: the in-flight map is an array now; kept so the JSON key stays (0) */
	NS_DROP_NOT_STARTED,	/* completion of a command started before attach */
	NS_DROP_RINGBUF_FULL,	/* trace record lost: ring buffer full */
	NS_DROP_BATCH_FULL,	/* more CQEs in one batch than the BPF side holds */
	NS_DROP_DOORBELL_UNKNOWN, /* command's SQ doorbell no longer remembered */
	NS_DROP_IRQ_UNKNOWN,	/* completion found outside an interrupt or a poll */
	NS_DROP_QUEUE_UNKNOWN,	/* event of a controller or queue that appeared after attach */
	NS_DROP_IRQ_NOT_TIMED,	/* timed command reaped by a handler whose start was not timed */
	NS_DROP_COUNT,
};

/*
 * One timed command (see "Sampling" in nvmescope.bpf.c), as kept in the
 * in-flight map and as sent to user space in trace mode.  ts[] holds
 * bpf_ktime_get_ns() per enum ns_step, 0 = not seen (or not visible with
 * this driver).
 */
struct ns_cmd {
	__u64 ts[NS_STEP_COUNT];
	__u64 slba;
	__u64 sq_doorbell_seq;	/* which doorbell of the queue covers it */
	__u32 ctrl;
	__u16 qid;
	__u16 cid;
	__u32 submit_cpu;
	__u32 complete_cpu;
	__u32 irq_cpu;
	__u32 bytes;
	__u32 nlb;		/* logical blocks (1-based), 0 if none */
	__u16 status;
	__u16 sq_slot;
	__u16 cq_slot;
	__u16 sq_head;		/* CQE.SQHD: how far the controller fetched */
	__u16 sq_doorbell_cmds;	/* commands its SQ doorbell covered */
	__u16 cq_doorbell_cqes;	/* CQEs its CQ doorbell covered */
	__u8 opcode;
	__u8 write;
	__u8 driver;		/* enum ns_driver */
	__u8 polled;		/* reaped by a poll (poll queue): ts[IRQ] is the poll */
	__u8 sq_mem;		/* tnvme_sq_write's sq_mem: 0 host memory, 1 the CMB */
};

/*
 * What user space reads of one queue, per CPU, besides the counters: one
 * histogram per interval.  The counters count every event, the
 * histograms hold the timed commands only (ns_counters.timed: all of
 * them unless nvmescope samples, see "Sampling" in nvmescope.bpf.c).
 * The two are apart (maps "stats" and "hists") so that an untimed
 * command's events touch only the small counters.
 */
struct ns_queue_hists {
	struct ns_hist hist[NS_IV_COUNT];
};

#endif /* NVMESCOPE_H */
