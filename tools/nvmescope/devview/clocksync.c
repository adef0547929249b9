// SPDX-License-Identifier: GPL-2.0
/*
 * clocksync.c - the offset between the guest's CLOCK_MONOTONIC (the BPF
 * timestamps of "nvmescope record") and the host machine's wall clock
 * (QEMU's trace), from events both sides see, the way NTP bounds a clock
 * with the two directions of a round trip:
 *
 *   guest event before device event (SQ doorbell: tnvme_sq_doorbell
 *   fires just before the MMIO write, which QEMU traces while handling it):
 *        g + offset <= h      so   offset <= h - g     (upper bound)
 *   device event before guest event (the CQE is posted, then the guest
 *   reads it; the MSI-X is raised, then the handler starts; the CQ head
 *   doorbell: tnvme_cq_doorbell fires just AFTER the MMIO write, and under
 *   TCG QEMU handles the write, and traces it, before writel() returns):
 *        h <= g + offset      so   offset >= h - g     (lower bound)
 *
 * The two doorbells are the tight pair: each MMIO write traps into QEMU
 * synchronously, so each bound is off by only the few microseconds of one
 * trap, one in each direction.
 *
 * The offset lies between the largest lower bound and the smallest upper
 * bound; half that width is the uncertainty.  The clocks may drift apart
 * (the host's wall clock is slewed by NTP, the guest's TSC is emulated):
 * the offset is a + b * t.  The recording is cut into windows; each
 * window's bounds give a midpoint, and b is the least-squares slope
 * through the midpoints.  With that b, a is bounded by all the pairs at
 * once.  If that b leaves no room (max lower > min upper), the b that
 * leaves the widest band is used instead.
 *
 * The interrupt bound is "soft": nvmescope assumes the handler run was
 * started by the MSI-X that followed the first CQE it reaped, which is
 * usually but not always so (the handler may already run when the vector
 * fires).  Soft bounds that contradict the doorbells are dropped and
 * counted; the doorbells and CQE bounds always hold.
 *
 * In theory.  In practice one pair in a few thousand contradicts all the
 * others by microseconds (a CQ doorbell given to the wrong CQE, a vCPU
 * preempted at the wrong moment): one such pair would make the bounds
 * inconsistent.  While the band is empty, the pair that sets the violated
 * bound is dropped if it stands alone (further from the next pair of its
 * side than the band is wide), up to 0.1 % of the pairs; what was dropped
 * is counted ("outliers").  If the band is still empty, no straight line
 * fits: the offset is then taken window by window (piecewise(), the
 * midpoint of each window's band), and only a window whose own band is
 * empty (or no window with bounds of both sides) makes the result
 * "inconsistent".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "devview/devview.h"

#define WINDOW_S 0.25
#define MAX_WINDOWS 64

static const char *const kind_names[CS_KIND_COUNT] = {
	[CS_SQ_DOORBELL] = "sq_doorbell",
	[CS_CQ_DOORBELL] = "cq_doorbell",
	[CS_CQE] = "cqe",
	[CS_IRQ] = "irq",
};

const char *cs_kind_name(enum cs_kind k)
{
	return k < CS_KIND_COUNT ? kind_names[k] : "?";
}

static bool is_upper(int kind)
{
	return kind == CS_SQ_DOORBELL;
}

void cs_init(struct csync *c)
{
	memset(c, 0, sizeof(*c));
}

void cs_free(struct csync *c)
{
	free(c->p);
	cs_init(c);
}

void cs_add(struct csync *c, enum cs_kind kind, int64_t guest_ns, int64_t device_ns)
{
	if (!guest_ns || !device_ns)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4096;
		struct cs_pair *p = realloc(c->p, cap * sizeof(*p));

		if (!p)
			return;
		c->p = p;
		c->cap = cap;
	}
	/*
	 * QEMU prints microseconds, truncated: the device event happened in
	 * [printed, printed + 1 us).  An upper bound takes the late end.
	 */
	if (is_upper(kind))
		device_ns += 999;
	c->p[c->n].g = guest_ns;
	c->p[c->n].d = device_ns - guest_ns;
	c->p[c->n].kind = kind;
	c->n++;
}

/* seconds since g0 */
static double tsec(const struct csync *c, int64_t g)
{
	return (double)(g - c->g0) / 1e9;
}

static double resid(const struct csync *c, const struct cs_pair *p)
{
	return (double)(p->d - c->base);
}

/* The band [*lo, *hi] for a, given the slope b (ns per second). */
static void band(const struct csync *c, double b, const bool *use, double *lo, double *hi)
{
	size_t i;

	*lo = -INFINITY;
	*hi = INFINITY;
	for (i = 0; i < c->n; i++) {
		const struct cs_pair *p = &c->p[i];
		double v;

		if (!use[i])
			continue;
		v = resid(c, p) - b * tsec(c, p->g);
		if (is_upper(p->kind)) {
			if (v < *hi)
				*hi = v;
		} else if (v > *lo) {
			*lo = v;
		}
	}
}

