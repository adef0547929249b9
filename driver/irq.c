// SPDX-License-Identifier: GPL-2.0
/*
 * The completion path: from an interrupt to a finished request.
 *
 * When the controller has executed a command it writes a 16-byte
 * completion queue entry (CQE, 3.3.3.2) into the CQ at its tail (the
 * cq_post step) and sends the CQ's MSI-X interrupt (the irq step).  The
 * handler starts once that interrupt is delivered, and then
 *
 *   - walks the CQ from cq_head while entries carry the current phase tag,
 *   - for each entry finds the request by its command id, saves status
 *     and result, unmaps the data and hands the request to blk-mq,
 *   - writes the new head to the CQ head doorbell, once for the batch:
 *     the cq_doorbell step.
 *
 * There is no register to read: the phase tag in the entry itself says
 * whether it is new (see tnvme_init_queue_state()).  On a
 * poll queue, tnvme_poll() does the same without an interrupt.
 *
 * This file follows a completion through its life: the CQE
 * (tnvme_handle_cqe()), the reap and its doorbell, the interrupt handler
 * and the poll, then the request's end (tnvme_complete_rq(): status,
 * retry or error), and last what happens when a completion does not come
 * (tnvme_timeout()) or never will (tnvme_cancel_request()).
 */
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/interrupt.h>

#include "tnvme.h"
#include "trace.h"

/*
 * Fault hook for instructors (docs/fault-tolerance.md): on a kernel with
 * CONFIG_FAULT_INJECTION_DEBUG_FS (a debug kernel; Debian's lab kernel
 * lacks it, and then none of this is compiled),
 * /sys/kernel/debug/tnvme/fail_completion is a standard fault-injection
 * attribute (probability, interval, times, ...; see the kernel's
 * Documentation/fault-injection/fault-injection.rst).  When it fires, the
 * completion path drops a CQE as if its interrupt and entry were lost: the
 * request then runs into the timeout handler, which finds nothing by
 * polling, sends an Abort and finally resets the controller.
 */
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static DECLARE_FAULT_ATTR(tnvme_fail_completion);
static struct dentry *tnvme_debugfs_dir;

void tnvme_fault_init(void)
{
	tnvme_debugfs_dir = debugfs_create_dir("tnvme", NULL);
	fault_create_debugfs_attr("fail_completion", tnvme_debugfs_dir,
				  &tnvme_fail_completion);
}

void tnvme_fault_exit(void)
{
	debugfs_remove_recursive(tnvme_debugfs_dir);
}

static bool tnvme_drop_completion(struct tnvme_queue *q)
{
	/* Only I/O queues: a lost admin CQE would stall probe and reset. */
	return q->qid && should_fail(&tnvme_fail_completion, 1);
}
#else
void tnvme_fault_init(void)
{
}

void tnvme_fault_exit(void)
{
}

static bool tnvme_drop_completion(struct tnvme_queue *q)
{
	return false;
}
#endif

/* Does CQ slot @slot hold a new entry (its phase tag is @phase)? */
static bool tnvme_cqe_pending(struct tnvme_queue *q, u16 slot, u8 phase)
{
	/*
	 * The controller writes the whole entry; the phase tag is bit 16 of
	 * Dword 3, which <linux/nvme.h> reads as bit 0 of the 16-bit status.
	 * READ_ONCE: the controller changes this memory behind the
	 * compiler's back, so really load it every time.
	 */
	return (le16_to_cpu(READ_ONCE(q->cqes[slot].status)) & 1) == phase;
}

/*
 * Move cq_head one slot on.  At the end of the ring, wrap and flip the
 * phase we expect: on the next pass the controller writes the opposite
 * value (3.3).
 */
static void tnvme_advance_cq_head(struct tnvme_queue *q)
{
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->cq_phase ^= 1;
	}
}

/*
 * Tell the controller that slots before cq_head are free again.  Until we
 * do, it cannot reuse them; a CQ that stays full stalls the queue.  With
 * shadow doorbells the shadow buffer is enough unless the controller
 * asked for an MMIO write (tnvme_shadow_db_update()).
 */
static void tnvme_ring_cq_doorbell(struct tnvme_queue *q, u16 reaped)
{
	bool mmio = true;

	if (q->shadow_cq_db)
		mmio = tnvme_shadow_db_update(q->shadow_cq_db, q->cq_event_idx,
					      q->cq_head);
	if (mmio)
		writel(q->cq_head, q->cq_db);
	trace_tnvme_cq_doorbell(q->dev->instance, q->qid, q->cq_head, reaped,
				mmio);
}

