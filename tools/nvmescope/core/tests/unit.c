// SPDX-License-Identifier: GPL-2.0
/*
 * nvmescope-unit - unit tests of the parts that need no kernel: the
 * option value parsers, the /proc/interrupts, CPU list and queue name
 * parsers, the histogram percentiles, the JSON writer, the per-queue
 * views (doorbells, SQ_USED, queue types, poll queues) and the lost-event
 * line.  Prints "ok - ..." / "not ok - ..." lines like the rest of the
 * test suite; tests/host/nvmescope-unit.sh runs it.
 *
 *   nvmescope-unit            run the tests
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "core/json.h"
#include "core/parse.h"
#include "core/procfs.h"
#include "core/view.h"

static int failed;

static void check(bool cond, const char *what)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", what);
	if (!cond)
		failed++;
}

static void check_str(const char *got, const char *want, const char *what)
{
	bool same = got && !strcmp(got, want);

	printf("%s - %s", same ? "ok" : "not ok", what);
	if (!same)
		printf(" (want '%s', got '%s')", want, got ? got : "(null)");
	putchar('\n');
	if (!same)
		failed++;
}

/* ------------------------------------------------------------ parsers */

static void test_parse_seconds(void)
{
	static const char *const bad[] = {
		"", "0", "0.001", "-1", "+1", " 1", "1 ", "1s", "5m", "abc", ".",
		"nan", "inf", "0x1p3", "86401", "1e400", "1,5",
	};
	char what[64];
	double v = -1;
	size_t i;

	check(!parse_seconds("1", &v) && v == 1, "seconds: '1'");
	check(!parse_seconds("0.5", &v) && v == 0.5, "seconds: '0.5'");
	check(!parse_seconds(".25", &v) && v == 0.25, "seconds: '.25'");
	check(!parse_seconds("0.01", &v) && v == 0.01, "seconds: '0.01', the shortest");
	check(!parse_seconds("86400", &v) && v == 86400, "seconds: '86400', a day, the longest");
	check(!parse_seconds("2e-2", &v) && v == 0.02, "seconds: '2e-2'");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		snprintf(what, sizeof(what), "seconds: '%s' is rejected", bad[i]);
		check(parse_seconds(bad[i], &v) < 0 && v == -1, what);
	}
}

static void test_parse_number(void)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1k", "abc", "0x", "08", "65536",
		"99999999999999999999999",
	};
	char what[64];
	long v = -1;
	size_t i;

	check(!parse_number("0", 0, 65535, &v) && v == 0, "number: '0'");
	check(!parse_number("65535", 0, 65535, &v) && v == 65535, "number: '65535', the max");
	check(!parse_number("0x10", 0, 65535, &v) && v == 16, "number: '0x10' is hex");
	check(!parse_number("010", 0, 65535, &v) && v == 8, "number: '010' is octal, as in C");
	check(parse_number("0", 1, 10, &v) < 0, "number: below the min is rejected");
	check(!parse_number("1000000000", 1, NS_COUNT_MAX, &v) && v == NS_COUNT_MAX,
	      "number: a count of 10^9");
	check(parse_number("1000000001", 1, NS_COUNT_MAX, &v) < 0,
	      "number: a count over 10^9 is rejected");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		snprintf(what, sizeof(what), "number: '%s' is rejected", bad[i]);
		check(parse_number(bad[i], 0, 65535, &v) < 0 && v == -1, what);
	}
}

static void test_parse_opcode_driver(void)
{
	enum ns_driver d = NS_DRIVER_TNVME;
	int op = -1;

	check(!parse_opcode("read", &op) && op == 0x02, "opcode: read is 0x02");
	check(!parse_opcode("write", &op) && op == 0x01, "opcode: write is 0x01");
	check(!parse_opcode("flush", &op) && op == 0x00, "opcode: flush is 0x00");
	check(!parse_opcode("0x80", &op) && op == 0x80, "opcode: a number");
	op = -1;
	check(parse_opcode("256", &op) < 0 && parse_opcode("READ", &op) < 0 &&
	      parse_opcode("-1", &op) < 0 && parse_opcode("", &op) < 0 && op == -1,
	      "opcode: 256, READ, -1 and '' are rejected");
	check(!parse_driver("nvme", &d) && d == NS_DRIVER_NVME, "driver: nvme");
	check(!parse_driver("tnvme", &d) && d == NS_DRIVER_TNVME, "driver: tnvme");
	check(parse_driver("nvme0", &d) < 0 && parse_driver("", &d) < 0 && d == NS_DRIVER_TNVME,
	      "driver: nvme0 and '' are rejected");
}

