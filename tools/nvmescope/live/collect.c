// SPDX-License-Identifier: GPL-2.0
/*
 * collect.c - load, attach and read the BPF programs (bpf/nvmescope.bpf.c).
 *
 * The kernel keeps cumulative per-CPU counters and histograms; a "sample"
 * is one reading of all of them, summed over CPUs (except the per-CPU
 * numbers the reports need: who submitted, who took the interrupt).
 * Reports subtract two samples.  Nothing is pinned: when nvmescope exits,
 * however it exits, the kernel drops the programs and links with the
 * file descriptors.
 *
 * The interrupts of each queue (and the CPUs that took them) are read
 * from /proc/interrupts next to the maps, unless --irq-events asks for a
 * BPF program on irq:irq_handler_entry: attaching it live-patches the
 * path every device interrupt runs, which can hang a QEMU TCG guest with
 * a host thread per vCPU (issue #4; see the top of bpf/nvmescope.bpf.c).
 *
 * Poll queues (no interrupt, reaped by the submitting task through the
 * driver's ->poll) are told apart here: each queue's type comes from
 * debugfs or /proc/interrupts at start (sysfs.c), else from the events
 * (view.c, queue_type_resolve()).  Only tnvme has an event for a poll;
 * with the stock driver, or a tnvme.ko without it, the poll counts are
 * unknown, not 0 (queue_sample.poll_events).
 */
#define _GNU_SOURCE		/* memfd_create() */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/btf.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "live/collect.h"
#include "core/hist.h"
#include "core/view.h"
#include "nvmescope.skel.h"

struct collector {
	struct nvmescope_bpf *skel;
	struct ring_buffer *rb;
	unsigned int ncpus;
	enum ns_driver driver;
	enum collect_mode mode;
	bool irq_events;		/* hardirq counted in BPF (--irq-events) */
	bool poll_events;		/* tnvme_poll attached: polls are counted */
	struct bpf_program *sq_level;	/* lab 10's program, if it is written */
	cmd_handler on_cmd;
	void *ctx;
	int stop;			/* set by on_cmd to end the trace */
	struct bpf_link *links[32];
	unsigned int nlinks;
	/* the per-queue maps: index -> queue (ctrl 0xffffffff: unused) */
	unsigned int nslots;
	uint32_t *slot_ctrl;
	uint16_t *slot_qid;
	uint8_t *slot_type, *slot_type_from;	/* from sysfs.c, at start */
	size_t value_size;		/* of one CPU's part of a "stats" value */
	size_t hists_size;		/* ... of a "hists" value */
	/* the watched queues' interrupts, and /proc/interrupts at attach */
	struct irq_queue {
		unsigned int irq;
		uint32_t ctrl;
		uint16_t qid;
	} *irqs;
	size_t nirqs;
	struct proc_interrupts irq_base;
};

double now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

unsigned int collector_ncpus(struct collector *c)
{
	return c->ncpus;
}

enum ns_qtype collector_queue_type(struct collector *c, uint32_t ctrl, uint16_t qid)
{
	size_t slot = (size_t)ctrl * c->skel->rodata->qid_count + qid;

	return slot < c->nslots ? c->slot_type[slot] : NS_QTYPE_UNKNOWN;
}

/* libbpf's own messages only with -v. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* Root, or CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN) in the effective set. */
static bool may_load_bpf(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	eff = data[0].effective | ((uint64_t)data[1].effective << 32);
#define HAS(cap) ((eff >> (cap)) & 1)
	return HAS(21 /* CAP_SYS_ADMIN */) ||
	       (HAS(39 /* CAP_BPF */) && HAS(38 /* CAP_PERFMON */));
#undef HAS
}

static bool queue_exists(const struct nvme_queues *qs, enum ns_driver d,
			 int ctrl, int qid)
{
	size_t i;

	for (i = 0; i < qs->n; i++)
		if (qs->q[i].driver == d && (ctrl < 0 || (int)qs->q[i].ctrl == ctrl) &&
		    (qid < 0 || (int)qs->q[i].qid == qid))
			return true;
	return false;
}

