#!/usr/bin/env bash
# tnvme, issue 14: poll queues.  tnvme bound with poll_queues=2 on a 4-CPU
# guest: 4 interrupt-driven queues + 2 poll queues (HCTX_TYPE_POLL, CQs
# created with IEN = 0, no MSI-X vector, no handler).  The guest checks
# the queue types and io_poll, runs fio with io_uring --hipri (polled)
# and without, write+verify at mixed sizes, the blktests block/007
# pattern (io_poll_delay=-1, then 0; pvsync2 --hipri is not polled on 6.1), a
# polled read nobody polls for (the timeout handler must find it by
# polling, with no Abort), and a controller reset and an unbind during
# polled I/O; the tnvme_poll trace
# event must account for every CQE of the poll queues, and no interrupt
# may fire for them.  Then the same without poll_queues: no poll queue,
# io_poll 0, --hipri I/O goes through interrupts.
#
# VM time: about 60 s.
. tests/lib.sh
test_setup

build_driver
# The guest runs this one polled read that nobody polls for.
check "build tests/vm/iopoll-stall.c" \
	gcc -O2 -Wall -Wextra -Werror -o "$TEST_OUT/iopoll-stall" tests/vm/iopoll-stall.c

start=$SECONDS
vm_run --device-trace='pci_nvme_err*,pci_nvme_ub*,pci_nvme_create_cq*' \
	--timeout 400 -- tests/vm/poll-queues.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
# QEMU's view of the CQs created: the poll queues' have ien=0.
T=$TEST_OUT/device-trace.log
echo "# device: create_cq lines with ien=0: $(grep -c 'pci_nvme_create_cq.*ien=0' "$T"), with ien=1: $(grep -c 'pci_nvme_create_cq.*ien=1' "$T")"
check "the controller saw I/O CQs created with interrupts disabled (IEN=0)" \
	grep -q 'pci_nvme_create_cq.*ien=0' "$T"
echo "# poll-queues: $((SECONDS - start)) s of VM time"
finish
