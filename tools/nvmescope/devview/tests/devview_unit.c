// SPDX-License-Identifier: GPL-2.0
/*
 * nvmescope-devview-unit - unit tests of "nvmescope merge" without a VM:
 * the QEMU trace line parser, the record file parser, the clock offset
 * estimator on pairs with a known offset and drift, and a whole merge of a
 * simulated run (a guest record and a QEMU trace generated here with a
 * known offset and drift, cids and SQ slots reused, the guest starting to
 * record late, batched doorbells and interrupts).  Prints "ok - ..." /
 * "not ok - ..." lines; run by tests/host/nvmescope-merge.sh.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "devview/devview.h"

static int failed;

static void check(bool cond, const char *what)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", what);
	if (!cond)
		failed++;
}

static void test_split(void)
{
	const char *ev, *args;
	size_t len;
	int64_t t;

	check(!devtrace_split("391@1795460759.385197:pci_nvme_mmio_read addr 0x8 size 4\n",
			      &t, &ev, &len, &args) &&
	      t == 1795460759385197000LL && len == strlen("pci_nvme_mmio_read") &&
	      !strncmp(ev, "pci_nvme_mmio_read", len) && !strncmp(args, "addr 0x8", 8),
	      "devtrace: TID@SEC.USEC:EVENT ARGS");
	check(devtrace_split("qemu-system-x86_64: warning: x\n", &t, &ev, &len, &args) == -1,
	      "devtrace: a QEMU message is not an event");
	check(devtrace_split("12@5:pci_nvme_irq_pin pulsing\n", &t, &ev, &len, &args) == 0 &&
	      t == 5000000000LL, "devtrace: seconds without a fraction");
}

static void test_devtrace_queue(void)
{
	static const char *const lines[] = {
		"1@100.000000:pci_nvme_create_cq create completion queue, addr=0x1, cqid=1, vector=1, qsize=3, qflags=3, ien=1\n",
		"1@100.000001:pci_nvme_create_sq create submission queue, addr=0x2, sqid=1, cqid=1, qsize=3, qflags=1\n",
		"2@100.000010:pci_nvme_mmio_doorbell_sq sqid 1 new_tail 2\n",	/* slots 0, 1 */
		"1@100.000020:pci_nvme_io_cmd cid 7 nsid 0x1 sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'\n",
		"1@100.000021:pci_nvme_read cid 7 nsid 1 nlb 8 count 4096 lba 0x0\n",
		"1@100.000022:pci_nvme_map_prp trans_len 4096 len 4096 prp1 0x1000 prp2 0x0 num_prps 2\n",
		"2@100.000023:pci_nvme_mmio_doorbell_sq sqid 1 new_tail 3\n",	/* slot 2 */
		"1@100.000030:pci_nvme_io_cmd cid 9 nsid 0x1 sqid 1 opc 0x1 opname 'NVME_NVM_CMD_WRITE'\n",
		"1@100.000031:pci_nvme_io_cmd cid 4 nsid 0x1 sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'\n",
		"1@100.000040:pci_nvme_rw_cb cid 9 blk ''\n",
		"1@100.000041:pci_nvme_rw_complete_cb cid 9 blk ''\n",
		"1@100.000042:pci_nvme_enqueue_req_completion cid 9 cqid 1 dw0 0x0 dw1 0x0 status 0x0\n",
		"1@100.000050:pci_nvme_rw_cb cid 7 blk ''\n",
		"1@100.000051:pci_nvme_enqueue_req_completion cid 7 cqid 1 dw0 0x0 dw1 0x0 status 0x0\n",
		"1@100.000055:pci_nvme_irq_msix raising MSI-X IRQ vector 1\n",
		"3@100.000070:pci_nvme_mmio_doorbell_cq cqid 1 new_head 1\n",
		"1@100.000080:pci_nvme_rw_cb cid 4 blk ''\n",
		"1@100.000081:pci_nvme_enqueue_req_completion cid 4 cqid 1 dw0 0x0 dw1 0x0 status 0x4002\n",
		"1@100.000082:pci_nvme_irq_msix raising MSI-X IRQ vector 1\n",
		"3@100.000090:pci_nvme_mmio_doorbell_cq cqid 1 new_head 3\n",
		"2@100.000100:pci_nvme_mmio_doorbell_sq sqid 1 new_tail 1\n",	/* wraps: slot 3, 0 */
		"1@100.000110:pci_nvme_io_cmd cid 7 nsid 0x1 sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'\n",
		"1@100.000111:pci_nvme_io_cmd cid 9 nsid 0x1 sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'\n",
	};
	struct dlog d;
	size_t i;

	dlog_init(&d);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		dlog_feed(&d, lines[i]);
	check(d.n == 5, "devtrace: 5 commands fetched");
	if (d.n != 5)
		goto out;
	check(d.cmd[0].cid == 7 && d.cmd[0].sq_slot == 0 && d.cmd[1].cid == 9 &&
	      d.cmd[1].sq_slot == 1 && d.cmd[2].sq_slot == 2 && d.cmd[3].sq_slot == 3 &&
	      d.cmd[4].sq_slot == 0 && d.cmd[4].seq == 4, "devtrace: SQ slots in fetch order, wrapping");
	check(d.cmd[0].t[D_SQ_DOORBELL] == 100000010000LL &&
	      d.cmd[1].t[D_SQ_DOORBELL] == 100000010000LL &&
	      d.cmd[2].t[D_SQ_DOORBELL] == 100000023000LL &&
	      d.cmd[3].t[D_SQ_DOORBELL] == 100000100000LL &&
	      d.cmd[4].t[D_SQ_DOORBELL] == 100000100000LL,
	      "devtrace: each command gets the doorbell whose new tail covers its slot");
	check(d.cmd[0].t[D_MAP] == 100000022000LL && d.cmd[1].t[D_MAP] == 0,
	      "devtrace: map_prp goes to the command just fetched");
	check(d.cmd[1].t[D_DMA] == 100000040000LL && d.cmd[1].t[D_CQ_POST] == 100000042000LL &&
	      d.cmd[0].t[D_DMA] == 100000050000LL && d.cmd[2].t[D_DMA] == 100000080000LL,
	      "devtrace: rw_cb and completion by cid");
	check(d.cmd[1].cq_slot == 0 && d.cmd[0].cq_slot == 1 && d.cmd[2].cq_slot == 2 &&
	      d.cmd[2].status == 0x4002, "devtrace: CQ slots in completion order, status");
	check(d.cmd[1].t[D_IRQ] == 100000055000LL && d.cmd[0].t[D_IRQ] == 100000055000LL &&
	      d.cmd[2].t[D_IRQ] == 100000082000LL, "devtrace: one MSI-X covers the completions before it");
	check(d.cmd[1].t[D_CQ_DOORBELL] == 100000070000LL &&
	      d.cmd[0].t[D_CQ_DOORBELL] == 100000090000LL &&
	      d.cmd[2].t[D_CQ_DOORBELL] == 100000090000LL,
	      "devtrace: a CQ doorbell frees the CQEs up to its new head");
	check(!d.cmd[3].done && d.unmatched_cqe == 0, "devtrace: in-flight commands stay open");
