/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tracepoint_records.h - the raw records of the stock nvme driver's
 * tracepoints, written by hand.
 *
 * Why by hand: a classic tracepoint program ("tracepoint/SYSTEM/EVENT")
 * gets a pointer to the record the kernel stores in the trace buffer.
 * For events of the kernel proper, vmlinux.h has that record's type
 * (struct trace_event_raw_<event>).  nvme_core is a module: its types are
 * in its own BTF, not in vmlinux.h, and the raw tracepoint arguments are
 * pointers to driver structs (struct request, struct nvme_command), so the
 * record is the simplest stable thing to read.
 * (The tnvme events are read differently, as raw tracepoints whose
 * arguments are plain integers; see "Why raw tracepoints" in
 * nvmescope.bpf.c.)
 *
 * So these structs mirror the layout the kernel publishes in
 * /sys/kernel/tracing/events/<system>/<event>/format:
 *
 *   - an 8-byte common header (common_type, common_flags,
 *     common_preempt_count, common_pid),
 *   - then the TP_STRUCT__entry fields in order, each naturally aligned
 *     (exactly what a C compiler does with the same member list).
 *
 * tests/vm/nvmescope-layout.sh compares every offset and size below with
 * the format files in the lab VM (the table it uses is generated from this
 * header by nvmescope-unit --layout), so a driver change that moves a
 * field fails "make check" instead of silently producing wrong numbers.
 *
 * Source: drivers/nvme/host/trace.h (Linux 6.1).
 */
#ifndef NVMESCOPE_TRACEPOINT_RECORDS_H
#define NVMESCOPE_TRACEPOINT_RECORDS_H

struct tp_common {
	__u16 common_type;
	__u8 common_flags;
	__u8 common_preempt_count;
	__s32 common_pid;
};

/* nvme:nvme_setup_cmd (stock driver) */
struct nvme_setup_cmd_rec {
	struct tp_common common;
	char disk[32];
	__s32 ctrl_id;
	__s32 qid;
	__u8 opcode;
	__u8 flags;
	__u8 fctype;
	__u16 cid;
	__u32 nsid;
	__u8 metadata;		/* bool */
	__u8 cdw10[24];		/* command dwords 10..15 */
};

/* nvme:nvme_complete_rq */
struct nvme_complete_rq_rec {
	struct tp_common common;
	char disk[32];
	__s32 ctrl_id;
	__s32 qid;
	__s32 cid;
	__u64 result;
	__u8 retries;
	__u8 flags;
	__u16 status;
};

/* nvme:nvme_sq (one per CQE: the SQ head the controller reported) */
struct nvme_sq_rec {
	struct tp_common common;
	__s32 ctrl_id;
	char disk[32];
	__s32 qid;
	__u16 sq_head;
	__u16 sq_tail;
};

#endif /* NVMESCOPE_TRACEPOINT_RECORDS_H */