/*
 * Remember the interrupt of every queue the programs watch (same driver,
 * same -C/-q filter), to count its interrupts from /proc/interrupts - or,
 * with --irq-events, tell the BPF side which queue each IRQ number is.
 */
static int watch_irqs(struct collector *c, const struct options *o,
		      const struct nvme_queues *qs)
{
	size_t i;

	c->irqs = calloc(qs->n ? qs->n : 1, sizeof(*c->irqs));
	if (!c->irqs)
		return -ENOMEM;
	for (i = 0; i < qs->n; i++) {
		const struct nvme_queue_info *q = &qs->q[i];

		if (q->driver != c->driver ||
		    (o->ctrl >= 0 && (int)q->ctrl != o->ctrl) ||
		    (o->qid >= 0 && (int)q->qid != o->qid))
			continue;
		if (!q->has_irq)
			continue;	/* a poll queue: no interrupt to count */
		c->irqs[c->nirqs].irq = q->irq;
		c->irqs[c->nirqs].ctrl = q->ctrl;
		c->irqs[c->nirqs].qid = q->qid;
		c->nirqs++;
		if (c->irq_events) {
			__u32 key = q->irq;
			__u32 slot = q->ctrl * c->skel->rodata->qid_count + q->qid;
			int err;

			if (slot >= c->nslots)
				continue;
			err = bpf_map__update_elem(c->skel->maps.irq_queues, &key, sizeof(key),
						   &slot, sizeof(slot), BPF_ANY);
			if (err)
				return err;
		}
	}
	return 0;
}

