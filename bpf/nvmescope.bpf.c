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
 * Why raw tracepoints, for both drivers: a classic tracepoint program
 * (SEC("tracepoint/...")) runs under one per-CPU guard shared by all such
 * programs; on Linux 6.1 an interrupt that arrives while, say, the
 * submit-side program runs on that CPU has its programs skipped, and
 * nothing counts the skip.  The submit side runs with interrupts enabled
 * and the completion interrupt usually lands on the submitting CPU, so
 * that lost a few per cent of the stock driver's completions.  Raw
 * tracepoint programs have a guard per program (only a program that
 * would run inside itself is skipped), and the kernel counts each skip
 * (recursion_misses, which nvmescope reports as lost.bpf_runs_skipped).
 *
 * Their context is the event's TP_PROTO argument list, one u64 per
 * argument.  tnvme's arguments are plain integers (driver/trace.h), which
 * needs no BTF - the tnvme module has none.  The stock driver's are
 * pointers to its structs: nvme_core.h says how they are read.
 * tests/vm/nvmescope-vm.sh checks that every value read here equals what
 * tracefs prints for the same command.
 *
 * Why irq:irq_handler_entry only on request (--irq-events): attaching or
 * detaching a program live-patches the static key in
 * __handle_irq_event_percpu(), which every device interrupt runs.  Under
 * QEMU TCG with a host thread per vCPU, a vCPU in hardirq can keep
 * executing a stale translation with the int3 of the patch in it and
 * loop through the int3 handler with interrupts off, so the patching CPU
 * waits for its IPI forever (issue #4).  By default the interrupt counts
 * come from /proc/interrupts instead (collect.c), and the handler's start
 * from the drivers' own events (tnvme_irq; the stock driver's first CQE).
 *
 * Sampling: every event is counted, but only 1 command in sample_every
 * is timed step by step.  Under QEMU TCG a clock read (bpf_ktime_get_ns(),
 * the emulated ACPI PM timer in the lab VM) costs more than an empty
 * program run, and a timed command needs five or six, so timing a sample
 * is what keeps the tracer's cost near the floor while IOPS, doorbells,
 * CQEs per interrupt and CPUs stay exact.  The sample is chosen at the
 * start of each command by a countdown per CPU and queue (no random
 * number, no clock): SAMPLE_BURST commands in a row timed, then
 * (sample_every - 1) * SAMPLE_BURST untimed.  Timing them in bursts keeps
 * a queue without any timed command in flight most of the time, and the
 * events of a queue (interrupt, poll, doorbells) read the clock only when
 * a timed command waits for them.  An untimed command still gets its
 * mark (see "marks" below), so a missed completion or a completion of a
 * command started before attach is still counted.  Trace mode times
 * every command (user space sets sample_every to 1).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "nvmescope.h"
#include "nvme_core.h"

char LICENSE[] SEC("license") = "GPL";

/* Options, set by user space in the skeleton's rodata before loading. */
const volatile __u8 trace_mode;		/* send finished commands to user space */
const volatile __s32 filter_ctrl = -1;	/* -1: every controller */
const volatile __s32 filter_qid = -1;	/* -1: every queue */
const volatile __s32 filter_opcode = -1;/* -1: every opcode (tracked commands) */
const volatile __u32 nvme_lba_shift[16];/* stock driver: log2(LBA size) per ctrl */
/*
 * The per-queue maps are arrays: queue (ctrl, qid) has index
 * ctrl * qid_count + qid.  User space sizes them from the controllers and
 * queues it finds (and the number of CPUs, which bounds the queues).
 */
const volatile __u32 ctrl_count = 1;
const volatile __u32 qid_count = 1;
/* In-flight entries per queue - 1 (a power of two >= the queue depth, - 1) */
const volatile __u32 cid_mask = 4095;
/* The driver watched (enum ns_driver): irq_handler_entry serves both. */
const volatile __u8 watched_driver = NS_DRIVER_TNVME;
/* Time 1 command in this many, per CPU and queue (see "Sampling" above). */
const volatile __u32 sample_every = 1;

/*
 * Who reaps a queue's CQEs on a CPU now (queue_pcpu.in_irq).  An
 * interrupt handler, the stock driver's reap, or on a poll queue a call
 * of tnvme_poll(), whose event plays the irq step's part there.
 */
enum reaper {
	REAP_NONE = 0,
	REAP_IRQ = 1,
	REAP_POLL = 2,
};

/* SQ doorbells remembered per queue (to find the one covering a command) */
#define DOORBELL_RING	256
/* Commands timed in a row per CPU and queue when sampling (see the top) */
#define SAMPLE_BURST	8
/* Completions one queue (or CPU, for the trace) holds until the CQ doorbell */
#define BATCH_MAX	64

/*
 * One queue's numbers on one CPU: the counters user space reads, then
 * this CPU's state for the queue.  One lookup per event finds all of it,
 * in one or two pages (under QEMU TCG every page an event touches may
 * cost a soft-TLB refill, so an untimed command's events stay here).
 */
