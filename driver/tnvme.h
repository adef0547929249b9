/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tnvme - a teaching NVMe driver.
 *
 * This header holds the four data structures everything else works on,
 * defined below in this order:
 *
 *   struct tnvme_queue  one submission/completion queue pair
 *   struct tnvme_iod    per-request driver data ("I/O descriptor"),
 *                       stored by blk-mq right behind each struct request
 *   struct tnvme_ns     one namespace, exposed as a gendisk
 *   struct tnvme_dev    one NVMe controller (one PCI function)
 *
 * The register layout, command and completion formats come from
 * <linux/nvme.h>; this driver never redefines them.
 *
 * Spec references are to the NVM Express Base Specification 2.0.
 */
#ifndef TNVME_H
#define TNVME_H

#include <linux/blk-mq.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/dmapool.h>
#include <linux/mutex.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/uuid.h>
#include <linux/workqueue.h>

/*
 * Memory page size the driver programs into CC.MPS (3.1.3.5).  The
 * controller interprets every PRP entry in units of this size, so all PRP
 * arithmetic below uses it, not the CPU's PAGE_SIZE.  4 KiB is the
 * smallest size every controller must support (CAP.MPSMIN = 0 means
 * 2 ^ (12 + 0) bytes).
 */
#define TNVME_CTRL_PAGE_SHIFT	12
#define TNVME_CTRL_PAGE_SIZE	BIT(TNVME_CTRL_PAGE_SHIFT)

/* One PRP entry is a 64-bit address (4.1). */
#define TNVME_PRPS_PER_PAGE	(TNVME_CTRL_PAGE_SIZE / sizeof(__le64))

/*
 * Size of the blocks in the "small" PRP list pool.  A 256-byte list holds
 * 32 entries, enough for transfers up to 128 KiB; most requests are that
 * small, so they don't need to take a whole 4 KiB page.
 */
#define TNVME_SMALL_POOL_SIZE	256

/*
 * Our own cap on the transfer size of one request, whatever MDTS says.
 * It bounds the PRP list pages a request can need (see TNVME_MAX_LIST_PAGES).
 */
#define TNVME_MAX_XFER		SZ_4M

/*
 * Dataset Management ranges per discard request: one 4 KiB page of
 * 16-byte ranges, which PRP1 alone describes (4.1) and which is also the
 * most a command may carry (NR is 8 bits, 0-based: 256 ranges); up to
 * TNVME_DSM_SMALL_RANGES fit in a block of the small pool.
 */
#define TNVME_DSM_MAX_RANGES	(TNVME_CTRL_PAGE_SIZE / sizeof(struct nvme_dsm_range))
#define TNVME_DSM_SMALL_RANGES	(TNVME_SMALL_POOL_SIZE / sizeof(struct nvme_dsm_range))

/* Scatter/gather segments per request; the block layer splits bigger bios. */
#define TNVME_MAX_SEGS		128

/*
 * Worst case of PRP entries for one request: every controller page of
 * TNVME_MAX_XFER plus one for an unaligned start.  Each list page holds
 * TNVME_PRPS_PER_PAGE entries, but when a list continues on another page
 * its last slot holds the pointer to that next page (4.1), so only
 * TNVME_PRPS_PER_PAGE - 1 of them carry data on every page but the last.
 */
#define TNVME_MAX_PRPS		(TNVME_MAX_XFER / TNVME_CTRL_PAGE_SIZE + 1)
#define TNVME_MAX_LIST_PAGES	DIV_ROUND_UP(TNVME_MAX_PRPS, TNVME_PRPS_PER_PAGE - 1)

/*
 * Admin queue depth: 32 entries, so 31 commands in flight (a ring holds one
 * entry fewer, see the top of queues.c; tnvme_alloc_admin_queue()).
 */
#define TNVME_ADMIN_DEPTH	32

/* Bounds of the I/O queue depth parameter. */
#define TNVME_MIN_DEPTH		2
#define TNVME_MAX_DEPTH		4096

/* Instances c of /dev/tnvme<c>: 0 to TNVME_MAX_CTRLS - 1, a minor each. */
#define TNVME_MAX_CTRLS		64

