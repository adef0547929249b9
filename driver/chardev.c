// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/tnvme<c> and the NVMe passthrough ioctls.
 *
 * nvme-cli talks to a controller through a small set of ioctls defined in
 * <uapi/linux/nvme_ioctl.h>.  Implementing them is all it takes for the
 * distribution's nvme-cli to work with tnvme unchanged:
 *
 *   NVME_IOCTL_ID               namespace id of a block device
 *   NVME_IOCTL_ADMIN_CMD        admin command, 32-bit result
 *   NVME_IOCTL_ADMIN64_CMD      admin command, 64-bit result
 *   NVME_IOCTL_IO_CMD           I/O command, 32-bit result
 *   NVME_IOCTL_IO64_CMD         I/O command, 64-bit result
 *   NVME_IOCTL_RESET            controller reset (char device only)
 *   NVME_IOCTL_RESCAN           namespace rescan (char device only)
 *
 * They work on the char device (/dev/tnvme0) and on the namespace block
 * devices (/dev/tnvme0n1): "nvme id-ns /dev/tnvme0n1" asks the block
 * device for its namespace id and then sends an admin Identify through it.
 *
 * A user command travels the same way as every other command: as a blk-mq
 * request (tnvme_execute_cmd()).  Here we only check it: this
 * is the boundary where untrusted input enters the driver.
 */
#include <linux/cdev.h>
#include <linux/fs.h>
#include <linux/nvme_ioctl.h>
#include <linux/uaccess.h>

#include "tnvme.h"

static dev_t tnvme_chr_devt;
static struct class *tnvme_class;

/*
 * Admin commands a user must not send: they would change queues behind
 * the driver's back (Create/Delete I/O SQ/CQ, Doorbell Buffer Config) or
 * never complete by design (Asynchronous Event Request), holding a tag
 * until the timeout kills the controller.
 */
static bool tnvme_admin_opcode_unsafe(u8 opcode)
{
	switch (opcode) {
	case nvme_admin_delete_sq:
	case nvme_admin_create_sq:
	case nvme_admin_delete_cq:
	case nvme_admin_create_cq:
	case nvme_admin_async_event:
	case nvme_admin_dbbuf:
		return true;
	default:
		return false;
	}
}

/*
 * Admin commands after which the namespaces may look different: a new
 * LBA format (Format NVM), namespaces created or deleted (Namespace
 * Management), attached or detached (Namespace Attachment).  The stock
 * driver learns this from the Commands Supported and Effects log; for
 * these three the answer is always yes, so we rescan after each.
 */
static bool tnvme_admin_opcode_changes_ns(u8 opcode)
{
	return opcode == nvme_admin_format_nvm ||
	       opcode == nvme_admin_ns_mgmt ||
	       opcode == nvme_admin_ns_attach;
}

/*
 * Check a user command.  Bits 1:0 of every opcode give the data direction
 * (Base spec 5, "Opcodes for Admin Commands"; NVM Command Set 3.3):
 * 00b no data, 01b host to controller, 10b controller to host,
 * 11b bidirectional (which a PRP-described single buffer cannot do).
 */
static int tnvme_check_user_cmd(struct tnvme_dev *dev,
				struct nvme_passthru_cmd64 *c, bool admin)
{
	u8 xfer = c->opcode & 3;

	if (c->flags || c->rsvd1)
		return -EINVAL;		/* fused ops, SGLs: not supported */
	if (c->metadata || c->metadata_len)
		return -EINVAL;		/* we do not map metadata */
	if (admin && tnvme_admin_opcode_unsafe(c->opcode))
		return -EPERM;
	if (xfer == 3)
		return -EINVAL;
	if (!c->data_len)
		return 0;
	if (xfer == 0)
		return -EINVAL;		/* data for a command that takes none */
	if (!c->addr)
		return -EFAULT;
	if (c->data_len > dev->max_xfer)
		return -EINVAL;		/* more than one command can move */
	if ((c->addr | c->data_len) & 3)
		return -EINVAL;		/* PRPs are dword granular (4.1) */
	return 0;
}

/*
 * Run one passthrough command.  @is64 selects the user structure:
 * struct nvme_passthru_cmd (32-bit result) or nvme_passthru_cmd64.  Both
 * share the layout up to timeout_ms.
 *
 * Return: like the stock driver, 0, a positive NVMe status for a command
 * the controller failed, or a negative errno.
 */
