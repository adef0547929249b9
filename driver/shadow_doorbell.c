// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow doorbells: fewer doorbell writes for emulated controllers.
 *
 * On real hardware a doorbell write is a cheap posted PCIe write.  On an
 * emulated controller (QEMU, and a virtual machine's view of any
 * paravirtual NVMe device) every MMIO write traps into the hypervisor:
 * the vCPU stops, the emulator handles the write, the vCPU resumes.  That
 * costs microseconds, one or two per command.
 *
 * The Doorbell Buffer Config command (5.11) lets the host avoid most of
 * them.  The host gives the controller two pages of its memory:
 *
 *   Shadow Doorbell buffer  the host writes every new SQ tail / CQ head
 *                           here, laid out like the doorbell registers
 *                           (SQ y at 2y, CQ y at 2y + 1, in units of the
 *                           doorbell stride);
 *   EventIdx buffer         the controller writes, per queue, the value it
 *                           wants to be told about: "ring the real doorbell
 *                           once you move past this one".
 *
 * The controller reads the shadow values whenever it works on a queue
 * anyway.  The host writes the MMIO doorbell only if its update crossed
 * the queue's EventIdx, i.e. the controller may have gone to sleep on that
 * queue.  The same rule virtio uses for its rings (VIRTIO_RING_F_EVENT_IDX).
 *
 * Only I/O queues use the buffers; the admin queue always rings the real
 * doorbell (as Linux's nvme driver does; QEMU copies such writes into the
 * shadow buffer itself).
 *
 * The controller advertises the command in Identify Controller OACS bit 8.
 * tnvme uses it unless loaded with shadow_doorbells=0, which makes every
 * doorbell a trapped MMIO write again: the device view of nvmescope needs
 * that (every doorbell must appear in QEMU's trace).
 */
#include "tnvme.h"

/* The two buffers are one controller page each. */
#define TNVME_SHADOW_DB_SIZE	TNVME_CTRL_PAGE_SIZE

/* Index of a doorbell in the buffers: the register layout, in __le32. */
static unsigned int tnvme_shadow_db_index(struct tnvme_dev *dev, u16 qid,
					  bool is_cq)
{
	return (2 * qid + is_cq) * (dev->db_stride / sizeof(__le32));
}

static bool tnvme_shadow_db_wanted(struct tnvme_dev *dev)
{
	unsigned int last = tnvme_shadow_db_index(dev, dev->nr_io_queues, true);

	if (!tnvme_shadow_doorbells || !(dev->oacs & NVME_CTRL_OACS_DBBUF_SUPP))
		return false;
	/* every queue's two doorbells must fit in one page */
	return (last + 1) * sizeof(__le32) <= TNVME_SHADOW_DB_SIZE;
}

void tnvme_shadow_db_free(struct tnvme_dev *dev)
{
	struct device *dmadev = &dev->pdev->dev;

	if (dev->shadow_dbs)
		dma_free_coherent(dmadev, TNVME_SHADOW_DB_SIZE, dev->shadow_dbs,
				  dev->shadow_dbs_dma);
	if (dev->event_idxs)
		dma_free_coherent(dmadev, TNVME_SHADOW_DB_SIZE, dev->event_idxs,
				  dev->event_idxs_dma);
	dev->shadow_dbs = NULL;
	dev->event_idxs = NULL;
}

/*
 * Give the controller the two buffers, before the I/O queues are created
 * (the controller attaches a queue to them when it creates it).  At probe
 * and after every reset: a reset makes the controller forget them.  Both
 * start zeroed, matching new queues (tail 0, head 0).
 *
 * If anything fails, the driver keeps ringing the MMIO doorbells: the
 * buffers are an optimization, never a reason to fail.
 */
void tnvme_shadow_db_setup(struct tnvme_dev *dev)
{
	struct device *dmadev = &dev->pdev->dev;
	struct nvme_command c = { };
	int ret;

	if (!tnvme_shadow_db_wanted(dev)) {
		tnvme_shadow_db_free(dev);
		return;
	}
	if (!dev->shadow_dbs) {
		dev->shadow_dbs = dma_alloc_coherent(dmadev, TNVME_SHADOW_DB_SIZE,
						     &dev->shadow_dbs_dma,
						     GFP_KERNEL);
		dev->event_idxs = dma_alloc_coherent(dmadev, TNVME_SHADOW_DB_SIZE,
						     &dev->event_idxs_dma,
						     GFP_KERNEL);
		if (!dev->shadow_dbs || !dev->event_idxs) {
			tnvme_shadow_db_free(dev);
			return;
		}
	}
	memset(dev->shadow_dbs, 0, TNVME_SHADOW_DB_SIZE);
	memset(dev->event_idxs, 0, TNVME_SHADOW_DB_SIZE);

	/* PRP1: the shadow doorbells, PRP2: the EventIdx buffer (5.11) */
	c.dbbuf.opcode = nvme_admin_dbbuf;
	c.dbbuf.prp1 = cpu_to_le64(dev->shadow_dbs_dma);
	c.dbbuf.prp2 = cpu_to_le64(dev->event_idxs_dma);
	ret = tnvme_submit_sync(dev, &c, NULL, 0, NULL);
	if (ret) {
		dev_warn(&dev->pdev->dev,
			 "Doorbell Buffer Config failed (%d), using MMIO doorbells only\n",
			 ret);
		tnvme_shadow_db_free(dev);
	}
}

/* Point an I/O queue at its slots in the buffers (NULL: MMIO only). */
void tnvme_shadow_db_init_queue(struct tnvme_queue *q)
{
	struct tnvme_dev *dev = q->dev;

	if (!dev->shadow_dbs || !q->qid) {
		q->shadow_sq_db = NULL;
		q->shadow_cq_db = NULL;
		q->sq_event_idx = NULL;
		q->cq_event_idx = NULL;
		return;
	}
	q->shadow_sq_db = &dev->shadow_dbs[tnvme_shadow_db_index(dev, q->qid, false)];
	q->shadow_cq_db = &dev->shadow_dbs[tnvme_shadow_db_index(dev, q->qid, true)];
	q->sq_event_idx = &dev->event_idxs[tnvme_shadow_db_index(dev, q->qid, false)];
	q->cq_event_idx = &dev->event_idxs[tnvme_shadow_db_index(dev, q->qid, true)];
}

/*
 * Did moving the doorbell value from @old to @new pass @event_idx?  That
 * is, is event_idx one of old, old + 1, ..., new - 1 on the 16-bit ring of
 * doorbell values?  Written as differences, so wrapping needs no special
 * case: new - event_idx - 1 counts back from new to just past event_idx.
 */
static bool tnvme_crossed_event_idx(u16 event_idx, u16 new, u16 old)
{
	return (u16)(new - event_idx - 1) < (u16)(new - old);
}

/*
 * Publish a new SQ tail or CQ head in the shadow buffer.  Returns true if
 * the MMIO doorbell must be written as well.
 */
bool tnvme_shadow_db_update(__le32 *shadow_db, __le32 *event_idx, u16 value)
{
	u16 old;

	/*
	 * The SQ entries (or, for the CQ, our reads of the CQEs) must be done
	 * before the controller can see the new value.  writel() has this
	 * barrier built in; a plain memory write needs it spelled out.
	 */
	wmb();
	old = le32_to_cpu(READ_ONCE(*shadow_db));
	WRITE_ONCE(*shadow_db, cpu_to_le32(value));
	/*
	 * Full barrier: our new value must be visible before we read the
	 * EventIdx.  The controller does the mirror image (writes EventIdx,
	 * then reads the shadow value), so at least one of us sees the
	 * other's write and the update is never lost.
	 */
	mb();
	return tnvme_crossed_event_idx(le32_to_cpu(READ_ONCE(*event_idx)),
				       value, old);
}