/* Module parameters (defined and range-checked in probe.c). */
extern unsigned int tnvme_io_queues;
extern unsigned int tnvme_poll_queues;
extern unsigned int tnvme_io_depth;
extern unsigned int tnvme_io_timeout;
extern unsigned int tnvme_max_retries;
extern bool tnvme_shadow_doorbells;
extern bool tnvme_use_cmb_sqes;
extern char *tnvme_serial;
extern char *tnvme_pci_addr;

/* Runs resets and asynchronous event handling (created in tnvme_init()). */
extern struct workqueue_struct *tnvme_wq;

struct tnvme_dev;

/*
 * One queue pair.  Queue 0 is the admin queue; queues 1..nr_io_queues are
 * I/O queues.  Each I/O SQ has its own CQ with the same id (qid), and each
 * CQ has its own MSI-X vector, except a poll queue's, which has none.
 */
struct tnvme_queue {
	struct tnvme_dev *dev;
	u16 qid;
	u16 depth;		/* entries in the SQ and in the CQ */

	/* Submission side, protected by sq_lock. */
	spinlock_t sq_lock;
	struct nvme_command *sq_cmds;	/* host memory the controller reads */
	/* ... or, instead, the Controller Memory Buffer (tnvme_cmb_alloc_sq()) */
	struct nvme_command __iomem *sq_cmds_io;
	dma_addr_t sq_dma;	/* the SQ's address as the controller sees it */
	u16 sq_tail;		/* next free SQ slot */
	u16 last_sq_tail;	/* tail value of the last SQ doorbell write */
	/* LAB-TODO(10) begin: the SQ head as the host knows it */
	/*
	 * The last CQE.SQHD the completion path read (3.3.3.2): written there
	 * without sq_lock, so WRITE_ONCE/READ_ONCE.  sq_head_at_copy is its
	 * value when the last command was copied, under sq_lock: what the host
	 * knew of the head before it rang the doorbell (tnvme_sq_level).
	 */
	u16 sq_head;
	u16 sq_head_at_copy;
	/* LAB-TODO(10) end */
	u32 __iomem *sq_db;	/* SQ y Tail Doorbell (from 1000h, 3.1.3) */
	__le32 *shadow_sq_db;	/* its shadow or NULL (tnvme_shadow_db_init_queue()) */
	__le32 *sq_event_idx;	/* ring sq_db when the tail passes this */

	/*
	 * Completion side.  Only the interrupt handler touches these (or
	 * code that has disabled that interrupt first), so no lock; on a
	 * poll queue, whoever holds cq_poll_lock.
	 */
	struct nvme_completion *cqes;	/* host memory the controller writes */
	dma_addr_t cq_dma;
	u16 cq_head;		/* next CQ slot to look at */
	u8 cq_phase;		/* phase tag value that means "new" (3.3) */
	u32 __iomem *cq_db;	/* CQ y Head Doorbell (3.1.3) */
	__le32 *shadow_cq_db;	/* its shadow (NULL: none) */
	__le32 *cq_event_idx;	/* ring cq_db when the head passes this */

	/* Interrupt, or none: a poll queue (HCTX_TYPE_POLL). */
	u16 cq_vector;		/* MSI-X vector index */
	bool irq_requested;
	bool polled;		/* no interrupt: tnvme_poll() reaps it */
	spinlock_t cq_poll_lock;	/* one poller at a time */
	char irq_name[24];	/* "tnvme<c>q<qid>", shown in /proc/interrupts */

	/* Set once the controller knows this queue (Create I/O SQ done). */
	bool live;
};

/* Where a queue's SQ lives (the sq= field of tnvme_sq_write). */
enum tnvme_sq_mem {
	TNVME_SQ_HOST,		/* host memory: the controller fetches by DMA */
	TNVME_SQ_CMB,		/* the controller's own memory (cmb.c) */
};

static inline enum tnvme_sq_mem tnvme_sq_mem(const struct tnvme_queue *q)
{
	return q->sq_cmds_io ? TNVME_SQ_CMB : TNVME_SQ_HOST;
}