static void test_cpulist(void)
{
	struct cpuset s, t;
	char buf[128];

	check(!cpulist_parse("0-3,8\n", &s), "cpulist: '0-3,8' parses");
	cpulist_format(&s, buf, sizeof(buf));
	check_str(buf, "0-3,8", "cpulist: '0-3,8' formats back the same");
	check(!cpulist_parse("5", &s) && cpuset_has(&s, 5) && !cpuset_has(&s, 4),
	      "cpulist: a single CPU");
	check(!cpulist_parse("  1 - 2 , 7 ", &s) && cpuset_has(&s, 2) && cpuset_has(&s, 7),
	      "cpulist: spaces around numbers and dashes");
	check(!cpulist_parse("", &s) && cpuset_empty(&s), "cpulist: empty text is an empty set");
	cpulist_format(&s, buf, sizeof(buf));
	check_str(buf, "-", "cpulist: an empty set formats as '-'");
	check(cpulist_parse("3-1", &s) < 0, "cpulist: a backwards range is rejected");
	check(cpulist_parse("1,,2", &s) < 0, "cpulist: an empty element is rejected");
	check(cpulist_parse("abc", &s) < 0, "cpulist: letters are rejected");
	check(cpulist_parse("99999", &s) < 0, "cpulist: a CPU beyond NS_MAX_CPUS is rejected");
	check(!cpulist_parse("0-255", &s) && cpuset_has(&s, 255) && cpuset_has(&s, 64),
	      "cpulist: 256 CPUs across words");
	cpulist_format(&s, buf, sizeof(buf));
	check_str(buf, "0-255", "cpulist: 0-255 formats as one range");
	cpulist_parse("0,2,4-6", &s);
	cpulist_parse("0-7", &t);
	check(cpuset_subset(&s, &t) && !cpuset_subset(&t, &s), "cpuset: subset");
}

static void test_queue_names(void)
{
	enum ns_driver d;
	unsigned int c, q;

	check(nvme_queue_name_parse("nvme0q1", &d, &c, &q) && d == NS_DRIVER_NVME &&
	      c == 0 && q == 1, "queue name: nvme0q1");
	check(nvme_queue_name_parse("tnvme12q63", &d, &c, &q) && d == NS_DRIVER_TNVME &&
	      c == 12 && q == 63, "queue name: tnvme12q63");
	check(!nvme_queue_name_parse("nvme0", &d, &c, &q), "queue name: nvme0 is no queue");
	check(!nvme_queue_name_parse("nvme0q", &d, &c, &q), "queue name: nvme0q is no queue");
	check(!nvme_queue_name_parse("nvmeq1", &d, &c, &q), "queue name: nvmeq1 is no queue");
	check(!nvme_queue_name_parse("nvme0q1x", &d, &c, &q), "queue name: nvme0q1x is no queue");
	check(!nvme_queue_name_parse("xnvme0q1", &d, &c, &q), "queue name: xnvme0q1 is no queue");
	check(nvme_queue_in_actions("foo, nvme3q2", &d, &c, &q) && c == 3 && q == 2,
	      "queue name: found in a shared action list");
	check(!nvme_queue_in_actions("PCIe PME, aerdrv", &d, &c, &q),
	      "queue name: none in 'PCIe PME, aerdrv'");
}

static const char *interrupts_text =
"            CPU0       CPU1       CPU3      CPU17\n"
"   0:        120          0          0          0   IO-APIC   2-edge      timer\n"
"  24:          0          0          0          0   PCI-MSI 65536-edge      PCIe PME, aerdrv\n"
"  32:          5          6          7 4294967296   PCI-MSI 524288-edge      nvme0q0\n"
" 140:          0          0        999          1   IR-PCI-MSIX-0000:02:00.0    3-edge      tnvme0q3\n"
" 141:          1          2          3          4   weird chip name-with-dash   tnvme1q1\n"
" 142:          1          2\n"
" NMI:          0          0          0          0   Non-maskable interrupts\n"
" ERR:          0\n"
" MIS:          0\n";

static void test_proc_interrupts(void)
{
	FILE *f = fmemopen((void *)interrupts_text, strlen(interrupts_text), "r");
	struct proc_interrupts pi;
	const struct irq_line *l;
	enum ns_driver d;
	unsigned int c, q;
	int r = proc_interrupts_parse(f, &pi);

	fclose(f);
	check(r == 0, "/proc/interrupts: parses");
	if (r)
		return;
	check(pi.ncols == 4 && pi.col_cpu[2] == 3 && pi.col_cpu[3] == 17,
	      "/proc/interrupts: CPU columns follow the header (offline CPUs missing)");
	check(pi.nlines == 6, "/proc/interrupts: numbered lines only (NMI, ERR, MIS skipped)");
	l = proc_interrupts_find(&pi, 32);
	check(l && l->count[3] == 4294967296ULL, "/proc/interrupts: counts above 2^32");
	check_str(l ? l->actions : NULL, "nvme0q0", "/proc/interrupts: action after hwirq-edge");
	l = proc_interrupts_find(&pi, 24);
	check_str(l ? l->actions : NULL, "PCIe PME, aerdrv", "/proc/interrupts: action with spaces and commas");
	l = proc_interrupts_find(&pi, 140);
	check_str(l ? l->chip : NULL, "IR-PCI-MSIX-0000:02:00.0", "/proc/interrupts: chip name");
	check(l && nvme_queue_in_actions(l->actions, &d, &c, &q) && d == NS_DRIVER_TNVME && q == 3,
	      "/proc/interrupts: tnvme0q3 recognised");
	l = proc_interrupts_find(&pi, 141);
	check(l && nvme_queue_in_actions(l->actions, &d, &c, &q) && c == 1 && q == 1,
	      "/proc/interrupts: queue name found without a hwirq word");
	l = proc_interrupts_find(&pi, 142);
	check(l && l->count[1] == 2 && l->count[2] == 0 && l->count[3] == 0,
	      "/proc/interrupts: a short line leaves the other CPUs at 0");
	proc_interrupts_free(&pi);

	/* many CPUs: 200 columns */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		unsigned int i;

		for (i = 0; i < 200; i++)
			fprintf(m, "%sCPU%u", i ? "       " : "           ", i);
		fputc('\n', m);
		fputs(" 77:", m);
		for (i = 0; i < 200; i++)
			fprintf(m, " %10u", i);
		fputs("  PCI-MSIX-0000:01:00.0 9-edge nvme5q9\n", m);
		fclose(m);
		m = fmemopen(buf, len, "r");
		r = proc_interrupts_parse(m, &pi);
		fclose(m);
		free(buf);
		l = r ? NULL : proc_interrupts_find(&pi, 77);
		check(!r && pi.ncols == 200 && l && l->count[199] == 199 &&
		      !strcmp(l->actions, "nvme5q9"), "/proc/interrupts: 200 CPUs");
		if (!r)
			proc_interrupts_free(&pi);
	}
	f = fmemopen((void *)"garbage\n", 8, "r");
	check(proc_interrupts_parse(f, &pi) < 0, "/proc/interrupts: garbage header is an error");
	fclose(f);
}

