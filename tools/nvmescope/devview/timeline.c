// SPDX-License-Identifier: GPL-2.0
/*
 * timeline.c - "nvmescope timeline --svg FILE HOST DEVICE": a waterfall of
 * N joined commands on the device's clock.  One lane per queue, one row
 * per command, a mark at each of the seven steps and the six intervals
 * between them as coloured bars; an axis in microseconds and a legend.
 * Hand-written SVG 1.1 that a browser opens as it is; hovering a bar shows
 * its interval and duration (<title>).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "devview/devview.h"

#define W_TOTAL 1200
#define LEFT 170
#define RIGHT 30
#define ROW_H 14
#define LANE_GAP 22
#define TOP 132

static const char *const iv_colour[M_IV_COUNT] = {
	"#9c9c9c",	/* sq_write-sq_doorbell: guest */
	"#4e79a7",	/* sq_doorbell-fetch */
	"#e15759",	/* fetch-dma: the data transfer */
	"#f28e2b",	/* dma-cq_post */
	"#59a14f",	/* cq_post-irq */
	"#b07aa1",	/* irq-cq_doorbell: guest */
};

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

/* a "nice" tick step (1, 2 or 5 times a power of ten) for about 10 ticks */
static double tick_step(double range)
{
	double raw = range / 10, p = pow(10, floor(log10(raw))), m = raw / p;

	if (m < 1.5)
		return p;
	if (m < 3.5)
		return 2 * p;
	if (m < 7.5)
		return 5 * p;
	return 10 * p;
}

static int cmp_lane(const void *a, const void *b)
{
	const struct mcmd *x = *(const struct mcmd *const *)a, *y = *(const struct mcmd *const *)b;

	if (x->h->qid != y->h->qid)
		return x->h->qid < y->h->qid ? -1 : 1;
	return x->t[M_SQ_WRITE] < y->t[M_SQ_WRITE] ? -1 : x->t[M_SQ_WRITE] > y->t[M_SQ_WRITE];
}

/* The picture's extent: the time range, its scale, the height. */
struct frame {
	int64_t tmin, tmax;
	double range_us;	/* tmax - tmin, at least 1 */
	double scale;		/* pixels per microsecond */
	int height;
};

/* Sort c[] into lanes (by queue, then time) and find the frame. */
static void measure(const struct mcmd **c, size_t n, struct frame *fr)
{
	unsigned int lanes = 0, s;
	size_t i;

	fr->tmin = INT64_MAX;
	fr->tmax = INT64_MIN;
	qsort(c, n, sizeof(*c), cmp_lane);
	for (i = 0; i < n; i++) {
		if (!i || c[i]->h->qid != c[i - 1]->h->qid)
			lanes++;
		for (s = 0; s < M_STEP_COUNT; s++) {
			if (!c[i]->t[s])
				continue;
			if (c[i]->t[s] < fr->tmin)
				fr->tmin = c[i]->t[s];
			if (c[i]->t[s] > fr->tmax)
				fr->tmax = c[i]->t[s];
		}
	}
	fr->range_us = n ? (double)(fr->tmax - fr->tmin) / 1e3 : 1;
	if (fr->range_us <= 0)
		fr->range_us = 1;
	fr->scale = (W_TOTAL - LEFT - RIGHT) / fr->range_us;
	fr->height = TOP + (int)n * ROW_H + (int)lanes * LANE_GAP + 40;
}

/* The SVG's start, the title, the clock's quality and the legend. */
static void draw_header(FILE *f, const struct merged *m, size_t n, const struct frame *fr)
{
	unsigned int s;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
		W_TOTAL, fr->height, W_TOTAL, fr->height);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
		W_TOTAL, fr->height);
	fprintf(f, "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">"
		"%zu NVMe commands, guest driver and QEMU controller on one clock</text>\n", n);
	fprintf(f, "<text x=\"10\" y=\"38\">clock offset known to \u00b1%.1f us (drift %+.2f ppm); "
		"%zu of %zu guest commands joined; grey and purple bars are the guest's, the others "
		"the device's</text>\n", m->cs.unc_ns / 1e3, m->cs.b * 1e6, m->joined, m->guest);
	for (s = 0; s < M_IV_COUNT; s++) {
		int lx = 10 + (s % 3) * 390, ly = 52 + (s / 3) * 18;

		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%d\">", lx, ly, iv_colour[s], lx + 18, ly + 9);
		xml_text(f, miv_key(s));
		fputs("</text>\n", f);
	}
	fprintf(f, "<text x=\"10\" y=\"100\" fill=\"#444\">marks: the seven steps "
		"sq_write, sq_doorbell, fetch, dma, cq_post, irq, cq_doorbell; "
		"hover a bar for its duration</text>\n");
}

