#!/usr/bin/env bash
# tnvme, issue 13: the PCI events a driver must survive, as the stock
# driver does.  Two VM runs:
#
#  1. Function Level Reset through sysfs (idle, under fio verify, and
#     racing with "nvme reset"), AER (a fatal and a non-fatal error
#     injected with aer_inject at the root port above the controller: QEMU's
#     controller has no AER capability itself), then power-off.  After a
#     reset the next read completes within 1 s and no command waits for a
#     timeout.  Power-off must run tnvme's .shutdown: the device-side trace
#     counts the controller shutdowns (CC.SHN) QEMU saw.
#  2. Suspend to RAM (--s3) with I/O before and after: the host wakes the
#     guest through QMP.
#
# VM time: about 90 s.
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
# link=2.5: AER recovery needs a port the kernel does not wait on for
# Data Link Layer Link Active (tools/labvm --help).
vm_run --device-trace='pci_nvme_err*,pci_nvme_ub*,pci_nvme_mmio_shutdown*' \
	--timeout 300 --ctrl lab:link=2.5 -- tests/vm/pci-events.guest.sh
expect_eq "FLR/AER run: the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
# Shutdowns QEMU saw: the stock driver's as it lets go of the sys
# controller (removed) and of the lab controller (tnvme-bind unbinds it),
# then tnvme's at power-off (FLR, AER and nvme reset disable the
# controller without a shutdown).  Without .shutdown: 2.
n=$(grep -c 'pci_nvme_mmio_shutdown_set' "$TEST_OUT/device-trace.log")
expect_eq "power-off: tnvme shut its controller down (CC.SHN): 3 shutdowns in the device trace, the last one tnvme's .shutdown" 3 "$n"

# --- Suspend to RAM.  The guest writes s3-ready into its output folder
# just before "echo mem"; the host then waits for QMP to say "suspended"
# and wakes it.
S3_OUT=$TEST_DIR/s3
mkdir -p "$S3_OUT"
sock=$TEST_DIR/qmp.sock
(
	wait_for_file "$S3_OUT/s3-ready" 240 || exit 0
	for i in $(seq 1 100); do
		qmp "$sock" '{"execute":"query-status"}' 2>/dev/null |
			grep -q '"status": *"suspended"' && break
		sleep 0.3
	done
	sleep 1
	qmp "$sock" '{"execute":"system_wakeup"}' >/dev/null 2>&1
) &
waker=$!
tools/labvm run --out "$S3_OUT" --disk-dir "$TEST_DIR/disks" --s3 \
	--qmp "$sock" --timeout 300 -- tests/vm/pci-events-s3.guest.sh
rc=$?
kill $waker 2>/dev/null
wait $waker 2>/dev/null
expect_eq "S3 run: the guest half exits 0 with no kernel splat" 0 "$rc"
echo "# pci-events: $((SECONDS - start)) s of VM time"
finish