struct queue_pcpu {
	struct ns_counters c;
	__u64 irq_ts;		/* when this queue's handler (or poll) started here */
	__u32 irq;
	__u16 in_irq;		/* enum reaper: who reaps CQEs on this CPU now */
	__u16 reap_pending;	/* stock driver: its CQEs not yet completed */
	__u32 batch_len;	/* timed completions since the last CQ doorbell */
	__u16 burst_left;	/* commands still to time in this burst */
	__u16 pad;
	__u32 to_skip;		/* then commands to leave untimed */
	__u64 batch_cqe_ts[BATCH_MAX];	/* their CQE times */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);		/* user space: ctrl_count * qid_count */
	__type(key, __u32);
	__type(value, struct queue_pcpu);
} stats SEC(".maps");

/* The same per queue and CPU: the histograms, touched by timed commands only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);		/* user space: ctrl_count * qid_count */
	__type(key, __u32);
	__type(value, struct ns_queue_hists);
} hists SEC(".maps");

/*
 * Commands between start and completion, in two arrays with one entry
 * per (queue, cid): index slot * (cid_mask + 1) + (cid & cid_mask) (tnvme:
 * cid = blk-mq tag < queue depth; stock nvme: the low 12 bits of the cid
 * are the tag).  A tag has one owner at a time: the submit path fills
 * its entry, the completion path reads and frees it before blk-mq frees
 * the tag, so no lock is needed.
 *
 * "marks" has a word per command, for every command: MARK_BUSY (started,
 * not ended), MARK_TIMED, and the cid.  A mark still busy at the next
 * start of its cid means we missed a completion ("stale"); a completion
 * without one, a command started before attach.  4 bytes a command keep
 * a queue's marks in one page.  "inflight" has the whole struct ns_cmd,
 * for timed commands only.
 */
#define MARK_BUSY	(1u << 31)
#define MARK_TIMED	(1u << 30)
#define MARK_CID	0xffffu

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* user space: queues * (cid_mask + 1) */
	__type(key, __u32);
	__type(value, __u32);
} marks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* user space: queues * (cid_mask + 1) */
	__type(key, __u32);
	__type(value, struct ns_cmd);
} inflight SEC(".maps");

/* --irq-events: Linux IRQ number -> queue index, filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} irq_queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NS_DROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * One queue, shared by its CPUs: its recent SQ doorbells (written under
 * the driver's sq_lock) and its timed commands in flight (atomic).
 */
struct queue_state {
	__u64 doorbells;		/* how many so far */
	__u64 doorbell_wanted;		/* a timed command waits for the next one */
	__u64 timed_inflight;		/* timed commands started, not ended */
	__u64 doorbell_ts[DOORBELL_RING];
	__u16 doorbell_cmds[DOORBELL_RING];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* user space: one per queue */
	__type(key, __u32);
	__type(value, struct queue_state);
} queue_states SEC(".maps");

