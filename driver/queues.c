// SPDX-License-Identifier: GPL-2.0
/*
 * Queues: their memory, their doorbells, their interrupts, and the admin
 * commands that create and delete I/O queues.
 *
 * An NVMe queue pair is two rings, normally in host memory (3.3; an I/O
 * SQ may live in the controller's memory buffer instead, see cmb.c):
 *
 *   Submission Queue (SQ): 64-byte commands.  The host writes at the tail
 *   and then writes the new tail to the SQ Tail Doorbell; the controller
 *   fetches from the head.
 *
 *   Completion Queue (CQ): 16-byte completion entries.  The controller
 *   writes at its tail and raises the queue's interrupt; the host consumes
 *   from the head and writes the new head to the CQ Head Doorbell, which
 *   hands those slots back to the controller.
 *
 * A ring of N entries holds at most N - 1 commands: head == tail means
 * "empty", so "full" must be tail + 1 == head.
 */
#include <linux/interrupt.h>
#include <linux/io-64-nonatomic-lo-hi.h>

#include "tnvme.h"

/*
 * Doorbell address (PCIe transport; the doorbells follow the controller
 * properties of 3.1.3 at offset 1000h).  Each queue id has an SQ Tail
 * doorbell and then a CQ Head doorbell, each (4 << CAP.DSTRD) bytes apart:
 *
 *     0x1000 + (2 * qid + is_cq) * (4 << DSTRD)
 */
static u32 __iomem *tnvme_doorbell(struct tnvme_dev *dev, u16 qid, bool is_cq)
{
	return dev->bar + NVME_REG_DBS + (2 * qid + is_cq) * dev->db_stride;
}

/*
 * Allocate the rings of one queue pair.  The controller reads and writes
 * them by DMA at any time, so they come from dma_alloc_coherent(): CPU and
 * device always see the same bytes without explicit cache maintenance.
 * Both rings are physically contiguous (we set PC = 1 when creating them)
 * and page aligned, as the base address fields require.
 *
 * An I/O SQ may live in the controller's own memory instead (cmb.c);
 * then there is nothing to allocate in host memory, and sq_dma is the
 * address at which the controller knows that part of its CMB.
 */
int tnvme_alloc_queue(struct tnvme_dev *dev, u16 qid, u16 depth)
{
	struct tnvme_queue *q = &dev->queues[qid];
	struct device *dmadev = &dev->pdev->dev;

	/* Doorbells must exist for this qid inside BAR0. */
	if ((unsigned long)(tnvme_doorbell(dev, qid, true) + 1) >
	    (unsigned long)dev->bar + dev->bar_size)
		return -ENOSPC;

	q->cqes = dma_alloc_coherent(dmadev, depth * sizeof(*q->cqes),
				     &q->cq_dma, GFP_KERNEL);
	if (!q->cqes)
		return -ENOMEM;
	if (qid)
		q->sq_cmds_io = tnvme_cmb_alloc_sq(dev, depth * sizeof(*q->sq_cmds),
						   &q->sq_dma);
	if (!q->sq_cmds_io)
		q->sq_cmds = dma_alloc_coherent(dmadev,
						depth * sizeof(*q->sq_cmds),
						&q->sq_dma, GFP_KERNEL);
	if (!q->sq_cmds && !q->sq_cmds_io) {
		dma_free_coherent(dmadev, depth * sizeof(*q->cqes), q->cqes,
				  q->cq_dma);
		q->cqes = NULL;
		return -ENOMEM;
	}

	q->dev = dev;
	q->qid = qid;
	q->depth = depth;
	spin_lock_init(&q->sq_lock);
	q->sq_db = tnvme_doorbell(dev, qid, false);
	q->cq_db = tnvme_doorbell(dev, qid, true);
	/* Admin queue on vector 0, I/O queue n on vector n. */
	q->cq_vector = qid;
	spin_lock_init(&q->cq_poll_lock);
	snprintf(q->irq_name, sizeof(q->irq_name), "tnvme%dq%u",
		 dev->instance, qid);
	tnvme_init_queue_state(q);
	return 0;
}

/*
 * Reset the host's view of a queue to "empty, first pass".
 *
 * The phase tag (3.3, and the P bit of the CQE, 3.3.3.2): the controller
 * writes the inverse of the previous phase value every time it wraps
 * around the CQ.  The ring starts all zeroes, so on the first pass a new
 * entry has P = 1; after the host wraps, new entries have P = 0, and so
 * on.  That is how the host tells a new entry from an old one without any
 * register read.  Hence: zero the ring, expect phase 1.
 */
void tnvme_init_queue_state(struct tnvme_queue *q)
{
	q->sq_tail = 0;
	q->last_sq_tail = 0;
	/* LAB-TODO(10) begin: an empty SQ: the host's head starts at the tail */
	q->sq_head = 0;
	q->sq_head_at_copy = 0;
	/* LAB-TODO(10) end */
	q->cq_head = 0;
	q->cq_phase = 1;
	memset(q->cqes, 0, q->depth * sizeof(*q->cqes));
}