/*
 * Per-request data.  blk-mq allocates one behind every struct request
 * (tag_set.cmd_size) and blk_mq_rq_to_pdu() finds it.
 */
struct tnvme_iod {
	/* The command as it will be copied into the SQ. */
	struct nvme_command cmd;

	/* Filled in from the completion queue entry. */
	u16 status;		/* CQE status field >> 1 (no phase bit) */
	u64 result;		/* CQE dword 0 (and 1) */

	/*
	 * Error handling (tnvme_complete_rq(), tnvme_timeout()).  retries
	 * counts how often this request went back to the queue after a
	 * reset cancelled it; it survives requeueing (reset only when blk-mq
	 * hands us a fresh request, see tnvme_queue_rq()).  aborted: the
	 * timeout handler already sent an Abort for it, so a second timeout
	 * means reset.
	 */
	u8 retries;
	bool aborted;

	/* Data mapping (tnvme_map_data(), tnvme_setup_discard()). */
	int nents;		/* mapped sg entries, 0 = nothing mapped */
	bool mapped;		/* dma_map_sg() done, must be undone */
	bool mapped_page;	/* ... or dma_map_bvec() of one segment: */
	dma_addr_t page_dma;	/*     its address */
	u32 prp_entries;	/* PRP entries used (PRP1/PRP2 + list) */
	u16 nr_list_pages;	/* PRP list pages in use */
	bool small_list;	/* the one list page came from the small pool */
	__le64 *list[TNVME_MAX_LIST_PAGES];
	dma_addr_t list_dma[TNVME_MAX_LIST_PAGES];

	/* Dataset Management ranges for discard, one per bio. */
	struct nvme_dsm_range *dsm;
	dma_addr_t dsm_dma;
	bool dsm_small;		/* from the small pool, else the page pool */

	struct scatterlist sg[TNVME_MAX_SEGS];
};

/*
 * A namespace's globally unique names (Identify Namespace and the
 * Namespace Identification Descriptor list, 5.17.2.3); all zero when
 * the controller reports none.  They make up the disk's wwid.
 */
struct tnvme_ns_ids {
	u8 eui64[8];
	u8 nguid[16];
	uuid_t uuid;
};

/* One namespace, one gendisk. */
struct tnvme_ns {
	struct list_head entry;
	struct tnvme_dev *dev;
	u32 nsid;
	u8 lba_shift;		/* log2 of the logical block size */
	u64 nsze;		/* namespace size in logical blocks */
	struct tnvme_ns_ids ids;
	struct gendisk *disk;
};

/*
 * Controller states and the transitions between them (tnvme_change_state()):
 *
 *   NEW ------> LIVE <-------> RESETTING
 *    |           |               |    ^
 *    |           |               v    |  (a reset may revive it)
 *    |           |             DEAD --+
 *    v           v               |
 *   DELETING <-------------------+
 *
 * NEW: probe is bringing the controller up.  LIVE: I/O flows.
 * RESETTING: reset_work is disabling and rebuilding it; I/O waits
 * (queues quiesced) and cancelled commands are requeued.  DEAD: a reset
 * failed; every request fails at once until someone resets it again.
 * DELETING: remove() runs; nothing is retried any more.
 */
enum tnvme_ctrl_state {
	TNVME_CTRL_NEW,
	TNVME_CTRL_LIVE,
	TNVME_CTRL_RESETTING,
	TNVME_CTRL_DEAD,
	TNVME_CTRL_DELETING,
};

/* What tnvme_timeout() did about a request that timed out. */
enum tnvme_timeout_action {
	TNVME_TO_COMPLETED,	/* found by polling the CQ */
	TNVME_TO_ABORT,		/* Abort sent, timer restarted */
	TNVME_TO_RESET,
	TNVME_TO_DISABLE,	/* no reset possible now */
	TNVME_TO_WAIT,		/* no Abort slot free, timer restarted */
};

/* One controller. */
struct tnvme_dev {
	struct pci_dev *pdev;
	int instance;		/* c in /dev/tnvme<c>, tnvme<c>n<n> */
	void __iomem *bar;	/* BAR0: controller registers (3.1) */
	u32 bar_size;