/* Trace mode only: one CPU's finished commands until the CQ doorbell. */
struct cpu_state {
	__u32 batch_len;
	__u32 last_cqe;			/* inflight index + 1 of the last CQE (for fetch) */
	struct ns_cmd batch[BATCH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpu_states SEC(".maps");

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

static __noinline void count_drop(enum ns_drop what)
{
	__u32 key = what;
	__u64 *n = bpf_map_lookup_elem(&drops, &key);

	if (n)
		(*n)++;
}

/*
 * The queue's index in the per-queue maps, or -1 when it is filtered out
 * (or unknown: counted).
 */
static __always_inline __s64 queue_slot(__u32 ctrl, __u16 qid)
{
	if (filter_ctrl >= 0 && ctrl != (__u32)filter_ctrl)
		return -1;
	if (filter_qid >= 0 && qid != (__u16)filter_qid)
		return -1;
	if (ctrl >= ctrl_count || qid >= qid_count) {
		count_drop(NS_DROP_QUEUE_UNKNOWN);
		return -1;
	}
	return ctrl * qid_count + qid;
}

static __always_inline struct queue_pcpu *queue_of(__u32 slot)
{
	return bpf_map_lookup_elem(&stats, &slot);
}

/*
 * The opening of every per-queue event: this CPU's numbers of the queue,
 * and its slot for the other per-queue maps.  NULL when the queue is
 * filtered out or unknown.
 */
static __always_inline struct queue_pcpu *queue_lookup(__u32 ctrl, __u16 qid,
						       __u32 *slot)
{
	__s64 s = queue_slot(ctrl, qid);

	if (s < 0)
		return NULL;
	*slot = s;
	return queue_of(s);
}

/* The queue's histograms on this CPU (timed commands only). */
static __always_inline struct ns_queue_hists *hists_of(__u32 slot)
{
	return bpf_map_lookup_elem(&hists, &slot);
}

/* The mark of (queue, cid) and its index; NULL only if out of the map. */
static __always_inline __u32 *mark_of(__u32 slot, __u16 cid, __u32 *idx)
{
	*idx = slot * (cid_mask + 1) + (cid & cid_mask);
	return bpf_map_lookup_elem(&marks, idx);
}

/* The in-flight entry of a started, timed command with this cid, or NULL. */
static __always_inline struct ns_cmd *cmd_timed(__u32 slot, __u16 cid, __u32 *idx)
{
	__u32 *m = mark_of(slot, cid, idx);

	if (!m || *m != (MARK_BUSY | MARK_TIMED | cid))
		return NULL;
	return bpf_map_lookup_elem(&inflight, idx);
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

static __always_inline void hist_add(struct ns_hist *h, __u64 from, __u64 to)
{
	__u64 slot;

	if (!from || !to || to < from)
		return;		/* a step this driver does not show, or not seen */
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

/* Is the command starting now on this CPU to be timed (the countdown)? */
static __always_inline bool sample_this(struct queue_pcpu *q)
{
	if (q->burst_left) {
		q->burst_left--;
		return true;
	}
	if (q->to_skip) {
		q->to_skip--;
		return false;
	}
	q->burst_left = SAMPLE_BURST - 1;
	q->to_skip = (sample_every - 1) * SAMPLE_BURST;
	return true;
}

/* The queue's count of timed commands in flight, up or down by one. */
static __always_inline void timed_inflight_add(__u32 slot, __s64 n)
{
	struct queue_state *qs = bpf_map_lookup_elem(&queue_states, &slot);

	if (qs)
		__sync_fetch_and_add(&qs->timed_inflight, n);
}

/* Does a timed command of the queue wait for its completion? */
static __always_inline bool timed_waiting(__u32 slot)
{
	struct queue_state *qs = bpf_map_lookup_elem(&queue_states, &slot);

	return qs && qs->timed_inflight;
}

/*
 * Start tracking a command: its mark, and for a timed one its (zeroed)
 * in-flight entry.  A mark still busy means we missed the completion of
 * its previous command: count it.  Returns the entry of a timed command,
 * NULL otherwise.
 */
static __always_inline struct ns_cmd *track_start(struct queue_pcpu *q,
						  __u32 slot, __u16 cid)
{
	struct ns_cmd *cmd;
	__u32 idx, *m;

	m = mark_of(slot, cid, &idx);
	if (!m) {
		count_drop(NS_DROP_INFLIGHT_FULL);
		return NULL;
	}
	if (*m & MARK_BUSY) {
		q->c.stale++;
		if (*m & MARK_TIMED)
			timed_inflight_add(slot, -1);
	}
	q->c.tracked_start++;
	*m = MARK_BUSY | cid;
	if (!sample_this(q))
		return NULL;
	cmd = bpf_map_lookup_elem(&inflight, &idx);
	if (!cmd) {
		count_drop(NS_DROP_INFLIGHT_FULL);
		return NULL;
	}
	__builtin_memset(cmd, 0, sizeof(*cmd));
	cmd->cid = cid;
	*m = MARK_BUSY | MARK_TIMED | cid;
	q->c.timed++;
	timed_inflight_add(slot, 1);
	return cmd;
}

/*
 * A command ends: its mark, or NULL when it has none (started before
 * attach).  An untimed command is freed here; a timed one's in-flight
 * entry comes back in *cmd, and track_end() frees it.
 */
static __always_inline __u32 *command_end(struct queue_pcpu *q, __u32 slot,
					  __u16 cid, struct ns_cmd **cmd)
{
	__u32 idx, *m = mark_of(slot, cid, &idx);

	*cmd = NULL;
	if (!m || !(*m & MARK_BUSY) || (*m & MARK_CID) != cid)
		return NULL;
	if (*m & MARK_TIMED) {
		*cmd = bpf_map_lookup_elem(&inflight, &idx);
		if (*cmd)
			return m;
		timed_inflight_add(slot, -1);
	}
	q->c.tracked_end++;
	*m = 0;
	return m;
}

/*
 * A timed command has completed: record its intervals, keep its CQE time
 * until the CQ doorbell (cqe -> cq_doorbell), in trace mode the whole
 * command too, and free its entry.
 */
static __always_inline void track_end(struct queue_pcpu *q, __u32 slot,
				      struct ns_cmd *cmd, __u32 *mark)
{
	struct ns_queue_hists *qh = hists_of(slot);
	__u64 *ts = cmd->ts;
	struct cpu_state *st;
	__u64 n;

	q->c.tracked_end++;
	if (qh) {
		struct ns_hist *h = qh->hist;

		hist_add(&h[NS_IV_RQ_START_SQ_WRITE], ts[NS_STEP_RQ_START], ts[NS_STEP_SQ_WRITE]);
		hist_add(&h[NS_IV_SQ_WRITE_SQ_DOORBELL], ts[NS_STEP_SQ_WRITE],
			 ts[NS_STEP_SQ_DOORBELL]);
		hist_add(&h[NS_IV_SQ_DOORBELL_IRQ], ts[NS_STEP_SQ_DOORBELL], ts[NS_STEP_IRQ]);
		hist_add(&h[NS_IV_RQ_START_RQ_END], ts[NS_STEP_RQ_START], ts[NS_STEP_RQ_END]);
	}

	if (cmd->driver == NS_DRIVER_TNVME) {
		if (ts[NS_STEP_CQE]) {
			n = q->batch_len;
			hide_from_compiler(n);
			if (n < BATCH_MAX) {
				q->batch_cqe_ts[n] = ts[NS_STEP_CQE];
				q->batch_len = n + 1;
			} else {
				count_drop(NS_DROP_BATCH_FULL);
			}
		}
		if (trace_mode) {
			st = this_cpu_state();
			if (st) {
				n = st->batch_len;
				hide_from_compiler(n);
				if (n < BATCH_MAX) {
					__builtin_memcpy(&st->batch[n], cmd, sizeof(*cmd));
					st->batch_len = n + 1;
				} else {
					count_drop(NS_DROP_BATCH_FULL);
				}
			}
		}
	} else if (trace_mode) {
		/* The stock driver shows no CQ doorbell: send it now. */
		send_to_user(cmd);
	}
	*mark = 0;		/* the entry is free */
	timed_inflight_add(slot, -1);
}

/* ---------------------------------------------- tnvme: submission side */

/*
 * A command starts (tnvme_rq_start, nvme_setup_cmd): count it and, unless
 * the opcode filter leaves it out, start tracking it.  Returns the entry
 * of a timed command; NULL: not tracked, or not timed.
 */
static __always_inline struct ns_cmd *command_start(__u32 ctrl, __u16 qid,
						    __u16 cid, __u8 opcode,
						    __u32 submit_cpu,
						    enum ns_driver driver)
{
	struct queue_pcpu *q;
	struct ns_cmd *cmd;
	__u32 slot;

	q = queue_lookup(ctrl, qid, &slot);
	if (!q)
		return NULL;
	q->c.rq_start++;
	if (filter_opcode >= 0 && opcode != (__u8)filter_opcode)
		return NULL;
	cmd = track_start(q, slot, cid);
	if (!cmd)
		return NULL;
	cmd->ts[NS_STEP_RQ_START] = bpf_ktime_get_ns();
	cmd->ctrl = ctrl;
	cmd->qid = qid;
	cmd->submit_cpu = submit_cpu;
	cmd->opcode = opcode;
	cmd->driver = driver;
	return cmd;
}

SEC("raw_tp/tnvme_rq_start")
int BPF_PROG(tnvme_rq_start, u32 ctrl, u16 qid, u16 cid, u32 cpu,
	     u8 opcode, u32 bytes, u16 status)
{
	struct ns_cmd *cmd = command_start(ctrl, qid, cid, opcode, cpu,
					   NS_DRIVER_TNVME);

	if (cmd)
		cmd->bytes = bytes;
	return 0;
}

/* trace mode only */
SEC("raw_tp/tnvme_dma_map")
int BPF_PROG(tnvme_dma_map, u32 ctrl, u16 qid, u16 cid, u8 write, u32 bytes,
	     u32 prp_entries, u16 list_pages)
{
	__s64 slot = queue_slot(ctrl, qid);
	struct ns_cmd *cmd;
	__u32 idx;

	if (slot < 0)
		return 0;
	cmd = cmd_timed(slot, cid, &idx);
	if (cmd) {
		cmd->ts[NS_STEP_DMA_MAP] = bpf_ktime_get_ns();
		cmd->write = write;
	}
	return 0;
}

/*
 * sq_mem: where the SQ lives, 0 host memory, 1 the controller's memory
 * buffer (enum tnvme_sq_mem in the driver).
 */
SEC("raw_tp/tnvme_sq_write")
int BPF_PROG(tnvme_sq_write, u32 ctrl, u16 qid, u16 cid, u16 sq_slot, u8 opcode,
	     u32 nsid, u64 slba, u32 nlb, u32 data_len, u8 sq_mem)
{
	struct queue_state *qs;
	struct queue_pcpu *q;
	struct ns_cmd *cmd;
	__u32 idx, s;

	q = queue_lookup(ctrl, qid, &s);
	if (!q)
		return 0;
	q->c.sq_write++;
	if (sq_mem)
		q->c.sq_write_cmb++;
	cmd = cmd_timed(s, cid, &idx);
	if (!cmd)
		return 0;
	cmd->ts[NS_STEP_SQ_WRITE] = bpf_ktime_get_ns();
	cmd->sq_mem = sq_mem;
	cmd->sq_slot = sq_slot;
	cmd->slba = slba;
	cmd->nlb = nlb;
	/*
	 * The next SQ doorbell of this queue is the one that covers it, and
	 * it must read the clock.
	 */
	qs = bpf_map_lookup_elem(&queue_states, &s);
	if (qs) {
		cmd->sq_doorbell_seq = qs->doorbells;
		qs->doorbell_wanted = 1;
	}
	return 0;
}

/*
 * One SQ tail update.  mmio: the doorbell register was written; 0 when,
 * with shadow doorbells (driver/shadow_doorbell.c), the new tail went only
 * to the shadow buffer the controller reads by itself.  Both kinds make
 * commands visible to the controller, so both count as doorbells (and
 * cover commands); sq_doorbell_mmio counts the ones that trapped.
 *
 * Every doorbell counts in the sequence, so that a command's sequence
 * number finds its own; only one that covers a timed command reads the
 * clock and fills its place in the ring (no other is looked up).
 */
SEC("raw_tp/tnvme_sq_doorbell")
int BPF_PROG(tnvme_sq_doorbell, u32 ctrl, u16 qid, u16 tail, u16 cmds, bool mmio)
{
	struct queue_state *qs;
	struct queue_pcpu *q;
	__u32 i, s;

	q = queue_lookup(ctrl, qid, &s);
	if (!q)
		return 0;
	q->c.sq_doorbell++;
	q->c.sq_doorbell_cmds += cmds;
	if (mmio)
		q->c.sq_doorbell_mmio++;
	qs = bpf_map_lookup_elem(&queue_states, &s);
	if (!qs)
		return 0;
	if (qs->doorbell_wanted) {
		i = qs->doorbells % DOORBELL_RING;
		qs->doorbell_ts[i] = bpf_ktime_get_ns();
		qs->doorbell_cmds[i] = cmds;
		qs->doorbell_wanted = 0;
	}
	/* publish the slot before the count (a full barrier on x86) */
	__sync_fetch_and_add(&qs->doorbells, 1);
	return 0;
}

/* LAB-TODO(10) begin: count tnvme_sq_level events and their used= */
/*
 * SQ slots in use at a tail doorbell, as the host knew them: count the
 * events and add up "used"; user space divides (SQ_USED).  The arguments
 * come in the order of the driver's TP_PROTO, as raw integers.
 */
SEC("raw_tp/tnvme_sq_level")
int BPF_PROG(tnvme_sq_level, u32 ctrl, u16 qid, u16 sq_head, u16 used)
{
	struct queue_pcpu *q;
	__u32 slot;

	q = queue_lookup(ctrl, qid, &slot);
	if (q) {
		q->c.sq_level++;
		q->c.sq_level_used += used;
	}
	return 0;
}
/* LAB-TODO(10) end */

/* ---------------------------------------------- tnvme: completion side */

SEC("raw_tp/tnvme_irq")
int BPF_PROG(tnvme_irq, u32 ctrl, u16 qid, u32 vector, u32 irq, u32 cpu,
	     u16 cqes)
{
	struct queue_pcpu *q;
	__u32 slot;

	q = queue_lookup(ctrl, qid, &slot);
	if (!q)
		return 0;
	q->c.irq++;
	q->c.irq_cqes += cqes;
	/* 0: no timed command to give this time (see "Sampling" at the top) */
	q->irq_ts = timed_waiting(slot) ? bpf_ktime_get_ns() : 0;
	q->irq = irq;
	q->in_irq = REAP_IRQ;
	return 0;
}

/*
 * One call of tnvme_poll() on a poll queue (no interrupt): the task that
 * submitted polled I/O looks at the CQ, usually in a tight loop, so most
 * calls find nothing (cqes=0), often many per completion.  Those only
 * count: no clock read, the one thing that costs here (an emulated timer
 * read under TCG).  A poll that saw entries is the batch's start, as
 * tnvme_irq is on an interrupt-driven queue; its CQEs and one CQ
 * doorbell follow on this CPU.
 *
 * An empty poll still marks this CPU as polling the queue: an entry that
 * the controller posts between the driver's count and its own check is
 * reaped by this very call, after an event that said cqes=0.  tnvme_cqe
 * then times the batch from its first timed CQE (irq_ts 0 here).  The mark
 * stays until the next poll or CQ doorbell on this CPU, so the CQEs of a
 * timeout-path reap right after an empty poll count as polled.
 */
SEC("raw_tp/tnvme_poll")
int BPF_PROG(tnvme_poll, u32 ctrl, u16 qid, u32 cpu, u16 cqes)
{
	struct queue_pcpu *q;
	__u32 slot;

	q = queue_lookup(ctrl, qid, &slot);
	if (!q)
		return 0;
	q->c.poll++;
	q->in_irq = REAP_POLL;
	if (!cqes) {
		q->c.poll_empty++;
		q->irq_ts = 0;
		return 0;
	}
	q->c.poll_cqes += cqes;
	q->irq_ts = timed_waiting(slot) ? bpf_ktime_get_ns() : 0;
	return 0;
}

/* Give a command the SQ doorbell that covered it (see tnvme_sq_write). */
static __always_inline void find_sq_doorbell(__u32 slot, struct ns_cmd *cmd)
{
	struct queue_state *qs = bpf_map_lookup_elem(&queue_states, &slot);
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
	struct ns_queue_hists *qh;
	struct queue_pcpu *q;
	struct cpu_state *st;
	struct ns_cmd *cmd;
	__u64 now;
	__u32 idx, s;
	__u16 reaper;

	q = queue_lookup(ctrl, qid, &s);
	if (!q)
		return 0;
	q->c.cqe++;
	reaper = q->in_irq;
	if (reaper == REAP_POLL)
		q->c.poll_reaped++;
	else if (!reaper)
		count_drop(NS_DROP_IRQ_UNKNOWN);

	cmd = cmd_timed(s, cid, &idx);
	if (trace_mode) {
		st = this_cpu_state();
		if (st)
			st->last_cqe = cmd ? idx + 1 : 0;
	}
	if (!cmd)
		return 0;
	now = bpf_ktime_get_ns();
	/* the poll saw nothing when it started: see tnvme_poll */
	if (reaper == REAP_POLL && !q->irq_ts)
		q->irq_ts = now;
	/* submitted after the handler started, and already reaped by it */
	if (reaper == REAP_IRQ && !q->irq_ts)
		count_drop(NS_DROP_IRQ_NOT_TIMED);
	qh = hists_of(s);
	if (reaper && qh)
		hist_add(&qh->hist[NS_IV_IRQ_CQE], q->irq_ts, now);
	cmd->ts[NS_STEP_CQE] = now;
	cmd->cq_slot = cq_slot;
	cmd->status = status;
	cmd->sq_head = sq_head;
	find_sq_doorbell(s, cmd);
	cmd->polled = reaper == REAP_POLL;
	if (reaper && q->irq_ts >= cmd->ts[NS_STEP_SQ_DOORBELL]) {
		cmd->ts[NS_STEP_IRQ] = q->irq_ts;
		if (trace_mode)
			cmd->irq_cpu = bpf_get_smp_processor_id();
	}
	return 0;
}

/* trace mode only */
SEC("raw_tp/tnvme_fetch")
int BPF_PROG(tnvme_fetch, u32 ctrl, u16 qid, u16 sq_head)
{
	struct cpu_state *st = this_cpu_state();
	struct ns_cmd *cmd;
	__u32 idx;

	/* fired right after tnvme_cqe, on the same CPU, for the same CQE */
	if (!st || !st->last_cqe)
		return 0;
	idx = st->last_cqe - 1;
	st->last_cqe = 0;
	cmd = bpf_map_lookup_elem(&inflight, &idx);
	if (cmd && cmd->ctrl == ctrl && cmd->qid == qid)
		cmd->ts[NS_STEP_FETCH] = bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp/tnvme_rq_end")
int BPF_PROG(tnvme_rq_end, u32 ctrl, u16 qid, u16 cid, u32 cpu,
	     u8 opcode, u32 bytes, u16 status)
{
	struct queue_pcpu *q;
	struct ns_cmd *cmd;
	__u32 slot, *mark;

	q = queue_lookup(ctrl, qid, &slot);
	if (!q)
		return 0;
	q->c.rq_end++;
	if (opcode == 0x01)
		q->c.bytes_written += bytes;
	else if (opcode == 0x02)
		q->c.bytes_read += bytes;
	if (status)
		q->c.errors++;
	mark = command_end(q, slot, cid, &cmd);
	if (!mark) {
		if (filter_opcode < 0 || opcode == (u8)filter_opcode)
			count_drop(NS_DROP_NOT_STARTED);
		return 0;
	}
	if (!cmd)
		return 0;	/* not timed */
	cmd->ts[NS_STEP_RQ_END] = bpf_ktime_get_ns();
	cmd->complete_cpu = cpu;
	cmd->status = status;
	track_end(q, slot, cmd, mark);
	return 0;
}

/* trace mode only */
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

/* trace mode: the CPU's finished commands go to user space */
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
	}
	send_to_user(cmd);
	return 0;
}

struct cqe_batch_ctx {
	struct queue_pcpu *q;
	struct ns_queue_hists *qh;
	__u64 now;
};

/* cqe -> cq_doorbell of the index-th completion of the batch */
static long cqe_batch_one(__u32 index, struct cqe_batch_ctx *bc)
{
	__u64 i = index;

	if (i >= bc->q->batch_len)
		return 1;
	hide_from_compiler(i);
	if (i >= BATCH_MAX)
		return 1;
	hist_add(&bc->qh->hist[NS_IV_CQE_CQ_DOORBELL], bc->q->batch_cqe_ts[i], bc->now);
	return 0;
}

/* One CQ head update; mmio as for the SQ doorbell above. */
SEC("raw_tp/tnvme_cq_doorbell")
int BPF_PROG(tnvme_cq_doorbell, u32 ctrl, u16 qid, u16 head, u16 cqes, bool mmio)
{
	struct flush_ctx fc = { .ctrl = ctrl, .qid = qid, .cqes = cqes };
	struct cqe_batch_ctx bc;
	struct queue_pcpu *q;
	__u32 slot;

	q = queue_lookup(ctrl, qid, &slot);
	if (!q)
		return 0;
	q->c.cq_doorbell++;
	q->c.cq_doorbell_cqes += cqes;
	if (mmio)
		q->c.cq_doorbell_mmio++;
	/*
	 * The doorbell ends the handler's (or the poll's) reap (driver/irq.c,
	 * tnvme_reap_cq()): CQEs after it on this CPU come from the timeout
	 * or reset path until the next tnvme_irq or tnvme_poll.  A spurious
	 * interrupt reaps nothing and rings no doorbell; the next tnvme_irq
	 * or doorbell on this CPU resets the flag.
	 */
	if (q->in_irq == REAP_POLL)
		q->c.poll_batches++;
	q->in_irq = REAP_NONE;
	/* the clock only if a timed command waits for this doorbell */
	if (!q->batch_len && !trace_mode)
		return 0;
	fc.now = bpf_ktime_get_ns();
	/* cqe -> cq_doorbell for every timed completion of the batch */
	bc.qh = hists_of(slot);
	if (q->batch_len && bc.qh) {
		bc.q = q;
		bc.now = fc.now;
		bpf_loop(BATCH_MAX, cqe_batch_one, &bc, 0);
	}
	q->batch_len = 0;
	if (trace_mode) {
		fc.st = this_cpu_state();
		if (!fc.st)
			return 0;
		bpf_loop(BATCH_MAX, flush_one, &fc, 0);
		fc.st->batch_len = 0;
	}
	return 0;
}

/* ---------------------------------- both drivers: the hardirq itself */

/*
 * --irq-events only (see the top of this file for why not by default).
 * The IRQ core calls this right before a queue's handler: it counts the
 * interrupt on the CPU that took it, and for the stock driver, which has
 * no event of its own there, it is the "irq" step of the reap that
 * follows (nvme_sq below then keeps this time instead of its first CQE's).
 */
SEC("raw_tp/irq_handler_entry")
int BPF_PROG(irq_handler_entry, int irq, struct irqaction *action)
{
	__u32 key = irq, *slot;
	struct queue_pcpu *q;

	slot = bpf_map_lookup_elem(&irq_queues, &key);
	if (!slot)
		return 0;
	q = queue_of(*slot);
	if (!q)
		return 0;
	q->c.hardirq++;
	if (watched_driver == NS_DRIVER_NVME) {
		q->irq_ts = timed_waiting(*slot) ? bpf_ktime_get_ns() : 0;
		q->in_irq = REAP_IRQ;
		q->reap_pending = 0;
	}
	return 0;
}

/* ------------------------------------------ the stock nvme driver */

/* nvme_req(req): the driver's part of the request, after struct request */
static __always_inline struct nvme_request___ns *nvme_req_of(struct request *req)
{
	return (void *)req + bpf_core_type_size(struct request);
}

/* The queue of a request, as nvme_req_qid() computes it. */
static __always_inline __u16 nvme_qid_of(struct request *req)
{
	if (!BPF_CORE_READ(req, q, queuedata))
		return 0;
	return BPF_CORE_READ(req, mq_hctx, queue_num) + 1;
}

/* The queue's slot in the maps (< 0: filtered out or unknown). */
static __always_inline __s64 nvme_slot_of(struct request *req)
{
	struct nvme_request___ns *nreq = nvme_req_of(req);

	return queue_slot(BPF_CORE_READ(nreq, ctrl, instance), nvme_qid_of(req));
}

static __always_inline __u32 le32_at(const __u8 *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((__u32)p[3] << 24);
}

/* Command Dword 0 of an SQE, in one read: the opcode and the cid. */
static __always_inline void sqe_opcode_cid(void *sqe, __u8 *opcode, __u16 *cid)
{
	__u8 cdw0[4] = {};

	bpf_probe_read_kernel(cdw0, sizeof(cdw0), sqe + SQE_OPCODE);
	*opcode = cdw0[SQE_OPCODE];
	*cid = cdw0[SQE_CID] | (cdw0[SQE_CID + 1] << 8);
}

SEC("raw_tp/nvme_setup_cmd")
int BPF_PROG(nvme_setup_cmd, struct request *req, void *sqe)
{
	struct nvme_request___ns *nreq = nvme_req_of(req);
	__u32 ctrl = BPF_CORE_READ(nreq, ctrl, instance), shift;
	__u16 qid = nvme_qid_of(req), cid;
	__u8 opcode, cdw10[12];
	struct ns_cmd *cmd;

	sqe_opcode_cid(sqe, &opcode, &cid);
	cmd = command_start(ctrl, qid, cid, opcode, bpf_get_smp_processor_id(),
			    NS_DRIVER_NVME);
	if (!cmd)
		return 0;	/* not timed: the rest is read at completion */
	/* I/O read (0x02) or write (0x01): SLBA in cdw10-11, NLB-1 in cdw12 */
	if (qid && (opcode == 0x01 || opcode == 0x02) &&
	    !bpf_probe_read_kernel(cdw10, sizeof(cdw10), sqe + SQE_CDW10)) {
		cmd->slba = le32_at(cdw10) | ((__u64)le32_at(cdw10 + 4) << 32);
		cmd->nlb = (le32_at(cdw10 + 8) & 0xffff) + 1;
		shift = ctrl < 16 ? nvme_lba_shift[ctrl & 15] : 9;
		cmd->bytes = cmd->nlb << (shift ? shift : 9);
		cmd->write = opcode == 0x01;
	}
	return 0;
}

/*
 * The stock driver has no event of its own at the start of its handler,
 * and irq:irq_handler_entry is only watched with --irq-events (see the top
 * of this file; with it, irq_handler_entry above starts the reap).  Its
 * handler reaps every new CQE (nvme_sq, one per CQE), then ends the
 * requests as one batch (nvme_complete_rq each): so on one CPU and queue,
 * the first nvme_sq after a nvme_complete_rq starts a new reap, and its
 * time stands for the "irq" step of the reap's requests.  That misses the
 * few instructions from the handler's start to its first CQE, and a
 * request the driver ends on its own, right after its CQE (an error,
 * passthrough, an I/O scheduler), closes the reap early: the next CQE
 * starts another one.  A poll (e.g. the timeout path) looks like a
 * handler, so cqe_outside_irq stays 0.
 */
SEC("raw_tp/nvme_sq")
int BPF_PROG(nvme_sq, struct request *req, __le16 sq_head, int sq_tail)
{
	struct nvme_request___ns *nreq = nvme_req_of(req);
	__s64 slot = nvme_slot_of(req);
	struct ns_queue_hists *qh;
	struct queue_pcpu *q;
	struct ns_cmd *cmd;
	__u8 opcode;
	__u32 idx;
	__u16 cid;

	if (slot < 0)
		return 0;
	q = queue_of(slot);
	if (!q)
		return 0;
	q->c.cqe++;
	if (!q->in_irq) {
		q->irq_ts = timed_waiting(slot) ? bpf_ktime_get_ns() : 0;
		q->in_irq = REAP_IRQ;
		q->reap_pending = 0;	/* left by requests ended elsewhere */
	}
	q->reap_pending++;
	/* "irq -> cqe": the reap's first CQE to this one, if timed */
	sqe_opcode_cid(BPF_CORE_READ(nreq, cmd), &opcode, &cid);
	cmd = cmd_timed(slot, cid, &idx);
	if (!cmd)
		return 0;
	if (!q->irq_ts) {
		count_drop(NS_DROP_IRQ_NOT_TIMED);
		return 0;
	}
	qh = hists_of(slot);
	if (qh)
		hist_add(&qh->hist[NS_IV_IRQ_CQE], q->irq_ts, bpf_ktime_get_ns());
	return 0;
}

/*
 * The bytes a request moves, counted for every request: blk_rq_bytes(),
 * which the request still holds when nvme_complete_rq() fires (the block
 * layer lowers it only as it ends the request, after the event).
 */
static __always_inline void count_bytes(struct queue_pcpu *q, struct request *req,
					__u8 opcode)
{
	__u32 bytes = BPF_CORE_READ(req, __data_len);

	if (opcode == 0x01)
		q->c.bytes_written += bytes;
	else if (opcode == 0x02)
		q->c.bytes_read += bytes;
}

SEC("raw_tp/nvme_complete_rq")
int BPF_PROG(nvme_complete_rq, struct request *req)
{
	struct nvme_request___ns *nreq = nvme_req_of(req);
	__s64 slot = nvme_slot_of(req);
	__u16 cid, status;
	struct queue_pcpu *q;
	struct ns_cmd *cmd;
	__u32 *mark;
	__u8 opcode;
	void *sqe;
	__u16 reaped;

	if (slot < 0)
		return 0;
	q = queue_of(slot);
	if (!q)
		return 0;
	sqe = BPF_CORE_READ(nreq, cmd);
	status = BPF_CORE_READ(nreq, status);
	q->c.rq_end++;
	if (status)
		q->c.errors++;
	sqe_opcode_cid(sqe, &opcode, &cid);
	if (slot % qid_count)		/* an I/O queue: the admin queue moves no blocks */
		count_bytes(q, req, opcode);
	/*
	 * The reap is over; the requests of its CQEs (reap_pending) end
	 * now, on this CPU.  A request ended elsewhere (on another CPU, by
	 * cancel or abort) finds none pending here: no irq step.
	 */
	q->in_irq = REAP_NONE;
	reaped = q->reap_pending;
	if (reaped)
		q->reap_pending--;
	mark = command_end(q, slot, cid, &cmd);
	if (!mark) {
		if (filter_opcode < 0 || opcode == (__u8)filter_opcode)
			count_drop(NS_DROP_NOT_STARTED);
		return 0;
	}
	if (!cmd)
		return 0;	/* not timed */
	cmd->ts[NS_STEP_RQ_END] = bpf_ktime_get_ns();
	cmd->complete_cpu = bpf_get_smp_processor_id();
	cmd->status = status;
	if (reaped && q->irq_ts >= cmd->ts[NS_STEP_RQ_START]) {
		cmd->ts[NS_STEP_IRQ] = q->irq_ts;
		cmd->irq_cpu = cmd->complete_cpu;
	}
	track_end(q, slot, cmd, mark);
	return 0;
}