/*
 * Interrupts per CPU between two readings: what top's "hardirqs" and the
 * stock driver's IRQ_CPUS are made of now that nvmescope attaches to
 * irq:irq_handler_entry only with --irq-events (issue #4).
 */
static struct proc_interrupts parse_text(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct proc_interrupts pi = { 0 };

	if (!f || proc_interrupts_parse(f, &pi))
		memset(&pi, 0, sizeof(pi));
	if (f)
		fclose(f);
	return pi;
}

static void test_proc_interrupts_delta(void)
{
	struct proc_interrupts a = parse_text(
		"      CPU0  CPU1  CPU2\n"
		" 40:   100    10     0  PCI-MSIX-0000:01:00.0 1-edge tnvme0q1\n"
		" 41:     5     5     5  PCI-MSIX-0000:01:00.0 2-edge tnvme0q2\n"
		" 42:     7     0     0  PCI-MSIX-0000:01:00.0 3-edge tnvme0q3\n");
	/* CPU1 went offline, CPU3 came online; q3's counter went backwards */
	struct proc_interrupts b = parse_text(
		"      CPU0  CPU2  CPU3\n"
		" 40:   150     4     6  PCI-MSIX-0000:01:00.0 1-edge tnvme0q1\n"
		" 41:     5     5     0  PCI-MSIX-0000:01:00.0 2-edge tnvme0q2\n"
		" 42:     1     0     0  PCI-MSIX-0000:01:00.0 3-edge nvme1q1\n"
		" 43:     9     9     9  PCI-MSIX-0000:01:00.0 4-edge tnvme0q4\n");
	uint64_t by_cpu[NS_MAX_CPUS] = { 0 };
	uint64_t n;

	check(a.ncols == 3 && b.ncols == 3, "irq delta: both readings parse");
	n = proc_interrupts_delta(&a, &b, 40, by_cpu);
	check(n == 60 && by_cpu[0] == 50 && by_cpu[1] == 0 && by_cpu[2] == 4 &&
	      by_cpu[3] == 6, "irq delta: per CPU by number, not by column");
	memset(by_cpu, 0, sizeof(by_cpu));
	n = proc_interrupts_delta(&a, &b, 41, by_cpu);
	check(n == 0 && !by_cpu[0] && !by_cpu[2] && !by_cpu[3],
	      "irq delta: an idle queue counts 0 (CPU1 offline: not negative)");
	n = proc_interrupts_delta(&a, &b, 42, by_cpu);
	check(n == 0 && !by_cpu[0], "irq delta: a counter that went backwards counts nothing");
	n = proc_interrupts_delta(&a, &b, 43, by_cpu);
	check(n == 0 && !by_cpu[0], "irq delta: an irq missing before counts nothing");
	n = proc_interrupts_delta(&a, &b, 40, by_cpu);
	n += proc_interrupts_delta(&a, &b, 40, by_cpu);
	check(n == 120 && by_cpu[0] == 100, "irq delta: adds to by_cpu");
	proc_interrupts_free(&a);
	proc_interrupts_free(&b);
}

/* ------------------------------------------------------------ histograms */