out:
	dlog_free(&d);
}

static void test_hrec(void)
{
	char msg[512];
	struct ns_cmd c = { 0 };
	struct hrec r = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	unsigned int i;

	for (i = 0; i < NS_STEP_COUNT; i++)
		c.ts[i] = 1000000000000ULL + i * 1000;
	c.ctrl = 0;
	c.qid = 3;
	c.cid = 517;
	c.sq_slot = 1023;
	c.cq_slot = 12;
	c.opcode = 2;
	c.bytes = 4096;
	c.sq_doorbell_seq = 123456789012ULL;
	c.status = 0x4002;
	f = open_memstream(&buf, &len);
	hrec_write_cmd(f, &c);
	fclose(f);
	check(!hrec_parse_line(&r, buf) && r.n == 1, "record: a C line parses");
	check(r.n == 1 && r.cmd[0].qid == 3 && r.cmd[0].cid == 517 && r.cmd[0].sq_slot == 1023 &&
	      r.cmd[0].cq_slot == 12 && r.cmd[0].status == 0x4002 &&
	      r.cmd[0].sq_db_seq == 123456789012ULL &&
	      r.cmd[0].ts[NS_STEP_CQ_DOORBELL] == 1000000009000ULL,
	      "record: what is written is read back");
	check(r.n == 1 && r.cmd[0].sq_mem == 0, "record: sq_mem 0 (host memory) read back");
	free(buf);
	buf = NULL;
	c.sq_mem = 1;
	f = open_memstream(&buf, &len);
	hrec_write_cmd(f, &c);
	fclose(f);
	check(!hrec_parse_line(&r, buf) && r.n == 2 && r.cmd[1].sq_mem == 1,
	      "record: sq_mem 1 (the CMB) read back");
	/* a line as nvmescope wrote it before sq_mem: 12 numbers and the 10 steps */
	check(!hrec_parse_line(&r, "C 0 1 5 2 0 4096 0 7 7 99 1 1 1 2 3 4 5 6 7 8 9 10\n") &&
	      r.n == 3 && r.cmd[2].sq_mem == -1 && r.cmd[2].ts[NS_STEP_CQ_DOORBELL] == 10,
	      "record: an older line without sq_mem parses, sq_mem unknown");
	check(hrec_parse_line(&r, "C 0 1 5 2 0 4096 0 7 7 99 1 1 1 2 3 4 5 6 7 8 9 10 2\n") == -1 &&
	      r.bad_lines == 1, "record: sq_mem other than 0 or 1 is bad");
	check(hrec_parse_line(&r, "C 1 2 3\n") == -1 && r.bad_lines == 2, "record: a short line is bad");
	check(!hrec_parse_line(&r, "# clock realtime_ns=1795464226000000000 monotonic_ns=8000000000 read_ns=50\n") &&
	      r.have_coarse && r.coarse_offset_ns == 1795464218000000000LL,
	      "record: the clock line gives REALTIME - MONOTONIC");
	check(!hrec_parse_line(&r, "# end commands=5 lost=7 not_started=2\n") && r.lost == 7,
	      "record: the end line gives the lost records");
	check(!r.have_doorbells && !hrec_shadow_only(&r, msg, sizeof(msg)),
	      "record: an end line without doorbell totals (older record) is not refused");
	check(!hrec_parse_line(&r, "# attached ctrl=0 driver=tnvme\n") && r.have_ctrl && r.ctrl == 0,
	      "record: the attached line gives the controller");
	check(!hrec_parse_line(&r, "# end commands=9 lost=0 not_started=0 sq_doorbells=1024 "
			       "sq_doorbells_mmio=1024 cq_doorbells=700 cq_doorbells_mmio=700\n") &&
	      r.have_doorbells && r.sq_db == 1024 && r.sq_db_mmio == 1024 && r.cq_db == 700 &&
	      r.cq_db_mmio == 700 && !hrec_shadow_only(&r, msg, sizeof(msg)),
	      "record: doorbell totals, all MMIO writes: not refused");
	hrec_parse_line(&r, "# end commands=9 lost=0 not_started=0 sq_doorbells=1024 "
			"sq_doorbells_mmio=212 cq_doorbells=700 cq_doorbells_mmio=700\n");
	check(hrec_shadow_only(&r, msg, sizeof(msg)) &&
	      !strcmp(msg, "812 of 1024 SQ doorbells of ctrl 0 went only to the shadow doorbell buffer, "
		      "QEMU saw no MMIO write for them: load tnvme with shadow_doorbells=0 for the device view"),
	      "record: shadow-only SQ doorbells are refused, with how many");
	hrec_parse_line(&r, "# end commands=9 lost=0 not_started=0 sq_doorbells=1024 "
			"sq_doorbells_mmio=1024 cq_doorbells=700 cq_doorbells_mmio=1\n");
	check(hrec_shadow_only(&r, msg, sizeof(msg)) && !strncmp(msg, "699 of 700 CQ doorbells of ctrl 0 went", 38),
	      "record: shadow-only CQ doorbells are refused too");
	hrec_parse_line(&r, "# end commands=9 lost=0 not_started=0 sq_doorbells=10 "
			"sq_doorbells_mmio=0 cq_doorbells=20 cq_doorbells_mmio=5\n");
	check(hrec_shadow_only(&r, msg, sizeof(msg)) &&
	      !strncmp(msg, "10 of 10 SQ doorbells and 15 of 20 CQ doorbells of ctrl 0 went", 62),
	      "record: both in one line");
	free(buf);
	hrec_free(&r);
}