/*
 * The band is empty: drop the extreme pair of the side whose extreme stands
 * furthest from the next one.  Returns false if nothing stands out.
 */
static bool drop_outlier(struct csync *c, double b, bool *use)
{
	double lo1 = -INFINITY, lo2 = -INFINITY, hi1 = INFINITY, hi2 = INFINITY;
	size_t ilo = (size_t)-1, ihi = (size_t)-1, i;
	double gap_lo, gap_hi, need;

	for (i = 0; i < c->n; i++) {
		const struct cs_pair *p = &c->p[i];
		double v;

		if (!use[i])
			continue;
		v = resid(c, p) - b * tsec(c, p->g);
		if (is_upper(p->kind)) {
			if (v < hi1) {
				hi2 = hi1;
				hi1 = v;
				ihi = i;
			} else if (v < hi2) {
				hi2 = v;
			}
		} else if (v > lo1) {
			lo2 = lo1;
			lo1 = v;
			ilo = i;
		} else if (v > lo2) {
			lo2 = v;
		}
	}
	if (ilo == (size_t)-1 || ihi == (size_t)-1 || lo1 <= hi1)
		return false;
	gap_lo = lo1 - lo2;
	gap_hi = hi2 - hi1;
	need = lo1 - hi1;	/* how much the band is overdrawn */
	if (gap_lo >= gap_hi && gap_lo >= need / 2) {
		use[ilo] = false;
		return true;
	}
	if (gap_hi > gap_lo && gap_hi >= need / 2) {
		use[ihi] = false;
		return true;
	}
	return false;
}

static double width(const struct csync *c, double b, const bool *use)
{
	double lo, hi;

	band(c, b, use, &lo, &hi);
	return hi - lo;
}

/* Least-squares slope through the windows' midpoints; false if < 2 windows. */
static bool window_slope(struct csync *c, const bool *use, double span, double *b)
{
	double lo[MAX_WINDOWS], hi[MAX_WINDOWS];
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	unsigned int w, nw, k = 0;
	size_t i;

	nw = (unsigned int)(span / WINDOW_S) + 1;
	if (nw > MAX_WINDOWS)
		nw = MAX_WINDOWS;
	c->windows = nw;
	for (w = 0; w < nw; w++) {
		lo[w] = -INFINITY;
		hi[w] = INFINITY;
	}
	for (i = 0; i < c->n; i++) {
		const struct cs_pair *p = &c->p[i];
		double t = tsec(c, p->g), v = resid(c, p);

		if (!use[i])
			continue;
		w = span > 0 ? (unsigned int)(t / span * nw) : 0;
		if (w >= nw)
			w = nw - 1;
		if (is_upper(p->kind)) {
			if (v < hi[w])
				hi[w] = v;
		} else if (v > lo[w]) {
			lo[w] = v;
		}
	}
	for (w = 0; w < nw; w++) {
		double x = (w + 0.5) * span / nw, y;

		if (!isfinite(lo[w]) || !isfinite(hi[w]) || lo[w] > hi[w])
			continue;
		y = (lo[w] + hi[w]) / 2;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		k++;
	}
	if (k < 2 || sxx * k - sx * sx <= 0)
		return false;
	*b = (k * sxy - sx * sy) / (k * sxx - sx * sx);
	return true;
}

/* The slope in [-limit, limit] that leaves the widest band (width is concave). */
static double widest_slope(const struct csync *c, const bool *use)
{
	double lo = -1e5, hi = 1e5;	/* ns per second: +-100 ppm */
	int i;

	for (i = 0; i < 100; i++) {
		double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;

		if (width(c, m1, use) < width(c, m2, use))
			lo = m1;
		else
			hi = m2;
	}
	return (lo + hi) / 2;
}

/*
 * No line fits: per window, the band's midpoint.  lo and hi become the
 * widest window's band around its midpoint (so the uncertainty is the
 * largest of the windows'), or the worst overdraw if a window is empty.
 */
static void piecewise(struct csync *c, double b, const bool *use, double span,
		      double *lo, double *hi)
{
	double wlo[MAX_WINDOWS], whi[MAX_WINDOWS], widest = 0, overdraw = 0;
	unsigned int w, nw = c->windows ? c->windows : 1;
	size_t i;

	for (w = 0; w < nw; w++) {
		wlo[w] = -INFINITY;
		whi[w] = INFINITY;
	}
	for (i = 0; i < c->n; i++) {
		const struct cs_pair *p = &c->p[i];
		double t = tsec(c, p->g), v;

		if (!use[i])
			continue;
		v = resid(c, p) - b * t;
		w = span > 0 ? (unsigned int)(t / span * nw) : 0;
		if (w >= nw)
			w = nw - 1;
		if (is_upper(p->kind)) {
			if (v < whi[w])
				whi[w] = v;
		} else if (v > wlo[w]) {
			wlo[w] = v;
		}
	}
	c->npw = 0;
	for (w = 0; w < nw; w++) {
		double half;

		if (!isfinite(wlo[w]) || !isfinite(whi[w]))
			continue;
		c->pw_t[c->npw] = (w + 0.5) * span / nw;
		c->pw_mid[c->npw] = (wlo[w] + whi[w]) / 2;
		c->npw++;
		half = (whi[w] - wlo[w]) / 2;
		if (half > widest)
			widest = half;
		if (half < overdraw)
			overdraw = half;
	}
	if (!c->npw)
		return;
	c->piecewise = true;
	/* an empty window makes the whole result inconsistent */
	*lo = overdraw < 0 ? -overdraw : -widest;
	*hi = overdraw < 0 ? overdraw : widest;
}