static void test_hist(void)
{
	struct ns_hist h, a, d;
	unsigned int i, ok = 1;
	double p50, p99;

	/* every slot's bounds are consistent with hist_slot_of */
	for (i = 0; i < NS_HIST_SLOTS - 1; i++) {
		if (hist_slot_of(hist_slot_low(i)) != i ||
		    hist_slot_of(hist_slot_high(i) - 1) != i ||
		    hist_slot_high(i) != hist_slot_low(i + 1))
			ok = 0;
	}
	check(ok, "hist: slots are contiguous and match hist_slot_of");
	check(hist_slot_of(4) == 4 && hist_slot_of(7) == 7 && hist_slot_of(8) == 8 &&
	      hist_slot_of(10) == 9 && hist_slot_of(1000) == 4 * 8 + 3,
	      "hist: slot of 4, 7, 8, 10, 1000 ns");
	check(hist_slot_of(~0ULL) == NS_HIST_SLOTS - 1, "hist: huge values land in the last slot");

	memset(&h, 0, sizeof(h));
	check(isnan(hist_percentile_ns(&h, 50)) && isnan(hist_mean_ns(&h)),
	      "hist: empty histogram has no percentile and no mean");
	/* 1000 samples: 1..1000 us */
	for (i = 1; i <= 1000; i++) {
		h.slots[hist_slot_of(i * 1000ULL)]++;
		h.count++;
		h.sum_ns += i * 1000ULL;
	}
	p50 = hist_percentile_ns(&h, 50);
	p99 = hist_percentile_ns(&h, 99);
	check(fabs(p50 - 500000) / 500000 < 0.25, "hist: p50 of 1..1000 us within 25 % of 500 us");
	check(fabs(p99 - 990000) / 990000 < 0.25, "hist: p99 of 1..1000 us within 25 % of 990 us");
	check(fabs(hist_mean_ns(&h) - 500500) < 1, "hist: the mean is exact");
	check(hist_percentile_ns(&h, 0) <= hist_percentile_ns(&h, 100),
	      "hist: p0 <= p100");

	memset(&a, 0, sizeof(a));
	a.slots[hist_slot_of(5000)] = 10;
	a.count = 10;
	a.sum_ns = 50000;
	check(hist_percentile_ns(&a, 50) >= hist_slot_low(hist_slot_of(5000)) &&
	      hist_percentile_ns(&a, 50) <= hist_slot_high(hist_slot_of(5000)),
	      "hist: a single-slot histogram's p50 is inside that slot");
	hist_add(&a, &h);
	hist_sub(&d, &a, &h);
	check(d.count == 10 && d.sum_ns == 50000 && d.slots[hist_slot_of(5000)] == 10,
	      "hist: (a + h) - h = a");
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		hist_print_log2(m, &h, "");
		fclose(m);
		check(buf && strstr(buf, "usecs") && strstr(buf, "|****"),
		      "hist: log2 table prints with bars");
		free(buf);
	}
}

/* ------------------------------------------------------------ JSON */

static void test_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, m);
	json_object_begin(&j, NULL);
	json_string(&j, "name", "a\"b\\c\n\x01");
	json_uint(&j, "big", 18446744073709551615ULL);
	json_int(&j, "neg", -3);
	json_double(&j, "x", 1.5);
	json_double(&j, "nan", NAN);
	json_bool(&j, "t", true);
	json_null(&j, "n");
	json_array_begin(&j, "arr");
	json_uint(&j, NULL, 1);
	json_object_begin(&j, NULL);
	json_object_end(&j);
	json_array_begin(&j, NULL);
	json_array_end(&j);
	json_array_end(&j);
	json_object_end(&j);
	json_end_line(&j);
	fclose(m);
	check_str(buf, "{\"name\":\"a\\\"b\\\\c\\n\\u0001\",\"big\":18446744073709551615,"
		  "\"neg\":-3,\"x\":1.500,\"nan\":null,\"t\":true,\"n\":null,"
		  "\"arr\":[1,{},[]]}\n", "json: escapes, numbers, NaN as null, nesting, commas");
	free(buf);
}

/* ------------------------------------------------------------ views */

/* The JSON of one queue's view, as top and lat print it (free it). */
static char *view_json(enum ns_driver d, const struct queue_sample *q, double secs)
{
	struct queue_view v;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct json j;

	queue_view_make(&v, d, q, q, secs);
	json_init(&j, m);
	json_queue_view(&j, d, &v);
	json_end_line(&j);
	fclose(m);
	return buf;
}

static void check_has(const char *s, const char *want, const char *what)
{
	bool has = s && strstr(s, want);

	printf("%s - %s", has ? "ok" : "not ok", what);
	if (!has)
		printf(" (no '%s' in '%s')", want, s ? s : "(null)");
	putchar('\n');
	if (!has)
		failed++;
}

/*
 * Doorbells with shadow doorbells: every update counts as a doorbell,
 * the MMIO writes are counted apart, and MMIO% is writes per 100 updates
 * of both queues.
 */