static int tnvme_user_cmd(struct tnvme_dev *dev, struct request_queue *q,
			  void __user *argp, bool admin, bool is64)
{
	struct nvme_passthru_cmd64 uc;
	struct nvme_command c = { };
	size_t size = is64 ? sizeof(struct nvme_passthru_cmd64) :
			     sizeof(struct nvme_passthru_cmd);
	u64 result = 0;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EACCES;
	memset(&uc, 0, sizeof(uc));
	if (copy_from_user(&uc, argp, size))
		return -EFAULT;
	ret = tnvme_check_user_cmd(dev, &uc, admin);
	if (ret)
		return ret;

	c.common.opcode = uc.opcode;
	c.common.nsid = cpu_to_le32(uc.nsid);
	c.common.cdw2[0] = cpu_to_le32(uc.cdw2);
	c.common.cdw2[1] = cpu_to_le32(uc.cdw3);
	c.common.cdw10 = cpu_to_le32(uc.cdw10);
	c.common.cdw11 = cpu_to_le32(uc.cdw11);
	c.common.cdw12 = cpu_to_le32(uc.cdw12);
	c.common.cdw13 = cpu_to_le32(uc.cdw13);
	c.common.cdw14 = cpu_to_le32(uc.cdw14);
	c.common.cdw15 = cpu_to_le32(uc.cdw15);

	ret = tnvme_execute_cmd(q, &c, NULL, u64_to_user_ptr(uc.addr),
				uc.data_len, uc.timeout_ms, &result);
	if (ret < 0)
		return ret;
	if (admin && !ret && tnvme_admin_opcode_changes_ns(uc.opcode))
		tnvme_scan_namespaces(dev);

	if (is64) {
		struct nvme_passthru_cmd64 __user *u = argp;

		if (put_user(result, &u->result))
			return -EFAULT;
	} else {
		struct nvme_passthru_cmd __user *u = argp;

		if (put_user(lower_32_bits(result), &u->result))
			return -EFAULT;
	}
	return ret;
}

/*
 * The namespace with id @nsid, for I/O commands sent to the char device.
 * A rescan may delete it meanwhile, so the caller gets a reference on
 * its disk (the disk owns the namespace) and drops it with put_disk().
 * A deleted disk's queue refuses new requests, so the command fails
 * cleanly instead of reaching a namespace that is gone.
 */
static struct tnvme_ns *tnvme_find_ns(struct tnvme_dev *dev, u32 nsid)
{
	struct tnvme_ns *ns, *found = NULL;

	down_read(&dev->ns_rwsem);
	list_for_each_entry(ns, &dev->namespaces, entry) {
		if (ns->nsid == nsid) {
			found = ns;
			get_device(disk_to_dev(ns->disk));
			break;
		}
	}
	up_read(&dev->ns_rwsem);
	return found;
}

/*
 * Common ioctl dispatch.  @ns is NULL for the char device.  The caller
 * holds ioctl_rwsem for reading, so remove() cannot tear things down
 * underneath us.
 */
static long tnvme_do_ioctl(struct tnvme_dev *dev, struct tnvme_ns *ns,
			   unsigned int cmd, void __user *argp)
{
	struct nvme_passthru_cmd64 hdr;
	struct tnvme_ns *target;
	long ret;

	switch (cmd) {
	case NVME_IOCTL_ID:
		/* nvme-cli treats ENOTTY as "not a namespace". */
		return ns ? ns->nsid : -ENOTTY;
	case NVME_IOCTL_ADMIN_CMD:
		return tnvme_user_cmd(dev, dev->admin_q, argp, true, false);
	case NVME_IOCTL_ADMIN64_CMD:
		return tnvme_user_cmd(dev, dev->admin_q, argp, true, true);
	case NVME_IOCTL_IO_CMD:
	case NVME_IOCTL_IO64_CMD:
		if (ns)
			return tnvme_user_cmd(dev, ns->disk->queue, argp, false,
					      cmd == NVME_IOCTL_IO64_CMD);
		/* Char device: route by the command's nsid. */
		if (copy_from_user(&hdr, argp, offsetof(typeof(hdr), cdw2)))
			return -EFAULT;
		target = tnvme_find_ns(dev, hdr.nsid);
		if (!target)
			return -EINVAL;
		ret = tnvme_user_cmd(dev, target->disk->queue, argp, false,
				     cmd == NVME_IOCTL_IO64_CMD);
		put_disk(target->disk);
		return ret;
	case NVME_IOCTL_RESET:
		if (ns)
			return -ENOTTY;
		if (!capable(CAP_SYS_ADMIN))
			return -EACCES;
		return tnvme_reset_ctrl_sync(dev);
	case NVME_IOCTL_RESCAN:
		/* nvme ns-rescan: look for added, changed, removed namespaces. */
		if (ns)
			return -ENOTTY;
		if (!capable(CAP_SYS_ADMIN))
			return -EACCES;
		return tnvme_scan_namespaces(dev);
	default:
		return -ENOTTY;
	}
}

