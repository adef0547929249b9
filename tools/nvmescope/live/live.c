// SPDX-License-Identifier: GPL-2.0
/*
 * live.c - the event loop shared by every report, in the style of
 * util-linux irqtop: one epoll over
 *
 *   - a timerfd that fires every interval (the report's "tick"),
 *   - a signalfd for SIGINT/SIGTERM/SIGHUP (stop) and SIGWINCH (redraw),
 *   - stdin, when the view is full-screen ('q' quits),
 *   - the BPF ring buffer in trace mode.
 *
 * The signals are blocked from the very start of main() (see
 * live_block_signals), so Ctrl-C during BPF loading is not lost and never
 * kills the process half-way: it is read here, or noticed by
 * live_interrupted(), and the caller tears down normally.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "live/live.h"
#include "live/collect.h"

static sigset_t handled_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	return set;
}

void live_block_signals(void)
{
	sigset_t set = handled_signals();

	sigprocmask(SIG_BLOCK, &set, NULL);
	/*
	 * An ignored signal is discarded, even when blocked, so it would never
	 * reach the signalfd: a shell script's background jobs start with
	 * SIGINT ignored.  Blocked, the default action never runs either.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

bool live_interrupted(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
	       sigismember(&pending, SIGHUP);
}

void live_term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* ---------------------------------------------------- the terminal */

static struct termios saved_termios;
static bool termios_saved, screen_entered;

static void terminal_restore(void)
{
	if (screen_entered) {
		/* show the cursor, leave the alternate screen */
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		screen_entered = false;
	}
	if (termios_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
		termios_saved = false;
	}
}

static void terminal_enter(void)
{
	struct termios raw;

	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_termios)) {
		termios_saved = true;
		raw = saved_termios;
		/* keys arrive one by one, not echoed; Ctrl-C still signals */
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	/* alternate screen, hide the cursor */
	fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);
	screen_entered = true;
	atexit(terminal_restore);	/* also covers exit() from anywhere */
}

/* ---------------------------------------------------- the loop */

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static struct timespec to_timespec(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s };

	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	return ts;
}

/* Ticks at first_s (CLOCK_MONOTONIC; 0: one interval from now), then every interval. */
static int arm_timer(double interval_s, double first_s)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (first_s <= 0)
		first_s = now_monotonic() + interval_s;
	its.it_value = to_timespec(first_s);
	its.it_interval = to_timespec(interval_s);
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The loop's file descriptors; -1 = not open. */
struct loop {
	int ep, sfd, tfd;
};

/* epoll over the signals, the timer, the ring buffer and stdin. */
static int loop_open(struct loop *l, const struct live_options *lo,
		     const struct live_callbacks *cb)
{
	sigset_t set = handled_signals();

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	l->tfd = -1;
	if (l->ep < 0 || l->sfd < 0 || add_fd(l->ep, l->sfd))
		return -1;
	if (lo->interval_s > 0) {
		l->tfd = arm_timer(lo->interval_s, lo->first_tick_s);
		if (l->tfd < 0 || add_fd(l->ep, l->tfd))
			return -1;
	}
	if (lo->events_fd >= 0 && add_fd(l->ep, lo->events_fd))
		return -1;
	if (lo->fullscreen) {
		terminal_enter();
		if (termios_saved)
			add_fd(l->ep, STDIN_FILENO);
		if (cb->on_resize)
			cb->on_resize(cb->ctx);
	}
	return 0;
}

static void loop_close(struct loop *l)
{
	terminal_restore();
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->ep >= 0)
		close(l->ep);
}

/* fd is readable: handle it; non-zero to stop the loop. */
static int on_ready(const struct loop *l, int fd, const struct live_options *lo,
		    const struct live_callbacks *cb)
{
	if (fd == l->sfd) {
		struct signalfd_siginfo si;

		if (read(l->sfd, &si, sizeof(si)) != sizeof(si))
			return 0;
		if (si.ssi_signo != SIGWINCH)
			return 1;	/* Ctrl-C, SIGTERM, SIGHUP */
		if (cb->on_resize)
			cb->on_resize(cb->ctx);
	} else if (fd == l->tfd) {
		uint64_t expirations;

		if (read(l->tfd, &expirations, sizeof(expirations)) > 0 && cb->on_tick)
			return cb->on_tick(cb->ctx);
	} else if (fd == lo->events_fd) {
		if (cb->on_events)
			return cb->on_events(cb->ctx);
	} else if (fd == STDIN_FILENO) {
		int stop = 0;
		char key;

		while (read(STDIN_FILENO, &key, 1) == 1)
			if (key == 'q' || key == 'Q')
				stop = 1;
		return stop;
	}
	return 0;
}

int live_run(const struct live_options *lo, const struct live_callbacks *cb)
{
	double end = lo->duration_s > 0 ? now_monotonic() + lo->duration_s : 0;
	struct loop l;
	int stop = 0, ret = 0;

	if (loop_open(&l, lo, cb)) {
		loop_close(&l);
		return -1;
	}
	while (!stop) {
		struct epoll_event evs[4];
		int timeout = -1, n, i;

		if (end) {
			double left = end - now_monotonic();

			if (left <= 0)
				break;
			timeout = (int)(left * 1000) + 1;
		}
		n = epoll_wait(l.ep, evs, 4, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -1;
			break;
		}
		for (i = 0; i < n && !stop; i++)
			stop = on_ready(&l, evs[i].data.fd, lo, cb);
	}
	loop_close(&l);
	return ret;
}