/* A module parameter as a number, or 0. */
static unsigned int module_param(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned int v = 0;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/*
 * Size the per-queue maps: queue (ctrl, qid) is index ctrl * qid_count +
 * qid, and each queue has an in-flight entry per cid (a power of two >=
 * the queue depth).
 */
static int size_maps(struct collector *c, const struct options *o,
		     const struct nvme_queues *qs)
{
	struct nvmescope_bpf *sk = c->skel;
	unsigned int max_ctrl = 0, max_qid = c->ncpus, depth, cids = 64, i;
	size_t k;

	for (k = 0; k < qs->n; k++) {
		if (qs->q[k].driver != c->driver)
			continue;
		if (qs->q[k].ctrl > max_ctrl)
			max_ctrl = qs->q[k].ctrl;
		if (qs->q[k].qid > max_qid)
			max_qid = qs->q[k].qid;
	}
	for (i = 0; i < 64; i++)
		if (controller_exists(c->driver, i) && i > max_ctrl)
			max_ctrl = i;
	if (o->ctrl >= 0 && (unsigned int)o->ctrl > max_ctrl)
		max_ctrl = o->ctrl;
	depth = module_param(c->driver == NS_DRIVER_TNVME ?
			     "/sys/module/tnvme/parameters/io_depth" :
			     "/sys/module/nvme/parameters/io_queue_depth");
	if (!depth || depth > 4096)
		depth = 4096;
	while (cids < depth)
		cids <<= 1;
	sk->rodata->ctrl_count = max_ctrl + 1;
	sk->rodata->qid_count = max_qid + 1;
	sk->rodata->cid_mask = cids - 1;
	c->nslots = (max_ctrl + 1) * (max_qid + 1);
	bpf_map__set_max_entries(sk->maps.marks, c->nslots * cids);
	bpf_map__set_max_entries(sk->maps.inflight, c->nslots * cids);
	bpf_map__set_max_entries(sk->maps.stats, c->nslots);
	bpf_map__set_max_entries(sk->maps.hists, c->nslots);
	bpf_map__set_max_entries(sk->maps.queue_states, c->nslots);
	c->slot_ctrl = calloc(c->nslots, sizeof(*c->slot_ctrl));
	c->slot_qid = calloc(c->nslots, sizeof(*c->slot_qid));
	c->slot_type = calloc(c->nslots, sizeof(*c->slot_type));
	c->slot_type_from = calloc(c->nslots, sizeof(*c->slot_type_from));
	if (!c->slot_ctrl || !c->slot_qid || !c->slot_type || !c->slot_type_from)
		return -ENOMEM;
	for (i = 0; i < c->nslots; i++) {
		c->slot_ctrl[i] = i / sk->rodata->qid_count;
		c->slot_qid[i] = i % sk->rodata->qid_count;
	}
	for (k = 0; k < qs->n; k++) {
		if (qs->q[k].driver != c->driver)
			continue;
		i = qs->q[k].ctrl * sk->rodata->qid_count + qs->q[k].qid;
		if (i >= c->nslots)
			continue;
		c->slot_type[i] = qs->q[k].type;
		c->slot_type_from[i] = qs->q[k].type_from;
	}
	c->value_size = (bpf_map__value_size(sk->maps.stats) + 7) & ~(size_t)7;
	c->hists_size = (bpf_map__value_size(sk->maps.hists) + 7) & ~(size_t)7;
	return 0;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;

	if (size < sizeof(struct ns_cmd) || c->stop)
		return 0;
	c->stop = c->on_cmd(c->ctx, data);
	return c->stop ? -EINTR : 0;
}

/*
 * Load only the programs this mode and driver need: each event costs
 * every I/O a program run.  Lab 10's tnvme_sq_level is looked up by
 * name: before the exercise the skeleton has no such member.
 */
static void choose_programs(struct collector *c)
{
	struct nvmescope_bpf *sk = c->skel;
	bool tnvme = c->driver == NS_DRIVER_TNVME;
	bool trace = c->mode == COLLECT_TRACE;
	const struct {
		struct bpf_program *prog;
		bool wanted;
	} table[] = {
		{ sk->progs.tnvme_rq_start, tnvme },
		{ sk->progs.tnvme_sq_write, tnvme },
		{ sk->progs.tnvme_sq_doorbell, tnvme },
		{ sk->progs.tnvme_irq, tnvme },
		{ sk->progs.tnvme_poll, tnvme },
		{ sk->progs.tnvme_cqe, tnvme },
		{ sk->progs.tnvme_rq_end, tnvme },
		{ sk->progs.tnvme_cq_doorbell, tnvme },
		/* steps that only the per-command trace shows */
		{ sk->progs.tnvme_dma_map, tnvme && trace },
		{ sk->progs.tnvme_fetch, tnvme && trace },
		{ sk->progs.tnvme_dma_unmap, tnvme && trace },
		{ sk->progs.nvme_setup_cmd, !tnvme },
		{ sk->progs.nvme_sq, !tnvme },
		{ sk->progs.nvme_complete_rq, !tnvme },
		{ sk->progs.irq_handler_entry, c->irq_events },
	};
	struct bpf_program *prog;
	size_t i;

	bpf_object__for_each_program(prog, sk->obj)
		bpf_program__set_autoload(prog, false);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		bpf_program__set_autoload(table[i].prog, table[i].wanted);
	/* SQ occupancy (lab 10) is a counter of top and lat, not per command */
	c->sq_level = bpf_object__find_program_by_name(sk->obj, "tnvme_sq_level");
	if (c->sq_level)
		bpf_program__set_autoload(c->sq_level, tnvme && !trace);
}

/*
 * What must hold before anything is loaded, each with its own exit code:
 * the privileges, the kernel's BTF, the driver.
 */
static int check_system(const struct options *o)
{
	if (!may_load_bpf()) {
		print_error("loading BPF programs needs root (or CAP_BPF and CAP_PERFMON)");
		return EXIT_PERMISSION;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		print_error("this kernel has no BTF (/sys/kernel/btf/vmlinux): nvmescope needs CONFIG_DEBUG_INFO_BTF=y");
		return EXIT_NO_BTF;
	}
	/* the stock driver's structs are read through nvme_core's BTF (nvme_core.h) */
	if (o->driver == NS_DRIVER_NVME && driver_loaded(o->driver) &&
	    access("/sys/kernel/btf/nvme_core", R_OK)) {
		print_error("the nvme_core module has no BTF (/sys/kernel/btf/nvme_core): --driver nvme needs CONFIG_DEBUG_INFO_BTF_MODULES=y");
		return EXIT_NO_BTF;
	}
	if (!driver_loaded(o->driver)) {
		if (o->driver == NS_DRIVER_TNVME)
			print_error("the tnvme module is not loaded: bind a controller with 'tnvme-bind' (or watch the stock driver with --driver nvme)");
		else
			print_error("the nvme driver is not loaded (no /sys/module/nvme_core)");
		return EXIT_NO_DRIVER;
	}
	return EXIT_OK;
}

/* -C and -q name a controller and a queue that exist. */
static int check_filters(const struct options *o, const struct nvme_queues *qs)
{
	if (o->ctrl >= 0 && !controller_exists(o->driver, o->ctrl)) {
		char label[32];

		ctrl_label(o->driver, o->ctrl, label, sizeof(label));
		print_error("no controller %s (see /sys/class/%s)", label, driver_name(o->driver));
		return EXIT_NOT_FOUND;
	}
	if (o->qid >= 0 && !queue_exists(qs, o->driver, o->ctrl, o->qid)) {
		print_error("no queue %d on %s controller%s (see /proc/interrupts)",
			o->qid, driver_name(o->driver), o->ctrl >= 0 ? "" : "s");
		return EXIT_NOT_FOUND;
	}
	return EXIT_OK;
}

/*
 * libbpf parses the kernel's BTF (/sys/kernel/btf/vmlinux, megabytes:
 * about 0.13 s of nvmescope's 0.2 s start-up under QEMU TCG, more under
 * load) whenever the object has CO-RE relocations, even if no program it
 * loads has one.  Only the stock driver's programs have any (nvme_core.h),
 * so with tnvme libbpf gets an empty BTF to use instead (btf_custom_path):
 * a header and an empty string table, in a memfd.  -1 if it cannot be
 * made; libbpf then reads the kernel's, as always.
 */
static int empty_btf_fd(void)
{
	struct btf_header hdr = {
		.magic = BTF_MAGIC,
		.version = BTF_VERSION,
		.hdr_len = sizeof(hdr),
		.str_len = 1,		/* the empty string */
	};
	char blob[sizeof(hdr) + 1] = { 0 };
	int fd = memfd_create("nvmescope-empty-btf", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	memcpy(blob, &hdr, sizeof(hdr));
	if (write(fd, blob, sizeof(blob)) != (ssize_t)sizeof(blob)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open the skeleton; with tnvme, without the kernel's BTF.  *btf_fd: the
 * empty BTF's memfd, or -1: libbpf reads it by its path at load time, so
 * it is closed after loading.
 */
static struct nvmescope_bpf *open_skeleton(enum ns_driver driver, int *btf_fd)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char path[64];

	*btf_fd = driver == NS_DRIVER_TNVME ? empty_btf_fd() : -1;
	if (*btf_fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", *btf_fd);
		opts.btf_custom_path = path;
	}
	return nvmescope_bpf__open_opts(&opts);
}

/* Open the skeleton, set its filters and map sizes, load what is wanted. */
static int load_programs(struct collector *c, const struct options *o,
			 const struct nvme_queues *qs)
{
	int err, btf_fd;

	c->skel = open_skeleton(o->driver, &btf_fd);
	if (!c->skel) {
		if (btf_fd >= 0)
			close(btf_fd);
		print_error("cannot open the BPF object (-v shows libbpf's messages)");
		return -1;
	}
	c->skel->rodata->trace_mode = c->mode == COLLECT_TRACE;
	c->skel->rodata->filter_ctrl = o->ctrl;
	c->skel->rodata->filter_qid = o->qid;
	c->skel->rodata->filter_opcode = o->opcode;
	c->skel->rodata->watched_driver = o->driver;
	/* trace shows every command; top and lat may time a sample */
	c->skel->rodata->sample_every = c->mode == COLLECT_TRACE ? 1 : o->sample;
	for (unsigned int i = 0; i < 16; i++)
		c->skel->rodata->nvme_lba_shift[i] = nvme_lba_shift_of(NS_DRIVER_NVME, i);
	if (c->mode == COLLECT_TRACE)
		bpf_map__set_max_entries(c->skel->maps.events, 8 << 20);
	err = size_maps(c, o, qs);
	if (err) {
		if (btf_fd >= 0)
			close(btf_fd);
		print_error("cannot size the BPF maps: %s", strerror(-err));
		return -1;
	}
	choose_programs(c);

	err = nvmescope_bpf__load(c->skel);
	if (btf_fd >= 0)
		close(btf_fd);
	if (err) {
		print_error("cannot load the BPF programs: %s (-v shows libbpf's messages)",
			strerror(-err));
		return -1;
	}
	err = watch_irqs(c, o, qs);
	if (err) {
		print_error("cannot remember the queues' interrupts: %s", strerror(-err));
		return -1;
	}
	return 0;
}

/*
 * An event the loaded tnvme.ko may lack without harm: lab 10's
 * tnvme_sq_level (a student's module before the exercise still has the
 * seven steps; SQ_USED shows "-") and tnvme_poll (a module from before
 * poll queues has none to poll; the poll counts show as unknown).
 */
static bool optional_event(const struct collector *c, const struct bpf_program *prog)
{
	return prog == c->sq_level || prog == c->skel->progs.tnvme_poll;
}

/* The doorbell events got their "mmio" argument with shadow doorbells. */
/*
 * The argument a program reads that an older tnvme.ko lacks, or NULL:
 * the doorbell events got "mmio" with shadow doorbells, tnvme_sq_write
 * got "sq_mem" with SQs in the controller memory buffer.
 */
static const char *newer_argument(const struct collector *c, const struct bpf_program *prog)
{
	if (prog == c->skel->progs.tnvme_sq_doorbell ||
	    prog == c->skel->progs.tnvme_cq_doorbell)
		return "mmio";
	if (prog == c->skel->progs.tnvme_sq_write)
		return "sq_mem";
	return NULL;
}

/* Attach every loaded program: EXIT_OK or an exit code (printed). */
static int attach_programs(struct collector *c)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, c->skel->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link && errno == EINVAL && newer_argument(c, prog)) {
			/*
			 * The kernel refuses a raw tracepoint program that
			 * reads more arguments than the event has: this
			 * tnvme.ko is older than the argument.
			 */
			print_error("cannot attach %s: the loaded tnvme module is older than nvmescope (no %s argument): rebuild and reload it",
				bpf_program__section_name(prog), newer_argument(c, prog));
			return EXIT_FAILURE_RUNTIME;
		}
		if (!link && errno == ENOENT && optional_event(c, prog))
			continue;
		if (!link) {
			int e = errno;	/* print_error() may change errno */

			print_error("cannot attach %s: %s (-v shows libbpf's messages)",
				bpf_program__section_name(prog), strerror(e));
			return e == ENOENT ? EXIT_NO_DRIVER : EXIT_FAILURE_RUNTIME;
		}
		if (prog == c->skel->progs.tnvme_poll)
			c->poll_events = true;
		if (c->nlinks < sizeof(c->links) / sizeof(c->links[0]))
			c->links[c->nlinks++] = link;
	}
	return EXIT_OK;
}

