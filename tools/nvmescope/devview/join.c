// SPDX-License-Identifier: GPL-2.0
/*
 * join.c - each command the guest recorded, joined with the same command
 * as the device saw it, and put on the device's clock.
 *
 * Key: (queue, cid, SQ slot), and the order.  A cid is reused as soon as
 * its command completes, a slot every queue-depth commands, but the device
 * fetches an SQ in slot order, so on each queue the guest's commands
 * (sorted by sq_write) and the device's (in fetch order) are the same
 * sequence, apart from commands the guest did not record (started before
 * "record", or lost).  The walk is linear: for each guest command, its
 * match is the first device command with the same (cid, slot) within the
 * next queue depth (the largest SQ slot the device used), and the walk
 * goes on after it; a guest command with none stays unjoined.
 *
 * Where the walk starts (which lap of the queue) is chosen by the clocks:
 * every place where the first guest command's (cid, slot) occurs (or, if
 * it occurs nowhere, the next one's, up to the eighth) is tried on the
 * next PROBE commands.  A wrong place pairs each guest command with
 * another command's device times, and the device's times vary from
 * command to command much more than the one-way delays of the doorbells
 * and CQEs: the bounds (as cs_add() takes them) then contradict each
 * other, or leave a narrower band.  Only the places that join nearly as
 * many of the PROBE commands as the best one compete (a place joining
 * one or two commands by chance has a wide band only because so few
 * bounds narrow it: it once won against the right place, which joined
 * 256); among them the place leaving the widest band wins; on a tie, the
 * one joining the most commands, then the one nearest the guest's own
 * REALTIME - MONOTONIC guess.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "devview/devview.h"

#define PROBE 256	/* guest commands tried for each starting place */

static const char *const mstep_names[M_STEP_COUNT] = {
	"sq_write", "sq_doorbell", "fetch", "dma", "cq_post", "irq", "cq_doorbell",
};

static const char *const miv_keys[M_IV_COUNT] = {
	"sq_write-sq_doorbell", "sq_doorbell-fetch", "fetch-dma", "dma-cq_post",
	"cq_post-irq", "irq-cq_doorbell",
};

static const char *const miv_helps[M_IV_COUNT] = {
	"guest: command in the SQ until its doorbell write reaches the device",
	"device: doorbell to fetch (QEMU schedules the SQ's processing)",
	"device: decode, map PRPs, block I/O on guest memory (the data transfer)",
	"device: I/O callback to completion queued",
	"device: completion queued to CQE posted and MSI-X raised",
	"guest: interrupt delivery, handler, CQE processing, CQ head doorbell",
};

const char *mstep_name(enum mstep s)
{
	return s < M_STEP_COUNT ? mstep_names[s] : "?";
}

const char *miv_key(unsigned int iv)
{
	return iv < M_IV_COUNT ? miv_keys[iv] : "?";
}

const char *miv_help(unsigned int iv)
{
	return iv < M_IV_COUNT ? miv_helps[iv] : "?";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v (p in 0..100); NaN if empty. */
double sorted_percentile(const double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return NAN;
	k = (size_t)ceil(p / 100.0 * n);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* ------------------------------------------------------------ indices */

struct idx {
	size_t *v;
	size_t n, cap;
};

static int idx_push(struct idx *x, size_t i)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 256;
		size_t *p = realloc(x->v, cap * sizeof(*p));

		if (!p)
			return -1;
		x->v = p;
		x->cap = cap;
	}
	x->v[x->n++] = i;
	return 0;
}

static const struct hcmd *sort_base;

static int cmp_sq_write(const void *a, const void *b)
{
	const struct hcmd *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];

	if (x->ts[NS_STEP_SQ_WRITE] != y->ts[NS_STEP_SQ_WRITE])
		return x->ts[NS_STEP_SQ_WRITE] < y->ts[NS_STEP_SQ_WRITE] ? -1 : 1;
	return 0;
}

/* handler runs: (qid, irq ts), then the CQE time */
static int cmp_irq_run(const void *a, const void *b)
{
	const struct hcmd *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];

	if (x->qid != y->qid)
		return x->qid < y->qid ? -1 : 1;
	if (x->ts[NS_STEP_IRQ] != y->ts[NS_STEP_IRQ])
		return x->ts[NS_STEP_IRQ] < y->ts[NS_STEP_IRQ] ? -1 : 1;
	if (x->ts[NS_STEP_CQE] != y->ts[NS_STEP_CQE])
		return x->ts[NS_STEP_CQE] < y->ts[NS_STEP_CQE] ? -1 : 1;
	return 0;
}