static void test_view_doorbells(void)
{
	static struct queue_sample q;	/* big (per-CPU arrays): not on the stack */
	struct queue_view v;
	char *s;

	q.ctrl = 0;
	q.qid = 1;
	q.total.rq_end = 400;
	q.total.sq_doorbell = 100;
	q.total.sq_doorbell_cmds = 400;
	q.total.sq_doorbell_mmio = 25;
	q.total.cq_doorbell = 100;
	q.total.cq_doorbell_cqes = 400;
	q.total.cq_doorbell_mmio = 75;
	queue_view_make(&v, NS_DRIVER_TNVME, &q, &q, 2.0);
	check(v.sq_doorbells_ps == 50 && v.sq_doorbells_mmio_ps == 12.5 &&
	      v.cq_doorbells_ps == 50 && v.cq_doorbells_mmio_ps == 37.5 &&
	      v.doorbells_mmio_pct == 50 && v.cmds_per_sq_doorbell == 4,
	      "view: doorbell updates and MMIO writes per second, MMIO %");
	s = view_json(NS_DRIVER_TNVME, &q, 2.0);
	check_has(s, "\"sq_doorbells_per_s\":50.000,\"cq_doorbells_per_s\":50.000,"
		  "\"sq_doorbells_mmio_per_s\":12.500,\"cq_doorbells_mmio_per_s\":37.500,"
		  "\"doorbells_mmio_pct\":50.000,", "json: MMIO doorbell rates and MMIO % next to the doorbells");
	check_has(s, "\"sq_doorbell\":100,\"sq_doorbell_cmds\":400,\"sq_doorbell_mmio\":25,",
		  "json: events.sq_doorbell_mmio");
	check_has(s, "\"cq_doorbell\":100,\"cq_doorbell_cqes\":400,\"cq_doorbell_mmio\":75,",
		  "json: events.cq_doorbell_mmio");
	free(s);

	/* without shadow doorbells every update is a write */
	q.total.sq_doorbell_mmio = 100;
	q.total.cq_doorbell_mmio = 100;
	queue_view_make(&v, NS_DRIVER_TNVME, &q, &q, 2.0);
	check(v.doorbells_mmio_pct == 100, "view: all doorbells MMIO writes: MMIO 100 %");

	/* no doorbell in the interval: no percentage, not 0 % */
	memset(&q.total, 0, sizeof(q.total));
	queue_view_make(&v, NS_DRIVER_TNVME, &q, &q, 1.0);
	check(isnan(v.doorbells_mmio_pct) && v.sq_doorbells_mmio_ps == 0,
	      "view: an idle queue has no MMIO %");

	/*
	 * The stock driver's handler runs are its interrupts (hardirq, from
	 * /proc/interrupts); tnvme's are its own tnvme_irq events.
	 */
	memset(&q.total, 0, sizeof(q.total));
	memset(q.irq_by_cpu, 0, sizeof(q.irq_by_cpu));
	q.total.cqe = 30;
	q.total.irq = 5;
	q.total.hardirq = 10;
	q.irq_by_cpu[2] = 10;
	queue_view_make(&v, NS_DRIVER_NVME, &q, &q, 1.0);
	check(v.irqs == 10 && v.hardirqs == 10 && v.cqes_per_irq == 3 &&
	      cpuset_has(&v.irq_cpus, 2) && !cpuset_has(&v.irq_cpus, 0),
	      "view: --driver nvme: irqs = hardirqs, CQE/IRQ and IRQ_CPUS from them");
	queue_view_make(&v, NS_DRIVER_TNVME, &q, &q, 1.0);
	check(v.irqs == 5 && v.hardirqs == 10 && v.cqes_per_irq == 6,
	      "view: tnvme: irqs = tnvme_irq, hardirqs apart");

	/* the stock driver has no doorbell events: unknown, as its doorbells */
	q.total.rq_end = 10;
	s = view_json(NS_DRIVER_NVME, &q, 1.0);
	check_has(s, "\"sq_doorbells_per_s\":null,\"cq_doorbells_per_s\":null,"
		  "\"sq_doorbells_mmio_per_s\":null,\"cq_doorbells_mmio_per_s\":null,"
		  "\"doorbells_mmio_pct\":null,", "json: --driver nvme: MMIO doorbells null");
	free(s);
}

/*
 * SQ_USED, the mean "used" of tnvme_sq_level (lab 10): unknown ("-",
 * null) without the event, whatever the other doorbell counts say.
 */
static void test_view_sq_used(void)
{
	static struct queue_sample q;	/* big (per-CPU arrays): not on the stack */
	struct queue_view v;
	char used[16];
	char *s;

	q.ctrl = 0;
	q.qid = 2;
	q.total.rq_end = 64;
	q.total.sq_doorbell = 4;
	q.total.sq_doorbell_cmds = 64;
	queue_view_make(&v, NS_DRIVER_TNVME, &q, &q, 1.0);
	format_number(used, sizeof(used), v.sq_used, 1);
	check(isnan(v.sq_used) && !strcmp(used, "-"),
	      "view: no tnvme_sq_level event: SQ_USED is -");
	s = view_json(NS_DRIVER_TNVME, &q, 1.0);
	check_has(s, "\"cqes_per_irq\":null,\"sq_used\":null,",
		  "json: sq_used null without its event");
	free(s);
	/* LAB-TODO(10) begin: a unit test of your sq_used */
	q.total.sq_level = 4;
	q.total.sq_level_used = 4 * 16 + 2;
	queue_view_make(&v, NS_DRIVER_TNVME, &q, &q, 1.0);
	format_number(used, sizeof(used), v.sq_used, 1);
	check(v.sq_used == 16.5 && !strcmp(used, "16.5"),
	      "view: SQ_USED = the sum of used / the tnvme_sq_level events");
	s = view_json(NS_DRIVER_TNVME, &q, 1.0);
	check_has(s, "\"sq_used\":16.500,", "json: sq_used after cqes_per_irq");
	check_has(s, "\"sq_level\":4,\"sq_level_used\":66}",
		  "json: events.sq_level and events.sq_level_used");
	free(s);
	queue_view_make(&v, NS_DRIVER_NVME, &q, &q, 1.0);
	check(isnan(v.sq_used), "view: --driver nvme: no SQ_USED");
	/* LAB-TODO(10) end */
}

/*
 * SQ (JSON sq_mem): where the SQ lives, from every tnvme_sq_write since
 * attach ("now"), not only the interval's: a quiet interval still says it.
 */