/* Load and attach; then the interrupt baseline and the ring buffer. */
static int collector_start(struct collector *c, const struct options *o,
			   const struct nvme_queues *qs)
{
	int ret;

	if (load_programs(c, o, qs))
		return EXIT_FAILURE_RUNTIME;
	ret = attach_programs(c);
	if (ret)
		return ret;
	/* interrupts count from here, as the programs' events do */
	if (proc_interrupts_read(&c->irq_base)) {
		print_error("cannot read /proc/interrupts");
		return EXIT_FAILURE_RUNTIME;
	}
	if (c->mode == COLLECT_TRACE) {
		c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events),
					 handle_record, c, NULL);
		if (!c->rb) {
			print_error("cannot open the ring buffer: %s", strerror(errno));
			return EXIT_FAILURE_RUNTIME;
		}
	}
	return EXIT_OK;
}

int collector_open(struct collector **out, const struct options *o,
		   enum collect_mode mode, cmd_handler on_cmd, void *ctx)
{
	struct proc_interrupts pi = { 0 };
	struct nvme_queues qs = { 0 };
	struct collector *c;
	int ncpus, ret;

	*out = NULL;
	libbpf_set_print(o->verbose ? libbpf_print : libbpf_silent);
	ret = check_system(o);
	if (ret)
		return ret;
	if (proc_interrupts_read(&pi) || nvme_queues_discover(&pi, &qs)) {
		print_error("cannot read /proc/interrupts");
		ret = EXIT_FAILURE_RUNTIME;
		goto out;
	}
	ret = check_filters(o, &qs);
	if (ret)
		goto out;
	ret = EXIT_FAILURE_RUNTIME;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	c->driver = o->driver;
	c->mode = mode;
	c->irq_events = o->irq_events;
	c->on_cmd = on_cmd;
	c->ctx = ctx;
	ncpus = libbpf_num_possible_cpus();
	c->ncpus = ncpus > 0 ? ncpus : 1;
	ret = collector_start(c, o, &qs);
	if (ret)
		collector_close(c);
	else
		*out = c;
out:
	nvme_queues_free(&qs);
	proc_interrupts_free(&pi);
	return ret;
}

