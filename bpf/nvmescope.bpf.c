// SPDX-License-Identifier: GPL-2.0
/*
 * nvmescope.bpf.c - the kernel half of nvmescope.
 *
 * Follows every NVMe command from the moment the driver starts it to the
 * completion queue doorbell that hands its CQ slot back, and aggregates in
 * the kernel: per-CPU counters and latency histograms per (controller,
 * queue).  In trace mode it also sends each finished command to user space
 * through a ring buffer.
 *
 * Why raw tracepoints for tnvme: a classic tracepoint program
 * (SEC("tracepoint/...")) runs under one per-CPU guard shared by all such
 * programs; on Linux 6.1 an interrupt that arrives while, say, the
 * sq_write program runs on that CPU has its programs skipped, silently.
 * The submit side runs with interrupts enabled and the completion
 * interrupt usually lands on the submitting CPU, so that would lose a few
 * per cent of completions.  Raw tracepoint programs have a guard per
 * program, and a skipped run is counted (recursion_misses, shown by
 * nvmescope).  Their context is the TP_PROTO argument list of
 * driver/trace.h, one u64 per argument, which needs no BTF either - the
 * tnvme module has none.  tests/vm/nvmescope-layout.sh checks that every
 * value read here equals what tracefs prints for the same command.
 *
 * The stock driver's events take pointers to driver structs, so for them
 * we read the classic record (tracepoint_records.h, checked against the
 * format files by the same test).  irq_handler_entry/exit are typed
 * BTF tracepoints (tp_btf), which is why nvmescope needs kernel BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "nvmescope.h"
#include "tracepoint_records.h"

char LICENSE[] SEC("license") = "GPL";

/* Options, set by user space in the skeleton's rodata before loading. */
const volatile __u8 trace_mode;		/* send finished commands to user space */
const volatile __s32 filter_ctrl = -1;	/* -1: every controller */
const volatile __s32 filter_qid = -1;	/* -1: every queue */
const volatile __s32 filter_opcode = -1;/* -1: every opcode (tracked commands) */
const volatile __u32 nvme_lba_shift[16];/* stock driver: log2(LBA size) per ctrl */

#define INFLIGHT_MAX	16384
#define QUEUES_MAX	512
#define HISTS_MAX	(QUEUES_MAX * NS_IV_COUNT)
/* SQ doorbells remembered per queue (to find the one covering a command) */
#define DOORBELL_RING	256
/* Completions one CPU holds between their CQE and the CQ doorbell */
#define BATCH_MAX	64

/* Commands between start and completion, keyed by (ctrl, qid, cid). */
struct inflight_key {
	__u32 ctrl;
	__u16 qid;
	__u16 cid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX);
	__type(key, struct inflight_key);
	__type(value, struct ns_cmd);
} inflight SEC(".maps");

/*
 * The per-CPU maps are not preallocated: preallocation would reserve
 * max_entries x CPUs x value size (tens of MiB for the histograms) and
 * make start-up slow; only the queues that see I/O get entries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, QUEUES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ns_queue_key);
	__type(value, struct ns_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, HISTS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ns_queue_key);
	__type(value, struct ns_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NS_DROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* The recent SQ doorbells of one queue (written under the driver's sq_lock). */
struct queue_state {
	__u64 doorbells;		/* how many so far */
	__u64 doorbell_ts[DOORBELL_RING];
	__u16 doorbell_cmds[DOORBELL_RING];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, QUEUES_MAX);
	__type(key, struct ns_queue_key);
	__type(value, struct queue_state);
} queue_states SEC(".maps");

/*
 * What one CPU is doing on the completion side: which queue's interrupt
 * handler runs, and the completions found since the last CQ doorbell.
 */