/* ------------------------------------------------------------ walking a queue */

struct walk {
	const struct hrec *r;
	const struct dlog *d;
	const struct idx *g;	/* guest commands of the queue, by sq_write */
	const struct idx *dv;	/* device commands of the queue, fetch order */
	size_t window;		/* look this far ahead in dv */
	size_t *match;		/* per g entry: index in d->cmd + 1, 0 = none */
};

static bool same(const struct hcmd *h, const struct dcmd *c)
{
	return h->cid == c->cid && h->sq_slot == c->sq_slot;
}

/*
 * Walk from guest entry gi and device entry dj for at most limit guest
 * commands; fill w->match.  Returns the number joined; lo and hi get the
 * hard bounds of the joined ones (offset residuals, ns).
 */
static size_t walk(struct walk *w, size_t gi, size_t dj, size_t limit, double *lo, double *hi)
{
	size_t joined = 0, end = limit && gi + limit < w->g->n ? gi + limit : w->g->n;

	*lo = -INFINITY;
	*hi = INFINITY;
	for (; gi < end; gi++) {
		const struct hcmd *h = &w->r->cmd[w->g->v[gi]];
		size_t k, stop = dj + w->window < w->dv->n ? dj + w->window : w->dv->n;

		w->match[gi] = 0;
		for (k = dj; k < stop; k++)
			if (same(h, &w->d->cmd[w->dv->v[k]]))
				break;
		if (k == stop)
			continue;
		{
			const struct dcmd *c = &w->d->cmd[w->dv->v[k]];
			double v;

			w->match[gi] = w->dv->v[k] + 1;
			joined++;
			dj = k + 1;
			if (c->t[D_SQ_DOORBELL] && h->ts[NS_STEP_SQ_DOORBELL]) {
				v = (double)(c->t[D_SQ_DOORBELL] - (int64_t)h->ts[NS_STEP_SQ_DOORBELL]);
				if (v < *hi)
					*hi = v;
			}
			if (c->t[D_CQ_POST] && h->ts[NS_STEP_CQE]) {
				v = (double)(c->t[D_CQ_POST] - (int64_t)h->ts[NS_STEP_CQE]);
				if (v > *lo)
					*lo = v;
			}
		}
	}
	return joined;
}

/*
 * A place joining fewer than this share of what the best place joins
 * does not compete (7/8: a right place may miss a few commands the
 * guest lost or did not record).
 */
static bool joins_enough(size_t joined, size_t most)
{
	return 8 * joined >= 7 * most;
}

/* Find where the queue's guest sequence starts in the device's; -1 if nowhere. */
static long align(struct walk *w, size_t *gstart, const struct merged *m)
{
	size_t gi, k, most = 0;
	long best = -1;
	double best_bad = INFINITY, best_dist = INFINITY;
	size_t best_joined = 0;

	/* first, how many the best place joins */
	for (gi = 0; gi < w->g->n && gi < 8 && !most; gi++) {
		const struct hcmd *h = &w->r->cmd[w->g->v[gi]];

		for (k = 0; k < w->dv->n; k++) {
			double lo, hi;
			size_t joined;

			if (!same(h, &w->d->cmd[w->dv->v[k]]))
				continue;
			joined = walk(w, gi, k, PROBE, &lo, &hi);
			if (joined > most)
				most = joined;
		}
	}
	for (gi = 0; gi < w->g->n && gi < 8 && best < 0; gi++) {
		const struct hcmd *h = &w->r->cmd[w->g->v[gi]];

		for (k = 0; k < w->dv->n; k++) {
			double lo, hi, bad, dist;
			size_t joined;

			if (!same(h, &w->d->cmd[w->dv->v[k]]))
				continue;
			joined = walk(w, gi, k, PROBE, &lo, &hi);
			if (!joins_enough(joined, most))
				continue;
			/* the right place leaves the widest band (most negative) */
			bad = isfinite(lo) && isfinite(hi) ? lo - hi : INFINITY;
			dist = m->have_coarse && isfinite(hi) ?
			       fabs(hi - (double)m->coarse_offset_ns) : 0;
			/* widest band first, then most joined, then nearest the guess */
			if (best < 0 || bad < best_bad ||
			    (bad == best_bad && (joined > best_joined ||
			     (joined == best_joined && dist < best_dist)))) {
				best = k;
				best_bad = bad;
				best_joined = joined;
				best_dist = dist;
				*gstart = gi;
			}
		}
	}
	return best;
}