void tnvme_free_queues(struct tnvme_dev *dev)
{
	struct device *dmadev = &dev->pdev->dev;
	unsigned int i;

	for (i = 0; i <= dev->nr_io_queues; i++) {
		struct tnvme_queue *q = &dev->queues[i];

		if (!q->cqes)
			continue;
		if (q->sq_cmds)
			dma_free_coherent(dmadev, q->depth * sizeof(*q->sq_cmds),
					  q->sq_cmds, q->sq_dma);
		q->sq_cmds = NULL;
		q->sq_cmds_io = NULL;
		dma_free_coherent(dmadev, q->depth * sizeof(*q->cqes),
				  q->cqes, q->cq_dma);
		q->cqes = NULL;
	}
	kfree(dev->queues);
	dev->queues = NULL;
	tnvme_cmb_free_sqs(dev);
	tnvme_shadow_db_free(dev);
}

/*
 * Tell the controller where the admin queue lives (3.1.3.8 - 3.1.3.10).
 * Only allowed while CC.EN = 0.  AQA holds both sizes, 0-based: ACQS in
 * bits 27:16, ASQS in bits 11:0.
 */
void tnvme_program_admin_queue(struct tnvme_dev *dev)
{
	struct tnvme_queue *q = tnvme_admin_queue(dev);
	u32 aqa = (q->depth - 1) | ((q->depth - 1) << 16);

	writel(aqa, dev->bar + NVME_REG_AQA);
	lo_hi_writeq(q->sq_dma, dev->bar + NVME_REG_ASQ);
	lo_hi_writeq(q->cq_dma, dev->bar + NVME_REG_ACQ);
}

/* ---------------------------------------------------------------------
 * Interrupts: one MSI-X vector per CQ, except a poll queue's, which has
 * none.
 */

int tnvme_request_irq(struct tnvme_queue *q)
{
	int ret;

	ret = request_irq(pci_irq_vector(q->dev->pdev, q->cq_vector),
			  tnvme_irq, 0, q->irq_name, q);
	if (!ret)
		q->irq_requested = true;
	return ret;
}

static void tnvme_free_irq(struct tnvme_queue *q)
{
	if (!q->irq_requested)
		return;
	free_irq(pci_irq_vector(q->dev->pdev, q->cq_vector), q);
	q->irq_requested = false;
}

/*
 * The I/O queues' handlers only; tnvme_create_io_queues() requests them
 * again as it brings each queue back.
 */
void tnvme_free_io_irqs(struct tnvme_dev *dev)
{
	unsigned int i;

	for (i = 1; i <= dev->nr_io_queues; i++)
		tnvme_free_irq(&dev->queues[i]);
}

void tnvme_free_irqs(struct tnvme_dev *dev)
{
	tnvme_free_irq(tnvme_admin_queue(dev));
	tnvme_free_io_irqs(dev);
}

/*
 * Replace the single bring-up vector with one vector for the admin queue
 * plus one per interrupt-driven I/O queue, and allocate the memory of all
 * @nr_io I/O queues.  The poll queues (the poll_queues parameter, but
 * always leaving one queue with an interrupt) come last and need no
 * vector: queues 1..N raise vectors 1..N, queues N+1..nr_io are polled.
 *
 * PCI_IRQ_AFFINITY asks for "managed" affinity: the IRQ core spreads the
 * I/O vectors over the CPUs and pins them there.  pre_vectors = 1 keeps
 * vector 0 (admin) out of the spreading.  blk_mq_pci_map_queues() later
 * reads the same spreading back, so each CPU submits to the queue whose
 * interrupt fires on that CPU and the completion stays cache-local.
 *
 * We may get fewer vectors than asked for; then we use fewer
 * interrupt-driven queues.
 */
