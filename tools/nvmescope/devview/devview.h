/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devview.h - the device view: the guest's side of each command (what
 * "nvmescope record" wrote, guest CLOCK_MONOTONIC), QEMU's side (its NVMe
 * trace events, host wall clock), the clock offset between the two, and
 * the commands joined on one clock.  docs/device-view.md explains it.
 *
 *   hostrec.c    read the "nvmescope record" file       (struct hrec)
 *   devtrace.c   QEMU's trace lines -> device commands  (struct dlog)
 *   clocksync.c  offset, uncertainty and drift          (struct csync)
 *   join.c       guest command <-> device command       (struct merged)
 *   merge.c, timeline.c, record.c   the subcommands
 *
 * "Host" in hostrec.c and in the HOST file of merge and timeline means the
 * NVMe host: the driver in the guest.  The machine QEMU runs on is called
 * "the host machine" here.
 * All times are int64 nanoseconds: guest times since the guest booted,
 * device times since the Unix epoch (QEMU prints microseconds).
 */
#ifndef NVMESCOPE_DEVVIEW_H
#define NVMESCOPE_DEVVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "nvmescope.h"

/* ------------------------------------------------ the guest side (hostrec.c) */

#define HREC_MAGIC "# nvmescope-record 1"

/* One command as "nvmescope record" wrote it (one "C" line). */
struct hcmd {
	uint64_t ts[NS_STEP_COUNT];	/* guest ns, 0 = not seen */
	uint64_t sq_db_seq;		/* which SQ doorbell of the queue */
	uint32_t ctrl;
	uint32_t bytes;
	uint16_t qid, cid, sq_slot, cq_slot, status;
	uint16_t sq_db_cmds, cq_db_cqes;
	uint8_t opcode, write;
	int8_t sq_mem;			/* 0 host memory, 1 the CMB, -1 not recorded */
};

struct hrec {
	struct hcmd *cmd;
	size_t n, cap;
	bool have_coarse;		/* a "# clock" line was seen */
	int64_t coarse_offset_ns;	/* guest REALTIME - MONOTONIC at start */
	uint64_t lost;			/* records the guest could not keep */
	size_t bad_lines;
	bool have_ctrl;			/* an "# attached ctrl=N" line was seen */
	uint32_t ctrl;
	/*
	 * Doorbell updates while recording, all queues of ctrl, from the
	 * "# end" line (records before shadow doorbells have none): every
	 * update, and the ones that were MMIO register writes.  The others
	 * went only to the shadow doorbell buffer, and QEMU's trace has no
	 * doorbell event for them.
	 */
	bool have_doorbells;
	uint64_t sq_db, sq_db_mmio, cq_db, cq_db_mmio;
};

/* Parse one line of a record file into r: 0 ok (or ignored), -1 bad line. */
int hrec_parse_line(struct hrec *r, const char *line);
/* Read a whole record file; -1 with a message in err if it is not one. */
int hrec_read(struct hrec *r, FILE *f, char *err, size_t errlen);
/* Write one command as a "C" line (record.c; the parser's inverse). */
void hrec_write_cmd(FILE *f, const struct ns_cmd *c);
void hrec_free(struct hrec *r);
/*
 * The device view joins every guest doorbell with QEMU's MMIO doorbell
 * event.  If the record counted doorbells that went only to the shadow
 * buffer, say how many in msg ("812 of 1024 SQ doorbells of ctrl 0 went
 * only to ...") and return true.
 */
bool hrec_shadow_only(const struct hrec *r, char *msg, size_t len);

/* ------------------------------------------------ the device side (devtrace.c) */

/* The device's steps of one command, host machine's wall clock in ns. */
enum dstep {
	D_SQ_DOORBELL,	/* pci_nvme_mmio_doorbell_sq whose new tail covers it */
	D_FETCH,	/* pci_nvme_io_cmd / pci_nvme_admin_cmd */
	D_MAP,		/* pci_nvme_map_prp: PRPs translated (not a main step) */
	D_DMA,		/* pci_nvme_rw_cb: the block I/O on guest memory is done */
	D_CQ_POST,	/* pci_nvme_enqueue_req_completion */
	D_IRQ,		/* first pci_nvme_irq_msix of its CQ's vector after that */
	D_CQ_DOORBELL,	/* pci_nvme_mmio_doorbell_cq whose new head passes its CQE */
	D_STEP_COUNT,
};

struct dcmd {
	int64_t t[D_STEP_COUNT];	/* 0 = not seen */
	uint64_t seq;			/* n-th command fetched from its SQ */
	uint16_t sqid, cqid, cid, sq_slot, cq_slot, status;
	uint8_t opcode;
	bool done;			/* its completion was queued */
};

struct dsq;
struct dcq;

struct dlog {
	struct dcmd *cmd;		/* in the order the device fetched them */
	size_t n, cap;
	size_t lines, events;		/* lines read, lines that were NVMe events */
	size_t unknown_queue;		/* events of a queue never created */
	size_t unmatched_cqe;		/* completions of no fetched command */
	/* parser state */
	struct dsq **sq;
	struct dcq **cq;
	uint32_t nq;			/* sq[] and cq[] have nq entries */
	size_t last_fetch;		/* index + 1 of the last fetched command */
	int64_t rwcb_t;			/* the last pci_nvme_rw_cb, until its completion */
	int rwcb_cid;			/* -1 = none pending */
};

void dlog_init(struct dlog *d);
/* One line of QEMU's -D log; lines that are not NVMe trace events are skipped. */
void dlog_feed(struct dlog *d, const char *line);
int dlog_read(struct dlog *d, FILE *f);
void dlog_free(struct dlog *d);
/* "TID@SEC.USEC:EVENT ARGS" -> ns, event name and args; -1 if not that form. */
int devtrace_split(const char *line, int64_t *t_ns, const char **event,
		   size_t *event_len, const char **args);

