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
#include <linux/uuid.h>

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

/*
 * Block sizes, limits and features of one namespace's queue, from what
 * the controller and the namespace report, chosen as the stock driver
 * chooses them (nvme_update_disk_info() and friends in its core.c) so
 * that tools see the same disk; docs/tnvme.md lists what still differs.
 */
static void tnvme_set_ns_limits(struct tnvme_ns *ns, struct nvme_id_ns *id)
{
	struct tnvme_dev *dev = ns->dev;
	struct request_queue *q = ns->disk->queue;
	u32 bs = 1U << ns->lba_shift;
	u32 phys_bs = bs, io_opt = bs, atomic_bs = bs;
	/* Read/Write NLB is 16 bits, 0-based: at most 65536 blocks. */
	u32 max_blocks_sectors = 65536U << (ns->lba_shift - SECTOR_SHIFT);
	u32 max_sectors = min(dev->max_xfer >> SECTOR_SHIFT, max_blocks_sectors);
	u64 discard_sectors;

	tnvme_set_queue_limits(dev, q);
	blk_queue_max_hw_sectors(q, max_sectors);

	/*
	 * The namespace's preferred sizes (NVM Command Set spec, Identify
	 * Namespace, when NSFEAT bit 4 says they are valid): NPWG is the
	 * write granularity, NOWS the optimal write size.  A write is only
	 * atomic across a power failure up to AWUPF blocks (or the
	 * namespace's own NAWUPF), so the "physical" block we advertise is
	 * never bigger than that.
	 */
	if (id->nsfeat & NVME_NS_FEAT_IO_OPT) {
		phys_bs = bs * (1 + le16_to_cpu(id->npwg));
		io_opt = bs * (1 + le16_to_cpu(id->nows));
	}
	if (!id->nabo) {
		if ((id->nsfeat & NVME_NS_FEAT_ATOMICS) && id->nawupf)
			atomic_bs = bs * (1 + le16_to_cpu(id->nawupf));
		else
			atomic_bs = bs * (1 + dev->awupf);
	}
	blk_queue_logical_block_size(q, bs);
	blk_queue_physical_block_size(q, min(phys_bs, atomic_bs));
	blk_queue_io_min(q, phys_bs);
	blk_queue_io_opt(q, io_opt);

	/*
	 * NOIOB: the namespace is faster when no I/O crosses a multiple of
	 * this many blocks; the block layer splits there for us.
	 */
	if (id->noiob && is_power_of_2(le16_to_cpu(id->noiob)))
		blk_queue_chunk_sectors(q, le16_to_cpu(id->noiob) <<
					(ns->lba_shift - SECTOR_SHIFT));

	/*
	 * Discard = Dataset Management with Deallocate: up to DMRL ranges
	 * per command (256 when the controller sets no limit, what one
	 * 4 KiB page of 16-byte ranges holds), each at most DMRSL blocks,
	 * all together at most DMSL blocks.  The block layer merges discard
	 * bios into one request of several ranges and splits any bio
	 * bigger than max_discard_sectors, so a range that the controller
	 * would skip is never sent.
	 */
	if (dev->oncs & NVME_CTRL_ONCS_DSM) {
		discard_sectors = UINT_MAX;
		if (dev->dmrsl)
			discard_sectors = min_t(u64, discard_sectors,
						(u64)dev->dmrsl <<
						(ns->lba_shift - SECTOR_SHIFT));
		if (dev->dmsl)
			discard_sectors = min_t(u64, discard_sectors,
						dev->dmsl <<
						(ns->lba_shift - SECTOR_SHIFT));
		q->limits.discard_granularity = bs;
		blk_queue_max_discard_segments(q, dev->dmrl ?
					       min_t(u32, dev->dmrl, TNVME_DSM_MAX_RANGES) :
					       TNVME_DSM_MAX_RANGES);
		blk_queue_max_discard_sectors(q, round_down(discard_sectors,
							    bs >> SECTOR_SHIFT));
	} else {
		blk_queue_max_discard_sectors(q, 0);
	}

	/*
	 * Write Zeroes: WZSL (in minimum memory pages) when the controller
	 * gives one.  Otherwise, like the stock driver, no more than a read
	 * or write may carry: MDTS does not formally apply to a command
	 * without data, but controllers have been seen to fail bigger ones.
	 */
	if (dev->oncs & NVME_CTRL_ONCS_WRITE_ZEROES) {
		u32 wz = max_sectors;

		if (dev->wzsl)
			wz = min_t(u64, max_blocks_sectors,
				   (u64)(1U << (12 + NVME_CAP_MPSMIN(dev->cap)))
				   << dev->wzsl >> SECTOR_SHIFT);
		blk_queue_max_write_zeroes_sectors(q, wz);
	} else {
		blk_queue_max_write_zeroes_sectors(q, 0);
	}

	/*
	 * A volatile write cache means completed writes may still sit in
	 * controller RAM: tell the block layer so it sends flushes, and that
	 * Write with FUA is available.
	 */
	blk_queue_write_cache(q, dev->vwc & NVME_CTRL_VWC_PRESENT,
			      dev->vwc & NVME_CTRL_VWC_PRESENT);
}