	/* Capabilities decoded from CAP and VS (3.1.3.1, 3.1.3.2). */
	u64 cap;
	u32 vs;
	u32 db_stride;		/* bytes between doorbells: 4 << CAP.DSTRD */
	u32 ready_timeout_ms;	/* CAP.TO is in units of 500 ms */
	u16 mqes;		/* max entries per I/O queue (CAP.MQES + 1) */

	/* From Identify Controller (5.17.2.1). */
	char serial[21];
	char model[41];
	char firmware_rev[9];
	char subsysnqn[257];	/* NVMe Qualified Name of the subsystem */
	char raw_serial[20];	/* SN, MN and FR as reported, space padded */
	char raw_model[40];
	char raw_firmware_rev[8];
	u16 vid;		/* PCI vendor id */
	u16 cntlid;		/* controller id in its subsystem */
	u32 max_xfer;		/* bytes per command: MDTS, capped */
	u16 oacs;		/* optional admin commands supported */
	u16 oncs;		/* optional NVM commands supported */
	u32 oaes;		/* optional asynchronous events supported */
	u16 awupf;		/* atomic write unit on power fail, 0-based */
	u8 vwc;			/* volatile write cache present */
	u32 nn;			/* number of namespaces */

	/*
	 * From Identify Controller for the NVM command set (CNS 06h):
	 * Dataset Management ranges per command, blocks per range, blocks
	 * per command, and Write Zeroes size (2 ^ wzsl minimum pages); 0
	 * means no limit.
	 */
	u8 dmrl;
	u32 dmrsl;
	u64 dmsl;
	u8 wzsl;

	/*
	 * Queues: queues[0] is admin, queues[1..nr_io_queues] are I/O, the
	 * last nr_poll_queues of them poll queues.
	 */
	struct tnvme_queue *queues;
	unsigned int nr_io_queues;
	unsigned int nr_poll_queues;
	unsigned int io_depth;

	/*
	 * Shadow Doorbell and EventIdx buffers, one page each, or NULL
	 * (tnvme_shadow_db_setup()).
	 */
	__le32 *shadow_dbs;
	dma_addr_t shadow_dbs_dma;
	__le32 *event_idxs;
	dma_addr_t event_idxs_dma;

	/*
	 * The Controller Memory Buffer, mapped write-combined, or NULL
	 * (tnvme_map_cmb()); I/O SQs are carved from it in order.
	 */
	void __iomem *cmb;
	u64 cmb_size;
	dma_addr_t cmb_bus_addr;	/* where the controller sees it */
	u64 cmb_used;

	/* Pools for PRP lists and discard ranges (tnvme_create_pools()). */
	struct dma_pool *prp_page_pool;
	struct dma_pool *prp_small_pool;

	/* blk-mq: one tag set for the admin queue, one for all I/O queues. */
	struct blk_mq_tag_set admin_set;
	struct request_queue *admin_q;
	struct blk_mq_tag_set io_set;
	bool io_set_allocated;

	struct list_head namespaces;	/* of tnvme_ns, under ns_rwsem */
	struct rw_semaphore ns_rwsem;
	struct mutex scan_lock;		/* one namespace scan at a time */

	/* The last asynchronous event's CQE dword 0 (tnvme_async_event_work()). */
	u32 async_event;
	struct work_struct async_event_work;

	/*
	 * Char device /dev/tnvme<c> and its class device
	 * /sys/class/tnvme/tnvme<c> (attributes, tnvme_ctrl_attrs[]: state,
	 * reset_controller, rescan_controller and the identity files).
	 * ctrl_device also carries the reference count of the whole struct:
	 * its release function frees it (see "Lifetime" below).
	 */
	struct cdev cdev;
	struct device ctrl_device;
	bool cdev_added;