void collector_close(struct collector *c)
{
	unsigned int i;

	if (!c)
		return;
	ring_buffer__free(c->rb);
	for (i = 0; i < c->nlinks; i++)
		bpf_link__destroy(c->links[i]);
	nvmescope_bpf__destroy(c->skel);
	free(c->slot_ctrl);
	free(c->slot_qid);
	free(c->slot_type);
	free(c->slot_type_from);
	free(c->irqs);
	proc_interrupts_free(&c->irq_base);
	free(c);
}

int collector_event_fd(struct collector *c)
{
	return c->rb ? ring_buffer__epoll_fd(c->rb) : -1;
}

/* Returns 1 when the handler asked to stop (e.g. -c COUNT reached). */
int collector_poll_events(struct collector *c)
{
	if (!c->rb)
		return 0;
	ring_buffer__consume(c->rb);
	return c->stop;
}

/* ------------------------------------------------------------ samples */

static struct queue_sample *sample_queue(struct sample *s, size_t *cap,
					 uint32_t ctrl, uint16_t qid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->q[i].ctrl == ctrl && s->q[i].qid == qid)
			return &s->q[i];
	if (s->n == *cap) {
		size_t n = *cap ? 2 * *cap : 8;
		struct queue_sample *bigger = realloc(s->q, n * sizeof(*bigger));

		if (!bigger)
			return NULL;
		s->q = bigger;
		*cap = n;
	}
	memset(&s->q[s->n], 0, sizeof(s->q[0]));
	s->q[s->n].ctrl = ctrl;
	s->q[s->n].qid = qid;
	return &s->q[s->n++];
}

