/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tnvme tracepoints: the events in the life of an NVMe command.
 *
 * Three of them mark a step of the request where it happens: sq_write,
 * sq_doorbell and cq_doorbell.  The controller's steps (fetch, dma,
 * cq_post, irq) happen where the driver cannot see them; the events that
 * stand in for them come later and are named for what they are.
 *
 * How a trace header works (see samples/trace_events/trace-events-sample.h
 * in the kernel tree for the full tour):
 *
 *  - Every .c file that fires events includes this header normally and
 *    gets inline trace_<name>() functions.  While an event is disabled,
 *    each call is a static branch (a NOP patched into the code), so it costs
 *    nothing measurable.
 *  - Exactly one .c file (trace.c) defines CREATE_TRACE_POINTS before
 *    including it; <trace/define_trace.h> then re-reads this file several
 *    times (hence TRACE_HEADER_MULTI_READ) to generate the event code and
 *    the /sys/kernel/tracing/events/tnvme/<name>/format descriptions.
 *  - DECLARE_EVENT_CLASS describes a record layout and how to print it;
 *    DEFINE_EVENT creates an event with that class;
 *    DEFINE_EVENT_PRINT creates one that shares the layout but prints
 *    differently (used for the two doorbells).
 *
 * The record layouts below are a contract: tools/nvmescope reads the raw
 * records from BPF without type information, so the fields, their order
 * and their fixed-width types must not change.  docs/tracepoints.md
 * documents every field.  "ctrl" is always the instance number c of
 * /dev/tnvme<c>; "qid" 0 is the admin queue.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tnvme

#if !defined(_TNVME_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TNVME_TRACE_H

#include <linux/tracepoint.h>

#include "tnvme.h"

/*
 * The sq_write step: the driver copied a command into a submission queue
 * slot.
 * nlb is the 1-based number of logical blocks (0 for commands without an
 * LBA range), data_len the bytes of data the command moves (0 for a
 * discard, whose data pointer holds only its list of ranges).
 * sq says where the slot is: "host" memory, which the controller reads
 * by DMA at the fetch step, or "cmb", the controller's own memory buffer
 * (tnvme_map_cmb()), which the CPU has just written across PCIe.  Added
 * last, so the fields before it kept their places.
 */
TRACE_DEFINE_ENUM(TNVME_SQ_HOST);
TRACE_DEFINE_ENUM(TNVME_SQ_CMB);

TRACE_EVENT(tnvme_sq_write,
	    TP_PROTO(u32 ctrl, u16 qid, u16 cid, u16 sq_slot, u8 opcode,
		     u32 nsid, u64 slba, u32 nlb, u32 data_len, u8 sq_mem),
	    TP_ARGS(ctrl, qid, cid, sq_slot, opcode, nsid, slba, nlb, data_len,
		    sq_mem),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u16, sq_slot)
			     __field(u8, opcode)
			     __field(u32, nsid)
			     __field(u64, slba)
			     __field(u32, nlb)
			     __field(u32, data_len)
			     __field(u8, sq_mem)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->sq_slot = sq_slot;
			   __entry->opcode = opcode;
			   __entry->nsid = nsid;
			   __entry->slba = slba;
			   __entry->nlb = nlb;
			   __entry->data_len = data_len;
			   __entry->sq_mem = sq_mem;),
	    TP_printk("ctrl=%u qid=%u cid=%u sq_slot=%u opcode=0x%02x nsid=%u slba=%llu nlb=%u data_len=%u sq=%s",
		      __entry->ctrl, __entry->qid, __entry->cid, __entry->sq_slot,
		      __entry->opcode, __entry->nsid,
		      (unsigned long long)__entry->slba, __entry->nlb,
		      __entry->data_len,
		      __print_symbolic(__entry->sq_mem,
				       { TNVME_SQ_HOST, "host" },
				       { TNVME_SQ_CMB, "cmb" }))
);

