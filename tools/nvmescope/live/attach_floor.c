// SPDX-License-Identifier: GPL-2.0
/*
 * attach_floor.c - nvmescope-attach-floor, a benchmark instrument.
 *
 *   nvmescope-attach-floor      (as root, with tnvme loaded)
 *
 * Attaches the empty programs of bpf/attach_floor.bpf.c to the tnvme
 * events "nvmescope top" watches (the seven per-command ones,
 * tnvme_sq_level and tnvme_poll), prints one line when they are attached, and waits for SIGINT or SIGTERM.  tools/bench.d/
 * nvmescope.sh runs fio under it to measure what attaching BPF to these
 * events costs before a program does any work (docs/nvmescope.md,
 * "Overhead").  Exit status: 0 after a signal, 1 if it could not attach.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "attach_floor.skel.h"

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int main(void)
{
	struct attach_floor_bpf *skel;
	sigset_t stop;
	int err, sig;

	libbpf_set_print(silent);
	/* block the signals first, so one that comes early is not lost */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	skel = attach_floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "nvmescope-attach-floor: cannot load the BPF programs: %s\n",
			strerror(errno));
		return 1;
	}
	err = attach_floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "nvmescope-attach-floor: cannot attach: %s (is tnvme loaded?)\n",
			strerror(-err));
		attach_floor_bpf__destroy(skel);
		return 1;
	}
	printf("attached: empty programs on the 9 tnvme events of nvmescope top\n");
	fflush(stdout);
	sigwait(&stop, &sig);
	attach_floor_bpf__destroy(skel);
	return 0;
}