/* ------------------------------------------------------------ stats */

/* append to a growing array (doubling when n reaches a power of two) */
static int push_double(double **v, size_t *n, double x)
{
	if (!*n || !(*n & (*n - 1))) {
		double *p = realloc(*v, (*n ? 2 * *n : 16) * sizeof(*p));

		if (!p)
			return -1;
		*v = p;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int cmp_mcmd(const void *a, const void *b)
{
	const struct mcmd *x = a, *y = b;

	if (x->t[M_SQ_WRITE] != y->t[M_SQ_WRITE])
		return x->t[M_SQ_WRITE] < y->t[M_SQ_WRITE] ? -1 : 1;
	return 0;
}

static struct mqueue *queue_of(struct merged *m, uint16_t qid)
{
	size_t i;
	struct mqueue *q;

	for (i = 0; i < m->nq; i++)
		if (m->q[i].qid == qid)
			return &m->q[i];
	q = realloc(m->q, (m->nq + 1) * sizeof(*q));
	if (!q)
		return NULL;
	m->q = q;
	q = &m->q[m->nq++];
	memset(q, 0, sizeof(*q));
	q->qid = qid;
	return q;
}

static void fill_cmd(struct merged *m, struct mcmd *mc, const struct hcmd *h,
		     const struct dcmd *c)
{
	const struct csync *cs = &m->cs;
	int64_t last = 0;
	unsigned int s;

	memset(mc, 0, sizeof(*mc));
	mc->h = h;
	mc->d = c;
	mc->t[M_SQ_WRITE] = cs_map(cs, h->ts[NS_STEP_SQ_WRITE]);
	mc->t[M_SQ_DOORBELL] = c->t[D_SQ_DOORBELL];
	mc->t[M_FETCH] = c->t[D_FETCH];
	mc->t[M_DMA] = c->t[D_DMA];
	mc->t[M_CQ_POST] = c->t[D_CQ_POST];
	mc->t[M_IRQ] = c->t[D_IRQ];
	mc->t[M_CQ_DOORBELL] = c->t[D_CQ_DOORBELL];
	mc->g[MG_SQ_DOORBELL] = cs_map(cs, h->ts[NS_STEP_SQ_DOORBELL]);
	mc->g[MG_IRQ] = cs_map(cs, h->ts[NS_STEP_IRQ]);
	mc->g[MG_CQE] = cs_map(cs, h->ts[NS_STEP_CQE]);
	mc->g[MG_RQ_END] = cs_map(cs, h->ts[NS_STEP_RQ_END]);
	mc->g[MG_CQ_DOORBELL] = cs_map(cs, h->ts[NS_STEP_CQ_DOORBELL]);
	/*
	 * In order, to QEMU's resolution: a device time is the start of its
	 * microsecond, so the guest's sq_write may come up to 999 ns "after"
	 * the device's sq_doorbell.
	 */
	mc->causal = true;
	for (s = 0; s < M_STEP_COUNT; s++) {
		if (!mc->t[s])
			continue;
		if (mc->t[s] < last - (s == M_SQ_DOORBELL ? 999 : 0))
			mc->causal = false;
		last = mc->t[s];
	}
}

/* ------------------------------------------------------------ build */

/* Both sides' commands by queue: gq by guest index, dq by device index. */
static int group_by_queue(struct merged *m, const struct hrec *r, const struct dlog *d,
			  struct idx *gq, struct idx *dq, size_t nq)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (!r->cmd[i].ts[NS_STEP_SQ_WRITE])
			continue;
		m->guest++;
		if (idx_push(&gq[r->cmd[i].qid], i))
			return -1;
	}
	for (i = 0; i < d->n; i++)
		if (d->cmd[i].sqid < nq && idx_push(&dq[d->cmd[i].sqid], i))
			return -1;
	return 0;
}