/* The tag set a queue's command ids belong to. */
static struct blk_mq_tags *tnvme_queue_tags(struct tnvme_queue *q)
{
	if (!q->qid)
		return q->dev->admin_set.tags[0];
	return q->dev->io_set.tags[q->qid - 1];
}

/*
 * End a batch of successful requests at once (see tnvme_handle_cqe()).
 * Their data is already unmapped; blk-mq frees their tags together.
 */
static void tnvme_complete_batch(struct io_comp_batch *iob)
{
	blk_mq_end_request_batch(iob);
}

/*
 * Handle the CQE in slot @slot.  @iob, if not NULL, collects successful
 * requests so that the caller ends them together after the loop.
 */
static void tnvme_handle_cqe(struct tnvme_queue *q, u16 slot,
			     struct io_comp_batch *iob)
{
	struct tnvme_dev *dev = q->dev;
	struct nvme_completion *cqe = &q->cqes[slot];
	u16 cid = READ_ONCE(cqe->command_id);
	u16 status = le16_to_cpu(READ_ONCE(cqe->status)) >> 1;
	u16 sq_head = le16_to_cpu(READ_ONCE(cqe->sq_head));
	struct tnvme_iod *iod;
	struct request *req;

	trace_tnvme_cqe(dev->instance, q->qid, cid, slot, status, q->cq_phase,
			sq_head);
	/*
	 * SQHD: how far the controller has consumed our SQ.  We never need
	 * it for flow control (blk-mq's tag depth keeps the SQ from
	 * overflowing), but it shows how far the controller has fetched.
	 * The fetch step itself happened long before; we learn of it only
	 * now, so this event is the host's late view of it.
	 */
	trace_tnvme_fetch(dev->instance, q->qid, sq_head);
	/* LAB-TODO(10) begin: keep the SQ head for tnvme_sq_level */
	/* the submit side reads it under sq_lock, which we do not take */
	WRITE_ONCE(q->sq_head, sq_head);
	/* LAB-TODO(10) end */

	/*
	 * The command id is the request's tag.  A broken controller could
	 * send any value, so check before trusting it.
	 */
	req = NULL;
	if (cid < q->depth)
		req = blk_mq_tag_to_rq(tnvme_queue_tags(q), cid);
	if (unlikely(!req)) {
		dev_warn(&dev->pdev->dev, "invalid command id %u on queue %u\n",
			 cid, q->qid);
		return;
	}

	/*
	 * Fault injection: lose this completion, as if the controller had
	 * never posted it, so that the timeout handler gets exercised.
	 * tnvme's own attribute (tnvme_drop_completion()) or the block
	 * layer's (blk_should_fake_timeout(): /sys/block/<disk>/io-timeout-fail
	 * and fail_io_timeout in debugfs).  Before the request's end is
	 * traced and its data unmapped: for the request nothing happened,
	 * and the cancel after the reset unmaps it (tnvme_cancel_request()).
	 */
	if (tnvme_drop_completion(q)) {
		dev_warn_ratelimited(&dev->pdev->dev,
				     "fault injection: dropped the CQE of queue %u cid %u\n",
				     q->qid, cid);
		return;
	}
	if (blk_should_fake_timeout(req->q))
		return;

	iod = tnvme_iod(req);
	iod->status = status;
	iod->result = le64_to_cpu(READ_ONCE(cqe->result.u64));

	trace_tnvme_rq_end(dev->instance, q->qid, cid,
			   raw_smp_processor_id(), iod->cmd.common.opcode,
			   blk_rq_nr_phys_segments(req) &&
			   req_op(req) != REQ_OP_DISCARD ?
			   blk_rq_payload_bytes(req) : 0, status);
	/* The controller is done with the data: unmap it (fires dma_unmap). */
	tnvme_unmap_data(dev, req);

	/*
	 * A success joins the batch, and everything else goes to blk-mq,
	 * which calls tnvme_complete_rq() on a suitable CPU (errors,
	 * retries).  Not the Asynchronous Event Request on its reserved tag:
	 * a batch gives its tags back as ordinary ones, counted from the
	 * first tag after the reserved ones, and would clear a bit outside
	 * the tag map.
	 */
	if (blk_mq_is_reserved_rq(req) ||
	    !blk_mq_add_to_batch(req, iob, status, tnvme_complete_batch))
		blk_mq_complete_request(req);
}

