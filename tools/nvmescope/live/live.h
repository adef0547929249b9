/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live.h - the one event loop every report runs in: a timerfd for the
 * interval, a signalfd for Ctrl-C / SIGTERM / terminal resize, stdin for
 * 'q', and optionally the BPF ring buffer; the terminal is restored on
 * every way out.
 */
#ifndef NVMESCOPE_LIVE_H
#define NVMESCOPE_LIVE_H

#include <stdbool.h>

struct live_callbacks {
	void *ctx;
	/* Every interval; return non-zero to stop. */
	int (*on_tick)(void *ctx);
	/* The ring buffer fd is readable; return non-zero to stop. */
	int (*on_events)(void *ctx);
	/* The terminal changed size: redraw. */
	void (*on_resize)(void *ctx);
};

struct live_options {
	double interval_s;	/* 0 = no timer */
	double first_tick_s;	/* CLOCK_MONOTONIC of the first tick; 0 = in one interval */
	double duration_s;	/* 0 = until stopped */
	int events_fd;		/* -1 = none */
	bool fullscreen;	/* alternate screen, 'q' quits (top on a tty) */
};

/* Block the signals the loop handles; call first thing in main(). */
void live_block_signals(void);
/* True if SIGINT or SIGTERM arrived while blocked (e.g. during loading). */
bool live_interrupted(void);
/* Run until Ctrl-C, 'q', the duration, or a callback says stop. */
int live_run(const struct live_options *lo, const struct live_callbacks *cb);
/* Terminal size (80x24 when not a terminal). */
void live_term_size(int *cols, int *rows);

#endif