/* ---------------------------------------------------------------------
 * The disk's identity in sysfs, the attributes the stock driver gives
 * /sys/block/nvme<c>n<n>/: udev's persistent-storage rules build
 * /dev/disk/by-id names from wwid, and multipath tools read it.
 */
static struct tnvme_ns *tnvme_ns_from_dev(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static bool tnvme_nonzero(const void *p, size_t len)
{
	return memchr_inv(p, 0, len);
}

/*
 * World Wide Identifier: the best unique name the namespace has (UUID,
 * then NGUID, then EUI-64), or else one made from the PCI vendor id,
 * the controller's serial number and model (as reported, trailing
 * spaces cut) and the namespace id.
 */
static ssize_t wwid_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	struct tnvme_ns *ns = tnvme_ns_from_dev(d);
	struct tnvme_dev *dev = ns->dev;
	int sn = sizeof(dev->raw_serial), mn = sizeof(dev->raw_model);

	if (!uuid_is_null(&ns->ids.uuid))
		return sysfs_emit(buf, "uuid.%pU\n", &ns->ids.uuid);
	if (tnvme_nonzero(ns->ids.nguid, sizeof(ns->ids.nguid)))
		return sysfs_emit(buf, "eui.%16phN\n", ns->ids.nguid);
	if (tnvme_nonzero(ns->ids.eui64, sizeof(ns->ids.eui64)))
		return sysfs_emit(buf, "eui.%8phN\n", ns->ids.eui64);
	while (sn && (dev->raw_serial[sn - 1] == ' ' || !dev->raw_serial[sn - 1]))
		sn--;
	while (mn && (dev->raw_model[mn - 1] == ' ' || !dev->raw_model[mn - 1]))
		mn--;
	return sysfs_emit(buf, "nvme.%04x-%*phN-%*phN-%08x\n", dev->vid,
			  sn, dev->raw_serial, mn, dev->raw_model, ns->nsid);
}
static DEVICE_ATTR_RO(wwid);

static ssize_t nsid_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%u\n", tnvme_ns_from_dev(d)->nsid);
}
static DEVICE_ATTR_RO(nsid);

static ssize_t eui_show(struct device *d, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%8ph\n", tnvme_ns_from_dev(d)->ids.eui64);
}
static DEVICE_ATTR_RO(eui);

static ssize_t nguid_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%pU\n", tnvme_ns_from_dev(d)->ids.nguid);
}
static DEVICE_ATTR_RO(nguid);

/* Without a UUID the stock driver shows the NGUID here; so do we. */
static ssize_t uuid_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	struct tnvme_ns_ids *ids = &tnvme_ns_from_dev(d)->ids;

	if (uuid_is_null(&ids->uuid))
		return sysfs_emit(buf, "%pU\n", ids->nguid);
	return sysfs_emit(buf, "%pU\n", &ids->uuid);
}
static DEVICE_ATTR_RO(uuid);

