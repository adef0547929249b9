// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces: one gendisk per active namespace, named tnvme<c>n<nsid>.
 *
 * All disks of a controller share the I/O tag set, so they share the
 * hardware queues; the namespace id in each command tells the controller
 * which namespace it is for.
 */
#include <linux/blkdev.h>
#include <linux/slab.h>

#include "tnvme.h"

/* The gendisk's last reference is gone: free what it pointed to. */
static void tnvme_free_disk(struct gendisk *disk)
{
	struct tnvme_ns *ns = disk->private_data;

	tnvme_put_dev(ns->dev);
	kfree(ns);
}

static const struct block_device_operations tnvme_bdev_ops = {
	.owner		= THIS_MODULE,
	.ioctl		= tnvme_ns_ioctl,
	.compat_ioctl	= blkdev_compat_ptr_ioctl,
	.free_disk	= tnvme_free_disk,
};

/* Block sizes, limits and features of one namespace's queue. */
static void tnvme_set_ns_limits(struct tnvme_ns *ns)
{
	struct tnvme_dev *dev = ns->dev;
	struct request_queue *q = ns->disk->queue;
	u32 bs = 1U << ns->lba_shift;
	/* Read/Write NLB is 16 bits, 0-based: at most 65536 blocks. */
	u32 max_blocks_sectors = 65536U << (ns->lba_shift - SECTOR_SHIFT);

	tnvme_set_queue_limits(dev, q);
	blk_queue_max_hw_sectors(q, min(dev->max_xfer >> SECTOR_SHIFT,
					max_blocks_sectors));
	blk_queue_logical_block_size(q, bs);
	blk_queue_physical_block_size(q, bs);
	blk_queue_io_min(q, bs);

	/* Discard = Dataset Management / Deallocate, one range per request. */
	if (dev->oncs & NVME_CTRL_ONCS_DSM) {
		q->limits.discard_granularity = bs;
		blk_queue_max_discard_segments(q, 1);
		blk_queue_max_discard_sectors(q, UINT_MAX >> SECTOR_SHIFT);
	}
	if (dev->oncs & NVME_CTRL_ONCS_WRITE_ZEROES)
		blk_queue_max_write_zeroes_sectors(q, max_blocks_sectors);

	/*
	 * A volatile write cache means completed writes may still sit in
	 * controller RAM: tell the block layer so it sends flushes, and that
	 * Write with FUA is available.
	 */
	blk_queue_write_cache(q, dev->vwc & NVME_CTRL_VWC_PRESENT,
			      dev->vwc & NVME_CTRL_VWC_PRESENT);
}

/*
 * Add the namespace @nsid if it is usable: active, a block size between
 * 512 bytes and one page, and no metadata (we do not map metadata).
 */
static int tnvme_add_ns(struct tnvme_dev *dev, u32 nsid, struct nvme_id_ns *id)
{
	struct tnvme_ns *ns;
	struct gendisk *disk;
	struct nvme_lbaf *lbaf;
	int ret;

	ret = tnvme_identify_ns(dev, nsid, id);
	if (ret)
		return ret;
	if (!id->ncap)
		return 0;	/* allocated but not active: nothing to show */

	/*
	 * FLBAS selects the LBA format in use (NVM Command Set
	 * specification, Identify Namespace data structure).
	 */
	lbaf = &id->lbaf[nvme_lbaf_index(id->flbas)];
	if (lbaf->ms || lbaf->ds < SECTOR_SHIFT || lbaf->ds > PAGE_SHIFT) {
		dev_warn(&dev->pdev->dev,
			 "nsid %u: LBA format (%u B, %u B metadata) not supported, skipped\n",
			 nsid, 1U << lbaf->ds, le16_to_cpu(lbaf->ms));
		return 0;
	}

	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	ns->dev = dev;
	ns->nsid = nsid;
	ns->lba_shift = lbaf->ds;
	ns->nsze = le64_to_cpu(id->nsze);

	disk = blk_mq_alloc_disk(&dev->io_set, ns);
	if (IS_ERR(disk)) {
		kfree(ns);
		return PTR_ERR(disk);
	}
	ns->disk = disk;
	/* From here on the disk owns ns: tnvme_free_disk() frees it. */
	tnvme_get_dev(dev);
	disk->fops = &tnvme_bdev_ops;
	disk->private_data = ns;
	snprintf(disk->disk_name, DISK_NAME_LEN, "tnvme%dn%u",
		 dev->instance, nsid);
	tnvme_set_ns_limits(ns);
	set_capacity(disk, ns->nsze << (ns->lba_shift - SECTOR_SHIFT));

	/*
	 * Join the list before device_add_disk(): adding the disk reads the
	 * partition table, that read may time out and start a reset, and the
	 * reset must quiesce this queue too.  If a reset is under way right
	 * now, the new queue starts quiesced like the others.
	 */
	down_write(&dev->ns_rwsem);
	list_add_tail(&ns->entry, &dev->namespaces);
	if (test_bit(TNVME_F_IO_STOPPED, &dev->flags))
		blk_mq_quiesce_queue(disk->queue);
	up_write(&dev->ns_rwsem);

	/* major = 0: the block layer picks numbers from its extended range. */
	ret = device_add_disk(&dev->pdev->dev, disk, NULL);
	if (ret) {
		down_write(&dev->ns_rwsem);
		list_del(&ns->entry);
		if (test_bit(TNVME_F_IO_STOPPED, &dev->flags))
			blk_mq_unquiesce_queue(disk->queue);
		up_write(&dev->ns_rwsem);
		put_disk(disk);
		return ret;
	}
	dev_info(&dev->pdev->dev, "%s: %llu blocks of %u B (%llu MiB)\n",
		 disk->disk_name, ns->nsze, 1U << ns->lba_shift,
		 (ns->nsze << ns->lba_shift) >> 20);
	return 0;
}