/* known offset and drift: the estimator finds them within its own bound */
static void test_clocksync(void)
{
	const int64_t off0 = 1795000000000000000LL, g0 = 50000000000LL;
	const double drift = 30e-6;
	struct csync c;
	int i;

	cs_init(&c);
	for (i = 0; i < 20000; i++) {
		int64_t g = g0 + (int64_t)i * 100000;	/* 2 s */
		int64_t off = off0 + (int64_t)llround(drift * (g - g0));
		int64_t up = 3000 + (i * 7919) % 20000;	/* one-way delays 3..23 us */
		int64_t dn = 5000 + (i * 104729) % 30000;

		/* device times truncated to microseconds, as QEMU prints them */
		cs_add(&c, CS_SQ_DOORBELL, g, (g + off + up) / 1000 * 1000);
		cs_add(&c, i % 2 ? CS_CQE : CS_CQ_DOORBELL, g + dn, (g + off) / 1000 * 1000);
	}
	check(!cs_solve(&c), "clocksync: solves");
	printf("# offset err %.0f ns, unc %.0f ns, drift %.2f ppm\n",
	       (double)(cs_map(&c, g0) - g0 - off0), c.unc_ns, c.b * 1e6);
	check(c.consistent, "clocksync: bounds consistent");
	check(fabs(c.b * 1e6 - 30) < 1, "clocksync: drift 30 ppm found to within 1 ppm");
	check(llabs(cs_map(&c, g0 + 1000000000) - (g0 + 1000000000 + off0 + 30000)) <=
	      (int64_t)c.unc_ns + 1000, "clocksync: offset within the uncertainty (+1 us)");
	check(c.unc_ns < 5000, "clocksync: uncertainty < the smallest one-way delays (3 + 5 us) / 2 + 1 us");
	/* one pair that contradicts all the others by 10 us: dropped, counted */
	cs_add(&c, CS_CQ_DOORBELL, g0 + 700000000, g0 + 700000000 + off0 + 21000 + 10000);
	check(!cs_solve(&c) && c.consistent && c.outliers == 1 && c.unc_ns < 5000,
	      "clocksync: one isolated contradicting pair is dropped as an outlier");
	cs_free(&c);

	cs_init(&c);
	cs_add(&c, CS_SQ_DOORBELL, 1000, 5000);
	check(cs_solve(&c) == -1, "clocksync: upper bounds alone do not solve");
	cs_free(&c);
}