/* The time axis in microseconds, with a grid line at each tick. */
static void draw_axis(FILE *f, const struct frame *fr)
{
	double step = tick_step(fr->range_us), x;

	for (x = 0; x <= fr->range_us + 1e-9; x += step) {
		double px = LEFT + x * fr->scale;

		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444\">%g</text>\n",
			px, TOP - 6, px, fr->height - 30, px, TOP - 9, x);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#444\">time (us)</text>\n",
		LEFT - 14, TOP - 9);
}

/* One command's row at y: its label, a bar per interval, a mark per step. */
static void draw_row(FILE *f, const struct mcmd *cm, int y, const struct frame *fr)
{
	int64_t prev = 0;
	char label[64];
	unsigned int s;

	snprintf(label, sizeof(label), "cid %u %s", cm->h->cid,
		 opcode_name(cm->h->qid, cm->h->opcode));
	fprintf(f, "<g><text x=\"20\" y=\"%d\">", y + ROW_H - 4);
	xml_text(f, label);
	fputs("</text>\n", f);
	for (s = 0; s < M_STEP_COUNT; s++) {
		double px;

		if (!cm->t[s])
			continue;
		px = LEFT + (double)(cm->t[s] - fr->tmin) / 1e3 * fr->scale;
		if (prev) {
			double x0 = LEFT + (double)(prev - fr->tmin) / 1e3 * fr->scale;
			double w = px - x0 < 0.5 ? 0.5 : px - x0;

			fprintf(f, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
				"fill=\"%s\"><title>%s %.3f us</title></rect>\n", x0, y + 2, w,
				ROW_H - 4, iv_colour[s - 1], miv_key(s - 1),
				(double)(cm->t[s] - prev) / 1e3);
		}
		fprintf(f, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"black\" "
			"stroke-width=\"1\"><title>%s</title></line>\n", px, y + 1, px,
			y + ROW_H - 1, mstep_name(s));
		prev = cm->t[s];
	}
	fputs("</g>\n", f);
}

/* Draw c[0..n) (the caller picks them); a lane per queue. */
static int draw(FILE *f, const struct merged *m, const struct mcmd **c, size_t n)
{
	struct frame fr;
	int y = TOP;
	size_t i;

	measure(c, n, &fr);
	draw_header(f, m, n, &fr);
	draw_axis(f, &fr);
	for (i = 0; i < n; i++) {
		if (!i || c[i]->h->qid != c[i - 1]->h->qid) {
			y += LANE_GAP;
			fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">queue %u</text>"
				"<line x1=\"10\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
				y - 6, c[i]->h->qid, y - 3, W_TOTAL - RIGHT, y - 3);
		}
		draw_row(f, c[i], y, &fr);
		y += ROW_H;
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#444\">time on the host machine's clock, "
		"us after the first step drawn (nvmescope timeline)</text>\n", LEFT, fr.height - 12);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}

int timeline_svg(FILE *f, const struct merged *m, size_t skip, size_t count)
{
	const struct mcmd **c;
	size_t n = 0, i;
	int ret;

	c = calloc(count ? count : 1, sizeof(*c));
	if (!c)
		return -1;
	for (i = skip; i < m->n && n < count; i++)
		c[n++] = &m->cmd[i];
	ret = draw(f, m, c, n);
	free(c);
	return ret;
}

/* Keep the joined commands of queue qid only, in their order. */
static void keep_queue(struct merged *m, int qid)
{
	size_t i, kept = 0;

	for (i = 0; i < m->n; i++)
		if (m->cmd[i].h->qid == qid)
			m->cmd[kept++] = m->cmd[i];
	m->n = kept;
}

/* The picture into path ('-' = stdout): an exit code, errors printed. */
static int write_svg(const char *path, const struct merged *m, size_t skip, size_t count)
{
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "w");
	int err;

	if (!f) {
		print_error("cannot write %s: %m", path);
		return EXIT_FAILURE_RUNTIME;
	}
	err = timeline_svg(f, m, skip, count);
	if (!to_stdout && fclose(f))
		err = -1;
	if (err) {
		print_error("writing %s failed", path);
		return EXIT_FAILURE_RUNTIME;
	}
	return EXIT_OK;
}

int timeline_run(const struct options *o)
{
	char err[256] = "";
	struct merged m;
	struct hrec r;
	struct dlog d;
	int ret;

	ret = devview_load("timeline", o->host_file, o->device_file, &r, &d);
	if (ret)
		return ret;
	if (merge_build(&m, &r, &d, err, sizeof(err))) {
		print_error("%s", err);
		ret = EXIT_FAILURE_RUNTIME;
		goto out_files;
	}
	if (o->qid >= 0)
		keep_queue(&m, o->qid);
	if (o->skip >= m.n) {
		print_error("nothing to draw: %zu joined commands%s, --skip %zu", m.n,
			o->qid >= 0 ? " on that queue" : "", o->skip);
		ret = EXIT_NOT_FOUND;
		goto out;
	}
	ret = write_svg(o->file, &m, o->skip, o->count);
out:
	merge_free(&m);
out_files:
	hrec_free(&r);
	dlog_free(&d);
	return ret;
}
