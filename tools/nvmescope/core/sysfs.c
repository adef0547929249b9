// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs.c - NVMe controllers and queues as /proc and /sys show them.
 *
 *   /proc/interrupts               which IRQ belongs to which queue (by name)
 *   /proc/irq/N/smp_affinity_list  CPUs the IRQ may go to
 *   /proc/irq/N/effective_affinity_list  CPUs it actually goes to
 *   /sys/block/DISK/mq/H/cpu_list  CPUs whose requests blk-mq sends to
 *                                  hardware queue H (= NVMe I/O queue H+1)
 *   /sys/kernel/debug/block/DISK/hctxH/type  its type: default, read or
 *                                  poll (debugfs, root only; 6.1 has no
 *                                  type in sysfs)
 *
 * A poll queue (the poll_queues parameter of either driver) has a
 * hardware context but no interrupt, so no line in /proc/interrupts: it
 * is found from its disk's mq/ folder.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sysfs.h"

void ctrl_label(enum ns_driver d, unsigned int ctrl, char *buf, size_t len)
{
	snprintf(buf, len, "%s%u", driver_name(d), ctrl);
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f);
	fclose(f);
	return ok ? 0 : -1;
}

static void read_cpulist(const char *path, struct cpuset *s)
{
	char buf[4096];

	cpuset_clear(s);
	if (!read_line(path, buf, sizeof(buf)))
		cpulist_parse(buf, s);
}

bool driver_loaded(enum ns_driver d)
{
	return !access(d == NS_DRIVER_TNVME ? "/sys/module/tnvme" :
		       "/sys/module/nvme_core", F_OK);
}

bool controller_exists(enum ns_driver d, unsigned int ctrl)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/%s/%s%u", driver_name(d),
		 driver_name(d), ctrl);
	return !access(path, F_OK);
}

/*
 * A disk of a controller, the first /sys/block lists: for tnvme, one named
 * tnvme<c>n<nsid>; for the stock driver one whose "device" link points at
 * .../nvme/nvme<c> (the disk name may use the subsystem number instead of
 * the controller's).
 */
static bool find_disk(enum ns_driver d, unsigned int ctrl, char *disk, size_t len)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *de;
	char want[64], path[PATH_MAX], target[PATH_MAX];
	bool found = false;

	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (d == NS_DRIVER_TNVME) {
			snprintf(want, sizeof(want), "tnvme%un", ctrl);
			found = !strncmp(de->d_name, want, strlen(want));
		} else if (!strncmp(de->d_name, "nvme", 4)) {
			ssize_t n;
			const char *base;

			snprintf(path, sizeof(path), "/sys/block/%s/device", de->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			base = strrchr(target, '/');
			snprintf(want, sizeof(want), "nvme%u", ctrl);
			found = base && !strcmp(base + 1, want);
		}
		if (found)
			snprintf(disk, len, "%s", de->d_name);
	}
	closedir(dir);
	return found;
}

unsigned int nvme_lba_shift_of(enum ns_driver d, unsigned int ctrl)
{
	char disk[NAME_MAX + 1], path[PATH_MAX], buf[32];
	unsigned long size;
	unsigned int shift = 9;

	if (!find_disk(d, ctrl, disk, sizeof(disk)))
		return 9;
	snprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", disk);
	if (read_line(path, buf, sizeof(buf)))
		return 9;
	size = strtoul(buf, NULL, 10);
	while (shift < 16 && (1UL << shift) < size)
		shift++;
	return shift;
}

static int cmp_queue(const void *a, const void *b)
{
	const struct nvme_queue_info *x = a, *y = b;

	if (x->driver != y->driver)
		return x->driver < y->driver ? -1 : 1;
	if (x->ctrl != y->ctrl)
		return x->ctrl < y->ctrl ? -1 : 1;
	return x->qid < y->qid ? -1 : x->qid > y->qid;
}

static bool queue_listed(const struct nvme_queues *qs, enum ns_driver d,
			 unsigned int ctrl, unsigned int qid)
{
	size_t i;

	for (i = 0; i < qs->n; i++)
		if (qs->q[i].driver == d && qs->q[i].ctrl == ctrl && qs->q[i].qid == qid)
			return true;
	return false;
}

static struct nvme_queue_info *queue_add(struct nvme_queues *qs, size_t *cap)
{
	if (qs->n == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		struct nvme_queue_info *bigger = realloc(qs->q, n * sizeof(*bigger));

		if (!bigger)
			return NULL;
		qs->q = bigger;
		*cap = n;
	}
	memset(&qs->q[qs->n], 0, sizeof(qs->q[0]));
	return &qs->q[qs->n++];
}

