// SPDX-License-Identifier: GPL-2.0
/*
 * devtrace.c - QEMU's NVMe trace events (labvm --device-trace, QEMU's -D
 * log with -msg timestamp=on) turned into one record per command, in one
 * pass over the file.
 *
 * A line is "TID@SECONDS.MICROSECONDS:EVENT ARGS": the QEMU thread that
 * traced it and the host machine's wall clock.  The events used (QEMU 7.2,
 * hw/nvme/trace-events):
 *
 *   pci_nvme_mmio_doorbell_sq sqid S new_tail T        vCPU thread, during the MMIO write
 *   pci_nvme_io_cmd cid C nsid N sqid S opc O ...      main loop: command fetched
 *   pci_nvme_admin_cmd cid C sqid 0 opc O ...
 *   pci_nvme_map_prp ...                                PRPs of the command just fetched
 *   pci_nvme_rw_cb cid C blk ...                        block I/O done (data moved)
 *   pci_nvme_enqueue_req_completion cid C cqid Q ... status X
 *   pci_nvme_irq_msix raising MSI-X IRQ vector V
 *   pci_nvme_mmio_doorbell_cq cqid Q new_head H        vCPU thread
 *   pci_nvme_create_sq / create_cq / del_sq / del_cq / mmio_aqattr /
 *   mmio_start_success                                 queue sizes and vectors
 *
 * Only io_cmd/admin_cmd name the queue and the command; the rest is tied
 * to a command by what the controller does:
 *
 *   - the SQ is fetched in order: the n-th command fetched from SQ S sits
 *     in slot n mod size (counted from create_sq), and is covered by the
 *     first doorbell whose new tail passed that slot (a FIFO of doorbells,
 *     each with the number of commands it added);
 *   - rw_cb and enqueue_req_completion of one request are consecutive in
 *     the same thread (one callback chain), so rw_cb waits for the next
 *     completion of the same cid;
 *   - completions are posted in the order they are queued: the n-th one of
 *     CQ Q is in CQ slot n mod size; the first MSI-X of Q's vector after
 *     it is its interrupt, and the first CQ doorbell whose new head passes
 *     its slot frees it.
 *
 * The trace does not say which controller an event belongs to.  The lab
 * VM has two (sys on the stock driver, lab on tnvme); this works as long as
 * only one is busy during the recording (docs/device-view.md).
 */
#include <stdlib.h>
#include <string.h>

#include "devview/devview.h"

#define MAX_QUEUES 1024
#define NO_CMD ((uint32_t)-1)

/* A FIFO of indices (commands or doorbells). */
struct fifo {
	int64_t *v;
	size_t head, n, cap;
};

static int fifo_push(struct fifo *f, int64_t x)
{
	if (f->head + f->n == f->cap) {
		if (f->head > f->cap / 2) {
			memmove(f->v, f->v + f->head, f->n * sizeof(*f->v));
			f->head = 0;
		} else {
			size_t cap = f->cap ? 2 * f->cap : 64;
			int64_t *p = realloc(f->v, cap * sizeof(*p));

			if (!p)
				return -1;
			f->v = p;
			f->cap = cap;
		}
	}
	f->v[f->head + f->n++] = x;
	return 0;
}

static int64_t *fifo_front(struct fifo *f)
{
	return f->n ? &f->v[f->head] : NULL;
}

static void fifo_pop(struct fifo *f)
{
	if (f->n) {
		f->head++;
		f->n--;
	}
	if (!f->n)
		f->head = 0;
}

struct dsq {
	uint32_t size;		/* entries (create_sq's qsize + 1) */
	uint16_t cqid;
	uint32_t head, tail;
	uint64_t fetched;	/* commands fetched since create_sq */
	struct fifo db_t;	/* doorbells not yet fully fetched: time */
	struct fifo db_left;	/* ... and how many of their commands are left */
	uint32_t *by_cid;	/* cid -> index in dlog.cmd of the command in flight */
};

struct dcq {
	uint32_t size;
	uint16_t vector;
	uint32_t tail, head;
	struct fifo wait_irq;	/* queued completions waiting for an MSI-X */
	struct fifo wait_db;	/* ... waiting for the CQ doorbell, in slot order */
};

void dlog_init(struct dlog *d)
{
	memset(d, 0, sizeof(*d));
	d->rwcb_cid = -1;
}

