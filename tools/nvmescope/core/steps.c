// SPDX-License-Identifier: GPL-2.0
/*
 * steps.c - the names nvmescope prints for steps and intervals, and which
 * of them each driver lets us see.  One table, so the column headers, the
 * JSON keys and the docs agree.  Also the other names it prints (drivers,
 * queue types, opcodes, lost events) and print_error().
 */
#include <stdarg.h>
#include "tool.h"

const char *driver_name(enum ns_driver d)
{
	return d == NS_DRIVER_NVME ? "nvme" : "tnvme";
}

static const char *const step_names[NS_STEP_COUNT] = {
	[NS_STEP_RQ_START] = "rq_start",
	[NS_STEP_DMA_MAP] = "dma_map",
	[NS_STEP_SQ_WRITE] = "sq_write",
	[NS_STEP_SQ_DOORBELL] = "sq_doorbell",
	[NS_STEP_IRQ] = "irq",
	[NS_STEP_CQE] = "cqe",
	[NS_STEP_FETCH] = "fetch",
	[NS_STEP_RQ_END] = "rq_end",
	[NS_STEP_DMA_UNMAP] = "dma_unmap",
	[NS_STEP_CQ_DOORBELL] = "cq_doorbell",
};

const char *step_name(enum ns_step s)
{
	return s < NS_STEP_COUNT ? step_names[s] : "?";
}

static const struct {
	enum ns_step from, to;
	const char *help;
} intervals[NS_IV_COUNT] = {
	[NS_IV_RQ_START_SQ_WRITE] = { NS_STEP_RQ_START, NS_STEP_SQ_WRITE,
		"driver: build the command, DMA-map the data" },
	[NS_IV_SQ_WRITE_SQ_DOORBELL] = { NS_STEP_SQ_WRITE, NS_STEP_SQ_DOORBELL,
		"command waits in the SQ for its batch's doorbell" },
	[NS_IV_SQ_DOORBELL_IRQ] = { NS_STEP_SQ_DOORBELL, NS_STEP_IRQ,
		"device time: the steps fetch, dma, cq_post, irq, then the handler's start" },
	[NS_IV_IRQ_CQE] = { NS_STEP_IRQ, NS_STEP_CQE,
		"handler start to this CQE (earlier CQEs of the batch)" },
	[NS_IV_CQE_CQ_DOORBELL] = { NS_STEP_CQE, NS_STEP_CQ_DOORBELL,
		"CQE handled to the CQ head doorbell of its batch" },
	[NS_IV_RQ_START_RQ_END] = { NS_STEP_RQ_START, NS_STEP_RQ_END,
		"end to end as the driver sees it" },
};

const char *interval_from(enum ns_interval iv)
{
	return step_name(intervals[iv].from);
}

const char *interval_to(enum ns_interval iv)
{
	return step_name(intervals[iv].to);
}

const char *interval_key(enum ns_interval iv)
{
	static const char *const keys[NS_IV_COUNT] = {
		[NS_IV_RQ_START_SQ_WRITE] = "rq_start-sq_write",
		[NS_IV_SQ_WRITE_SQ_DOORBELL] = "sq_write-sq_doorbell",
		[NS_IV_SQ_DOORBELL_IRQ] = "sq_doorbell-irq",
		[NS_IV_IRQ_CQE] = "irq-cqe",
		[NS_IV_CQE_CQ_DOORBELL] = "cqe-cq_doorbell",
		[NS_IV_RQ_START_RQ_END] = "rq_start-rq_end",
	};
	return keys[iv];
}

const char *interval_help(enum ns_interval iv)
{
	return intervals[iv].help;
}

/*
 * A poll queue has no interrupt: the poll that found a CQE (tnvme_poll
 * with entries) starts its batch where tnvme_irq would, so it takes the
 * irq step's slot and the name "poll" wherever the queue's type is known.
 */
const char *step_name_for(enum ns_step s, enum ns_qtype t)
{
	if (s == NS_STEP_IRQ && t == NS_QTYPE_POLL)
		return "poll";
	return step_name(s);
}

const char *interval_from_for(enum ns_interval iv, enum ns_qtype t)
{
	return step_name_for(intervals[iv].from, t);
}

const char *interval_to_for(enum ns_interval iv, enum ns_qtype t)
{
	return step_name_for(intervals[iv].to, t);
}

