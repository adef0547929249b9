#!/usr/bin/env bash
# tnvme, issue 18: I/O submission queues in the Controller Memory Buffer.
# One boot, the lab controller with a 16 MiB CMB (labvm --ctrl lab:cmb=16)
# and QEMU's device trace:
#   - tnvme finds the CMB (BAR 2), puts every I/O SQ there, the admin SQ
#     in host memory, and tnvme_sq_write says so (sq=cmb / sq=host);
#   - fio crc32c verify, 512 B - 1 MiB, one job per CPU, on rings that
#     wrap (io_depth=32), with shadow doorbells (the default);
#   - fio verify across 10+ controller resets;
#   - nvmescope top shows "cmb" per queue; nvmescope record under fio
#     with shadow_doorbells=0 joins with the device's trace (merge) and
#     draws (timeline), on the host;
#   - use_cmb_sqes=0 puts the SQs back in host memory;
#   - no pci_nvme_err/ub line in the device-side trace.
# Then a second boot with a 1 GiB CMB, which the firmware places above
# 4 GiB: CMBMSC.CBA's high half matters, fio verify and a reset pass.
. tests/lib.sh
test_setup

build_driver
if [ ! -x build/bin/nvmescope ]; then
	not_ok "build/bin/nvmescope is built (run make)"
	finish
	exit
fi

vm_run --device-trace --ctrl lab:cmb=16 --mdts 10 --timeout 400 -- tests/vm/driver-cmb.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean

# The device view still joins when the SQ lives in the controller.
HOST=$TEST_OUT/host-trace.log
DEV=$TEST_OUT/device-trace.log
if [ -s "$HOST" ] && [ -s "$DEV" ]; then
	M=$TEST_DIR/merge.json
	build/bin/nvmescope merge --json "$HOST" "$DEV" >"$M" 2>"$TEST_DIR/merge.err"
	expect_eq "nvmescope merge of the CMB run exits 0" 0 $?
	check "merge joins >= 99 % of the commands recorded with CMB SQs ($(tail -n 1 "$M" | jq -c '[.joined, .guest_commands]'))" \
		sh -c "tail -n 1 '$M' | jq -e '.report == \"merge\" and .join_rate >= 0.99 and .guest_commands > 100' >/dev/null"
	check "merge: every queue's SQ was in the controller memory buffer (sq_mem \"cmb\")" \
		sh -c "tail -n 1 '$M' | jq -e '[.queues[] | select(.joined > 0) | .sq_mem] | length > 0 and all(. == \"cmb\")' >/dev/null"
	build/bin/nvmescope timeline --svg "$TEST_DIR/timeline.svg" -n 20 "$HOST" "$DEV" 2>"$TEST_DIR/timeline.err"
	expect_eq "nvmescope timeline of the CMB run exits 0" 0 $?
	check "the timeline is an SVG with 20 commands" \
		sh -c "grep -q '</svg>' '$TEST_DIR/timeline.svg' && [ \$(grep -c '>cid [0-9]' '$TEST_DIR/timeline.svg') -eq 20 ]"
else
	not_ok "the guest recorded a host trace and QEMU a device trace"
fi

# A CMB above 4 GiB.
vm_run --device-trace --ctrl lab:cmb=1024 --timeout 300 -- bash -c '
	cd "$LABVM_ROOT" && . tests/lib.sh
	check "cmb=1024: BAR 2 is above 4 GiB" \
		sh -c "lspci -vv -s $LABVM_LAB_PCI | grep -qE \"Region 2: Memory at [0-9a-f]{9,} .*\\[size=1G\\]\""
	tools/tnvme-bind >/dev/null || { not_ok "tnvme-bind"; exit 1; }
	check "cmb=1024: every I/O SQ in the CMB" \
		sh -c "dmesg | grep -qE \"tnvme0: ([0-9]+) of \\1 I/O SQs in the CMB\""
	check "cmb=1024: fio crc32c verify" fio --name=v --filename=/dev/tnvme0n1 --direct=1 \
		--ioengine=libaio --rw=randwrite --bs=4k --size=16m --iodepth=16 --numjobs=2 \
		--offset_increment=16m --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
		--eta=never --output=/dev/null
	check "cmb=1024: a reset, then a read" sh -c "nvme reset /dev/tnvme0 && \
		dd if=/dev/tnvme0n1 of=/dev/null bs=1M count=4 iflag=direct status=none"
	tools/tnvme-bind --unbind >/dev/null && rmmod tnvme
	finish'
expect_eq "the CMB-above-4-GiB guest exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
finish