/*
 * Find the active namespaces with Identify CNS 02h and add each.  If the
 * controller does not support that list, try ids 1..NN one by one.
 */
int tnvme_scan_namespaces(struct tnvme_dev *dev)
{
	bool have_list;
	__le32 *list;
	void *id;
	u32 i, nsid;
	int ret;

	list = kzalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	id = kzalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	if (!list || !id) {
		ret = -ENOMEM;
		goto out;
	}

	have_list = tnvme_active_ns_list(dev, list) == 0;
	for (i = 0; i < NVME_IDENTIFY_DATA_SIZE / sizeof(*list); i++) {
		nsid = have_list ? le32_to_cpu(list[i]) : i + 1;
		if (!nsid || (!have_list && nsid > dev->nn))
			break;
		ret = tnvme_add_ns(dev, nsid, id);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	kfree(id);
	kfree(list);
	if (ret)
		tnvme_remove_namespaces(dev);
	return ret;
}

/*
 * Delete all gendisks.  del_gendisk() waits for their I/O to finish; the
 * memory goes when the last opener closes (tnvme_free_disk()).
 *
 * The list is taken private under ns_rwsem first, so the recovery code
 * (which walks it to quiesce the queues) never sees a namespace
 * disappear under it, and del_gendisk() runs without the lock (it waits
 * for I/O, which may need the timeout handler, which takes the lock).
 * If the queues were quiesced, let them go first: a request stuck behind
 * a quiesced queue would keep del_gendisk() waiting for ever.
 */
void tnvme_remove_namespaces(struct tnvme_dev *dev)
{
	struct tnvme_ns *ns, *next;
	LIST_HEAD(list);

	down_write(&dev->ns_rwsem);
	if (test_and_clear_bit(TNVME_F_IO_STOPPED, &dev->flags))
		list_for_each_entry(ns, &dev->namespaces, entry)
			blk_mq_unquiesce_queue(ns->disk->queue);
	list_splice_init(&dev->namespaces, &list);
	up_write(&dev->ns_rwsem);

	list_for_each_entry(ns, &list, entry)
		del_gendisk(ns->disk);
	list_for_each_entry_safe(ns, next, &list, entry) {
		list_del(&ns->entry);
		put_disk(ns->disk);
	}
}

/*
 * Recovery helper: keep CPUs out of queue_rq() (true) or let them in
 * again (false).  blk_mq_quiesce_queue() nests (a queue quiesced twice
 * needs two unquiesces), so the TNVME_F_IO_STOPPED bit makes repeated
 * calls harmless: only the first stop and the first start act.  After a
 * start, kick the requeue lists: requests that a reset sent back wait
 * there (tnvme_complete_rq() in io.c).
 */
void tnvme_quiesce_namespaces(struct tnvme_dev *dev, bool quiesce)
{
	struct tnvme_ns *ns;

	down_read(&dev->ns_rwsem);
	if (quiesce) {
		if (!test_and_set_bit(TNVME_F_IO_STOPPED, &dev->flags))
			list_for_each_entry(ns, &dev->namespaces, entry)
				blk_mq_quiesce_queue(ns->disk->queue);
	} else {
		if (test_and_clear_bit(TNVME_F_IO_STOPPED, &dev->flags))
			list_for_each_entry(ns, &dev->namespaces, entry)
				blk_mq_unquiesce_queue(ns->disk->queue);
		list_for_each_entry(ns, &dev->namespaces, entry)
			blk_mq_kick_requeue_list(ns->disk->queue);
	}
	up_read(&dev->ns_rwsem);
}
