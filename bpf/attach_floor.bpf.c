// SPDX-License-Identifier: GPL-2.0
/*
 * attach_floor.bpf.c - empty programs on the tnvme tracepoints that
 * "nvmescope top" uses, for the benchmark only (tools/bench.d/nvmescope.sh).
 *
 * Why: the bench compares fio with and without nvmescope.  Part of that
 * cost is nvmescope's own work (clock reads, map updates), part is paid by
 * any BPF program on these events at all: the enabled tracepoint calls
 * the program through the BPF trampoline of the raw tracepoint, with its
 * recursion guard and RCU section.  These programs do nothing, so fio
 * with them attached shows that second part alone: the floor below which
 * no tool that watches these seven events can go on this machine.
 *
 * Same events, same program type (raw_tp) and same order of attachment
 * as nvmescope top on tnvme (bpf/nvmescope.bpf.c).
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

SEC("raw_tp/tnvme_irq")
int floor_irq(void *ctx)
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