/*
 * The I/O queues of a controller that have a blk-mq hardware context
 * (mq/H = queue H+1) and no interrupt line: added as poll queues.
 */
static int add_queues_without_irq(struct nvme_queues *qs, size_t *cap,
				  enum ns_driver d, unsigned int ctrl)
{
	char disk[NAME_MAX + 1], path[PATH_MAX];
	struct nvme_queue_info *q;
	struct dirent *de;
	DIR *dir;

	if (!find_disk(d, ctrl, disk, sizeof(disk)))
		return 0;
	snprintf(path, sizeof(path), "/sys/block/%s/mq", disk);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long h = strtoul(de->d_name, &end, 10);

		if (end == de->d_name || *end || h >= 65535 ||
		    queue_listed(qs, d, ctrl, h + 1))
			continue;
		q = queue_add(qs, cap);
		if (!q) {
			closedir(dir);
			return -1;
		}
		q->driver = d;
		q->ctrl = ctrl;
		q->qid = h + 1;
		q->type = NS_QTYPE_POLL;
		q->type_from = NS_QTYPE_FROM_INTERRUPTS;
	}
	closedir(dir);
	return 0;
}

/*
 * A queue's affinity, its blk-mq CPUs and, where debugfs is mounted, its
 * type as the kernel names it.
 */
static void queue_details(struct nvme_queue_info *q)
{
	char path[PATH_MAX], disk[NAME_MAX + 1];

	if (q->has_irq) {
		snprintf(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", q->irq);
		read_cpulist(path, &q->affinity);
		snprintf(path, sizeof(path), "/proc/irq/%u/effective_affinity_list",
			 q->irq);
		read_cpulist(path, &q->effective);
	}
	/*
	 * Both drivers allocate the I/O queue vectors with
	 * pci_alloc_irq_vectors_affinity() and the admin vector as a
	 * pre-vector: I/O vectors are kernel-managed, the admin one not.
	 * (The kernel does not export the flag without debugfs.)
	 */
	q->managed = q->qid > 0 && q->has_irq;
	if (q->qid > 0 && find_disk(q->driver, q->ctrl, disk, sizeof(disk))) {
		char buf[32];
		enum ns_qtype t;

		snprintf(path, sizeof(path), "/sys/block/%s/mq/%u/cpu_list",
			 disk, q->qid - 1);
		if (!access(path, R_OK)) {
			read_cpulist(path, &q->blk_mq_cpus);
			q->has_blk_mq = true;
		}
		/* the kernel's own word, where debugfs is mounted */
		snprintf(path, sizeof(path), "/sys/kernel/debug/block/%s/hctx%u/type",
			 disk, q->qid - 1);
		t = read_line(path, buf, sizeof(buf)) ? NS_QTYPE_UNKNOWN :
			hctx_type_parse(buf);
		if (t != NS_QTYPE_UNKNOWN) {
			q->type = t;
			q->type_from = NS_QTYPE_FROM_DEBUGFS;
		}
	}
}

int nvme_queues_discover(const struct proc_interrupts *pi, struct nvme_queues *out)
{
	size_t i, n_irq, cap = pi->nlines ? pi->nlines : 1;

	out->n = 0;
	out->q = calloc(cap, sizeof(*out->q));
	if (!out->q)
		return -1;
	for (i = 0; i < pi->nlines; i++) {
		struct nvme_queue_info *q = &out->q[out->n];

		memset(q, 0, sizeof(*q));
		if (!nvme_queue_in_actions(pi->lines[i].actions, &q->driver,
					   &q->ctrl, &q->qid))
			continue;
		q->has_irq = true;
		q->irq = pi->lines[i].irq;
		q->type = NS_QTYPE_IRQ;
		q->type_from = NS_QTYPE_FROM_INTERRUPTS;
		out->n++;
	}
	/* each controller once: its admin queue always has an interrupt */
	n_irq = out->n;
	for (i = 0; i < n_irq; i++)
		if (out->q[i].qid == 0 &&
		    add_queues_without_irq(out, &cap, out->q[i].driver, out->q[i].ctrl))
			return -1;
	for (i = 0; i < out->n; i++)
		queue_details(&out->q[i]);
	qsort(out->q, out->n, sizeof(*out->q), cmp_queue);
	return 0;
}

void nvme_queues_free(struct nvme_queues *qs)
{
	free(qs->q);
	qs->q = NULL;
	qs->n = 0;
}