/* ------------------------------------------------ a simulated run */

struct ev {
	int64_t t;
	char line[160];
};

static struct ev *evs;
static size_t nev, cap_ev;

static void emit(int64_t t_ns, const char *fmt, unsigned long a, unsigned long b)
{
	int64_t us = t_ns / 1000;	/* QEMU truncates to microseconds */
	char args[128];

	if (nev == cap_ev) {
		size_t cap = cap_ev ? 2 * cap_ev : 1024;
		struct ev *p = realloc(evs, cap * sizeof(*evs));

		if (!p) {
			fprintf(stderr, "devview_unit: out of memory\n");
			exit(1);
		}
		evs = p;
		cap_ev = cap;
	}
	snprintf(args, sizeof(args), fmt, a, b);
	evs[nev].t = t_ns;
	snprintf(evs[nev].line, sizeof(evs[nev].line), "77@%lld.%06lld:%s\n",
		 (long long)(us / 1000000), (long long)(us % 1000000), args);
	nev++;
}

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

#define SIM_OFF0 (1795464218000000000LL - 50000000000LL)
#define SIM_G0 50000000000LL
#define SIM_DRIFT 20e-6

static int64_t g2h(int64_t g)
{
	return g + SIM_OFF0 + (int64_t)llround(SIM_DRIFT * (g - SIM_G0));
}