/*
 * The sq_doorbell and cq_doorbell steps: a doorbell update.  Both
 * doorbells carry the same four numbers (which queue, the value written,
 * how many entries it covers, and whether it was an MMIO register write),
 * so they share one class.
 * The class prints them the SQ way (tail=, cmds=); the CQ doorbell
 * overrides the output with DEFINE_EVENT_PRINT.  (A class whose own
 * TP_printk no event uses would not compile cleanly.)
 *
 * mmio=0: the value went only to the shadow doorbell buffer, which the
 * controller reads on its own (tnvme_shadow_db_update()); mmio=1: the
 * doorbell register was written too.  Without shadow doorbells always 1.
 */
DECLARE_EVENT_CLASS(tnvme_doorbell,
		    TP_PROTO(u32 ctrl, u16 qid, u16 value, u16 count, bool mmio),
		    TP_ARGS(ctrl, qid, value, count, mmio),
		    TP_STRUCT__entry(__field(u32, ctrl)
				     __field(u16, qid)
				     __field(u16, value)
				     __field(u16, count)
				     __field(u8, mmio)),
		    TP_fast_assign(__entry->ctrl = ctrl;
				   __entry->qid = qid;
				   __entry->value = value;
				   __entry->count = count;
				   __entry->mmio = mmio;),
		    TP_printk("ctrl=%u qid=%u tail=%u cmds=%u mmio=%u",
			      __entry->ctrl, __entry->qid, __entry->value,
			      __entry->count, __entry->mmio)
);

/* The sq_doorbell step; cmds = commands since the previous one. */
DEFINE_EVENT(tnvme_doorbell, tnvme_sq_doorbell,
	     TP_PROTO(u32 ctrl, u16 qid, u16 value, u16 count, bool mmio),
	     TP_ARGS(ctrl, qid, value, count, mmio)
);

/* The cq_doorbell step; cqes = entries reaped in this batch. */
DEFINE_EVENT_PRINT(tnvme_doorbell, tnvme_cq_doorbell,
		   TP_PROTO(u32 ctrl, u16 qid, u16 value, u16 count, bool mmio),
		   TP_ARGS(ctrl, qid, value, count, mmio),
		   TP_printk("ctrl=%u qid=%u head=%u cqes=%u mmio=%u",
			     __entry->ctrl, __entry->qid, __entry->value,
			     __entry->count, __entry->mmio)
);

/*
 * Not a step: the SQ head the controller reported in a CQE (CQE.SQHD,
 * 3.3.3.2).  It stands in for the fetch step, but it is when the host
 * learnt how far the controller had fetched, on reading the CQE: after
 * the dma, cq_post and irq steps, not the moment of the fetch.
 */
TRACE_EVENT(tnvme_fetch,
	    TP_PROTO(u32 ctrl, u16 qid, u16 sq_head),
	    TP_ARGS(ctrl, qid, sq_head),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u16, qid)
			     __field(u16, sq_head)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->sq_head = sq_head;),
	    TP_printk("ctrl=%u qid=%u sq_head=%u",
		      __entry->ctrl, __entry->qid, __entry->sq_head)
);

/* LAB-TODO(10) begin: the tnvme_sq_level event (ctrl, qid, sq_head, used) */
/*
 * Not a step: a look at the SQ after the sq_doorbell step, on the same
 * CPU (lab 10); a fast completion's interrupt may come in between.
 * used = the slots from sq_head up to the new tail, (tail - sq_head) mod
 * depth, this doorbell's commands included; sq_head is the last CQE.SQHD
 * (3.3.3.2) the host had read when the doorbell's last command was
 * copied.  The controller may have fetched further without telling yet,
 * so used is an upper bound of the commands waiting to be fetched.
 *
 * tnvme_fetch's layout plus one field.  No class fits: the doorbell class
 * holds two u16 after ctrl and qid too, but names them value and count
 * and adds mmio, and a record's field names are what its format file, an
 * event filter ("used > 16") and a hist trigger use.
 */
