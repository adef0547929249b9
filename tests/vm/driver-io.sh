#!/usr/bin/env bash
# tnvme, issue 3: the I/O path.  fio crc32c verify on every queue with
# block sizes 512 B - 1 MiB, unaligned buffers, 4 MiB transfers whose PRP
# lists chain across pages (MDTS raised to 10), discard and write zeroes,
# ext4 + fsck, per-queue interrupts, every tracepoint with sane fields -
# and on the device side, no pci_nvme_err/ub line.
. tests/lib.sh
test_setup

build_driver

vm_run --device-trace --mdts 10 --timeout 400 -- tests/vm/driver-io.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
finish