static int cmp_queue_sample(const void *a, const void *b)
{
	const struct queue_sample *x = a, *y = b;

	if (x->ctrl != y->ctrl)
		return x->ctrl < y->ctrl ? -1 : 1;
	return x->qid < y->qid ? -1 : x->qid > y->qid;
}

static void add_counters(struct ns_counters *sum, const struct ns_counters *c)
{
	const __u64 *src = (const __u64 *)c;
	__u64 *dst = (__u64 *)sum;
	size_t i;

	for (i = 0; i < sizeof(*c) / sizeof(__u64); i++)
		dst[i] += src[i];
}

/*
 * The runs the kernel skipped, program by program: a raw tracepoint
 * program is not run inside itself on one CPU, and the kernel counts each
 * such skip in the program's recursion_misses (bpf_prog_info).
 */
static void misses_of_programs(struct collector *c, struct sample *s)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, c->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (!bpf_program__autoload(prog) || fd < 0 || s->nprogs >= NS_MAX_PROGS)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		s->prog_name[s->nprogs] = bpf_program__name(prog);
		s->prog_missed[s->nprogs++] = info.recursion_misses;
		s->missed_runs += info.recursion_misses;
	}
}

static bool counters_zero(const struct ns_counters *c)
{
	const __u64 *v = (const __u64 *)c;
	size_t i;

	for (i = 0; i < sizeof(*c) / sizeof(__u64); i++)
		if (v[i])
			return false;
	return true;
}

/*
 * Each watched queue's interrupts since attach, per CPU, from
 * /proc/interrupts: hardirq (both drivers) and, for the stock driver,
 * which has no handler event of its own, the CPUs that ran its handler.
 * A queue that took interrupts is shown, as one with events is.
 */