/*
 * Reap every new CQE of @q.  Only one context may do this at a time: the
 * queue's interrupt handler, or code that disabled that interrupt; on a
 * poll queue, whoever holds cq_poll_lock.  Returns the number of entries
 * reaped.  @iob: see tnvme_handle_cqe(); the interrupt handler and
 * blk-mq's ->poll (tnvme_poll()) batch, while, like the stock driver, the
 * reaps of the timeout and reset paths (tnvme_poll_queue_irqoff())
 * complete one by one.
 */
int tnvme_reap_cq(struct tnvme_queue *q, struct io_comp_batch *iob)
{
	u16 found = 0;

	while (tnvme_cqe_pending(q, q->cq_head, q->cq_phase)) {
		/*
		 * The phase tag said "new"; the rest of the entry must not be
		 * read before that load.  CPUs may reorder loads, so a read
		 * barrier for DMA memory goes between them.
		 */
		dma_rmb();
		tnvme_handle_cqe(q, q->cq_head, iob);
		tnvme_advance_cq_head(q);
		found++;
	}
	if (found)
		tnvme_ring_cq_doorbell(q, found);
	return found;
}

/* Count the new entries without consuming them (for the irq trace). */
static u16 tnvme_count_pending(struct tnvme_queue *q)
{
	u16 slot = q->cq_head, n = 0;
	u8 phase = q->cq_phase;

	while (n < q->depth && tnvme_cqe_pending(q, slot, phase)) {
		n++;
		if (++slot == q->depth) {
			slot = 0;
			phase ^= 1;
		}
	}
	return n;
}

/*
 * The MSI-X handler of one queue.  With managed affinity it runs on a CPU
 * that submits to this queue.  IRQ_NONE tells the IRQ core nothing was
 * there (it detects stuck, spurious interrupts that way).
 */
irqreturn_t tnvme_irq(int irq, void *data)
{
	struct tnvme_queue *q = data;
	DEFINE_IO_COMP_BATCH(iob);
	int found;

	if (trace_tnvme_irq_enabled())
		trace_tnvme_irq(q->dev->instance, q->qid, q->cq_vector, irq,
				raw_smp_processor_id(), tnvme_count_pending(q));
	found = tnvme_reap_cq(q, &iob);
	if (!rq_list_empty(iob.req_list))
		iob.complete(&iob);
	return found ? IRQ_HANDLED : IRQ_NONE;
}

/*
 * blk-mq's ->poll, for the queues without an interrupt (HCTX_TYPE_POLL):
 * the task that submitted polled I/O calls it in a loop until its request
 * is done.  It does what tnvme_irq() does for the other queues: it stands
 * in for the irq step, which a poll queue does not have, and its trace
 * event (tnvme_poll) fires where tnvme_irq's would.  A look that finds
 * nothing takes no lock.  Several tasks may poll one queue at once:
 * cq_poll_lock lets one reap.
 */
int tnvme_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	struct tnvme_queue *q = hctx->driver_data;
	int found;

	if (trace_tnvme_poll_enabled())
		trace_tnvme_poll(q->dev->instance, q->qid,
				 raw_smp_processor_id(), tnvme_count_pending(q));
	if (!tnvme_cqe_pending(q, q->cq_head, q->cq_phase))
		return 0;
	spin_lock(&q->cq_poll_lock);
	found = tnvme_reap_cq(q, iob);
	spin_unlock(&q->cq_poll_lock);
	return found;
}

/* Reap a queue from outside its interrupt handler (timeout, recovery). */
void tnvme_poll_queue_irqoff(struct tnvme_queue *q)
{
	int irq;

	if (!q->cqes)
		return;
	if (q->polled) {
		spin_lock(&q->cq_poll_lock);
		tnvme_reap_cq(q, NULL);
		spin_unlock(&q->cq_poll_lock);
		return;
	}
	if (!q->irq_requested) {
		tnvme_reap_cq(q, NULL);
		return;
	}
	irq = pci_irq_vector(q->dev->pdev, q->cq_vector);
	disable_irq(irq);	/* also waits for a running handler */
	tnvme_reap_cq(q, NULL);
	enable_irq(irq);
}