static int64_t h2g(int64_t h)
{
	/* inverse to within a nanosecond or so (drift is tiny) */
	int64_t g = h - SIM_OFF0;

	return h - SIM_OFF0 - (int64_t)llround(SIM_DRIFT * (g - SIM_G0));
}

enum { SIM_N = 20000, SIM_QSIZE = 8, SIM_SKIP = 1001 };

/*
 * A simulated run of n commands on SQ/CQ 1 (and noise on queue 2): QEMU's
 * events go to evs[] (unsorted), the guest's record to f, from
 * command SIM_SKIP on (the record starts late), ending with an "# end"
 * line whose doorbells were all MMIO writes, as with shadow_doorbells=0.
 */
static void sim_run(FILE *f, size_t n)
{
	size_t k, recorded = 0, lost = 0, sq_db = 0, cq_db = 0;

	/* setup */
	emit(SIM_OFF0 + SIM_G0 - 1000000, "pci_nvme_create_cq create completion queue, addr=0x1, cqid=1, vector=1, qsize=%lu, qflags=3, ien=%lu", SIM_QSIZE - 1, 1);
	emit(SIM_OFF0 + SIM_G0 - 999000, "pci_nvme_create_sq create submission queue, addr=0x2, sqid=1, cqid=1, qsize=%lu, qflags=%lu", SIM_QSIZE - 1, 1);
	emit(SIM_OFF0 + SIM_G0 - 998000, "pci_nvme_create_cq create completion queue, addr=0x3, cqid=2, vector=2, qsize=%lu, qflags=3, ien=%lu", 63, 1);
	emit(SIM_OFF0 + SIM_G0 - 997000, "pci_nvme_create_sq create submission queue, addr=0x4, sqid=2, cqid=2, qsize=%lu, qflags=%lu", 63, 1);

	fprintf(f, "%s\n# clock realtime_ns=%lld monotonic_ns=%lld read_ns=100\n", HREC_MAGIC,
		(long long)(SIM_OFF0 + 700000000LL + 1000), 1000LL);	/* a guess 0.7 s off */
	fprintf(f, "# attached ctrl=0 driver=tnvme\n");
	for (k = 0; k < n; k++) {
		size_t b = k / 2, first = b * 2;
		int64_t base = SIM_G0 + (int64_t)b * 100000;
		int64_t sqw = base + (int64_t)(k % 2) * 1000;
		int64_t gdb = base + 3000, hdb = g2h(gdb) + 4000;
		int64_t fetch = hdb + 10000 + (int64_t)(k % 2) * 2000;
		/* the backend's time varies (0..30 us), as real I/O does */
		int64_t jit0 = (int64_t)((first * 2654435761u) % 30000);
		int64_t jit1 = (int64_t)(((first + 1) * 2654435761u) % 30000);
		int64_t rwcb = fetch + 20000 + (k % 2 ? jit1 : jit0), post = rwcb + 1000;
		int64_t msix = g2h(gdb) + 4000 + 10000 + 2000 + 20000 + 1000 + 1000 +
			       (jit0 > jit1 ? jit0 : jit1);
		int64_t girq = h2g(msix) + 6000, gcqe = girq + 1000 + (int64_t)(k % 2) * 500;
		/* the CQ doorbell's tracepoint fires after the MMIO write */
		int64_t hcqdb = msix + 9000, gcqdb = h2g(hcqdb) + 2000;
		unsigned int cid = k % 5, slot = k % SIM_QSIZE;
		struct ns_cmd c = { 0 };

		if (k == first)
			emit(hdb, "pci_nvme_mmio_doorbell_sq sqid 1 new_tail %lu%.0lu", (first + 2) % SIM_QSIZE, 0);
		emit(fetch, "pci_nvme_io_cmd cid %lu nsid 0x1 sqid 1 opc 0x%lx opname 'X'", cid, 2);
		emit(rwcb, "pci_nvme_rw_cb cid %lu blk ''%.0lu", cid, 0);
		emit(post, "pci_nvme_enqueue_req_completion cid %lu cqid 1 dw0 0x0 dw1 0x0 status 0x%lx", cid, 0);
		if (k != first) {
			emit(msix, "pci_nvme_irq_msix raising MSI-X IRQ vector %lu%.0lu", 1, 0);
			emit(hcqdb, "pci_nvme_mmio_doorbell_cq cqid 1 new_head %lu%.0lu", (first + 2) % SIM_QSIZE, 0);
		}
		/* another queue the guest did not record: noise with the same cids */
		if (k % 7 == 0)
			emit(fetch + 500, "pci_nvme_io_cmd cid %lu nsid 0x1 sqid 2 opc 0x%lx opname 'X'", cid, 2);
		if (k < SIM_SKIP)
			continue;	/* "record" started late */
		/* the doorbells the guest counted while recording */
		sq_db += k == first;
		cq_db += k != first;
		c.qid = 1;
		c.cid = cid;
		c.sq_slot = slot;
		c.cq_slot = slot;
		c.opcode = 2;
		c.bytes = 4096;
		c.ts[NS_STEP_RQ_START] = sqw - 2000;
		c.ts[NS_STEP_SQ_WRITE] = sqw;
		c.ts[NS_STEP_SQ_DOORBELL] = gdb;
		c.ts[NS_STEP_IRQ] = girq;
		c.ts[NS_STEP_CQE] = gcqe;
		c.ts[NS_STEP_RQ_END] = gcqe + 300;
		c.ts[NS_STEP_CQ_DOORBELL] = gcqdb;
		if (k % 997 != 0) {	/* a few records lost by the guest */
			hrec_write_cmd(f, &c);
			recorded++;
		} else {
			lost++;
		}
	}
	fprintf(f, "# end commands=%zu lost=%zu not_started=0 sq_doorbells=%zu sq_doorbells_mmio=%zu cq_doorbells=%zu cq_doorbells_mmio=%zu\n",
		recorded, lost, sq_db, sq_db, cq_db, cq_db);
	/*
	 * After the record, the device goes on on the same queue, with
	 * other cids, except one command with the (cid, slot) of the first
	 * recorded one (cid 1, slot 1) and a quick completion: a place where
	 * a walk joins that one command and nothing after it.  Its single
	 * pair of bounds leaves a wider band than the right place's hundreds
	 * do; merge must not start there (it once did, tests/vm/driver-cmb).
	 */
	for (k = n; k < n + SIM_QSIZE; k++) {
		int64_t t = g2h(SIM_G0 + (int64_t)(n / 2) * 100000 + 1000000000LL) +
			    (int64_t)(k - n) * 100000;
		unsigned int cid = k % SIM_QSIZE == 1 ? 1 : 9;	/* 9: no guest cid */

		emit(t, "pci_nvme_mmio_doorbell_sq sqid 1 new_tail %lu%.0lu", (k + 1) % SIM_QSIZE, 0);
		emit(t + 2000, "pci_nvme_io_cmd cid %lu nsid 0x1 sqid 1 opc 0x%lx opname 'X'", cid, 2);
		emit(t + 4000, "pci_nvme_rw_cb cid %lu blk ''%.0lu", cid, 0);
		emit(t + 5000, "pci_nvme_enqueue_req_completion cid %lu cqid 1 dw0 0x0 dw1 0x0 status 0x%lx", cid, 0);
	}
}

