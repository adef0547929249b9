#!/usr/bin/env bash
# tnvme, issue 6 item 2: controller reset under I/O.  fio crc32c verify
# runs on every CPU while the guest resets the controller again and again,
# alternating the passthrough ioctl (nvme reset) and the sysfs attribute
# (/sys/class/tnvme/tnvme0/reset_controller).  In-flight commands are
# cancelled and requeued; fio must finish with no error and no verify
# failure.  A reset is no fault for the device: the device-side trace
# stays free of pci_nvme_err/ub lines.
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
vm_run --device-trace --timeout 240 -- tests/vm/fault-reset.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
echo "# fault-reset: $((SECONDS - start)) s of VM time"
finish