const char *interval_key_for(enum ns_interval iv, enum ns_qtype t)
{
	if (t != NS_QTYPE_POLL)
		return interval_key(iv);
	if (iv == NS_IV_SQ_DOORBELL_IRQ)
		return "sq_doorbell-poll";
	if (iv == NS_IV_IRQ_CQE)
		return "poll-cqe";
	return interval_key(iv);
}

const char *interval_help_for(enum ns_interval iv, enum ns_qtype t)
{
	if (t != NS_QTYPE_POLL)
		return interval_help(iv);
	if (iv == NS_IV_SQ_DOORBELL_IRQ)
		return "device time: the steps fetch, dma, cq_post, then a poll finds the CQE";
	if (iv == NS_IV_IRQ_CQE)
		return "start of the poll that found it to this CQE (earlier CQEs of the batch)";
	return interval_help(iv);
}

const char *queue_type_name(enum ns_qtype t)
{
	switch (t) {
	case NS_QTYPE_IRQ: return "interrupt";
	case NS_QTYPE_POLL: return "poll";
	default: return "unknown";
	}
}

const char *sq_mem_name(enum ns_sq_mem m)
{
	switch (m) {
	case NS_SQ_MEM_HOST: return "host";
	case NS_SQ_MEM_CMB: return "cmb";
	case NS_SQ_MEM_MIXED: return "mixed";
	default: return "unknown";
	}
}

const char *queue_type_from_name(enum ns_qtype_from f)
{
	switch (f) {
	case NS_QTYPE_FROM_DEBUGFS: return "debugfs";
	case NS_QTYPE_FROM_EVENTS: return "events";
	case NS_QTYPE_FROM_INTERRUPTS: return "proc_interrupts";
	default: return "none";
	}
}

/*
 * The steps a command's trace shows.  The stock driver's tracepoints:
 * nvme_setup_cmd (~ rq_start) and nvme_complete_rq (~ rq_end), and
 * nvme_sq (one per CQE), whose first of a reap stands for the irq step
 * (or irq_handler_entry with --irq-events); nvme_sq is counted but not
 * stamped on the command, so no cqe.  It has no event for the SQ write,
 * either doorbell, the DMA mapping or the fetch.
 */
bool step_visible(enum ns_driver d, enum ns_step s)
{
	if (d == NS_DRIVER_TNVME)
		return true;
	return s == NS_STEP_RQ_START || s == NS_STEP_IRQ || s == NS_STEP_RQ_END;
}

bool interval_visible(enum ns_driver d, enum ns_interval iv)
{
	if (d == NS_DRIVER_TNVME)
		return true;
	return iv == NS_IV_IRQ_CQE || iv == NS_IV_RQ_START_RQ_END;
}

const char *opcode_name(int qid, unsigned int opcode)
{
	if (qid == 0) {
		switch (opcode) {
		case 0x06: return "identify";
		case 0x09: return "set_features";
		case 0x0a: return "get_features";
		case 0x02: return "get_log_page";
		case 0x05: return "create_cq";
		case 0x01: return "create_sq";
		case 0x04: return "delete_cq";
		case 0x00: return "delete_sq";
		default: return "admin";
		}
	}
	switch (opcode) {
	case 0x00: return "flush";
	case 0x01: return "write";
	case 0x02: return "read";
	case 0x08: return "write_zeroes";
	case 0x09: return "dsm";
	default: return "io";
	}
}

/* Lost or unmatched events (enum ns_drop), as reports and JSON name them. */
const char *drop_name(enum ns_drop d)
{
	static const char *const names[NS_DROP_COUNT] = {
		[NS_DROP_INFLIGHT_FULL] = "inflight_map_full",
		[NS_DROP_INFLIGHT_BUSY] = "inflight_map_busy",
		[NS_DROP_NOT_STARTED] = "completed_not_started",
		[NS_DROP_RINGBUF_FULL] = "ringbuf_full",
		[NS_DROP_BATCH_FULL] = "batch_full",
		[NS_DROP_DOORBELL_UNKNOWN] = "sq_doorbell_unknown",
		[NS_DROP_IRQ_UNKNOWN] = "cqe_outside_irq",
		[NS_DROP_QUEUE_UNKNOWN] = "queue_unknown",
		[NS_DROP_IRQ_NOT_TIMED] = "irq_not_timed",
	};
	return d < NS_DROP_COUNT ? names[d] : "?";
}

void print_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nvmescope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