static void test_view_sq_mem(void)
{
	static struct queue_sample delta, now;
	struct queue_view v;
	char *s;

	delta.ctrl = now.ctrl = 0;
	delta.qid = now.qid = 1;
	queue_view_make(&v, NS_DRIVER_TNVME, &delta, &now, 1.0);
	check(v.sq_mem == NS_SQ_MEM_UNKNOWN, "view: no sq_write yet: SQ unknown");
	s = view_json(NS_DRIVER_TNVME, &now, 1.0);
	check_has(s, "\"queue_type_from\":null,\"sq_mem\":null,", "json: sq_mem null before a command");
	free(s);
	now.total.sq_write = 100;
	queue_view_make(&v, NS_DRIVER_TNVME, &delta, &now, 1.0);
	check(v.sq_mem == NS_SQ_MEM_HOST && !strcmp(sq_mem_name(v.sq_mem), "host"),
	      "view: sq_write without sq_write_cmb: SQ in host memory");
	now.total.sq_write_cmb = 100;
	queue_view_make(&v, NS_DRIVER_TNVME, &delta, &now, 1.0);
	check(v.sq_mem == NS_SQ_MEM_CMB, "view: every sq_write into the CMB: cmb (quiet interval)");
	s = view_json(NS_DRIVER_TNVME, &now, 1.0);
	check_has(s, "\"sq_mem\":\"cmb\",\"completions\"", "json: sq_mem after the queue type");
	check_has(s, "\"sq_write\":100,\"sq_write_cmb\":100,", "json: events.sq_write_cmb");
	free(s);
	now.total.sq_write_cmb = 40;
	queue_view_make(&v, NS_DRIVER_TNVME, &delta, &now, 1.0);
	check(v.sq_mem == NS_SQ_MEM_MIXED, "view: some sq_write into the CMB: mixed");
	queue_view_make(&v, NS_DRIVER_NVME, &delta, &now, 1.0);
	check(v.sq_mem == NS_SQ_MEM_UNKNOWN, "view: --driver nvme: SQ unknown");
}

/* ------------------------------------------------------------ poll queues */

/* debugfs' hctxN/type, and which source decides a queue's type. */
static void test_queue_types(void)
{
	struct ns_counters c = { 0 };
	enum ns_qtype_from from;
	enum ns_qtype t;

	check(hctx_type_parse("poll\n") == NS_QTYPE_POLL, "hctx type: poll");
	check(hctx_type_parse("default\n") == NS_QTYPE_IRQ &&
	      hctx_type_parse("read") == NS_QTYPE_IRQ,
	      "hctx type: default and read take interrupts");
	check(hctx_type_parse("") == NS_QTYPE_UNKNOWN &&
	      hctx_type_parse("polled\n") == NS_QTYPE_UNKNOWN &&
	      hctx_type_parse("defaultx") == NS_QTYPE_UNKNOWN,
	      "hctx type: anything else is unknown");

	/* no events yet: what /proc/interrupts said at start */
	t = queue_type_resolve(NS_QTYPE_POLL, NS_QTYPE_FROM_INTERRUPTS, &c, &from);
	check(t == NS_QTYPE_POLL && from == NS_QTYPE_FROM_INTERRUPTS,
	      "queue type: no interrupt line and no events: a poll queue, from /proc/interrupts");
	t = queue_type_resolve(NS_QTYPE_UNKNOWN, NS_QTYPE_FROM_NONE, &c, &from);
	check(t == NS_QTYPE_UNKNOWN && from == NS_QTYPE_FROM_NONE,
	      "queue type: nothing known, no events: unknown");
	/* polls and no tnvme_irq: a poll queue, whatever the start said */
	c.poll = 100;
	c.poll_empty = 90;
	t = queue_type_resolve(NS_QTYPE_UNKNOWN, NS_QTYPE_FROM_NONE, &c, &from);
	check(t == NS_QTYPE_POLL && from == NS_QTYPE_FROM_EVENTS,
	      "queue type: polls and no irq events: a poll queue, from the events");
	/* tnvme_irq events: interrupt-driven */
	c.poll = 0;
	c.irq = 3;
	t = queue_type_resolve(NS_QTYPE_POLL, NS_QTYPE_FROM_INTERRUPTS, &c, &from);
	check(t == NS_QTYPE_IRQ && from == NS_QTYPE_FROM_EVENTS,
	      "queue type: irq events: interrupt-driven, from the events");
	/* debugfs is the kernel's own word */
	c.poll = 5;
	c.irq = 0;
	t = queue_type_resolve(NS_QTYPE_IRQ, NS_QTYPE_FROM_DEBUGFS, &c, &from);
	check(t == NS_QTYPE_IRQ && from == NS_QTYPE_FROM_DEBUGFS,
	      "queue type: debugfs wins over the events");
	check_str(queue_type_name(NS_QTYPE_POLL), "poll", "queue type name: poll");
	check_str(queue_type_name(NS_QTYPE_IRQ), "interrupt", "queue type name: interrupt");
	check_str(queue_type_from_name(NS_QTYPE_FROM_INTERRUPTS), "proc_interrupts",
		  "queue type source name: proc_interrupts");
}

