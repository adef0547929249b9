#!/usr/bin/env bash
# tnvme, issue 6 item 5: cycles.  100 module load/unload cycles (no free
# controller: tnvme binds nothing), then 20 bind/unbind cycles of the lab
# controller with a little I/O each time; memory (MemFree, unreclaimable
# slab, the slab caches a bound controller allocates from) must come back
# to where it was.  No fault is injected: the device-side trace is clean.
# tests/run: start first (about 3-4 minutes under TCG)
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
vm_run --device-trace --timeout 300 -- tests/vm/fault-cycles.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
echo "# fault-cycles: $((SECONDS - start)) s of VM time"
finish
