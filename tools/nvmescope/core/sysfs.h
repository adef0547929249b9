/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sysfs.h - what nvmescope learns from /proc and /sys about NVMe
 * controllers: their queues and interrupts, IRQ affinity, blk-mq's CPU to
 * hardware queue map, and whether a driver is loaded.
 */
#ifndef NVMESCOPE_SYSFS_H
#define NVMESCOPE_SYSFS_H

#include "core/procfs.h"

struct nvme_queue_info {
	enum ns_driver driver;
	unsigned int ctrl;
	unsigned int qid;
	bool has_irq;			/* a line in /proc/interrupts (poll queues: none) */
	unsigned int irq;		/* its IRQ number, if has_irq */
	enum ns_qtype type;		/* interrupt or poll queue */
	enum ns_qtype_from type_from;	/* debugfs, else /proc/interrupts */
	bool managed;			/* kernel-managed affinity (inferred) */
	struct cpuset affinity;		/* /proc/irq/N/smp_affinity_list */
	struct cpuset effective;	/* /proc/irq/N/effective_affinity_list */
	struct cpuset blk_mq_cpus;	/* /sys/block/DISK/mq/(qid-1)/cpu_list */
	bool has_blk_mq;		/* an I/O queue with a blk-mq hctx */
};

struct nvme_queues {
	size_t n;
	struct nvme_queue_info *q;
};

/*
 * Every NVMe queue of both drivers, sorted: those with an interrupt in
 * /proc/interrupts, and the I/O queues of their controllers' disks that
 * have a blk-mq hardware context but no interrupt (poll queues).
 */
int nvme_queues_discover(const struct proc_interrupts *pi,
			 struct nvme_queues *out);
void nvme_queues_free(struct nvme_queues *qs);

bool driver_loaded(enum ns_driver d);
bool controller_exists(enum ns_driver d, unsigned int ctrl);
/* log2 of the LBA size of a namespace of the controller (9 if unknown) */
unsigned int nvme_lba_shift_of(enum ns_driver d, unsigned int ctrl);
/* "tnvme0" / "nvme1" */
void ctrl_label(enum ns_driver d, unsigned int ctrl, char *buf, size_t len);

#endif
