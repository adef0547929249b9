// SPDX-License-Identifier: GPL-2.0
/*
 * iopoll-stall DISK SECONDS: one polled read that nobody polls for.
 *
 * Sets up an io_uring with IORING_SETUP_IOPOLL (completions are reaped
 * only by polling: on tnvme and the stock driver, by blk-mq's ->poll on a
 * poll queue), submits one 4 KiB O_DIRECT read of DISK's first block,
 * then sleeps SECONDS without asking for completions, so nothing polls
 * that queue.  The controller posts its CQE at once, but no interrupt
 * tells anyone: only the driver's timeout handler, which polls the CQ
 * before it aborts anything, can find it.  Then the program asks for
 * the completion and prints
 *
 *   iopoll-stall: res=4096 after 4.0 s
 *
 * exiting 0 only if the read returned the 4096 bytes it asked for.
 * Raw system calls (no liburing), so the test needs only a C compiler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static void die(const char *what)
{
	fprintf(stderr, "iopoll-stall: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct io_uring_params p = { .flags = IORING_SETUP_IOPOLL };
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
	unsigned int *sq_tail, *sq_array, *cq_head, *cq_tail;
	char *sq_ring, *cq_ring, *end;
	void *buf;
	double start;
	long secs;
	int ring, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: iopoll-stall DISK SECONDS\n");
		return 2;
	}
	secs = strtol(argv[2], &end, 10);
	if (*end || secs < 0) {
		fprintf(stderr, "iopoll-stall: '%s' is not a number of seconds\n", argv[2]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0)
		die(argv[1]);
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		die("io_uring_setup(IORING_SETUP_IOPOLL)");

	/* The three shared areas: SQ ring, CQ ring, SQ entries (io_uring(7)). */
	sq_ring = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned int),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		       IORING_OFF_SQ_RING);
	cq_ring = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(*cqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		       IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq_ring == MAP_FAILED || cq_ring == MAP_FAILED || sqes == MAP_FAILED)
		die("mmap of the io_uring rings");
	sq_tail = (unsigned int *)(sq_ring + p.sq_off.tail);
	sq_array = (unsigned int *)(sq_ring + p.sq_off.array);
	cq_head = (unsigned int *)(cq_ring + p.cq_off.head);
	cq_tail = (unsigned int *)(cq_ring + p.cq_off.tail);

	if (posix_memalign(&buf, BLOCK, BLOCK))
		die("posix_memalign");

	/* One read of block 0 in SQ slot 0. */
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_READ;
	sqes[0].fd = fd;
	sqes[0].addr = (unsigned long)buf;
	sqes[0].len = BLOCK;
	sqes[0].off = 0;
	sq_array[*sq_tail & *(unsigned int *)(sq_ring + p.sq_off.ring_mask)] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);

	/* Submit, but do not wait: no GETEVENTS, so nothing polls. */
	start = now();
	if (syscall(__NR_io_uring_enter, ring, 1, 0, 0, NULL, 0) != 1)
		die("io_uring_enter (submit)");
	sleep(secs);

	/* Now reap: polls the queue (if the timeout handler has not). */
	if (syscall(__NR_io_uring_enter, ring, 0, 1, IORING_ENTER_GETEVENTS,
		    NULL, 0) < 0)
		die("io_uring_enter (wait for the completion)");
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
		fprintf(stderr, "iopoll-stall: no completion\n");
		return 1;
	}
	cqe = (struct io_uring_cqe *)(cq_ring + p.cq_off.cqes) +
	      (*cq_head & *(unsigned int *)(cq_ring + p.cq_off.ring_mask));
	printf("iopoll-stall: res=%d after %.1f s\n", cqe->res, now() - start);
	return cqe->res == BLOCK ? 0 : 1;
}
