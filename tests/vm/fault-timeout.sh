#!/usr/bin/env bash
# tnvme, issue 6 item 1: command timeouts.  Two controllers on QEMU's
# null-co backend, where every I/O command takes latency-ns:
#   lab   3.5 s per command, 2 s timeout: the first timeout sends Abort
#         (QEMU answers "not aborted"), the timer restarts, the command
#         completes at 3.5 s - before the second timeout - so the read
#         succeeds with no reset.
#   extra 9 s per command: Abort does not help, the second timeout resets
#         the controller, the request is requeued (max_retries=1), times
#         out again, and the read fails with EIO - logged, never silent.
#         The controller is live again afterwards.
#   lab again, with a poll queue (poll_queues=1) and a polled read
#         (io_uring --hipri): the same Abort, the task's own poll reaps
#         the completion at 3.5 s.
# A timeout is a fault for the device too: the device-side trace may show
# only the Abort and reset events, never a pci_nvme_err/ub line.
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
vm_run --device-trace --timeout 240 \
	--ctrl lab:backend=null,latency-ns=3500000000 \
	--ctrl extra:backend=null,latency-ns=9000000000 \
	-- tests/vm/fault-timeout.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
echo "# fault-timeout: $((SECONDS - start)) s of VM time"
finish
