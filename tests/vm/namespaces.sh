#!/usr/bin/env bash
# tnvme, issue 13: namespaces come and go like on the stock driver.  One
# controller in an NVMe subsystem with three namespaces (1 GiB/512 B,
# 2 GiB/4 KiB detached at start, 1 GiB/512 B): the guest binds tnvme,
# attaches and detaches namespace 2 (a disk appears and goes, also with a
# file descriptor open on it), rescans, and formats namespace 1 to 4 KiB
# blocks and back (the same disk, new block size); then a second
# controller, u, checks that driver/60-tnvme.rules gives tnvme's disk and
# partition the same /dev/disk/by-id and by-path names the stock driver's
# got from systemd's rules.  Here: every
# Namespace Attribute Changed event QEMU queued was posted, answered by
# reading the Changed Namespace List, and followed by a new Asynchronous
# Event Request, so the next change is reported too.
#
# VM time: about 40 s.
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
vm_run --device-trace='pci_nvme_err*,pci_nvme_ub*,pci_nvme_aer*,pci_nvme_enqueue_event*,pci_nvme_get_log*' \
	--timeout 300 --ctrl lab:namespaces=1G+2G/4096+1G,subsys=on,detached=2 \
	--ctrl u:size=1G \
	-- tests/vm/namespaces.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean

T=$TEST_OUT/device-trace.log
queued=$(grep -c 'pci_nvme_enqueue_event type 0x2 info 0x0 lid 0x4' "$T")
posted=$(grep -c 'pci_nvme_aer_post_cqe type 0x2 info 0x0 lid 0x4' "$T")
logs=$(grep -c 'pci_nvme_get_log .* lid 0x4 ' "$T")
# tnvme's request sits on the admin tag set's reserved tag, 0; the stock
# driver's (sys controller, and the lab one before tnvme-bind) on cid 31.
aers=$(grep -c 'pci_nvme_aer cid 0$' "$T")
echo "# events queued $queued, posted $posted; Changed Namespace List read $logs times; tnvme's AERs $aers"
check "the controller queued Namespace Attribute Changed events (attach, detach: at least 2)" test "$queued" -ge 2
expect_eq "every queued event was posted (an AER was outstanding each time)" "$queued" "$posted"
expect_eq "tnvme read the Changed Namespace List once per event" "$posted" "$logs"
expect_eq "tnvme sent a new AER after each event: one per controller at bind (lab, u) + one per event" "$((posted + 2))" "$aers"
echo "# namespaces: $((SECONDS - start)) s of VM time"
finish