/* ---------------------------------------------------------------------
 * The request's end: its status, a retry or the error.
 */

/*
 * NVMe status -> block layer status, one table.  The 15-bit status of a
 * CQE (3.3.3.2) is DNR (bit 14), M (13), CRD (12:11), SCT (10:8) and SC
 * (7:0); the table matches SCT and SC.  "retry" marks statuses worth
 * sending again (when DNR is clear): the command did nothing wrong, the
 * path to the media failed.  Media errors are not retried: reading a bad
 * block again gives the same answer, and the error reaches user space
 * (and our log) once.
 */
static const struct tnvme_status_entry {
	u16 status;
	blk_status_t blk;
	bool retry;
	const char *name;
} tnvme_status_table[] = {
	{ NVME_SC_SUCCESS,		BLK_STS_OK,	  false, "Success" },
	{ NVME_SC_INVALID_OPCODE,	BLK_STS_NOTSUPP,  false, "Invalid Opcode" },
	{ NVME_SC_INVALID_FIELD,	BLK_STS_NOTSUPP,  false, "Invalid Field" },
	{ NVME_SC_ONCS_NOT_SUPPORTED,	BLK_STS_NOTSUPP,  false, "ONCS Not Supported" },
	{ NVME_SC_DATA_XFER_ERROR,	BLK_STS_IOERR,	  true,  "Data Transfer Error" },
	{ NVME_SC_INTERNAL,		BLK_STS_IOERR,	  true,  "Internal Error" },
	{ NVME_SC_ABORT_REQ,		BLK_STS_IOERR,	  true,  "Command Abort Requested" },
	{ NVME_SC_HOST_ABORTED_CMD,	BLK_STS_IOERR,	  true,  "Command Aborted By Host" },
	{ NVME_SC_NS_NOT_READY,		BLK_STS_IOERR,	  true,  "Namespace Not Ready" },
	{ NVME_SC_LBA_RANGE,		BLK_STS_TARGET,	  false, "LBA Out of Range" },
	{ NVME_SC_CAP_EXCEEDED,		BLK_STS_NOSPC,	  false, "Capacity Exceeded" },
	{ NVME_SC_WRITE_FAULT,		BLK_STS_MEDIUM,	  false, "Write Fault" },
	{ NVME_SC_READ_ERROR,		BLK_STS_MEDIUM,	  false, "Unrecovered Read Error" },
	{ NVME_SC_UNWRITTEN_BLOCK,	BLK_STS_MEDIUM,	  false, "Deallocated or Unwritten Block" },
	{ NVME_SC_GUARD_CHECK,		BLK_STS_PROTECTION, false, "E2E Guard Check Error" },
	{ NVME_SC_APPTAG_CHECK,		BLK_STS_PROTECTION, false, "E2E App Tag Check Error" },
	{ NVME_SC_REFTAG_CHECK,		BLK_STS_PROTECTION, false, "E2E Ref Tag Check Error" },
	{ NVME_SC_COMPARE_FAILED,	BLK_STS_MEDIUM,	  false, "Compare Failure" },
	{ NVME_SC_ACCESS_DENIED,	BLK_STS_MEDIUM,	  false, "Access Denied" },
};

/*
 * tnvme_status_to_blk - translate a CQE status for the block layer.
 * @retry: set if sending the command again may help (DNR clear and a
 *         status marked retry in the table)
 * @name:  the status' name for the log
 */
static blk_status_t tnvme_status_to_blk(u16 status, bool *retry,
					const char **name)
{
	u16 sc = status & 0x7ff;	/* SCT and SC, without CRD/M/DNR */
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tnvme_status_table); i++) {
		const struct tnvme_status_entry *e = &tnvme_status_table[i];

		if (e->status == sc) {
			*retry = e->retry && !(status & NVME_STATUS_DNR);
			*name = e->name;
			return e->blk;
		}
	}
	*retry = false;
	*name = "Unknown Status";
	return BLK_STS_IOERR;
}

/*
 * Log a failed block I/O once, with what it was and where: opcode, LBA,
 * blocks, status.  Rate-limited, so a disk full of bad blocks cannot
 * flood the console.  Passthrough commands are not logged: their caller
 * gets the NVMe status itself.
 */
