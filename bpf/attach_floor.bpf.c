// SPDX-License-Identifier: GPL-2.0
/*
 * attach_floor.bpf.c - empty programs on the tnvme tracepoints that
 * "nvmescope top" attaches to, for the benchmark only
 * (tools/bench.d/nvmescope.sh): the seven per-command events, and
 * tnvme_sq_level (once per SQ doorbell) and tnvme_poll (poll queues only),
 * which top watches too.  The floor is doing nothing on the same events.
 *
 * Why: the bench compares fio with and without nvmescope.  Part of that
 * cost is nvmescope's own work (clock reads, map updates), part is paid by
 * any BPF program on these events at all: the enabled tracepoint calls
 * the program through the kernel's raw tracepoint glue (__bpf_trace_run()),
 * with its recursion guard and RCU section.  These programs do nothing, so fio
 * with them attached shows that second part alone: the floor below which
 * no tool that watches these seven events can go on this machine.
 *
 * The same program type (raw_tp), attached in the same order as
 * nvmescope top's programs for these events (nvmescope.bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp/tnvme_rq_start")
int floor_rq_start(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_sq_write")
int floor_sq_write(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_sq_doorbell")
int floor_sq_doorbell(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_sq_level")
int floor_sq_level(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_irq")
int floor_irq(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_poll")
int floor_poll(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_cqe")
int floor_cqe(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_rq_end")
int floor_rq_end(void *ctx)
{
	return 0;
}

SEC("raw_tp/tnvme_cq_doorbell")
int floor_cq_doorbell(void *ctx)
{
	return 0;
}