	/* Error recovery (tnvme_reset_work(), tnvme_timeout()). */
	enum tnvme_ctrl_state state;	/* change only via tnvme_change_state */
	spinlock_t state_lock;
	struct work_struct reset_work;	/* runs tnvme_reset_work() */
	struct mutex shutdown_lock;	/* serialises tnvme_dev_disable() */
	unsigned long flags;		/* TNVME_F_* bits below */
	atomic_t abort_limit;		/* Aborts we may still send (ACL) */
	u8 acl;				/* Abort Command Limit, 0-based */

	/*
	 * Lifetime.  remove() can run while /dev/tnvme<c> or a gendisk is
	 * still open, so the struct is reference counted through
	 * ctrl_device: probe holds one reference, the char device (while
	 * any file has it open) and every namespace's gendisk one more; the
	 * last put_device() frees the struct.  ioctl_rwsem lets remove()
	 * wait for running ioctls and then refuse new ones (removing).
	 */
	struct rw_semaphore ioctl_rwsem;
	bool removing;
};

/*
 * dev->flags: the queues are quiesced by us (keeps quiesce balanced);
 * RESETTING is held for the PCI or PM core (tnvme_prepare_reset()).
 */
#define TNVME_F_IO_STOPPED	0
#define TNVME_F_ADMIN_STOPPED	1
#define TNVME_F_PCI_RESET	2

static inline struct tnvme_iod *tnvme_iod(struct request *req)
{
	return blk_mq_rq_to_pdu(req);
}

/* The namespace of a block I/O request (its gendisk's queue). */
static inline struct tnvme_ns *tnvme_req_ns(struct request *req)
{
	return req->q->queuedata;
}

/* 512-byte sector of the block layer -> the namespace's logical block. */
static inline u64 tnvme_sect_to_lba(struct tnvme_ns *ns, sector_t sector)
{
	return sector >> (ns->lba_shift - SECTOR_SHIFT);
}

/* Does the request's command carry a starting LBA and a block count? */
static inline bool tnvme_has_lba_range(struct request *req)
{
	switch (req_op(req)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		return true;
	default:
		return false;
	}
}

static inline struct tnvme_queue *tnvme_admin_queue(struct tnvme_dev *dev)
{
	return &dev->queues[0];
}

/* probe.c: lifetime and controller registers */
void tnvme_get_dev(struct tnvme_dev *dev);
void tnvme_put_dev(struct tnvme_dev *dev);
int tnvme_disable_ctrl(struct tnvme_dev *dev);
int tnvme_enable_ctrl(struct tnvme_dev *dev);
enum tnvme_ctrl_state tnvme_state(struct tnvme_dev *dev);
const char *tnvme_state_name(enum tnvme_ctrl_state state);
bool tnvme_change_state(struct tnvme_dev *dev, enum tnvme_ctrl_state new);
int tnvme_reset_ctrl(struct tnvme_dev *dev);
int tnvme_reset_ctrl_sync(struct tnvme_dev *dev);
void tnvme_dev_disable(struct tnvme_dev *dev, bool shutdown);
void tnvme_recover(struct tnvme_dev *dev, bool reset);

/* queues.c: queue memory, doorbells, IRQs, admin and I/O queue setup */
int tnvme_alloc_queue(struct tnvme_dev *dev, u16 qid, u16 depth);
void tnvme_free_queues(struct tnvme_dev *dev);
void tnvme_init_queue_state(struct tnvme_queue *q);
void tnvme_program_admin_queue(struct tnvme_dev *dev);
int tnvme_request_irq(struct tnvme_queue *q);
void tnvme_free_io_irqs(struct tnvme_dev *dev);
void tnvme_free_irqs(struct tnvme_dev *dev);
int tnvme_setup_irq_vectors(struct tnvme_dev *dev, unsigned int nr_io);
int tnvme_create_io_queues(struct tnvme_dev *dev);
void tnvme_delete_io_queues(struct tnvme_dev *dev);

/* cmb.c: the Controller Memory Buffer, for I/O SQs */
void tnvme_map_cmb(struct tnvme_dev *dev);
void tnvme_unmap_cmb(struct tnvme_dev *dev);
void tnvme_cmb_program(struct tnvme_dev *dev);
void __iomem *tnvme_cmb_alloc_sq(struct tnvme_dev *dev, size_t size,
				 dma_addr_t *dma);
