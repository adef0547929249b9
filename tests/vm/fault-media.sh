#!/usr/bin/env bash
# tnvme, issue 6 item 4: media errors.  QEMU's blkdebug fails accesses to
# one sector with EIO, which QEMU's NVMe model reports as Unrecovered Read
# Error (SCT 2h / SC 81h) on lab, or Write Fault (SCT 2h / SC 80h) on extra.
# tnvme must map both to BLK_STS_MEDIUM (user space sees ENODATA), not
# retry them, log each failed request once with opcode, LBA and blocks,
# rate-limit that log, and keep the rest of the disk working.  On the
# device side the only error events are the injected ones (pci_nvme_err_aio).
. tests/lib.sh
test_setup

build_driver

start=$SECONDS
vm_run --device-trace --timeout 200 \
	--ctrl lab:inject-error=read,inject-sector=2048 \
	--ctrl extra:inject-error=write,inject-sector=4096,size=64M \
	-- tests/vm/fault-media.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
trace=$TEST_OUT/device-trace.log
n_err=$(grep -cE 'pci_nvme_(err|ub)' "$trace")
n_aio=$(grep -c 'pci_nvme_err_aio' "$trace")
n_st=$(grep -c 'pci_nvme_err_req_status' "$trace")
# Each injected EIO gives one pci_nvme_err_aio (the backend failed) and
# one pci_nvme_err_req_status (the status posted for it); nothing else.
check "device side: $n_err error events, all of them the injected pci_nvme_err_aio + its err_req_status" \
	test "$n_err" -gt 0 -a "$n_aio" = "$n_st" -a "$n_err" = $((n_aio + n_st))
echo "# fault-media: $((SECONDS - start)) s of VM time"
finish