static long tnvme_locked_ioctl(struct tnvme_dev *dev, struct tnvme_ns *ns,
			       unsigned int cmd, unsigned long arg)
{
	long ret;

	/*
	 * A removed controller has no queues left; a dead one cannot run
	 * commands.  Only a reset may bring a dead controller back.
	 */
	down_read(&dev->ioctl_rwsem);
	if (dev->removing ||
	    (tnvme_state(dev) == TNVME_CTRL_DEAD && cmd != NVME_IOCTL_RESET))
		ret = -ENODEV;
	else
		ret = tnvme_do_ioctl(dev, ns, cmd, (void __user *)arg);
	up_read(&dev->ioctl_rwsem);
	return ret;
}

/* Block device ioctl (tnvme_bdev_ops.ioctl). */
int tnvme_ns_ioctl(struct block_device *bdev, fmode_t mode,
		   unsigned int cmd, unsigned long arg)
{
	struct tnvme_ns *ns = bdev->bd_disk->private_data;

	return tnvme_locked_ioctl(ns->dev, ns, cmd, arg);
}

static long tnvme_chr_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	return tnvme_locked_ioctl(file->private_data, NULL, cmd, arg);
}

/*
 * Opening /dev/tnvme<c> takes a reference on the controller, so the
 * struct outlives remove() for as long as the file is open.  The cdev
 * itself is embedded in that struct; cdev_device_add() below makes the
 * cdev hold a reference on ctrl_device too, so the memory stays valid
 * even for an open() racing with remove().  After remove() every ioctl
 * returns -ENODEV (tnvme_locked_ioctl()).
 */
static int tnvme_chr_open(struct inode *inode, struct file *file)
{
	struct tnvme_dev *dev = container_of(inode->i_cdev, struct tnvme_dev,
					     cdev);

	tnvme_get_dev(dev);
	file->private_data = dev;
	return 0;
}

static int tnvme_chr_release(struct inode *inode, struct file *file)
{
	tnvme_put_dev(file->private_data);
	return 0;
}

static const struct file_operations tnvme_chr_fops = {
	.owner		= THIS_MODULE,
	.open		= tnvme_chr_open,
	.release	= tnvme_chr_release,
	.unlocked_ioctl	= tnvme_chr_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/*
 * /sys/class/tnvme/tnvme<c>/state: new, live, resetting, dead, deleting.
 * /sys/class/tnvme/tnvme<c>/reset_controller: write anything to reset,
 * rescan_controller: to look for namespace changes (like the files of
 * the same names in /sys/class/nvme/nvme<c>/ of the stock driver).
 */
static struct tnvme_dev *tnvme_from_device(struct device *d)
{
	return container_of(d, struct tnvme_dev, ctrl_device);
}

static ssize_t state_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  tnvme_state_name(tnvme_state(tnvme_from_device(d))));
}
static DEVICE_ATTR_RO(state);

static ssize_t reset_controller_store(struct device *d,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	int ret = tnvme_reset_ctrl_sync(tnvme_from_device(d));

	return ret ? ret : count;
}
static DEVICE_ATTR_WO(reset_controller);

static ssize_t rescan_controller_store(struct device *d,
				       struct device_attribute *attr,
				       const char *buf, size_t count)
{
	struct tnvme_dev *dev = tnvme_from_device(d);
	int ret = -ENODEV;

	/* Like the ioctls: not while remove() tears the controller down. */
	down_read(&dev->ioctl_rwsem);
	if (!dev->removing && tnvme_state(dev) == TNVME_CTRL_LIVE)
		ret = tnvme_scan_namespaces(dev);
	up_read(&dev->ioctl_rwsem);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(rescan_controller);

/*
 * The controller's identity, named and formatted as the stock driver's
 * /sys/class/nvme/nvme<c>/ files are, so that lsblk (MODEL, SERIAL via
 * the disk's "device" link), udev rules and scripts read them the same
 * way.  model, serial and firmware_rev are Identify Controller's fields
 * as reported, space padding included, as the stock driver shows them.
 */
static ssize_t model_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct tnvme_dev *dev = tnvme_from_device(d);

	return sysfs_emit(buf, "%.*s\n", (int)sizeof(dev->raw_model), dev->raw_model);
}
static DEVICE_ATTR_RO(model);