/* ------------------------------------------------ the clocks (clocksync.c) */

/*
 * offset(g) = device time - guest time, a + b * (g - g0).  Each pair of
 * events seen by both sides bounds it: when the guest event causes the
 * device event (a doorbell), offset <= h - g; when the device event comes
 * first (a CQE, an interrupt), offset >= h - g.
 */
enum cs_kind {
	CS_SQ_DOORBELL,		/* upper: guest sq_doorbell -> device doorbell */
	CS_CQ_DOORBELL,		/* lower: device doorbell -> guest cq_doorbell (after writel) */
	CS_CQE,			/* lower: device CQ post -> guest finds the CQE */
	CS_IRQ,			/* lower: device MSI-X -> guest handler start (soft) */
	CS_KIND_COUNT,
};

struct cs_pair {
	int64_t g;		/* guest ns */
	int64_t d;		/* h - g, ns */
	uint8_t kind;
};

struct csync {
	struct cs_pair *p;
	size_t n, cap;
	/* results of cs_solve */
	int64_t base;		/* offsets are base + residuals (doubles, ns) */
	int64_t g0;		/* guest time the drift is measured from */
	double a_ns;		/* offset at g0, relative to base */
	double b;		/* drift: ns of offset per ns of guest time */
	double unc_ns;		/* half the width of the bounds at the optimum */
	double lower_ns, upper_ns;	/* the tightest bounds (relative to base) */
	double span_s;		/* guest time covered by the pairs */
	size_t used[CS_KIND_COUNT];
	size_t dropped_soft;	/* soft lower bounds that contradicted the upper ones */
	size_t outliers;	/* hard pairs dropped as isolated contradictions */
	unsigned int windows;
	bool consistent;	/* max lower <= min upper after the drift */
	bool solved;
	/*
	 * When no straight line fits (the host machine's clock is slewed
	 * unevenly), the offset is taken window by window: the midpoint of
	 * each window's band, interpolated between window centres.
	 */
	bool piecewise;
	unsigned int npw;
	double pw_t[64];	/* window centre, s since g0 */
	double pw_mid[64];	/* offset there (relative to base, after b) */
};

void cs_init(struct csync *c);
void cs_add(struct csync *c, enum cs_kind kind, int64_t guest_ns, int64_t device_ns);
int cs_solve(struct csync *c);		/* -1: no pairs of both kinds, or no memory */
/* guest ns -> device ns with the solved offset and drift */
int64_t cs_map(const struct csync *c, int64_t guest_ns);
double cs_offset_at(const struct csync *c, int64_t guest_ns);	/* relative to base */
void cs_free(struct csync *c);
const char *cs_kind_name(enum cs_kind k);

/* ------------------------------------------------ the join (join.c) */

/* The seven steps of one command on one clock (device ns, 0 = missing). */
enum mstep {
	M_SQ_WRITE,	/* guest tnvme_sq_write, mapped */
	M_SQ_DOORBELL,	/* device: the doorbell write arrived */
	M_FETCH,	/* device: command fetched and decoded */
	M_DMA,		/* device: the data transfer is done (rw_cb) */
	M_CQ_POST,	/* device: completion queued for the CQ */
	M_IRQ,		/* device: MSI-X raised */
	M_CQ_DOORBELL,	/* device: the CQ head doorbell that frees its CQE */
	M_STEP_COUNT,
};
#define M_IV_COUNT (M_STEP_COUNT - 1)

/* Guest events of the command, mapped to the device clock (not steps). */
enum mguest {
	MG_SQ_DOORBELL, MG_IRQ, MG_CQE, MG_RQ_END, MG_CQ_DOORBELL, MG_COUNT,
};

struct mcmd {
	int64_t t[M_STEP_COUNT];
	int64_t g[MG_COUNT];
	const struct hcmd *h;
	const struct dcmd *d;
	bool causal;		/* the present steps are in order */
};

struct mqueue {
	uint16_t qid;
	size_t guest, joined;
	size_t sq_host, sq_cmb;		/* joined commands by where their SQ lives */
	/* per interval: sorted durations in ns of the joined commands */
	double *iv[M_IV_COUNT];
	size_t niv[M_IV_COUNT];
	double *devtime;	/* sq_doorbell -> irq */
	size_t ndevtime;
};

struct merged {
	struct mcmd *cmd;	/* joined commands, by mapped sq_write */
	size_t n;
	size_t guest, device, joined, not_causal;
	size_t device_in_window;	/* device commands during the recording */
	size_t cq_slot_mismatch;	/* joined, but the two sides' CQ slots differ */
	struct mqueue *q;
	size_t nq;
	struct csync cs;
	bool have_coarse;
	int64_t coarse_offset_ns;
};

/*
 * Join r and d, estimate the clocks; -1 with a message in err if nothing
 * joins or memory ran out, and then m holds nothing to free.
 */
int merge_build(struct merged *m, const struct hrec *r, const struct dlog *d,
		char *err, size_t errlen);
void merge_free(struct merged *m);
const char *mstep_name(enum mstep s);
const char *miv_key(unsigned int iv);		/* "sq_write-sq_doorbell" */
const char *miv_help(unsigned int iv);
double sorted_percentile(const double *v, size_t n, double p);

/*
 * Read both files (by name) into r and d for subcommand cmd ("merge" or
 * "timeline"); prints errors; returns exit code.
 */
int devview_load(const char *cmd, const char *host_file, const char *device_file,
		 struct hrec *r, struct dlog *d);

/* timeline.c */
int timeline_svg(FILE *f, const struct merged *m, size_t skip, size_t count);

#endif