struct cpu_state {
	__u64 irq_ts;
	__u32 irq;
	__u32 irq_ctrl;
	__u16 irq_qid;
	__u16 in_irq;
	__u32 batch_len;
	struct inflight_key last_cqe;	/* for tnvme_fetch, which has no cid */
	struct ns_cmd batch[BATCH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpu_states SEC(".maps");

/* irq number -> queue; filled from /proc/interrupts by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ns_irq_queue);
} irq_queues SEC(".maps");

/* A zeroed value big enough for any map above, to create entries from. */
union zero_value {
	struct ns_hist hist;
	struct ns_counters counters;
	struct queue_state queue;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union zero_value);
} zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);	/* user space resizes it for trace mode */
} events SEC(".maps");

/* ------------------------------------------------------------ helpers */

/*
 * Array indexes: the verifier must see a bounds check on the very
 * register used to index.  clang may drop a check it can prove redundant
 * or do it on a copy; this empty asm hides the value so the check stays.
 */
#define hide_from_compiler(x) asm volatile("" : "+r"(x))

static __always_inline void count_drop(enum ns_drop what)
{
	__u32 key = what;
	__u64 *n = bpf_map_lookup_elem(&drops, &key);

	if (n)
		(*n)++;
}

static __always_inline bool queue_wanted(__u32 ctrl, __u16 qid)
{
	if (filter_ctrl >= 0 && ctrl != (__u32)filter_ctrl)
		return false;
	if (filter_qid >= 0 && qid != (__u16)filter_qid)
		return false;
	return true;
}

