#!/usr/bin/env bash
# tnvme, issue 6 item 6: toggling PCI bus mastering during I/O.  With bus
# mastering off the controller cannot DMA: QEMU's model fails the next SQ
# fetch and sets CSTS.CFS.  Commands time out (io_timeout=3); the timeout
# handler sees CFS and resets; the reset turns bus mastering back on; the
# cancelled requests are requeued; fio verify must pass.  The device-side
# trace may show only the injected failure (DMA read errors, CFS).
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
vm_run --device-trace --timeout 200 -- tests/vm/fault-busmaster.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
trace=$TEST_OUT/device-trace.log
other=$(grep -E 'pci_nvme_(err|ub)' "$trace" | grep -v -E 'pci_nvme_err_(addr_read|addr_write|cfs|aio|req_status)' | head -3)
check "device side: no error event beyond the injected DMA failure: ${other:-none}" test -z "$other"
echo "# fault-busmaster: $((SECONDS - start)) s of VM time"
finish