TRACE_EVENT(tnvme_sq_level,
	    TP_PROTO(u32 ctrl, u16 qid, u16 sq_head, u16 used),
	    TP_ARGS(ctrl, qid, sq_head, used),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u16, qid)
			     __field(u16, sq_head)
			     __field(u16, used)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->sq_head = sq_head;
			   __entry->used = used;),
	    TP_printk("ctrl=%u qid=%u sq_head=%u used=%u",
		      __entry->ctrl, __entry->qid, __entry->sq_head,
		      __entry->used)
);
/* LAB-TODO(10) end */

/*
 * Not the dma step: the host DMA-mapped the data buffer (at submit,
 * before the sq_write step) or unmapped it (after reading the CQE).  The
 * controller moves the data in between, where the host cannot see it.
 * write=1 means host to device.  prp_entries counts PRP1,
 * PRP2 and list entries that carry data; list_pages the PRP list pages.
 */
DECLARE_EVENT_CLASS(tnvme_dma,
		    TP_PROTO(u32 ctrl, u16 qid, u16 cid, u8 write, u32 bytes,
			     u32 prp_entries, u16 list_pages),
		    TP_ARGS(ctrl, qid, cid, write, bytes, prp_entries, list_pages),
		    TP_STRUCT__entry(__field(u32, ctrl)
				     __field(u16, qid)
				     __field(u16, cid)
				     __field(u8, write)
				     __field(u32, bytes)
				     __field(u32, prp_entries)
				     __field(u16, list_pages)),
		    TP_fast_assign(__entry->ctrl = ctrl;
				   __entry->qid = qid;
				   __entry->cid = cid;
				   __entry->write = write;
				   __entry->bytes = bytes;
				   __entry->prp_entries = prp_entries;
				   __entry->list_pages = list_pages;),
		    TP_printk("ctrl=%u qid=%u cid=%u write=%u bytes=%u prp_entries=%u list_pages=%u",
			      __entry->ctrl, __entry->qid, __entry->cid, __entry->write,
			      __entry->bytes, __entry->prp_entries, __entry->list_pages)
);

DEFINE_EVENT(tnvme_dma, tnvme_dma_map,
	     TP_PROTO(u32 ctrl, u16 qid, u16 cid, u8 write, u32 bytes,
		      u32 prp_entries, u16 list_pages),
	     TP_ARGS(ctrl, qid, cid, write, bytes, prp_entries, list_pages)
);

DEFINE_EVENT(tnvme_dma, tnvme_dma_unmap,
	     TP_PROTO(u32 ctrl, u16 qid, u16 cid, u8 write, u32 bytes,
		      u32 prp_entries, u16 list_pages),
	     TP_ARGS(ctrl, qid, cid, write, bytes, prp_entries, list_pages)
);

/*
 * Not a step: the handler found one completion queue entry (its phase tag
 * matched).  It stands in for the cq_post step, later than it by the irq
 * step, the interrupt's delivery and the entries handled before it.
 * status is the CQE status field without the phase bit (bit 0), i.e.
 * SC in bits 7:0, SCT in bits 10:8, CRD, M, DNR above (3.3.3.2).
 */
TRACE_EVENT(tnvme_cqe,
	    TP_PROTO(u32 ctrl, u16 qid, u16 cid, u16 cq_slot, u16 status,
		     u8 phase, u16 sq_head),
	    TP_ARGS(ctrl, qid, cid, cq_slot, status, phase, sq_head),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u16, cq_slot)
			     __field(u16, status)
			     __field(u8, phase)
			     __field(u16, sq_head)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->cq_slot = cq_slot;
			   __entry->status = status;
			   __entry->phase = phase;
			   __entry->sq_head = sq_head;),
	    TP_printk("ctrl=%u qid=%u cid=%u cq_slot=%u status=0x%x phase=%u sq_head=%u",
		      __entry->ctrl, __entry->qid, __entry->cid, __entry->cq_slot,
		      __entry->status, __entry->phase, __entry->sq_head)
);

