#!/usr/bin/env bash
# tnvme, issue 3: load/unload, module parameters, bind/unbind, Identify
# values against the QEMU configuration, /dev/tnvme0 and nvme-cli,
# malformed passthrough requests, reset.  The guest half does the checks;
# here we add the device-side view: no pci_nvme_err/ub line.
. tests/lib.sh
test_setup

build_driver

vm_run --device-trace --timeout 300 -- tests/vm/driver-basic.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
finish