/*
 * Queue by queue, each guest command's device command: match[guest
 * index] = device index + 1, 0 = none.
 */
static int join_queues(struct merged *m, const struct hrec *r, const struct dlog *d,
		       struct idx *gq, const struct idx *dq, size_t nq, size_t *match)
{
	size_t i, j;

	sort_base = r->cmd;
	for (i = 0; i < nq; i++) {
		struct walk w = { .r = r, .d = d, .g = &gq[i], .dv = &dq[i] };
		size_t gstart = 0, maxslot = 0;
		double lo, hi;
		long k;

		if (!gq[i].n)
			continue;
		qsort(gq[i].v, gq[i].n, sizeof(size_t), cmp_sq_write);
		for (j = 0; j < dq[i].n; j++)
			if (d->cmd[dq[i].v[j]].sq_slot > maxslot)
				maxslot = d->cmd[dq[i].v[j]].sq_slot;
		w.window = maxslot ? maxslot : 1;
		w.match = calloc(gq[i].n, sizeof(*w.match));
		if (!w.match)
			return -1;
		k = dq[i].n ? align(&w, &gstart, m) : -1;
		if (k >= 0) {
			memset(w.match, 0, gq[i].n * sizeof(*w.match));
			walk(&w, gstart, k, 0, &lo, &hi);
		}
		for (j = 0; j < gq[i].n; j++)
			match[gq[i].v[j]] = w.match[j];
		free(w.match);
	}
	return 0;
}

/* The clock bounds (cs_add()) from every joined command. */
static int add_clock_bounds(struct merged *m, const struct hrec *r, const struct dlog *d,
			    const size_t *match)
{
	struct idx runs = { 0 };
	size_t i;
	int ret = -1;

	for (i = 0; i < r->n; i++) {
		const struct hcmd *h = &r->cmd[i];
		const struct dcmd *c;

		if (!match[i])
			continue;
		c = &d->cmd[match[i] - 1];
		cs_add(&m->cs, CS_SQ_DOORBELL, h->ts[NS_STEP_SQ_DOORBELL], c->t[D_SQ_DOORBELL]);
		/* the CQ side only when both sides put the CQE in the same slot */
		if (h->cq_slot != c->cq_slot) {
			m->cq_slot_mismatch++;
			continue;
		}
		cs_add(&m->cs, CS_CQ_DOORBELL, h->ts[NS_STEP_CQ_DOORBELL], c->t[D_CQ_DOORBELL]);
		cs_add(&m->cs, CS_CQE, h->ts[NS_STEP_CQE], c->t[D_CQ_POST]);
		if (h->ts[NS_STEP_IRQ] && idx_push(&runs, i))
			goto out;
	}
	/* interrupts: the first CQE each handler run reaped (qsort wants non-NULL) */
	if (runs.n)
		qsort(runs.v, runs.n, sizeof(size_t), cmp_irq_run);
	for (i = 0; i < runs.n; i++) {
		const struct hcmd *h = &r->cmd[runs.v[i]], *p = i ? &r->cmd[runs.v[i - 1]] : NULL;

		if (p && p->qid == h->qid && p->ts[NS_STEP_IRQ] == h->ts[NS_STEP_IRQ])
			continue;
		cs_add(&m->cs, CS_IRQ, h->ts[NS_STEP_IRQ], d->cmd[match[runs.v[i]] - 1].t[D_IRQ]);
	}
	ret = 0;
out:
	free(runs.v);
	return ret;
}

/* A joined command's intervals and device time, into its queue's lists. */
static int add_intervals(struct mqueue *q, const struct mcmd *mc)
{
	unsigned int s;

	for (s = 0; s < M_IV_COUNT; s++)
		if (mc->t[s] && mc->t[s + 1])
			if (push_double(&q->iv[s], &q->niv[s],
					(double)(mc->t[s + 1] - mc->t[s])))
				return -1;
	if (mc->t[M_SQ_DOORBELL] && mc->t[M_IRQ] &&
	    push_double(&q->devtime, &q->ndevtime,
			(double)(mc->t[M_IRQ] - mc->t[M_SQ_DOORBELL])))
		return -1;
	return 0;
}