static int sample_irqs(struct collector *c, struct sample *s, size_t *cap)
{
	struct proc_interrupts now = { 0 };
	uint64_t by_cpu[NS_MAX_CPUS];
	struct queue_sample *q;
	size_t i;

	if (c->irq_events)
		return 0;	/* counted in BPF: collector_sample() */
	if (proc_interrupts_read(&now))
		return -1;
	for (i = 0; i < c->nirqs; i++) {
		uint64_t total;

		memset(by_cpu, 0, sizeof(by_cpu));
		total = proc_interrupts_delta(&c->irq_base, &now, c->irqs[i].irq, by_cpu);
		if (!total)
			continue;
		q = sample_queue(s, cap, c->irqs[i].ctrl, c->irqs[i].qid);
		if (!q) {
			proc_interrupts_free(&now);
			return -1;
		}
		q->total.hardirq = total;
		memcpy(q->hardirq_by_cpu, by_cpu, sizeof(by_cpu));
		if (c->driver == NS_DRIVER_NVME)
			memcpy(q->irq_by_cpu, by_cpu, sizeof(by_cpu));
	}
	proc_interrupts_free(&now);
	return 0;
}

/*
 * Each queue's type: what sysfs.c found at start (debugfs, or whether the
 * queue has an interrupt line), weighed against the events since attach.
 */
static void sample_types(struct collector *c, struct sample *s)
{
	unsigned int qc = c->skel->rodata->qid_count;
	enum ns_qtype_from from;
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct queue_sample *q = &s->q[i];
		enum ns_qtype sys = NS_QTYPE_UNKNOWN;
		enum ns_qtype_from sys_from = NS_QTYPE_FROM_NONE;
		size_t slot = (size_t)q->ctrl * qc + q->qid;

		if (slot < c->nslots) {
			sys = c->slot_type[slot];
			sys_from = c->slot_type_from[slot];
		}
		q->type = queue_type_resolve(sys, sys_from, &q->total, &from);
		q->type_from = from;
		q->poll_events = c->poll_events;
	}
}

/*
 * One queue slot's per-CPU values (buf: ncpus counters, each at the start
 * of a "stats" value; hbuf: ncpus "hists" values), summed into q.
 */
static void add_slot(const struct collector *c, struct queue_sample *q, const char *buf,
		     const char *hbuf)
{
	unsigned int cpu, iv;

	for (cpu = 0; cpu < c->ncpus; cpu++) {
		const struct ns_counters *cv = (const struct ns_counters *)(buf + cpu * c->value_size);
		const struct ns_queue_hists *st =
			(const struct ns_queue_hists *)(hbuf + cpu * c->hists_size);
		unsigned int cs = cpu < NS_MAX_CPUS ? cpu : NS_MAX_CPUS - 1;

		add_counters(&q->total, cv);
		q->sq_write_by_cpu[cs] += cv->sq_write + (c->driver == NS_DRIVER_NVME ? cv->rq_start : 0);
		if (c->driver == NS_DRIVER_TNVME) {
			q->irq_by_cpu[cs] += cv->irq;
			q->poll_by_cpu[cs] += cv->poll;
		}
		if (c->irq_events) {
			q->hardirq_by_cpu[cs] += cv->hardirq;
			if (c->driver == NS_DRIVER_NVME)
				q->irq_by_cpu[cs] += cv->hardirq;
		}
		for (iv = 0; iv < NS_IV_COUNT; iv++)
			if (st->hist[iv].count)
				hist_add(&q->hist[iv], &st->hist[iv]);
	}
}

/* A queue is shown once it had an event, on any CPU. */
static bool slot_seen(const struct collector *c, const char *buf)
{
	unsigned int cpu;

	for (cpu = 0; cpu < c->ncpus; cpu++)
		if (!counters_zero((const struct ns_counters *)(buf + cpu * c->value_size)))
			return true;
	return false;
}

/* The drop counters, summed over CPUs (dv: room for ncpus values). */
static void sample_drops(const struct collector *c, struct sample *s, __u64 *dv)
{
	int dfd = bpf_map__fd(c->skel->maps.drops);
	unsigned int cpu, i;

	for (i = 0; i < NS_DROP_COUNT; i++) {
		if (bpf_map_lookup_elem(dfd, &i, dv))
			continue;
		for (cpu = 0; cpu < c->ncpus; cpu++)
			s->drops[i] += dv[cpu];
	}
}

