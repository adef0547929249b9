#!/usr/bin/env bash
# tnvme, issue 6 item 6: block-layer test patterns that apply to any
# block device, run against tnvme0n1: switching I/O schedulers during I/O,
# CPU hotplug during I/O, large discards, flush storms.  fio verifies the
# data throughout.  No fault is injected: the device-side trace is clean.
# (Toggling PCI bus mastering, also item 6, injects a fault and lives in
# fault-busmaster.sh.)
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
vm_run --device-trace --timeout 300 -- tests/vm/fault-peer.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
echo "# fault-peer: $((SECONDS - start)) s of VM time"
finish