static void sq_free(struct dsq *s)
{
	if (!s)
		return;
	free(s->db_t.v);
	free(s->db_left.v);
	free(s->by_cid);
	free(s);
}

static void cq_free(struct dcq *c)
{
	if (!c)
		return;
	free(c->wait_irq.v);
	free(c->wait_db.v);
	free(c);
}

static int ensure_queues(struct dlog *d, uint32_t id)
{
	uint32_t n;

	if (id >= MAX_QUEUES)
		return -1;
	if (id < d->nq)
		return 0;
	n = id + 1 > 2 * d->nq ? id + 1 : 2 * d->nq;
	if (n > MAX_QUEUES)
		n = MAX_QUEUES;
	{
		struct dsq **sq = realloc(d->sq, n * sizeof(*sq));
		struct dcq **cq;

		if (!sq)
			return -1;
		d->sq = sq;
		cq = realloc(d->cq, n * sizeof(*cq));
		if (!cq)
			return -1;
		d->cq = cq;
	}
	memset(d->sq + d->nq, 0, (n - d->nq) * sizeof(*d->sq));
	memset(d->cq + d->nq, 0, (n - d->nq) * sizeof(*d->cq));
	d->nq = n;
	return 0;
}

static struct dsq *new_sq(struct dlog *d, uint32_t id, uint32_t size, uint16_t cqid)
{
	struct dsq *s;

	if (ensure_queues(d, id))
		return NULL;
	sq_free(d->sq[id]);
	d->sq[id] = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->by_cid = malloc(65536 * sizeof(*s->by_cid));
	if (!s->by_cid) {
		free(s);
		return NULL;
	}
	memset(s->by_cid, 0xff, 65536 * sizeof(*s->by_cid));
	s->size = size ? size : 1;
	s->cqid = cqid;
	d->sq[id] = s;
	return s;
}

static struct dcq *new_cq(struct dlog *d, uint32_t id, uint32_t size, uint16_t vector)
{
	struct dcq *c;

	if (ensure_queues(d, id))
		return NULL;
	cq_free(d->cq[id]);
	d->cq[id] = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->size = size ? size : 1;
	c->vector = vector;
	d->cq[id] = c;
	return c;
}

static struct dsq *get_sq(struct dlog *d, unsigned long id)
{
	return id < d->nq ? d->sq[id] : NULL;
}

static struct dcq *get_cq(struct dlog *d, unsigned long id)
{
	return id < d->nq ? d->cq[id] : NULL;
}

int devtrace_split(const char *line, int64_t *t_ns, const char **event,
		   size_t *event_len, const char **args)
{
	const char *p = line, *e;
	long long sec = 0;
	long usec = 0;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == line || *p != '@')
		return -1;
	p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		sec = sec * 10 + (*p++ - '0');
	if (*p == '.') {
		int digits = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 6) {
				usec = usec * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		while (digits < 6) {
			usec *= 10;
			digits++;
		}
	}
	if (*p != ':')
		return -1;
	p++;
	e = p;
	while (*e && *e != ' ' && *e != '\n')
		e++;
	if (e == p)
		return -1;
	*t_ns = (sec * 1000000 + usec) * 1000;
	*event = p;
	*event_len = e - p;
	*args = *e == ' ' ? e + 1 : e;
	return 0;
}

/* the number after "key" (e.g. "sqid " or "sqid=") in args */
static bool arg_num(const char *args, const char *key, unsigned long *out)
{
	const char *p = args;
	size_t kl = strlen(key);
	char *end;

	for (;;) {
		p = strstr(p, key);
		if (!p)
			return false;
		/* a whole word: "cid" must not match "sqid" */
		if (p == args || p[-1] == ' ' || p[-1] == ',')
			break;
		p += kl;
	}
	p += kl;
	*out = strtoul(p, &end, 0);
	return end != p;
}

static bool is_event(const char *ev, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(ev, name, len);
}

static struct dcmd *add_cmd(struct dlog *d)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 4096;
		struct dcmd *p = realloc(d->cmd, cap * sizeof(*p));

		if (!p)
			return NULL;
		d->cmd = p;
		d->cap = cap;
	}
	memset(&d->cmd[d->n], 0, sizeof(d->cmd[0]));
	return &d->cmd[d->n++];
}