int tnvme_setup_irq_vectors(struct tnvme_dev *dev, unsigned int nr_io)
{
	struct pci_dev *pdev = dev->pdev;
	struct irq_affinity affd = { .pre_vectors = 1 };
	unsigned int nr_poll = min(tnvme_poll_queues, nr_io - 1);
	unsigned int i;
	int ret;

	tnvme_free_irq(tnvme_admin_queue(dev));
	pci_free_irq_vectors(pdev);

	ret = pci_alloc_irq_vectors_affinity(pdev, 2, nr_io - nr_poll + 1,
					     PCI_IRQ_MSIX | PCI_IRQ_AFFINITY,
					     &affd);
	if (ret < 0)
		return ret;
	nr_io = ret - 1 + nr_poll;
	dev->nr_poll_queues = nr_poll;

	ret = tnvme_request_irq(tnvme_admin_queue(dev));
	if (ret)
		return ret;

	/* Queue depth: the parameter, bounded by what CAP.MQES allows. */
	dev->io_depth = min_t(u32, tnvme_io_depth, dev->mqes);
	for (i = 1; i <= nr_io; i++) {
		ret = tnvme_alloc_queue(dev, i, dev->io_depth);
		if (ret)
			return ret;
		dev->queues[i].polled = i > nr_io - nr_poll;
		dev->nr_io_queues = i;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Creating and deleting I/O queues (admin commands, 5.4 - 5.7).
 */

/*
 * Create I/O Completion Queue (5.4).  QSIZE is 0-based.  PC = physically
 * contiguous, IEN = interrupts enabled, IV = the MSI-X vector to raise.
 * A poll queue's CQ has IEN = 0: the controller posts entries and never
 * interrupts, and IV is ignored.
 */
static int tnvme_create_cq(struct tnvme_queue *q)
{
	struct nvme_command c = { };
	u16 flags = NVME_QUEUE_PHYS_CONTIG;

	if (!q->polled)
		flags |= NVME_CQ_IRQ_ENABLED;
	c.create_cq.opcode = nvme_admin_create_cq;
	c.create_cq.prp1 = cpu_to_le64(q->cq_dma);
	c.create_cq.cqid = cpu_to_le16(q->qid);
	c.create_cq.qsize = cpu_to_le16(q->depth - 1);
	c.create_cq.cq_flags = cpu_to_le16(flags);
	c.create_cq.irq_vector = cpu_to_le16(q->polled ? 0 : q->cq_vector);
	return tnvme_submit_sync(q->dev, &c, NULL, 0, NULL);
}

/*
 * Create I/O Submission Queue (5.5).  The CQ it posts completions to must
 * exist first; we pair SQ n with CQ n.
 */
static int tnvme_create_sq(struct tnvme_queue *q)
{
	struct nvme_command c = { };

	c.create_sq.opcode = nvme_admin_create_sq;
	c.create_sq.prp1 = cpu_to_le64(q->sq_dma);
	c.create_sq.sqid = cpu_to_le16(q->qid);
	c.create_sq.qsize = cpu_to_le16(q->depth - 1);
	c.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG);
	c.create_sq.cqid = cpu_to_le16(q->qid);
	return tnvme_submit_sync(q->dev, &c, NULL, 0, NULL);
}

static int tnvme_delete_queue(struct tnvme_queue *q, u8 opcode)
{
	struct nvme_command c = { };

	c.delete_queue.opcode = opcode;
	c.delete_queue.qid = cpu_to_le16(q->qid);
	return tnvme_submit_sync(q->dev, &c, NULL, 0, NULL);
}

/*
 * Create every I/O queue: CQ first, then the SQ that points at it.  Used
 * at probe and after a reset (the controller forgets its queues when
 * disabled; the host memory, vectors and IRQ handlers stay).  The shadow
 * doorbell buffers go first: a queue is attached to them when created.
 */
int tnvme_create_io_queues(struct tnvme_dev *dev)
{
	unsigned int i;
	int ret;

	tnvme_shadow_db_setup(dev);
	for (i = 1; i <= dev->nr_io_queues; i++) {
		struct tnvme_queue *q = &dev->queues[i];

		/*
		 * After a reset a task may still be polling a poll queue
		 * (tnvme_poll()) for requests the reset requeued: it must
		 * not read the ring while it is being cleared.
		 */
		spin_lock(&q->cq_poll_lock);
		tnvme_init_queue_state(q);
		spin_unlock(&q->cq_poll_lock);
		tnvme_shadow_db_init_queue(q);
		ret = tnvme_create_cq(q);
		if (ret)
			goto fail;
		ret = tnvme_create_sq(q);
		if (ret) {
			tnvme_delete_queue(q, nvme_admin_delete_cq);
			goto fail;
		}
		if (!q->polled && !q->irq_requested) {
			ret = tnvme_request_irq(q);
			if (ret)
				goto fail_live;
		}
		q->live = true;
	}
	return 0;

fail_live:
	dev->queues[i].live = true;
fail:
	dev_err(&dev->pdev->dev, "creating I/O queue %u failed: %d\n", i, ret);
	tnvme_delete_io_queues(dev);
	return ret > 0 ? -EIO : ret;
}

/*
 * Delete I/O queues, last first.  Each SQ must go before its CQ (5.6: a
 * CQ with an SQ still attached cannot be deleted).
 */
void tnvme_delete_io_queues(struct tnvme_dev *dev)
{
	unsigned int i;

	for (i = dev->nr_io_queues; i >= 1; i--) {
		struct tnvme_queue *q = &dev->queues[i];

		if (!q->live)
			continue;
		q->live = false;
		/* No admin queue (controller disabled): nothing to tell it. */
		if (!tnvme_admin_queue(dev)->live)
			continue;
		tnvme_delete_queue(q, nvme_admin_delete_sq);
		tnvme_delete_queue(q, nvme_admin_delete_cq);
	}
}