static struct attribute *tnvme_ns_attrs[] = {
	&dev_attr_wwid.attr,
	&dev_attr_nsid.attr,
	&dev_attr_eui.attr,
	&dev_attr_nguid.attr,
	&dev_attr_uuid.attr,
	NULL,
};

/* An identifier the namespace does not have gets no file. */
static umode_t tnvme_ns_attr_visible(struct kobject *kobj,
				     struct attribute *a, int n)
{
	struct tnvme_ns_ids *ids = &tnvme_ns_from_dev(kobj_to_dev(kobj))->ids;
	bool nguid = tnvme_nonzero(ids->nguid, sizeof(ids->nguid));

	if (a == &dev_attr_eui.attr &&
	    !tnvme_nonzero(ids->eui64, sizeof(ids->eui64)))
		return 0;
	if (a == &dev_attr_nguid.attr && !nguid)
		return 0;
	if (a == &dev_attr_uuid.attr && uuid_is_null(&ids->uuid) && !nguid)
		return 0;
	return a->mode;
}

static const struct attribute_group tnvme_ns_attr_group = {
	.attrs		= tnvme_ns_attrs,
	.is_visible	= tnvme_ns_attr_visible,
};

static const struct attribute_group *tnvme_ns_attr_groups[] = {
	&tnvme_ns_attr_group,
	NULL,
};

/* ---------------------------------------------------------------------
 * Adding, updating and removing namespaces.
 */

/*
 * The LBA format a namespace uses, if we can use it: a block size
 * between 512 bytes and one page, and no metadata (we do not map
 * metadata).  FLBAS selects the format (NVM Command Set specification,
 * Identify Namespace data structure).  Return: log2 of the block size,
 * or 0 if unusable.
 */
static u8 tnvme_ns_lba_shift(struct tnvme_dev *dev, u32 nsid,
			     struct nvme_id_ns *id)
{
	struct nvme_lbaf *lbaf = &id->lbaf[nvme_lbaf_index(id->flbas)];

	if (lbaf->ms || lbaf->ds < SECTOR_SHIFT || lbaf->ds > PAGE_SHIFT) {
		dev_warn(&dev->pdev->dev,
			 "nsid %u: LBA format (%u B, %u B metadata) not supported, skipped\n",
			 nsid, 1U << lbaf->ds, le16_to_cpu(lbaf->ms));
		return 0;
	}
	return lbaf->ds;
}

/* Identify Namespace's EUI-64 and NGUID, then the descriptor list. */
static int tnvme_ns_get_ids(struct tnvme_dev *dev, u32 nsid,
			    struct nvme_id_ns *id, struct tnvme_ns_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	memcpy(ids->eui64, id->eui64, sizeof(ids->eui64));
	memcpy(ids->nguid, id->nguid, sizeof(ids->nguid));
	return tnvme_identify_ns_descs(dev, nsid, ids);
}