static ssize_t serial_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	struct tnvme_dev *dev = tnvme_from_device(d);

	return sysfs_emit(buf, "%.*s\n", (int)sizeof(dev->raw_serial), dev->raw_serial);
}
static DEVICE_ATTR_RO(serial);

static ssize_t firmware_rev_show(struct device *d,
				 struct device_attribute *attr, char *buf)
{
	struct tnvme_dev *dev = tnvme_from_device(d);

	return sysfs_emit(buf, "%.*s\n", (int)sizeof(dev->raw_firmware_rev), dev->raw_firmware_rev);
}
static DEVICE_ATTR_RO(firmware_rev);

static ssize_t subsysnqn_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%s\n", tnvme_from_device(d)->subsysnqn);
}
static DEVICE_ATTR_RO(subsysnqn);

static ssize_t cntlid_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", tnvme_from_device(d)->cntlid);
}
static DEVICE_ATTR_RO(cntlid);

static ssize_t transport_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "pcie\n");
}
static DEVICE_ATTR_RO(transport);

static ssize_t address_show(struct device *d, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", pci_name(tnvme_from_device(d)->pdev));
}
static DEVICE_ATTR_RO(address);

static ssize_t numa_node_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  dev_to_node(&tnvme_from_device(d)->pdev->dev));
}
static DEVICE_ATTR_RO(numa_node);

/* Queues including the admin queue, and the I/O queue size 0-based. */
static ssize_t queue_count_show(struct device *d, struct device_attribute *attr,
				char *buf)
{
	return sysfs_emit(buf, "%u\n", tnvme_from_device(d)->nr_io_queues + 1);
}
static DEVICE_ATTR_RO(queue_count);

static ssize_t sqsize_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", tnvme_from_device(d)->io_depth - 1);
}
static DEVICE_ATTR_RO(sqsize);

static struct attribute *tnvme_ctrl_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_reset_controller.attr,
	&dev_attr_rescan_controller.attr,
	&dev_attr_model.attr,
	&dev_attr_serial.attr,
	&dev_attr_firmware_rev.attr,
	&dev_attr_cntlid.attr,
	&dev_attr_transport.attr,
	&dev_attr_subsysnqn.attr,
	&dev_attr_address.attr,
	&dev_attr_numa_node.attr,
	&dev_attr_queue_count.attr,
	&dev_attr_sqsize.attr,
	NULL,
};
ATTRIBUTE_GROUPS(tnvme_ctrl);

/*
 * Set up ctrl_device early in probe: from here on its reference count
 * is the controller's, and @release frees the struct.
 */
void tnvme_init_ctrl_device(struct tnvme_dev *dev,
			    void (*release)(struct device *))
{
	struct device *d = &dev->ctrl_device;

	device_initialize(d);
	d->class = tnvme_class;
	d->parent = &dev->pdev->dev;
	d->devt = MKDEV(MAJOR(tnvme_chr_devt), dev->instance);
	d->groups = tnvme_ctrl_groups;
	d->release = release;
	dev_set_drvdata(d, dev);
	/*
	 * Unchecked: if it fails (no memory), the device has no name and
	 * cdev_device_add() refuses it, so probe fails there.
	 */
	dev_set_name(d, "tnvme%d", dev->instance);
}

/* Create /dev/tnvme<c>; devtmpfs/udev make the node from the uevent. */
int tnvme_add_chardev(struct tnvme_dev *dev)
{
	int ret;

	cdev_init(&dev->cdev, &tnvme_chr_fops);
	dev->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&dev->cdev, &dev->ctrl_device);
	if (ret)
		return ret;
	dev->cdev_added = true;
	return 0;
}

/*
 * Remove /dev/tnvme<c> and the sysfs files (waiting for a running
 * reset_controller or rescan_controller write).  Open files keep the
 * struct alive.
 */
void tnvme_del_chardev(struct tnvme_dev *dev)
{
	if (!dev->cdev_added)
		return;
	cdev_device_del(&dev->cdev, &dev->ctrl_device);
	dev->cdev_added = false;
}

int tnvme_chardev_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&tnvme_chr_devt, 0, TNVME_MAX_CTRLS, "tnvme");
	if (ret)
		return ret;
	tnvme_class = class_create(THIS_MODULE, "tnvme");
	if (IS_ERR(tnvme_class)) {
		unregister_chrdev_region(tnvme_chr_devt, TNVME_MAX_CTRLS);
		return PTR_ERR(tnvme_class);
	}
	return 0;
}

void tnvme_chardev_exit(void)
{
	class_destroy(tnvme_class);
	unregister_chrdev_region(tnvme_chr_devt, TNVME_MAX_CTRLS);
}