void tnvme_cmb_report(struct tnvme_dev *dev);
void tnvme_cmb_free_sqs(struct tnvme_dev *dev);

/* shadow_doorbell.c: Doorbell Buffer Config, fewer MMIO doorbell writes */
void tnvme_shadow_db_setup(struct tnvme_dev *dev);
void tnvme_shadow_db_free(struct tnvme_dev *dev);
void tnvme_shadow_db_init_queue(struct tnvme_queue *q);
bool tnvme_shadow_db_update(__le32 *shadow_db, __le32 *event_idx, u16 value);

/* admin.c: synchronous admin commands */
int tnvme_execute_cmd(struct request_queue *q, struct nvme_command *cmd,
		      void *kbuf, void __user *ubuf, unsigned int len,
		      unsigned int timeout_ms, u64 *result);
int tnvme_submit_sync(struct tnvme_dev *dev, struct nvme_command *cmd,
		      void *buf, unsigned int len, u64 *result);
int tnvme_identify_ctrl(struct tnvme_dev *dev);
int tnvme_send_abort(struct request *req);
int tnvme_set_queue_count(struct tnvme_dev *dev, u32 dword11, u32 *dword0);
int tnvme_identify_ns(struct tnvme_dev *dev, u32 nsid,
		      struct nvme_id_ns *id);
int tnvme_identify_ctrl_nvm(struct tnvme_dev *dev);
int tnvme_identify_ns_descs(struct tnvme_dev *dev, u32 nsid,
			    struct tnvme_ns_ids *ids);
int tnvme_active_ns_list(struct tnvme_dev *dev, __le32 *list);
void tnvme_init_async_events(struct tnvme_dev *dev);
void tnvme_start_async_events(struct tnvme_dev *dev);
void tnvme_submit_async_event(struct tnvme_dev *dev);

/* io.c: blk-mq operations, data mapping */
extern const struct blk_mq_ops tnvme_admin_mq_ops;
extern const struct blk_mq_ops tnvme_io_mq_ops;
int tnvme_create_pools(struct tnvme_dev *dev);
void tnvme_destroy_pools(struct tnvme_dev *dev);
void tnvme_unmap_data(struct tnvme_dev *dev, struct request *req);
int tnvme_alloc_admin_queue(struct tnvme_dev *dev);
void tnvme_free_admin_queue(struct tnvme_dev *dev);
int tnvme_alloc_io_tag_set(struct tnvme_dev *dev);
void tnvme_set_queue_limits(struct tnvme_dev *dev, struct request_queue *q);
void tnvme_free_io_tag_set(struct tnvme_dev *dev);

/* irq.c: the completion path, from a CQE to the request's end */
irqreturn_t tnvme_irq(int irq, void *data);
int tnvme_reap_cq(struct tnvme_queue *q, struct io_comp_batch *iob);
void tnvme_poll_queue_irqoff(struct tnvme_queue *q);
int tnvme_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob);
void tnvme_complete_rq(struct request *req);
enum blk_eh_timer_return tnvme_timeout(struct request *req);
bool tnvme_cancel_request(struct request *req, void *data);
void tnvme_fault_init(void);
void tnvme_fault_exit(void);

/* namespace.c: gendisks */
int tnvme_scan_namespaces(struct tnvme_dev *dev);
void tnvme_remove_namespaces(struct tnvme_dev *dev);
void tnvme_quiesce_namespaces(struct tnvme_dev *dev, bool quiesce);

/* chardev.c: /dev/tnvme<c> and the passthrough ioctls */
int tnvme_chardev_init(void);
void tnvme_chardev_exit(void);
void tnvme_init_ctrl_device(struct tnvme_dev *dev,
			    void (*release)(struct device *));
int tnvme_add_chardev(struct tnvme_dev *dev);
void tnvme_del_chardev(struct tnvme_dev *dev);
int tnvme_ns_ioctl(struct block_device *bdev, fmode_t mode,
		   unsigned int cmd, unsigned long arg);

#endif /* TNVME_H */