static int tnvme_add_ns(struct tnvme_dev *dev, u32 nsid, struct nvme_id_ns *id)
{
	struct tnvme_ns *ns;
	struct gendisk *disk;
	u8 lba_shift;
	int ret;

	lba_shift = tnvme_ns_lba_shift(dev, nsid, id);
	if (!lba_shift)
		return 0;

	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	ns->dev = dev;
	ns->nsid = nsid;
	ns->lba_shift = lba_shift;
	ns->nsze = le64_to_cpu(id->nsze);
	ret = tnvme_ns_get_ids(dev, nsid, id, &ns->ids);
	if (ret) {
		kfree(ns);
		return ret;
	}

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
	/* Flash, not a spinning disk: no seek-avoiding heuristics. */
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	tnvme_set_ns_limits(ns, id);
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

	/*
	 * The disk is a child of the controller device (/dev/tnvme<c>), as
	 * the stock driver's disks are children of nvme<c>: the disk's
	 * "device" link leads to the model, serial and firmware revision.
	 * major = 0: the block layer picks numbers from its extended range.
	 */
	ret = device_add_disk(&dev->ctrl_device, disk, tnvme_ns_attr_groups);
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
 * A rescan found @ns again.  If its identity changed it is a different
 * namespace under the same id (one detached, another attached): the
 * caller removes the disk and adds a new one (-ENODEV), as it does when
 * the namespace now has a format we cannot use.  A new size, or a new
 * LBA format after a Format NVM, keeps the disk, as with the stock
 * driver: whoever has it open keeps a working file descriptor (nvme
 * format sets the new block size through one, with BLKBSZSET).  The
 * queue is frozen while the block size changes, so that no request is
 * built for one size and sent with the other.  A new size is announced
 * (a change uevent, as for any disk that grows).
 */
static int tnvme_update_ns(struct tnvme_ns *ns, struct nvme_id_ns *id)
{
	struct tnvme_dev *dev = ns->dev;
	u8 lba_shift = tnvme_ns_lba_shift(dev, ns->nsid, id);
	struct tnvme_ns_ids ids;
	bool reformatted;
	int ret;

	if (!lba_shift)
		return -ENODEV;
	ret = tnvme_ns_get_ids(dev, ns->nsid, id, &ids);
	if (ret)
		return ret;
	if (memcmp(&ids, &ns->ids, sizeof(ids)))
		return -ENODEV;
	reformatted = lba_shift != ns->lba_shift;
	if (reformatted) {
		blk_mq_freeze_queue(ns->disk->queue);
		ns->lba_shift = lba_shift;
		tnvme_set_ns_limits(ns, id);
	}
	ns->nsze = le64_to_cpu(id->nsze);
	set_capacity_and_notify(ns->disk,
				ns->nsze << (ns->lba_shift - SECTOR_SHIFT));
	if (reformatted) {
		blk_mq_unfreeze_queue(ns->disk->queue);
		dev_info(&dev->pdev->dev, "%s: reformatted, now %llu blocks of %u B\n",
			 ns->disk->disk_name, ns->nsze, 1U << ns->lba_shift);
	}
	return 0;
}

/*
 * Delete the gendisks on @list.  del_gendisk() waits for their I/O to
 * finish; the memory goes when the last opener closes
 * (tnvme_free_disk()).  The namespaces already left dev->namespaces
 * (under ns_rwsem), so the recovery code, which walks that list to
 * quiesce the queues, never sees one disappear under it, and
 * del_gendisk() runs without the lock (it waits for I/O, which may need
 * the timeout handler, which takes the lock).
 */
static void tnvme_del_ns_list(struct list_head *list)
{
	struct tnvme_ns *ns, *next;

	list_for_each_entry(ns, list, entry)
		del_gendisk(ns->disk);
	list_for_each_entry_safe(ns, next, list, entry) {
		list_del(&ns->entry);
		put_disk(ns->disk);
	}
}

/*
 * Take @ns off the controller's list, onto @list.  If the queues were
 * quiesced, let its queue go first: a request stuck behind a quiesce
 * would keep del_gendisk() waiting for ever.  Called under ns_rwsem.
 */
static void tnvme_unlist_ns(struct tnvme_dev *dev, struct tnvme_ns *ns,
			    struct list_head *list)
{
	if (test_bit(TNVME_F_IO_STOPPED, &dev->flags))
		blk_mq_unquiesce_queue(ns->disk->queue);
	list_move_tail(&ns->entry, list);
}

static struct tnvme_ns *tnvme_ns_by_id(struct tnvme_dev *dev, u32 nsid)
{
	struct tnvme_ns *ns, *found = NULL;

	down_read(&dev->ns_rwsem);
	list_for_each_entry(ns, &dev->namespaces, entry)
		if (ns->nsid == nsid)
			found = ns;
	up_read(&dev->ns_rwsem);
	return found;
}

/* Bring namespace @nsid in line with what Identify Namespace says now. */
static int tnvme_scan_ns(struct tnvme_dev *dev, u32 nsid,
			 struct nvme_id_ns *id, struct list_head *gone)
{
	struct tnvme_ns *ns = tnvme_ns_by_id(dev, nsid);
	int ret;

	ret = tnvme_identify_ns(dev, nsid, id);
	if (ret)
		return ret;
	/* NCAP 0: allocated but not active, nothing to show. */
	if (ns && (!id->ncap || tnvme_update_ns(ns, id))) {
		down_write(&dev->ns_rwsem);
		tnvme_unlist_ns(dev, ns, gone);
		up_write(&dev->ns_rwsem);
		tnvme_del_ns_list(gone);
		ns = NULL;
	}
	if (ns || !id->ncap)
		return 0;
	return tnvme_add_ns(dev, nsid, id);
}

/*
 * tnvme_scan_namespaces - make the disks match the controller's active
 * namespaces: add new ones, update the size of changed ones, remove the
 * ones that are gone.  Used by probe, by a Namespace Attribute Changed
 * event and by NVME_IOCTL_RESCAN / rescan_controller (nvme ns-rescan).
 *
 * The active namespace ids come from Identify CNS 02h; a controller
 * that does not support that list gets ids 1..NN probed one by one.
 * Return: the first error; namespaces that were fine stay.
 */
int tnvme_scan_namespaces(struct tnvme_dev *dev)
{
	struct tnvme_ns *ns, *next;
	bool have_list;
	LIST_HEAD(gone);
	__le32 *list;
	void *id;
	u32 i, nsid, n = 0;
	int ret = 0, err;

	list = kzalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	id = kzalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	if (!list || !id) {
		ret = -ENOMEM;
		goto out;
	}

	mutex_lock(&dev->scan_lock);
	have_list = tnvme_active_ns_list(dev, list) == 0;
	for (i = 0; i < NVME_IDENTIFY_DATA_SIZE / sizeof(*list); i++) {
		nsid = have_list ? le32_to_cpu(list[i]) : i + 1;
		if (!nsid || (!have_list && nsid > dev->nn))
			break;
		list[n++] = cpu_to_le32(nsid);
		err = tnvme_scan_ns(dev, nsid, id, &gone);
		if (err && !ret)
			ret = err;
	}

	/* Namespaces the list no longer has are gone. */
	down_write(&dev->ns_rwsem);
	list_for_each_entry_safe(ns, next, &dev->namespaces, entry) {
		for (i = 0; i < n; i++)
			if (le32_to_cpu(list[i]) == ns->nsid)
				break;
		if (i == n)
			tnvme_unlist_ns(dev, ns, &gone);
	}
	up_write(&dev->ns_rwsem);
	tnvme_del_ns_list(&gone);
	mutex_unlock(&dev->scan_lock);
out:
	kfree(id);
	kfree(list);
	return ret;
}

/* Delete all gendisks (remove, or probe failing after the first scan). */
void tnvme_remove_namespaces(struct tnvme_dev *dev)
{
	struct tnvme_ns *ns, *next;
	LIST_HEAD(list);

	mutex_lock(&dev->scan_lock);
	down_write(&dev->ns_rwsem);
	list_for_each_entry_safe(ns, next, &dev->namespaces, entry)
		tnvme_unlist_ns(dev, ns, &list);
	clear_bit(TNVME_F_IO_STOPPED, &dev->flags);
	up_write(&dev->ns_rwsem);
	tnvme_del_ns_list(&list);
	mutex_unlock(&dev->scan_lock);
}

/*
 * Recovery helper: keep CPUs out of queue_rq() (true) or let them in
 * again (false).  blk_mq_quiesce_queue() nests (a queue quiesced twice
 * needs two unquiesces), so the TNVME_F_IO_STOPPED bit makes repeated
 * calls harmless: only the first stop and the first start act.  After a
 * start, kick the requeue lists: requests that a reset sent back wait
 * there (tnvme_complete_rq()).
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