/*
 * Stands in for the irq step: the interrupt handler of a queue started.
 * cqes is the number of new entries visible in the CQ at that moment (the
 * handler may find more while it works; tnvme_cq_doorbell has the final
 * count).  The timestamp is the handler's start, not the controller's
 * MSI-X write (the irq step itself), which came earlier by the
 * interrupt's delivery.
 */
TRACE_EVENT(tnvme_irq,
	    TP_PROTO(u32 ctrl, u16 qid, u32 vector, u32 irq, u32 cpu, u16 cqes),
	    TP_ARGS(ctrl, qid, vector, irq, cpu, cqes),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u16, qid)
			     __field(u32, vector)
			     __field(u32, irq)
			     __field(u32, cpu)
			     __field(u16, cqes)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->vector = vector;
			   __entry->irq = irq;
			   __entry->cpu = cpu;
			   __entry->cqes = cqes;),
	    TP_printk("ctrl=%u qid=%u vector=%u irq=%u cpu=%u cqes=%u",
		      __entry->ctrl, __entry->qid, __entry->vector, __entry->irq,
		      __entry->cpu, __entry->cqes)
);

/*
 * The irq step on a poll queue (poll_queues=), which has no interrupt:
 * one call of tnvme_poll(), blk-mq's ->poll, made by the task that
 * submitted polled I/O (io_uring with IOPOLL) on the CPU it runs
 * on.  cqes is the number of new entries it saw at that moment; 0 is an
 * empty poll (the task keeps polling: most calls look like that).  Only
 * a poll that found entries is followed by tnvme_cqe and tnvme_cq_doorbell.
 */
TRACE_EVENT(tnvme_poll,
	    TP_PROTO(u32 ctrl, u16 qid, u32 cpu, u16 cqes),
	    TP_ARGS(ctrl, qid, cpu, cqes),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u16, qid)
			     __field(u32, cpu)
			     __field(u16, cqes)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->cpu = cpu;
			   __entry->cqes = cqes;),
	    TP_printk("ctrl=%u qid=%u cpu=%u cqes=%u",
		      __entry->ctrl, __entry->qid, __entry->cpu, __entry->cqes)
);

/*
 * Not steps: start and end of a request as the driver sees it.  Start in
 * tnvme_queue_rq() on the submitting CPU, before the sq_write step; end
 * when its CQE is handled on the completing CPU.  The time between the two
 * is the device-side latency plus the driver's.
 */
DECLARE_EVENT_CLASS(tnvme_rq,
		    TP_PROTO(u32 ctrl, u16 qid, u16 cid, u32 cpu, u8 opcode,
			     u32 bytes, u16 status),
		    TP_ARGS(ctrl, qid, cid, cpu, opcode, bytes, status),
		    TP_STRUCT__entry(__field(u32, ctrl)
				     __field(u16, qid)
				     __field(u16, cid)
				     __field(u32, cpu)
				     __field(u8, opcode)
				     __field(u32, bytes)
				     __field(u16, status)),
		    TP_fast_assign(__entry->ctrl = ctrl;
				   __entry->qid = qid;
				   __entry->cid = cid;
				   __entry->cpu = cpu;
				   __entry->opcode = opcode;
				   __entry->bytes = bytes;
				   __entry->status = status;),
		    TP_printk("ctrl=%u qid=%u cid=%u cpu=%u opcode=0x%02x bytes=%u status=0x%x",
			      __entry->ctrl, __entry->qid, __entry->cid,
			      __entry->cpu, __entry->opcode, __entry->bytes,
			      __entry->status)
);

DEFINE_EVENT(tnvme_rq, tnvme_rq_start,
	     TP_PROTO(u32 ctrl, u16 qid, u16 cid, u32 cpu, u8 opcode,
		      u32 bytes, u16 status),
	     TP_ARGS(ctrl, qid, cid, cpu, opcode, bytes, status)
);

DEFINE_EVENT(tnvme_rq, tnvme_rq_end,
	     TP_PROTO(u32 ctrl, u16 qid, u16 cid, u32 cpu, u8 opcode,
		      u32 bytes, u16 status),
	     TP_ARGS(ctrl, qid, cid, cpu, opcode, bytes, status)
);