/* On a poll queue the irq step is the poll: names, keys and help. */
static void test_poll_step_names(void)
{
	check_str(step_name_for(NS_STEP_IRQ, NS_QTYPE_POLL), "poll",
		  "step name: irq is poll on a poll queue");
	check_str(step_name_for(NS_STEP_IRQ, NS_QTYPE_IRQ), "irq",
		  "step name: irq on an interrupt queue");
	check_str(step_name_for(NS_STEP_CQE, NS_QTYPE_POLL), "cqe", "step name: cqe stays cqe");
	check_str(interval_key_for(NS_IV_SQ_DOORBELL_IRQ, NS_QTYPE_POLL), "sq_doorbell-poll",
		  "interval key: sq_doorbell-poll");
	check_str(interval_key_for(NS_IV_IRQ_CQE, NS_QTYPE_POLL), "poll-cqe", "interval key: poll-cqe");
	check_str(interval_key_for(NS_IV_SQ_DOORBELL_IRQ, NS_QTYPE_IRQ), "sq_doorbell-irq",
		  "interval key: sq_doorbell-irq on an interrupt queue");
	check_str(interval_key_for(NS_IV_IRQ_CQE, NS_QTYPE_UNKNOWN), "irq-cqe",
		  "interval key: irq-cqe when the type is unknown");
	check_str(interval_key_for(NS_IV_RQ_START_RQ_END, NS_QTYPE_POLL), "rq_start-rq_end",
		  "interval key: rq_start-rq_end on both");
	check_str(interval_from_for(NS_IV_IRQ_CQE, NS_QTYPE_POLL), "poll", "interval: poll -> ...");
	check_str(interval_to_for(NS_IV_SQ_DOORBELL_IRQ, NS_QTYPE_POLL), "poll", "interval: ... -> poll");
	check(strstr(interval_help_for(NS_IV_SQ_DOORBELL_IRQ, NS_QTYPE_POLL), "poll") &&
	      !strstr(interval_help_for(NS_IV_SQ_DOORBELL_IRQ, NS_QTYPE_POLL), "handler"),
	      "interval help: a poll queue's device time ends at a poll, not a handler");
}

/*
 * A poll queue's sample (queue 5, CPU 2 submits and polls): 6000 polls
 * in the interval, 5800 of them empty, 120 that reaped 300 CQEs.
 */
static struct queue_sample poll_q;	/* big (per-CPU arrays): not on the stack */

static void poll_queue_sample(struct queue_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->ctrl = 0;
	s->qid = 5;
	s->type = NS_QTYPE_POLL;
	s->type_from = NS_QTYPE_FROM_DEBUGFS;
	s->poll_events = true;
	s->total.rq_end = 300;
	s->total.cqe = 300;
	s->total.poll = 6000;
	s->total.poll_empty = 5800;
	s->total.poll_cqes = 280;
	s->total.poll_batches = 120;
	s->total.poll_reaped = 300;
	s->total.cq_doorbell = 120;
	s->total.cq_doorbell_cqes = 300;
	s->sq_write_by_cpu[2] = 300;
	s->poll_by_cpu[2] = 6000;
}

/* A poll queue's view: polls, empty polls, CQEs per poll that reaped. */
static void test_view_poll_queue(void)
{
	struct queue_view v;
	char *s;

	poll_queue_sample(&poll_q);
	queue_view_make(&v, NS_DRIVER_TNVME, &poll_q, &poll_q, 2.0);
	check(v.type == NS_QTYPE_POLL && v.polls_ps == 3000 && v.empty_polls_ps == 2900,
	      "view: poll queue: polls and empty polls per second");
	check(fabs(v.empty_polls_pct - 100.0 * 5800 / 6000) < 1e-9,
	      "view: poll queue: empty polls per 100 polls");
	check(v.cqes_per_poll == 2.5, "view: poll queue: CQEs per poll that reaped (not per poll)");
	check(isnan(v.cqes_per_irq) && v.irqs == 0 && cpuset_empty(&v.irq_cpus),
	      "view: poll queue: no interrupt, CQE/IRQ unknown");
	check(cpuset_has(&v.poll_cpus, 2) && !v.cpu_mismatch,
	      "view: poll queue: the polling CPUs, no CPU mismatch");
	s = view_json(NS_DRIVER_TNVME, &poll_q, 2.0);
	check_has(s, "\"qid\":5,\"queue_type\":\"poll\",\"queue_type_from\":\"debugfs\",",
		  "json: queue_type poll after qid");
	check_has(s, "\"polls_per_s\":3000.000,\"empty_polls_per_s\":2900.000,\"empty_polls_pct\":96.667,"
		  "\"cqes_per_poll\":2.500,", "json: poll rates and CQEs per poll");
	check_has(s, "\"poll_cpus\":[2]", "json: poll_cpus");
	check_has(s, "\"sq_doorbell-poll\":{", "json: latency key sq_doorbell-poll");
	check_has(s, "\"poll-cqe\":{", "json: latency key poll-cqe");
	check(s && !strstr(s, "\"sq_doorbell-irq\"") && !strstr(s, "\"irq-cqe\""),
	      "json: a poll queue has no irq latency keys");
	check_has(s, "\"poll\":6000,\"poll_empty\":5800,\"poll_cqes\":280,\"poll_batches\":120,"
		  "\"poll_reaped\":300,", "json: events.poll*");
	free(s);
}

/* An idle poll queue, then the same queue as an interrupt queue. */
static void test_view_poll_queue_idle(void)
{
	struct queue_view v;
	char *s;

	/* no poll in the interval: rates 0, ratios unknown */
	poll_queue_sample(&poll_q);
	memset(&poll_q.total, 0, sizeof(poll_q.total));
	memset(poll_q.poll_by_cpu, 0, sizeof(poll_q.poll_by_cpu));
	queue_view_make(&v, NS_DRIVER_TNVME, &poll_q, &poll_q, 1.0);
	check(v.polls_ps == 0 && isnan(v.empty_polls_pct) && isnan(v.cqes_per_poll),
	      "view: idle poll queue: 0 polls, no empty share, no CQEs per poll");

	/* an interrupt queue keeps its irq keys and has no polls */
	poll_q.type = NS_QTYPE_IRQ;
	poll_q.total.irq = 4;
	poll_q.total.cqe = 8;
	s = view_json(NS_DRIVER_TNVME, &poll_q, 1.0);
	check_has(s, "\"queue_type\":\"interrupt\",", "json: queue_type interrupt");
	check_has(s, "\"sq_doorbell-irq\":{", "json: interrupt queue: sq_doorbell-irq");
	check_has(s, "\"polls_per_s\":0.000,\"empty_polls_per_s\":0.000,\"empty_polls_pct\":null,"
		  "\"cqes_per_poll\":null,", "json: interrupt queue: no polls");
	free(s);
}