static void test_merge_sim(void)
{
	struct hrec r = { 0 };
	struct dlog d;
	struct merged m;
	char err[256] = "", line[512];
	char *buf = NULL;
	size_t len = 0, i, ordered = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	sim_run(f, SIM_N);
	fclose(f);
	qsort(evs, nev, sizeof(*evs), cmp_ev);
	dlog_init(&d);
	for (i = 0; i < nev; i++)
		dlog_feed(&d, evs[i].line);
	f = fmemopen(buf, len, "r");
	while (fgets(line, sizeof(line), f))
		hrec_parse_line(&r, line);
	fclose(f);
	check(r.n > 18000 && r.have_coarse, "sim: record parsed");
	check(r.have_doorbells && r.sq_db == r.sq_db_mmio && r.sq_db > 9000 &&
	      !hrec_shadow_only(&r, err, sizeof(err)),
	      "sim: every doorbell an MMIO write: merge goes ahead");
	check(d.n == SIM_N + (SIM_N + 6) / 7 + SIM_QSIZE, "sim: device commands parsed");
	if (merge_build(&m, &r, &d, err, sizeof(err))) {
		check(false, err);
		goto out;
	}
	printf("# sim: joined %zu/%zu, offset err %lld ns, unc %.0f ns, drift %.2f ppm, not causal %zu\n",
	       m.joined, m.guest, (long long)(cs_map(&m.cs, SIM_G0) - g2h(SIM_G0)), m.cs.unc_ns,
	       m.cs.b * 1e6, m.not_causal);
	check(m.joined == m.guest, "sim: every recorded command joined (right lap, despite lost records)");
	for (i = 0; i < m.n; i++) {
		const struct mcmd *c = &m.cmd[i];

		if (c->h->cid == c->d->cid && c->d->seq == (c->h->ts[NS_STEP_SQ_WRITE] - SIM_G0) / 100000 * 2 +
		    (c->h->ts[NS_STEP_SQ_WRITE] - SIM_G0) % 100000 / 1000)
			ordered++;
	}
	check(ordered == m.n, "sim: each guest command joined with its own device command (sequence)");
	check(m.cs.consistent, "sim: clock bounds consistent");
	check(fabs(m.cs.b * 1e6 - 20) < 2, "sim: drift 20 ppm found to within 2 ppm");
	check(llabs(cs_map(&m.cs, SIM_G0 + 500000000) - g2h(SIM_G0 + 500000000)) <=
	      (int64_t)m.cs.unc_ns + 1000, "sim: offset within the uncertainty");
	check(m.cs.unc_ns < 7000, "sim: uncertainty below the one-way delays");
	check(m.not_causal == 0, "sim: every joined command's seven steps in causal order");
	check(m.nq == 1 && m.q[0].niv[2] == m.joined && m.q[0].ndevtime == m.joined,
	      "sim: per-queue intervals");
	{
		double p50 = sorted_percentile(m.q[0].iv[2], m.q[0].niv[2], 50);

		check(fabs(p50 - 35000) < 2001, "sim: fetch-dma median = 35 us");
	}
	free(buf);	/* the record, parsed above */
	buf = NULL;
	f = open_memstream(&buf, &len);
	check(!timeline_svg(f, &m, 0, 30), "sim: timeline writes");
	fclose(f);
	check(strstr(buf, "<svg") && strstr(buf, "</svg>") && strstr(buf, "queue 1"),
	      "sim: timeline is an SVG with a lane for queue 1");
	merge_free(&m);
out:
	free(buf);
	free(evs);
	hrec_free(&r);
	dlog_free(&d);
}

/*
 * --write-sim DIR N: the simulated run of N commands as files,
 * DIR/host-trace.log and DIR/device-trace.log, for the command-line tests
 * of merge and timeline (tests/host/nvmescope-merge.sh).
 */
static int write_sim(const char *dir, const char *count)
{
	char path[4096];
	size_t i, n = strtoul(count, NULL, 0);
	FILE *f;

	if (n < 2 * SIM_SKIP) {
		fprintf(stderr, "nvmescope-devview-unit: --write-sim DIR N wants N >= %d\n", 2 * SIM_SKIP);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/host-trace.log", dir);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	sim_run(f, n);
	if (fclose(f))
		return 1;
	qsort(evs, nev, sizeof(*evs), cmp_ev);
	snprintf(path, sizeof(path), "%s/device-trace.log", dir);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	for (i = 0; i < nev; i++)
		fputs(evs[i].line, f);
	free(evs);
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--write-sim"))
		return write_sim(argv[2], argv[3]);
	test_split();
	test_devtrace_queue();
	test_hrec();
	test_clocksync();
	test_merge_sim();
	printf("%s\n", failed ? "FAILED" : "all passed");
	return failed ? 1 : 0;
}