static void on_sq_doorbell(struct dlog *d, int64_t t, const char *args)
{
	unsigned long sqid, tail;
	struct dsq *s;
	uint32_t added;

	if (!arg_num(args, "sqid ", &sqid) || !arg_num(args, "new_tail ", &tail))
		return;
	s = get_sq(d, sqid);
	if (!s) {
		d->unknown_queue++;
		return;
	}
	added = (tail + s->size - s->tail) % s->size;
	s->tail = tail % s->size;
	if (added) {
		fifo_push(&s->db_t, t);
		fifo_push(&s->db_left, added);
	}
}

static void on_fetch(struct dlog *d, int64_t t, const char *args)
{
	unsigned long cid, sqid, opc;
	struct dcmd *c;
	struct dsq *s;
	int64_t *left;

	if (!arg_num(args, "cid ", &cid) || !arg_num(args, "sqid ", &sqid) ||
	    !arg_num(args, "opc ", &opc))
		return;
	s = get_sq(d, sqid);
	if (!s) {
		d->unknown_queue++;
		return;
	}
	c = add_cmd(d);
	if (!c)
		return;
	c->t[D_FETCH] = t;
	c->sqid = sqid;
	c->cqid = s->cqid;
	c->cid = cid;
	c->opcode = opc;
	c->sq_slot = s->head;
	c->seq = s->fetched++;
	s->head = (s->head + 1) % s->size;
	left = fifo_front(&s->db_left);
	if (left) {
		c->t[D_SQ_DOORBELL] = *fifo_front(&s->db_t);
		if (--*left <= 0) {
			fifo_pop(&s->db_left);
			fifo_pop(&s->db_t);
		}
	}
	s->by_cid[cid & 0xffff] = d->n - 1;
	d->last_fetch = d->n;
}

static void on_completion(struct dlog *d, int64_t t, const char *args)
{
	unsigned long cid, cqid, status = 0;
	uint32_t i, idx = NO_CMD;
	struct dcq *q;
	struct dcmd *c;

	if (!arg_num(args, "cid ", &cid) || !arg_num(args, "cqid ", &cqid))
		return;
	arg_num(args, "status ", &status);
	q = get_cq(d, cqid);
	if (!q) {
		d->unknown_queue++;
		return;
	}
	/* the SQ(s) that complete into this CQ: usually sqid == cqid */
	if (cqid < d->nq && d->sq[cqid] && d->sq[cqid]->cqid == cqid)
		idx = d->sq[cqid]->by_cid[cid & 0xffff];
	for (i = 0; idx == NO_CMD && i < d->nq; i++)
		if (d->sq[i] && d->sq[i]->cqid == cqid && d->sq[i]->by_cid[cid & 0xffff] != NO_CMD)
			idx = d->sq[i]->by_cid[cid & 0xffff];
	if (idx == NO_CMD) {
		d->unmatched_cqe++;
		d->rwcb_cid = -1;
		return;
	}
	c = &d->cmd[idx];
	d->sq[c->sqid]->by_cid[cid & 0xffff] = NO_CMD;
	c->t[D_CQ_POST] = t;
	if (d->rwcb_cid == (int)cid)
		c->t[D_DMA] = d->rwcb_t;
	d->rwcb_cid = -1;
	c->status = status;
	c->done = true;
	c->cq_slot = q->tail;
	q->tail = (q->tail + 1) % q->size;
	fifo_push(&q->wait_irq, idx);
	fifo_push(&q->wait_db, idx);
}

static void on_msix(struct dlog *d, int64_t t, const char *args)
{
	unsigned long vector;
	uint32_t i;

	if (!arg_num(args, "vector ", &vector))
		return;
	for (i = 0; i < d->nq; i++) {
		struct dcq *q = d->cq[i];

		if (!q || q->vector != vector)
			continue;
		while (q->wait_irq.n) {
			d->cmd[*fifo_front(&q->wait_irq)].t[D_IRQ] = t;
			fifo_pop(&q->wait_irq);
		}
	}
}

static void on_cq_doorbell(struct dlog *d, int64_t t, const char *args)
{
	unsigned long cqid, head;
	uint32_t freed;
	struct dcq *q;

	if (!arg_num(args, "cqid ", &cqid) || !arg_num(args, "new_head ", &head))
		return;
	q = get_cq(d, cqid);
	if (!q) {
		d->unknown_queue++;
		return;
	}
	freed = (head + q->size - q->head) % q->size;
	q->head = head % q->size;
	while (freed-- && q->wait_db.n) {
		d->cmd[*fifo_front(&q->wait_db)].t[D_CQ_DOORBELL] = t;
		fifo_pop(&q->wait_db);
	}
}