int collector_sample(struct collector *c, struct sample *s)
{
	char *buf = calloc(c->ncpus, c->value_size);
	char *hbuf = calloc(c->ncpus, c->hists_size);
	__u64 *dv = calloc(c->ncpus, sizeof(*dv));
	int sfd = bpf_map__fd(c->skel->maps.stats);
	int hfd = bpf_map__fd(c->skel->maps.hists);
	size_t cap = 0;
	unsigned int slot;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	if (!buf || !hbuf || !dv)
		goto out;
	s->time_s = now_monotonic();
	for (slot = 0; slot < c->nslots; slot++) {
		struct queue_sample *q;

		if (bpf_map_lookup_elem(sfd, &slot, buf) || !slot_seen(c, buf) ||
		    bpf_map_lookup_elem(hfd, &slot, hbuf))
			continue;
		q = sample_queue(s, &cap, c->slot_ctrl[slot], c->slot_qid[slot]);
		if (!q)
			goto out;
		add_slot(c, q, buf, hbuf);
	}
	if (sample_irqs(c, s, &cap))
		goto out;
	sample_types(c, s);
	sample_drops(c, s, dv);
	misses_of_programs(c, s);
	if (s->n)
		qsort(s->q, s->n, sizeof(s->q[0]), cmp_queue_sample);
	ret = 0;
out:
	free(buf);
	free(hbuf);
	free(dv);
	return ret;
}

void sample_free(struct sample *s)
{
	free(s->q);
	memset(s, 0, sizeof(*s));
}

static const struct queue_sample *find_queue(const struct sample *s,
					     uint32_t ctrl, uint16_t qid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->q[i].ctrl == ctrl && s->q[i].qid == qid)
			return &s->q[i];
	return NULL;
}

void sample_delta(struct sample *out, const struct sample *now,
		  const struct sample *before)
{
	static const struct queue_sample empty;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	out->time_s = now->time_s - (before ? before->time_s : now->time_s);
	out->q = calloc(now->n ? now->n : 1, sizeof(*out->q));
	if (!out->q)
		return;
	out->n = now->n;
	for (i = 0; i < NS_DROP_COUNT; i++)
		out->drops[i] = now->drops[i] - (before ? before->drops[i] : 0);
	out->missed_runs = now->missed_runs - (before ? before->missed_runs : 0);
	out->nprogs = now->nprogs;
	for (i = 0; i < now->nprogs; i++) {
		out->prog_name[i] = now->prog_name[i];
		out->prog_missed[i] = now->prog_missed[i] -
				      (before && i < before->nprogs ? before->prog_missed[i] : 0);
	}
	for (i = 0; i < now->n; i++) {
		const struct queue_sample *a = &now->q[i];
		const struct queue_sample *b = before ? find_queue(before, a->ctrl, a->qid) : NULL;
		struct queue_sample *d = &out->q[i];
		const __u64 *x = (const __u64 *)&a->total, *y;
		__u64 *z = (__u64 *)&d->total;

		if (!b)
			b = &empty;
		y = (const __u64 *)&b->total;
		d->ctrl = a->ctrl;
		d->qid = a->qid;
		d->type = a->type;
		d->type_from = a->type_from;
		d->poll_events = a->poll_events;
		for (k = 0; k < sizeof(a->total) / sizeof(__u64); k++)
			z[k] = x[k] - y[k];
		for (k = 0; k < NS_MAX_CPUS; k++) {
			d->sq_write_by_cpu[k] = a->sq_write_by_cpu[k] - b->sq_write_by_cpu[k];
			d->irq_by_cpu[k] = a->irq_by_cpu[k] - b->irq_by_cpu[k];
			d->hardirq_by_cpu[k] = a->hardirq_by_cpu[k] - b->hardirq_by_cpu[k];
			d->poll_by_cpu[k] = a->poll_by_cpu[k] - b->poll_by_cpu[k];
		}
		for (k = 0; k < NS_IV_COUNT; k++)
			hist_sub(&d->hist[k], &a->hist[k], &b->hist[k]);
	}
}