/* With the stock driver, which has no poll event: unknown rather than 0. */
static void test_view_poll_queue_nvme(void)
{
	struct queue_view v;
	char *s;

	/*
	 * The stock driver has no event for a poll: unknown, never 0, even
	 * though the counters (which it never fills) are 0.
	 */
	poll_queue_sample(&poll_q);
	memset(poll_q.poll_by_cpu, 0, sizeof(poll_q.poll_by_cpu));
	poll_q.poll_events = false;
	memset(&poll_q.total, 0, sizeof(poll_q.total));
	poll_q.total.rq_end = 50;
	poll_q.total.cqe = 50;
	queue_view_make(&v, NS_DRIVER_NVME, &poll_q, &poll_q, 1.0);
	check(!v.poll_visible && isnan(v.polls_ps) && isnan(v.empty_polls_ps) &&
	      isnan(v.empty_polls_pct) && isnan(v.cqes_per_poll),
	      "view: --driver nvme: poll numbers unknown");
	s = view_json(NS_DRIVER_NVME, &poll_q, 1.0);
	check_has(s, "\"polls_per_s\":null,\"empty_polls_per_s\":null,\"empty_polls_pct\":null,"
		  "\"cqes_per_poll\":null,", "json: --driver nvme: poll rates null");
	check_has(s, "\"poll_cpus\":null", "json: --driver nvme: poll_cpus null");
	check_has(s, "\"poll\":null,\"poll_empty\":null,\"poll_cqes\":null,\"poll_batches\":null,"
		  "\"poll_reaped\":null,", "json: --driver nvme: events.poll* null");
	check_has(s, "\"poll-cqe\":{", "json: --driver nvme poll queue: its reap's start is poll-cqe");
	check_has(s, "\"sq_doorbell-poll\":null",
		  "json: --driver nvme poll queue: sq_doorbell-poll null");
	free(s);
	/* tnvme without the event (an older tnvme.ko): unknown too */
	queue_view_make(&v, NS_DRIVER_TNVME, &poll_q, &poll_q, 1.0);
	check(isnan(v.polls_ps), "view: tnvme without tnvme_poll attached: polls unknown");
}

static void test_poll_queue_note(void)
{
	struct cpuset cpus;
	char note[256];

	cpulist_parse("0,2", &cpus);
	poll_queue_note(note, sizeof(note), &cpus);
	check_str(note, "poll queue: no interrupt, reaped by polling on CPU(s) 0,2 (blk-mq's CPUs for it)",
		  "irq report: a poll queue's note names its CPUs");
	poll_queue_note(note, sizeof(note), NULL);
	check_str(note, "poll queue: no interrupt, reaped by polling",
		  "irq report: a poll queue's note without CPUs");
}

/* ------------------------------------------------------------ losses */

/* Skipped runs are named program by program, in the text and the JSON. */
static void test_losses(void)
{
	struct sample d = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	struct json j;

	d.missed_runs = 3;
	d.nprogs = 2;
	d.prog_name[0] = "nvme_sq";
	d.prog_name[1] = "irq_handler_entry";
	d.prog_missed[1] = 3;
	m = open_memstream(&buf, &len);
	print_losses(m, &d);
	fclose(m);
	check_str(buf, "lost/unmatched: bpf_runs_skipped=3 (irq_handler_entry=3)\n",
		  "lost line: skipped runs with the program that missed them");
	free(buf);
	buf = NULL;
	m = open_memstream(&buf, &len);
	json_init(&j, m);
	json_object_begin(&j, NULL);
	json_losses(&j, &d);
	json_object_end(&j);
	fclose(m);
	check(buf && strstr(buf, "\"bpf_runs_skipped\":3,\"bpf_runs_skipped_by_program\":{\"nvme_sq\":0,\"irq_handler_entry\":3}"),
	      "lost JSON: bpf_runs_skipped_by_program names every attached program");
	free(buf);
	buf = NULL;
	d.missed_runs = 0;
	d.prog_missed[1] = 0;
	m = open_memstream(&buf, &len);
	print_losses(m, &d);
	fclose(m);
	check_str(buf, "lost/unmatched: none\n", "lost line: none when nothing was skipped");
	free(buf);
}

int main(void)
{
	test_parse_seconds();
	test_parse_number();
	test_parse_opcode_driver();
	test_cpulist();
	test_queue_names();
	test_proc_interrupts();
	test_proc_interrupts_delta();
	test_hist();
	test_json();
	test_view_doorbells();
	test_view_sq_used();
	test_view_sq_mem();
	test_queue_types();
	test_poll_step_names();
	test_view_poll_queue();
	test_view_poll_queue_idle();
	test_view_poll_queue_nvme();
	test_poll_queue_note();
	test_losses();
	printf("# %d failed\n", failed);
	return failed ? 1 : 0;
}