/* The joined commands on the device clock, counted per queue. */
static int place_joined(struct merged *m, const struct hrec *r, const struct dlog *d,
			const size_t *match)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		n += match[i] != 0;
	m->cmd = calloc(n ? n : 1, sizeof(*m->cmd));
	if (!m->cmd)
		return -1;
	for (i = 0; i < r->n; i++) {
		const struct hcmd *h = &r->cmd[i];
		struct mqueue *q;
		struct mcmd *mc;

		if (!h->ts[NS_STEP_SQ_WRITE])
			continue;
		q = queue_of(m, h->qid);
		if (!q)
			return -1;
		q->guest++;
		if (!match[i])
			continue;
		mc = &m->cmd[m->n++];
		fill_cmd(m, mc, h, &d->cmd[match[i] - 1]);
		q->joined++;
		q->sq_host += h->sq_mem == 0;
		q->sq_cmb += h->sq_mem == 1;
		if (!mc->causal)
			m->not_causal++;
		if (add_intervals(q, mc))
			return -1;
	}
	m->joined = m->n;
	return 0;
}

/* Commands by time, each queue's intervals sorted for the percentiles. */
static void sort_joined(struct merged *m)
{
	size_t i;
	unsigned int s;

	qsort(m->cmd, m->n, sizeof(*m->cmd), cmp_mcmd);
	for (i = 0; i < m->nq; i++) {
		for (s = 0; s < M_IV_COUNT; s++)
			qsort(m->q[i].iv[s], m->q[i].niv[s], sizeof(double), cmp_double);
		qsort(m->q[i].devtime, m->q[i].ndevtime, sizeof(double), cmp_double);
	}
}

/* Device commands fetched while the guest was recording. */
static void count_device_in_window(struct merged *m, const struct dlog *d)
{
	int64_t from, to = 0;
	size_t i;

	if (!m->n)
		return;
	from = m->cmd[0].t[M_SQ_WRITE];
	for (i = 0; i < m->n; i++)
		if (m->cmd[i].t[M_CQ_DOORBELL] > to)
			to = m->cmd[i].t[M_CQ_DOORBELL];
	for (i = 0; i < d->n; i++)
		if (d->cmd[i].t[D_FETCH] >= from && d->cmd[i].t[D_FETCH] <= to)
			m->device_in_window++;
}

int merge_build(struct merged *m, const struct hrec *r, const struct dlog *d,
		char *err, size_t errlen)
{
	struct idx *gq = NULL, *dq = NULL;
	size_t *match = NULL, nq = 0, i;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	cs_init(&m->cs);
	m->have_coarse = r->have_coarse;
	m->coarse_offset_ns = r->coarse_offset_ns;
	m->device = d->n;

	for (i = 0; i < r->n; i++)
		if (r->cmd[i].qid + 1u > nq)
			nq = r->cmd[i].qid + 1u;
	gq = calloc(nq ? nq : 1, sizeof(*gq));
	dq = calloc(nq ? nq : 1, sizeof(*dq));
	match = calloc(r->n ? r->n : 1, sizeof(*match));
	if (!gq || !dq || !match || group_by_queue(m, r, d, gq, dq, nq) ||
	    join_queues(m, r, d, gq, dq, nq, match) || add_clock_bounds(m, r, d, match))
		goto out;
	if (cs_solve(&m->cs)) {
		snprintf(err, errlen, "no command could be joined (%zu guest, %zu device commands): "
			 "are both files from the same run?", m->guest, d->n);
		goto out;
	}
	if (place_joined(m, r, d, match))
		goto out;
	sort_joined(m);
	count_device_in_window(m, d);
	ret = 0;
out:
	if (ret && !err[0])
		snprintf(err, errlen, "out of memory");
	/* on failure nothing stays allocated: the callers do not merge_free() */
	if (ret)
		merge_free(m);
	for (i = 0; i < nq; i++) {
		if (gq)
			free(gq[i].v);
		if (dq)
			free(dq[i].v);
	}
	free(gq);
	free(dq);
	free(match);
	return ret;
}

void merge_free(struct merged *m)
{
	size_t i;
	unsigned int s;

	for (i = 0; i < m->nq; i++) {
		for (s = 0; s < M_IV_COUNT; s++)
			free(m->q[i].iv[s]);
		free(m->q[i].devtime);
	}
	free(m->q);
	free(m->cmd);
	cs_free(&m->cs);
	memset(m, 0, sizeof(*m));
}