/* Both an upper and a lower bound: without them there is no band. */
static bool have_both_sides(const struct csync *c)
{
	bool have_up = false, have_lo = false;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (is_upper(c->p[i].kind))
			have_up = true;
		else
			have_lo = true;
	}
	return have_up && have_lo;
}

/* The origins (base, g0) and the guest time the pairs span, in seconds. */
static double set_origin(struct csync *c)
{
	int64_t gmax;
	size_t i;

	c->base = c->p[0].d;
	c->g0 = gmax = c->p[0].g;
	for (i = 0; i < c->n; i++) {
		if (c->p[i].g < c->g0)
			c->g0 = c->p[i].g;
		if (c->p[i].g > gmax)
			gmax = c->p[i].g;
	}
	c->span_s = (double)(gmax - c->g0) / 1e9;
	return c->span_s;
}

/* The drift (ns per s), choosing the bounds to use on the way. */
static double solve_slope(struct csync *c, bool *use, double span)
{
	double b = 0, lo, hi;
	size_t i;

	/* 1. the hard bounds alone give the drift */
	for (i = 0; i < c->n; i++)
		use[i] = c->p[i].kind != CS_IRQ;
	if (!window_slope(c, use, span, &b))
		b = 0;
	if (width(c, b, use) < 0)
		b = widest_slope(c, use);

	/* 2. soft bounds above the upper envelope are wrong guesses: drop them */
	band(c, b, use, &lo, &hi);
	for (i = 0; i < c->n; i++) {
		const struct cs_pair *p = &c->p[i];

		if (p->kind != CS_IRQ)
			continue;
		if (resid(c, p) - b * tsec(c, p->g) > hi)
			c->dropped_soft++;
		else
			use[i] = true;
	}
	/* 3. with every bound kept, again */
	if (window_slope(c, use, span, &b) && width(c, b, use) >= 0) {
		/* keep the slope */
	} else if (width(c, b, use) < 0) {
		b = widest_slope(c, use);
	}
	/* 4. isolated contradictions */
	c->outliers = 0;
	while (width(c, b, use) < 0 && c->outliers < c->n / 1000 + 1 &&
	       drop_outlier(c, b, use)) {
		c->outliers++;
		if (window_slope(c, use, span, &b) && width(c, b, use) >= 0)
			break;
	}
	return b;
}

int cs_solve(struct csync *c)
{
	double b, lo, hi, span;
	bool *use;
	size_t i;

	c->solved = false;
	memset(c->used, 0, sizeof(c->used));
	c->dropped_soft = 0;
	if (!have_both_sides(c))
		return -1;
	use = calloc(c->n, sizeof(*use));
	if (!use)
		return -1;
	span = set_origin(c);
	b = solve_slope(c, use, span);
	band(c, b, use, &lo, &hi);
	c->piecewise = false;
	c->npw = 0;
	if (lo > hi)
		piecewise(c, b, use, span, &lo, &hi);
	for (i = 0; i < c->n; i++)
		if (use[i])
			c->used[c->p[i].kind]++;
	free(use);
	c->b = b / 1e9;
	c->lower_ns = lo;
	c->upper_ns = hi;
	c->a_ns = c->piecewise ? 0 : (lo + hi) / 2;
	c->unc_ns = fabs(hi - lo) / 2;
	c->consistent = lo <= hi;
	c->solved = true;
	return 0;
}

double cs_offset_at(const struct csync *c, int64_t guest_ns)
{
	double t = (double)(guest_ns - c->g0) / 1e9, mid;
	unsigned int k;

	if (!c->piecewise)
		return c->a_ns + c->b * (double)(guest_ns - c->g0);
	if (t <= c->pw_t[0] || c->npw == 1) {
		mid = c->pw_mid[0];
	} else if (t >= c->pw_t[c->npw - 1]) {
		mid = c->pw_mid[c->npw - 1];
	} else {
		for (k = 1; k < c->npw && c->pw_t[k] < t; k++)
			;
		mid = c->pw_mid[k - 1] + (c->pw_mid[k] - c->pw_mid[k - 1]) *
		      (t - c->pw_t[k - 1]) / (c->pw_t[k] - c->pw_t[k - 1]);
	}
	return mid + c->b * (double)(guest_ns - c->g0);
}

int64_t cs_map(const struct csync *c, int64_t guest_ns)
{
	if (!guest_ns)
		return 0;
	return guest_ns + c->base + (int64_t)llround(cs_offset_at(c, guest_ns));
}