/*
 * Error recovery (docs/fault-tolerance.md).  These two events are
 * separate from the I/O path's: adding them changed no layout above.
 *
 * Their records hold enum values (enum tnvme_ctrl_state and enum
 * tnvme_timeout_action in tnvme.h); the text shows names.
 * TRACE_DEFINE_ENUM puts each value into the event's format file, so
 * that tools reading the binary records (trace-cmd, perf) can show the
 * names too; show_ctrl_state() and show_timeout_action() are the one
 * list of names each.
 */
TRACE_DEFINE_ENUM(TNVME_CTRL_NEW);
TRACE_DEFINE_ENUM(TNVME_CTRL_LIVE);
TRACE_DEFINE_ENUM(TNVME_CTRL_RESETTING);
TRACE_DEFINE_ENUM(TNVME_CTRL_DEAD);
TRACE_DEFINE_ENUM(TNVME_CTRL_DELETING);
#define show_ctrl_state(state)						\
	__print_symbolic(state,						\
			 { TNVME_CTRL_NEW, "new" },			\
			 { TNVME_CTRL_LIVE, "live" },			\
			 { TNVME_CTRL_RESETTING, "resetting" },		\
			 { TNVME_CTRL_DEAD, "dead" },			\
			 { TNVME_CTRL_DELETING, "deleting" })

TRACE_DEFINE_ENUM(TNVME_TO_COMPLETED);
TRACE_DEFINE_ENUM(TNVME_TO_ABORT);
TRACE_DEFINE_ENUM(TNVME_TO_RESET);
TRACE_DEFINE_ENUM(TNVME_TO_DISABLE);
TRACE_DEFINE_ENUM(TNVME_TO_WAIT);
#define show_timeout_action(action)					\
	__print_symbolic(action,					\
			 { TNVME_TO_COMPLETED, "completed" },		\
			 { TNVME_TO_ABORT, "abort" },			\
			 { TNVME_TO_RESET, "reset" },			\
			 { TNVME_TO_DISABLE, "disable" },		\
			 { TNVME_TO_WAIT, "wait" })

/* tnvme_ctrl_state: the controller moved from state old to state new. */
TRACE_EVENT(tnvme_ctrl_state,
	    TP_PROTO(u32 ctrl, u8 old, u8 new),
	    TP_ARGS(ctrl, old, new),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u8, old)
			     __field(u8, new)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->old = old;
			   __entry->new = new;),
	    TP_printk("ctrl=%u %s -> %s", __entry->ctrl,
		      show_ctrl_state(__entry->old),
		      show_ctrl_state(__entry->new))
);

/*
 * tnvme_timeout: blk-mq's timer expired for command cid on queue qid and
 * the timeout handler chose action (enum tnvme_timeout_action): 0
 * completed (found by polling the CQ), 1 abort (Abort sent, timer
 * restarted), 2 reset, 3 disable (no reset possible now: probe, remove,
 * dead, or a reset already running), 4 wait (no Abort slot free, timer
 * restarted).
 */
TRACE_EVENT(tnvme_timeout,
	    TP_PROTO(u32 ctrl, u16 qid, u16 cid, u8 opcode, u32 csts,
		     u8 action),
	    TP_ARGS(ctrl, qid, cid, opcode, csts, action),
	    TP_STRUCT__entry(__field(u32, ctrl)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u8, opcode)
			     __field(u32, csts)
			     __field(u8, action)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->opcode = opcode;
			   __entry->csts = csts;
			   __entry->action = action;),
	    TP_printk("ctrl=%u qid=%u cid=%u opcode=0x%02x csts=0x%x action=%s",
		      __entry->ctrl, __entry->qid, __entry->cid,
		      __entry->opcode, __entry->csts,
		      show_timeout_action(__entry->action))
);

#endif /* _TNVME_TRACE_H */

/*
 * This part must be outside the include guard: define_trace.h includes
 * this file again.  The module is built out of tree, so tell it to look in
 * this directory (Kbuild adds it to the include path).
 */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
