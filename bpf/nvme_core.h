/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_core.h - the parts of the stock nvme driver that nvmescope reads.
 *
 * The stock driver's tracepoints (drivers/nvme/host/trace.h) pass
 * pointers: the request, and for nvme_setup_cmd the command.  nvmescope
 * attaches raw tracepoint programs to them (why: "Why raw tracepoints" at
 * the top of nvmescope.bpf.c) and reads the same values the event's own
 * TP_fast_assign() puts in its tracefs record:
 *
 *   ctrl_id  nvme_req(req)->ctrl->instance
 *   qid      nvme_req_qid(req): 0 for the admin queue (its request queue
 *            has no queuedata), else req->mq_hctx->queue_num + 1
 *   cid      the command's Command Identifier
 *   status   nvme_req(req)->status
 *
 * nvme_req(req) is the driver's part of the request, which blk-mq places
 * right after struct request (blk_mq_rq_to_pdu()).  struct request is a
 * kernel type, in vmlinux.h; struct nvme_request and struct nvme_ctrl
 * belong to the nvme_core module, so vmlinux.h does not have them.  The
 * two below name only the fields we read and are marked
 * preserve_access_index: at load time libbpf looks each field up in
 * nvme_core's own BTF (/sys/kernel/btf/nvme_core) and patches the offset
 * in (CO-RE), so a kernel that moves a field is still read right.  The
 * "___ns" suffix keeps the names apart from vmlinux.h; libbpf ignores
 * everything from "___" on when it matches names.
 *
 * The command is read as bytes at the offsets of the NVMe specification
 * (NVMe 2.0 Base, 3.3.3.1, the submission queue entry), which no kernel
 * moves.
 *
 * tests/vm/nvmescope-vm.sh checks every value against what tracefs prints
 * for the same command.
 */
#ifndef NVMESCOPE_NVME_CORE_H
#define NVMESCOPE_NVME_CORE_H

struct nvme_ctrl___ns {
	int instance;
} __attribute__((preserve_access_index));

struct nvme_request___ns {
	void *cmd;			/* struct nvme_command * */
	__u16 status;
	struct nvme_ctrl___ns *ctrl;
} __attribute__((preserve_access_index));

/* Submission Queue Entry offsets (bytes): Command Dword 0, NSID, CDW10 */
#define SQE_OPCODE	0
#define SQE_CID		2
#define SQE_CDW10	40

#endif /* NVMESCOPE_NVME_CORE_H */
