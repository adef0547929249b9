#!/usr/bin/env bash
# nvmescope and poll queues (issue 14): tnvme bound with poll_queues=2 on
# the 4-CPU guest (interrupt queues 1-4, poll queues 5-6).  While polled
# (fio io_uring --hipri) and interrupt-driven fio run side by side,
# nvmescope top --json must count every poll, empty poll, CQE seen and
# CQE reaped of the poll queues exactly as ftrace's tnvme_poll/tnvme_cqe/
# tnvme_cq_doorbell records do, and their completions as fio's polled
# I/Os; the interrupt queues keep their interrupt counts (= the
# /proc/interrupts deltas) and irq keys.  The queue types in top, lat,
# irq and trace; the irq report's note instead of a mismatch; and the
# stock driver with nvme.poll_queues=2, whose polls are unknown (null),
# never 0.  One boot; the checks run in the guest.
#
# VM time: about 2 minutes under TCG.
. tests/lib.sh
test_setup
if [ ! -x build/bin/nvmescope ]; then
	not_ok "build/bin/nvmescope is built (run make)"
	finish
	exit
fi
build_driver
vm_run -q --timeout 500 -- tests/vm/nvmescope-poll.guest.sh
expect_eq "the nvmescope-poll guest script exits 0 with no kernel splat" 0 "$VM_RC"
finish