/* Look up key in map, creating a zeroed entry first if needed. */
static __always_inline void *lookup_or_zero(void *map, const void *key)
{
	__u32 zkey = 0;
	void *v = bpf_map_lookup_elem(map, key);
	void *z;

	if (v)
		return v;
	z = bpf_map_lookup_elem(&zero, &zkey);
	if (!z)
		return NULL;
	bpf_map_update_elem(map, key, z, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline struct ns_counters *queue_counters(__u32 ctrl, __u16 qid)
{
	struct ns_queue_key key = { .ctrl = ctrl, .qid = qid };

	return lookup_or_zero(&counters, &key);
}

static __always_inline struct cpu_state *this_cpu_state(void)
{
	__u32 zkey = 0;

	return bpf_map_lookup_elem(&cpu_states, &zkey);
}

/* floor(log2(v)) for v > 0, without loops (the verifier likes that). */
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

/* The histogram slot of a value (layout explained in nvmescope.h). */
static __always_inline __u64 hist_slot(__u64 v)
{
	__u64 l, slot;

	if (v < 4)
		return v;
	l = log2_u64(v);
	slot = 4 * (l - 1) + ((v >> (l - 2)) & 3);
	return slot < NS_HIST_SLOTS ? slot : NS_HIST_SLOTS - 1;
}

static __always_inline void hist_add(__u32 ctrl, __u16 qid,
				     enum ns_interval iv, __u64 from, __u64 to)
{
	struct ns_queue_key key = { .ctrl = ctrl, .qid = qid, .interval = iv };
	struct ns_hist *h;
	__u64 slot;

	if (!from || !to || to < from)
		return;		/* a step this driver does not show, or not seen */
	h = lookup_or_zero(&hists, &key);
	if (!h)
		return;
	slot = hist_slot(to - from);
	/*
	 * hist_slot() already clamps, but the verifier needs to see the
	 * check on the register used as the index: the empty asm hides
	 * the value from clang so it cannot drop the check as redundant.
	 */
	hide_from_compiler(slot);
	h->count++;
	h->sum_ns += to - from;
	if (slot < NS_HIST_SLOTS)
		h->slots[slot]++;
}

static __always_inline void send_to_user(struct ns_cmd *cmd)
{
	if (bpf_ringbuf_output(&events, cmd, sizeof(*cmd), 0))
		count_drop(NS_DROP_RINGBUF_FULL);
}

/*
 * Start tracking a command.  A key still in the map means we missed the
 * completion of its previous use of that cid: count it and start over.
 */
static __always_inline struct ns_cmd *track_start(struct ns_counters *c,
						  struct inflight_key *key)
{
	__u32 zkey = 0;
	union zero_value *z = bpf_map_lookup_elem(&zero, &zkey);
	long err;

	if (!z)
		return NULL;
	/* struct ns_cmd is smaller than the zero value: a zeroed start */
	err = bpf_map_update_elem(&inflight, key, z, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		c->stale++;
		err = bpf_map_update_elem(&inflight, key, z, BPF_ANY);
	}
	if (err) {
		count_drop(err == -16 /* EBUSY */ ? NS_DROP_INFLIGHT_BUSY :
			   NS_DROP_INFLIGHT_FULL);
		return NULL;
	}
	c->tracked_start++;
	return bpf_map_lookup_elem(&inflight, key);
}

/*
 * The command has completed: record its intervals, then keep it in this
 * CPU's batch until the CQ doorbell (for cqe -> cq_doorbell and the trace).
 */
static __always_inline void track_end(struct ns_counters *c,
				      struct inflight_key *key,
				      struct ns_cmd *cmd)
{
	struct cpu_state *st = this_cpu_state();
	__u64 *ts = cmd->ts;
	__u64 n;

	c->tracked_end++;
	hist_add(key->ctrl, key->qid, NS_IV_RQ_START_SQ_WRITE,
		 ts[NS_STEP_RQ_START], ts[NS_STEP_SQ_WRITE]);
	hist_add(key->ctrl, key->qid, NS_IV_SQ_WRITE_SQ_DOORBELL,
		 ts[NS_STEP_SQ_WRITE], ts[NS_STEP_SQ_DOORBELL]);
	hist_add(key->ctrl, key->qid, NS_IV_SQ_DOORBELL_IRQ,
		 ts[NS_STEP_SQ_DOORBELL], ts[NS_STEP_IRQ]);
	hist_add(key->ctrl, key->qid, NS_IV_RQ_START_RQ_END,
		 ts[NS_STEP_RQ_START], ts[NS_STEP_RQ_END]);

	if (st && cmd->driver == NS_DRIVER_TNVME) {
		n = st->batch_len;
		hide_from_compiler(n);
		if (n < BATCH_MAX) {
			__builtin_memcpy(&st->batch[n], cmd, sizeof(*cmd));
			st->batch_len = n + 1;
		} else {
			count_drop(NS_DROP_BATCH_FULL);
		}
	} else if (trace_mode) {
		/* The stock driver shows no CQ doorbell: send it now. */
		send_to_user(cmd);
	}
	bpf_map_delete_elem(&inflight, key);
}

/* ---------------------------------------------- tnvme: submission side */

SEC("raw_tp/tnvme_rq_start")
int BPF_PROG(tnvme_rq_start, u32 ctrl, u16 qid, u16 cid, u32 tag, u32 cpu,
	     u8 opcode, u32 bytes, u16 status)
{
	struct inflight_key key = { .ctrl = ctrl, .qid = qid, .cid = cid };
	struct ns_counters *c;
	struct ns_cmd *cmd;

	if (!queue_wanted(ctrl, qid))
		return 0;
	c = queue_counters(ctrl, qid);
	if (!c)
		return 0;
	c->rq_start++;
	if (filter_opcode >= 0 && opcode != (u8)filter_opcode)
		return 0;
	cmd = track_start(c, &key);
	if (!cmd)
		return 0;
	cmd->ts[NS_STEP_RQ_START] = bpf_ktime_get_ns();
	cmd->ctrl = ctrl;
	cmd->qid = qid;
	cmd->cid = cid;
	cmd->submit_cpu = cpu;
	cmd->opcode = opcode;
	cmd->bytes = bytes;
	cmd->driver = NS_DRIVER_TNVME;
	return 0;
}

SEC("raw_tp/tnvme_dma_map")
int BPF_PROG(tnvme_dma_map, u32 ctrl, u16 qid, u16 cid, u8 write, u32 bytes,
	     u32 prp_entries, u16 list_pages)
{
	struct inflight_key key = { .ctrl = ctrl, .qid = qid, .cid = cid };
	struct ns_cmd *cmd = bpf_map_lookup_elem(&inflight, &key);

	if (cmd) {
		cmd->ts[NS_STEP_DMA_MAP] = bpf_ktime_get_ns();
		cmd->write = write;
	}
	return 0;
}

SEC("raw_tp/tnvme_sq_write")
int BPF_PROG(tnvme_sq_write, u32 ctrl, u16 qid, u16 cid, u16 sq_slot, u8 opcode,
	     u32 nsid, u64 slba, u32 nlb, u32 data_len)
{
	struct inflight_key key = { .ctrl = ctrl, .qid = qid, .cid = cid };
	struct ns_queue_key qkey = { .ctrl = ctrl, .qid = qid };
	struct queue_state *qs;
	struct ns_counters *c;
	struct ns_cmd *cmd;

	if (!queue_wanted(ctrl, qid))
		return 0;
	c = queue_counters(ctrl, qid);
	if (c)
		c->sq_write++;
	cmd = bpf_map_lookup_elem(&inflight, &key);
	if (!cmd)
		return 0;
	cmd->ts[NS_STEP_SQ_WRITE] = bpf_ktime_get_ns();
	cmd->sq_slot = sq_slot;
	cmd->slba = slba;
	cmd->nlb = nlb;
	/* The next SQ doorbell of this queue is the one that covers it. */
	qs = lookup_or_zero(&queue_states, &qkey);
	if (qs)
		cmd->sq_doorbell_seq = qs->doorbells;
	return 0;
}

SEC("raw_tp/tnvme_sq_doorbell")
int BPF_PROG(tnvme_sq_doorbell, u32 ctrl, u16 qid, u16 tail, u16 cmds)
{
	struct ns_queue_key qkey = { .ctrl = ctrl, .qid = qid };
	struct queue_state *qs;
	struct ns_counters *c;
	__u32 i;

	if (!queue_wanted(ctrl, qid))
		return 0;
	c = queue_counters(ctrl, qid);
	if (c) {
		c->sq_doorbell++;
		c->sq_doorbell_cmds += cmds;
	}
	qs = lookup_or_zero(&queue_states, &qkey);
	if (!qs)
		return 0;
	i = qs->doorbells % DOORBELL_RING;
	qs->doorbell_ts[i] = bpf_ktime_get_ns();
	qs->doorbell_cmds[i] = cmds;
	/* publish the slot before the count (a full barrier on x86) */
	__sync_fetch_and_add(&qs->doorbells, 1);
	return 0;
}

/* ---------------------------------------------- tnvme: completion side */

SEC("raw_tp/tnvme_irq")
int BPF_PROG(tnvme_irq, u32 ctrl, u16 qid, u32 vector, u32 irq, u32 cpu,
	     u16 cqes)
{
	struct cpu_state *st = this_cpu_state();
	struct ns_counters *c;

	if (!queue_wanted(ctrl, qid))
		return 0;
	c = queue_counters(ctrl, qid);
	if (c) {
		c->irq++;
		c->irq_cqes += cqes;
	}
	if (st) {
		st->irq_ts = bpf_ktime_get_ns();
		st->irq = irq;
		st->irq_ctrl = ctrl;
		st->irq_qid = qid;
		st->in_irq = 1;
	}
	return 0;
}

/* Give a command the SQ doorbell that covered it (see tnvme_sq_write). */
static __always_inline void find_sq_doorbell(struct ns_cmd *cmd)
{
	struct ns_queue_key qkey = { .ctrl = cmd->ctrl, .qid = cmd->qid };
	struct queue_state *qs = bpf_map_lookup_elem(&queue_states, &qkey);
	__u64 seq = cmd->sq_doorbell_seq;
	__u32 i;

	if (!qs || !cmd->ts[NS_STEP_SQ_WRITE])
		return;
	if (qs->doorbells <= seq || qs->doorbells - seq > DOORBELL_RING) {
		count_drop(NS_DROP_DOORBELL_UNKNOWN);
		return;
	}
	i = seq % DOORBELL_RING;
	cmd->ts[NS_STEP_SQ_DOORBELL] = qs->doorbell_ts[i];
	cmd->sq_doorbell_cmds = qs->doorbell_cmds[i];
}

SEC("raw_tp/tnvme_cqe")
int BPF_PROG(tnvme_cqe, u32 ctrl, u16 qid, u16 cid, u16 cq_slot, u16 status,
	     u8 phase, u16 sq_head)
{
	struct inflight_key key = { .ctrl = ctrl, .qid = qid, .cid = cid };
	struct cpu_state *st = this_cpu_state();
	__u64 now = bpf_ktime_get_ns();
	struct ns_counters *c;
	struct ns_cmd *cmd;
	bool from_irq;

	if (!queue_wanted(ctrl, qid) || !st)
		return 0;
	c = queue_counters(ctrl, qid);
	if (c)
		c->cqe++;
	from_irq = st->in_irq && st->irq_ctrl == ctrl && st->irq_qid == qid;
	if (from_irq)
		hist_add(ctrl, qid, NS_IV_IRQ_CQE, st->irq_ts, now);
	else
		count_drop(NS_DROP_IRQ_UNKNOWN);
	st->last_cqe = key;

	cmd = bpf_map_lookup_elem(&inflight, &key);
	if (!cmd)
		return 0;
	cmd->ts[NS_STEP_CQE] = now;
	cmd->cq_slot = cq_slot;
	cmd->status = status;
	cmd->sq_head = sq_head;
	find_sq_doorbell(cmd);
	if (from_irq && st->irq_ts >= cmd->ts[NS_STEP_SQ_DOORBELL]) {
		cmd->ts[NS_STEP_IRQ] = st->irq_ts;
		cmd->irq_cpu = bpf_get_smp_processor_id();
	}
	return 0;
}

SEC("raw_tp/tnvme_fetch")
int BPF_PROG(tnvme_fetch, u32 ctrl, u16 qid, u16 sq_head)
{
	struct cpu_state *st = this_cpu_state();
	struct ns_cmd *cmd;

	/* fired right after tnvme_cqe, on the same CPU, for the same CQE */
	if (!st || st->last_cqe.ctrl != ctrl || st->last_cqe.qid != qid)
		return 0;
	cmd = bpf_map_lookup_elem(&inflight, &st->last_cqe);
	if (cmd)
		cmd->ts[NS_STEP_FETCH] = bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp/tnvme_rq_end")
int BPF_PROG(tnvme_rq_end, u32 ctrl, u16 qid, u16 cid, u32 tag, u32 cpu,
	     u8 opcode, u32 bytes, u16 status)
{
	struct inflight_key key = { .ctrl = ctrl, .qid = qid, .cid = cid };
	struct ns_counters *c;
	struct ns_cmd *cmd;

	if (!queue_wanted(ctrl, qid))
		return 0;
	c = queue_counters(ctrl, qid);
	if (!c)
		return 0;
	c->rq_end++;
	if (opcode == 0x01)
		c->bytes_written += bytes;
	else if (opcode == 0x02)
		c->bytes_read += bytes;
	if (status)
		c->errors++;
	cmd = bpf_map_lookup_elem(&inflight, &key);
	if (!cmd) {
		if (filter_opcode < 0 || opcode == (u8)filter_opcode)
			count_drop(NS_DROP_NOT_STARTED);
		return 0;
	}
	cmd->ts[NS_STEP_RQ_END] = bpf_ktime_get_ns();
	cmd->complete_cpu = cpu;
	cmd->status = status;
	track_end(c, &key, cmd);
	return 0;
}

SEC("raw_tp/tnvme_dma_unmap")
int BPF_PROG(tnvme_dma_unmap, u32 ctrl, u16 qid, u16 cid, u8 write, u32 bytes,
	     u32 prp_entries, u16 list_pages)
{
	struct cpu_state *st = this_cpu_state();
	__u64 n;

	/* fired right after tnvme_rq_end: the command is the batch's last */
	if (!st)
		return 0;
	n = st->batch_len;
	if (n == 0)
		return 0;
	n--;
	hide_from_compiler(n);
	if (n < BATCH_MAX && st->batch[n].ctrl == ctrl &&
	    st->batch[n].qid == qid && st->batch[n].cid == cid)
		st->batch[n].ts[NS_STEP_DMA_UNMAP] = bpf_ktime_get_ns();
	return 0;
}

struct flush_ctx {
	struct cpu_state *st;
	__u64 now;
	__u32 ctrl;
	__u16 qid;
	__u16 cqes;
};

static long flush_one(__u32 index, struct flush_ctx *fc)
{
	__u64 i = index;
	struct ns_cmd *cmd;

	if (i >= fc->st->batch_len)
		return 1;
	hide_from_compiler(i);
	if (i >= BATCH_MAX)
		return 1;
	cmd = &fc->st->batch[i];
	if (cmd->ctrl == fc->ctrl && cmd->qid == fc->qid) {
		cmd->ts[NS_STEP_CQ_DOORBELL] = fc->now;
		cmd->cq_doorbell_cqes = fc->cqes;
		hist_add(cmd->ctrl, cmd->qid, NS_IV_CQE_CQ_DOORBELL,
			 cmd->ts[NS_STEP_CQE], fc->now);
	}
	if (trace_mode)
		send_to_user(cmd);
	return 0;
}

SEC("raw_tp/tnvme_cq_doorbell")
int BPF_PROG(tnvme_cq_doorbell, u32 ctrl, u16 qid, u16 head, u16 cqes)
{
	struct flush_ctx fc = { .ctrl = ctrl, .qid = qid, .cqes = cqes };
	struct ns_counters *c;

	if (!queue_wanted(ctrl, qid))
		return 0;
	c = queue_counters(ctrl, qid);
	if (c) {
		c->cq_doorbell++;
		c->cq_doorbell_cqes += cqes;
	}
	fc.st = this_cpu_state();
	if (!fc.st)
		return 0;
	fc.now = bpf_ktime_get_ns();
	bpf_loop(BATCH_MAX, flush_one, &fc, 0);
	fc.st->batch_len = 0;
	return 0;
}

/* ---------------------------------------------------- interrupts (both) */

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(irq_handler_entry, int irq, struct irqaction *action)
{
	__u32 key = irq;
	struct ns_irq_queue *q = bpf_map_lookup_elem(&irq_queues, &key);
	struct cpu_state *st;
	struct ns_counters *c;

	if (!q || !queue_wanted(q->ctrl, q->qid))
		return 0;	/* not an NVMe queue's interrupt */
	c = queue_counters(q->ctrl, q->qid);
	if (c)
		c->hardirq++;
	st = this_cpu_state();
	if (st) {
		/* tnvme_irq will say the same, a moment later */
		st->irq_ts = bpf_ktime_get_ns();
		st->irq = irq;
		st->irq_ctrl = q->ctrl;
		st->irq_qid = q->qid;
		st->in_irq = 1;
	}
	return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(irq_handler_exit, int irq, struct irqaction *action, int ret)
{
	struct cpu_state *st = this_cpu_state();

	if (st && st->in_irq && st->irq == (__u32)irq)
		st->in_irq = 0;
	return 0;
}

/* ------------------------------------------ the stock nvme driver */

static __always_inline __u32 le32_at(const __u8 *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((__u32)p[3] << 24);
}

SEC("tracepoint/nvme/nvme_setup_cmd")
int nvme_setup_cmd(struct nvme_setup_cmd_rec *rec)
{
	struct inflight_key key = {
		.ctrl = rec->ctrl_id, .qid = rec->qid, .cid = rec->cid,
	};
	__u32 ctrl = rec->ctrl_id, shift;
	struct ns_counters *c;
	struct ns_cmd *cmd;
	__u8 opcode = rec->opcode;

	if (!queue_wanted(key.ctrl, key.qid))
		return 0;
	c = queue_counters(key.ctrl, key.qid);
	if (!c)
		return 0;
	c->rq_start++;
	if (filter_opcode >= 0 && opcode != (__u8)filter_opcode)
		return 0;
	cmd = track_start(c, &key);
	if (!cmd)
		return 0;
	cmd->ts[NS_STEP_RQ_START] = bpf_ktime_get_ns();
	cmd->ctrl = key.ctrl;
	cmd->qid = key.qid;
	cmd->cid = key.cid;
	cmd->submit_cpu = bpf_get_smp_processor_id();
	cmd->opcode = opcode;
	cmd->driver = NS_DRIVER_NVME;
	/* I/O read (0x02) or write (0x01): SLBA in cdw10-11, NLB-1 in cdw12 */
	if (key.qid && (opcode == 0x01 || opcode == 0x02)) {
		cmd->slba = le32_at(rec->cdw10) |
			    ((__u64)le32_at(rec->cdw10 + 4) << 32);
		cmd->nlb = (le32_at(rec->cdw10 + 8) & 0xffff) + 1;
		shift = ctrl < 16 ? nvme_lba_shift[ctrl & 15] : 9;
		cmd->bytes = cmd->nlb << (shift ? shift : 9);
		cmd->write = opcode == 0x01;
	}
	return 0;
}

SEC("tracepoint/nvme/nvme_sq")
int nvme_sq(struct nvme_sq_rec *rec)
{
	__u32 ctrl = rec->ctrl_id;
	__u16 qid = rec->qid;
	struct cpu_state *st = this_cpu_state();
	struct ns_counters *c;

	if (!queue_wanted(ctrl, qid) || !st)
		return 0;
	c = queue_counters(ctrl, qid);
	if (c)
		c->cqe++;
	/* One per CQE, inside the handler: "irq -> cqe" for this CQE. */
	if (st->in_irq && st->irq_ctrl == ctrl && st->irq_qid == qid)
		hist_add(ctrl, qid, NS_IV_IRQ_CQE, st->irq_ts, bpf_ktime_get_ns());
	else
		count_drop(NS_DROP_IRQ_UNKNOWN);
	return 0;
}

SEC("tracepoint/nvme/nvme_complete_rq")
int nvme_complete_rq(struct nvme_complete_rq_rec *rec)
{
	struct inflight_key key = {
		.ctrl = rec->ctrl_id, .qid = rec->qid, .cid = rec->cid,
	};
	struct cpu_state *st = this_cpu_state();
	struct ns_counters *c;
	struct ns_cmd *cmd;

	if (!queue_wanted(key.ctrl, key.qid))
		return 0;
	c = queue_counters(key.ctrl, key.qid);
	if (!c)
		return 0;
	c->rq_end++;
	if (rec->status)
		c->errors++;
	cmd = bpf_map_lookup_elem(&inflight, &key);
	if (!cmd) {
		if (filter_opcode < 0)
			count_drop(NS_DROP_NOT_STARTED);
		return 0;
	}
	if (cmd->opcode == 0x01)
		c->bytes_written += cmd->bytes;
	else if (cmd->opcode == 0x02)
		c->bytes_read += cmd->bytes;
	cmd->ts[NS_STEP_RQ_END] = bpf_ktime_get_ns();
	cmd->complete_cpu = bpf_get_smp_processor_id();
	cmd->status = rec->status;
	if (st && st->in_irq && st->irq_ctrl == key.ctrl &&
	    st->irq_qid == key.qid && st->irq_ts >= cmd->ts[NS_STEP_RQ_START]) {
		cmd->ts[NS_STEP_IRQ] = st->irq_ts;
		cmd->irq_cpu = cmd->complete_cpu;
	}
	track_end(c, &key, cmd);
	return 0;
}