/*
 * The events that create, delete or reset queues (the controller's
 * registers and admin commands); false if ev is none of them.
 */
static bool on_queue_event(struct dlog *d, const char *ev, size_t len, const char *args)
{
	unsigned long a, b, c;

	if (is_event(ev, len, "create_sq")) {
		if (arg_num(args, "sqid=", &a) && arg_num(args, "cqid=", &b) &&
		    arg_num(args, "qsize=", &c))
			new_sq(d, a, c + 1, b);
	} else if (is_event(ev, len, "create_cq")) {
		if (arg_num(args, "cqid=", &a) && arg_num(args, "vector=", &b) &&
		    arg_num(args, "qsize=", &c))
			new_cq(d, a, c + 1, b);
	} else if (is_event(ev, len, "del_sq")) {
		if (arg_num(args, "sqid=", &a) && a < d->nq) {
			sq_free(d->sq[a]);
			d->sq[a] = NULL;
		}
	} else if (is_event(ev, len, "del_cq")) {
		if (arg_num(args, "cqid=", &a) && a < d->nq) {
			cq_free(d->cq[a]);
			d->cq[a] = NULL;
		}
	} else if (is_event(ev, len, "mmio_aqattr")) {
		/* AQA: ASQS in bits 11:0, ACQS in bits 27:16, both 0-based */
		const char *p = strstr(args, "attributes=");

		if (p) {
			unsigned long aqa = strtoul(p + 11, NULL, 0);

			new_sq(d, 0, (aqa & 0xfff) + 1, 0);
			new_cq(d, 0, ((aqa >> 16) & 0xfff) + 1, 0);
		}
	} else if (is_event(ev, len, "mmio_start_success")) {
		/* enabling the controller resets the admin queues' heads and tails */
		struct dsq *s = get_sq(d, 0);
		struct dcq *q = get_cq(d, 0);

		if (s)
			new_sq(d, 0, s->size, 0);
		if (q)
			new_cq(d, 0, q->size, 0);
	} else {
		return false;
	}
	return true;
}

void dlog_feed(struct dlog *d, const char *line)
{
	static const char prefix[] = "pci_nvme_";
	const char *ev, *args;
	unsigned long a;
	size_t len;
	int64_t t;

	d->lines++;
	if (devtrace_split(line, &t, &ev, &len, &args) ||
	    len <= sizeof(prefix) - 1 || memcmp(ev, prefix, sizeof(prefix) - 1))
		return;
	d->events++;
	ev += sizeof(prefix) - 1;
	len -= sizeof(prefix) - 1;

	if (is_event(ev, len, "mmio_doorbell_sq")) {
		on_sq_doorbell(d, t, args);
	} else if (is_event(ev, len, "io_cmd") || is_event(ev, len, "admin_cmd")) {
		on_fetch(d, t, args);	/* the sqid tells the admin SQ apart */
	} else if (is_event(ev, len, "map_prp")) {
		if (d->last_fetch && !d->cmd[d->last_fetch - 1].t[D_MAP])
			d->cmd[d->last_fetch - 1].t[D_MAP] = t;
	} else if (is_event(ev, len, "rw_cb")) {
		if (arg_num(args, "cid ", &a)) {
			d->rwcb_cid = a;
			d->rwcb_t = t;
		}
	} else if (is_event(ev, len, "enqueue_req_completion")) {
		on_completion(d, t, args);
	} else if (is_event(ev, len, "irq_msix")) {
		on_msix(d, t, args);
	} else if (is_event(ev, len, "mmio_doorbell_cq")) {
		on_cq_doorbell(d, t, args);
	} else {
		on_queue_event(d, ev, len, args);
	}
}

int dlog_read(struct dlog *d, FILE *f)
{
	char line[1024];

	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		/* a longer line (never an event we use): skip its rest */
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			int ch;

			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		dlog_feed(d, line);
	}
	return ferror(f) ? -1 : 0;
}

void dlog_free(struct dlog *d)
{
	uint32_t i;

	for (i = 0; i < d->nq; i++) {
		sq_free(d->sq[i]);
		cq_free(d->cq[i]);
	}
	free(d->sq);
	free(d->cq);
	free(d->cmd);
	dlog_init(d);
}