static void tnvme_log_error(struct request *req, u16 status, const char *name)
{
	struct tnvme_ns *ns = tnvme_req_ns(req);
	struct tnvme_iod *iod = tnvme_iod(req);
	u64 slba = 0;
	u32 nlb = 0;

	if (tnvme_has_lba_range(req)) {
		slba = tnvme_sect_to_lba(ns, blk_rq_pos(req));
		nlb = blk_rq_bytes(req) >> ns->lba_shift;
	}
	dev_err_ratelimited(&ns->dev->pdev->dev,
			    "%s: %s (sct 0x%x / sc 0x%x%s) opcode 0x%02x LBA %llu blocks %u retries %u\n",
			    ns->disk->disk_name, name, (status >> 8) & 7,
			    status & 0xff, status & NVME_STATUS_DNR ? " DNR" : "",
			    iod->cmd.common.opcode, slba, nlb, iod->retries);
}

/*
 * Should this failed request go back to the queue?  Only for a
 * retryable status, only for block I/O (a passthrough command's owner
 * decides for itself, and the reset's own admin commands must fail
 * rather than loop), only a bounded number of times (max_retries), and
 * only while a working controller can be expected: not while it is dead
 * or being removed.
 */
static bool tnvme_should_retry(struct request *req, bool retryable)
{
	struct tnvme_queue *q = req->mq_hctx->driver_data;
	enum tnvme_ctrl_state state = tnvme_state(q->dev);

	if (!retryable || blk_rq_is_passthrough(req) ||
	    blk_noretry_request(req))
		return false;
	if (tnvme_iod(req)->retries >= READ_ONCE(tnvme_max_retries))
		return false;
	return state == TNVME_CTRL_LIVE || state == TNVME_CTRL_RESETTING;
}

/*
 * blk-mq's ->complete, called after tnvme_handle_cqe() handed the request
 * over with blk_mq_complete_request() (possibly on another CPU).  The
 * NVMe status was saved from the CQE (or set by tnvme_cancel_request()).
 *
 * A request that a reset cancelled goes back to blk-mq's requeue list;
 * blk-mq sends it again once the queues are unquiesced after the reset
 * (tnvme_quiesce_namespaces() kicks the list).  Everything else ends here,
 * and an error is never silent: the block layer gets an error status and
 * the log gets a line.
 */
void tnvme_complete_rq(struct request *req)
{
	struct tnvme_iod *iod = tnvme_iod(req);
	u16 status = iod->status;
	const char *name;
	blk_status_t sts;
	bool retry;

	sts = tnvme_status_to_blk(status, &retry, &name);
	if (sts && tnvme_should_retry(req, retry)) {
		iod->retries++;
		blk_mq_requeue_request(req, true);
		return;
	}
	if (sts && !blk_rq_is_passthrough(req))
		tnvme_log_error(req, status, name);
	blk_mq_end_request(req, sts);
}

/* ---------------------------------------------------------------------
 * When a completion does not come: the timeout handler, and the cancel
 * of what a disabled controller will never complete.
 */

/*
 * blk-mq's timeout handler: a request has been in flight for io_timeout
 * seconds.  Like the stock driver (nvme_timeout() in pci.c), in order:
 *
 *   1. CSTS.CFS set, or CSTS reads all ones (device gone): the controller
 *      itself failed.  Reset at once; aborting one command won't help.
 *   2. Poll the CQ.  If the completion is there, an interrupt was lost
 *      (or, on a poll queue, nobody polled), not the command: BLK_EH_DONE,
 *      the request is already completed.
 *   3. In probe, remove, a dead controller or during a reset nobody will
 *      reset it (again): disable the controller, which ends every request,
 *      this one included.
 *   4. An admin command, or an I/O command that already had its Abort:
 *      reset.  tnvme_recover() disables the controller (the timed-out
 *      request and all others are cancelled: requeued, since a reset
 *      follows) and queues reset_work.
 *   5. Otherwise send Abort and give the command one more timeout period
 *      (BLK_EH_RESET_TIMER).  If the Abort slots are used up (the
 *      controller's ACL), just wait another period.
 *
 * It runs in process context (blk-mq's timeout work), so it may sleep.
 */
enum blk_eh_timer_return tnvme_timeout(struct request *req)
{
	struct tnvme_queue *q = req->mq_hctx->driver_data;
	struct tnvme_dev *dev = q->dev;
	struct tnvme_iod *iod = tnvme_iod(req);
	struct device *d = &dev->pdev->dev;
	u8 opcode = iod->cmd.common.opcode;
	u32 csts = readl(dev->bar + NVME_REG_CSTS);
	enum tnvme_timeout_action action;

	/* 1. The controller failed as a whole. */
	if (csts == ~0U || (csts & NVME_CSTS_CFS)) {
		dev_warn(d, "queue %u cid %u timed out, controller %s (CSTS 0x%x): resetting\n",
			 q->qid, req->tag,
			 csts == ~0U ? "not responding" : "fatal status", csts);
		action = TNVME_TO_RESET;
		goto recover;
	}

	/*
	 * An Asynchronous Event Request completes only when something
	 * happens (5.2): waiting for ever is its normal state.
	 */
	if (!q->qid && opcode == nvme_admin_async_event)
		return BLK_EH_RESET_TIMER;

	/*
	 * 2. A missed interrupt is not a timeout.  On a poll queue: nobody
	 * polled for it (the task gave up waiting, or the poll missed it).
	 * Ask whether the request is still in flight, not whether it is
	 * "completed": a polled request, or one whose completion ran on
	 * this CPU, has already ended, and an ended request is idle.
	 */
	tnvme_poll_queue_irqoff(q);
	if (blk_mq_rq_state(req) != MQ_RQ_IN_FLIGHT) {
		dev_warn(d, "queue %u cid %u: completion found by polling (%s)\n",
			 q->qid, req->tag,
			 q->polled ? "poll queue, not polled in time" : "lost interrupt?");
		trace_tnvme_timeout(dev->instance, q->qid, req->tag, opcode,
				    csts, TNVME_TO_COMPLETED);
		return BLK_EH_DONE;
	}

	/* 3. No reset possible now. */
	if (tnvme_state(dev) != TNVME_CTRL_LIVE) {
		dev_warn(d, "queue %u cid %u opcode 0x%02x timed out while %s: disabling the controller\n",
			 q->qid, req->tag, opcode,
			 tnvme_state_name(tnvme_state(dev)));
		action = TNVME_TO_DISABLE;
		goto recover;
	}

	/* 4. Admin command, or Abort did not help. */
	if (!q->qid || iod->aborted) {
		dev_warn(d, "queue %u cid %u opcode 0x%02x timed out%s: resetting the controller\n",
			 q->qid, req->tag, opcode,
			 iod->aborted ? " after Abort" : "");
		action = TNVME_TO_RESET;
		goto recover;
	}

	/* 5. Abort, within the controller's Abort Command Limit. */
	if (atomic_dec_return(&dev->abort_limit) < 0) {
		atomic_inc(&dev->abort_limit);
		trace_tnvme_timeout(dev->instance, q->qid, req->tag, opcode,
				    csts, TNVME_TO_WAIT);
		return BLK_EH_RESET_TIMER;
	}
	iod->aborted = true;
	if (tnvme_send_abort(req)) {
		atomic_inc(&dev->abort_limit);
		dev_warn(d, "queue %u cid %u timed out, no request for an Abort: resetting\n",
			 q->qid, req->tag);
		action = TNVME_TO_RESET;
		goto recover;
	}
	dev_warn(d, "queue %u cid %u opcode 0x%02x timed out: sent Abort\n",
		 q->qid, req->tag, opcode);
	trace_tnvme_timeout(dev->instance, q->qid, req->tag, opcode, csts,
			    TNVME_TO_ABORT);
	return BLK_EH_RESET_TIMER;

recover:
	trace_tnvme_timeout(dev->instance, q->qid, req->tag, opcode, csts,
			    action);
	tnvme_recover(dev, action == TNVME_TO_RESET);
	return BLK_EH_DONE;
}

/*
 * End a request the controller will never complete: it was disabled
 * (tnvme_dev_disable()).  Used with blk_mq_tagset_busy_iter().  The status
 * "Command Aborted due to Host" (NVME_SC_HOST_ABORTED_CMD) lets
 * tnvme_complete_rq() decide: requeue it if a reset is bringing the
 * controller back, fail it otherwise.
 */
bool tnvme_cancel_request(struct request *req, void *data)
{
	struct tnvme_queue *q = req->mq_hctx->driver_data;

	if (blk_mq_request_completed(req))
		return true;
	tnvme_iod(req)->status = NVME_SC_HOST_ABORTED_CMD;
	tnvme_unmap_data(q->dev, req);
	blk_mq_complete_request(req);
	return true;
}
