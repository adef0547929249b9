#!/usr/bin/env bash
# tnvme, issue 6 item 3: hot-unplug and unbind under I/O.
#   1. fio runs on tnvme0n1 and a process holds /dev/tnvme0 open; the host
#      sends QMP device_del for the lab controller.  fio ends (with I/O
#      errors), the gendisk goes, the held char device answers ENODEV and
#      closes cleanly, and the module unloads.
#   2. QMP device_add puts the controller back; tnvme probes it again and
#      fio verify passes on it.
#   3. unbind through sysfs, idle, then while fio runs: same promises.
#   Each removal (tnvme_remove(), timed with kprobes) returns within 2 s,
#   with no timeout message (issue 13).
# Only the first part injects a fault (the device disappears); QEMU may log
# nothing unexpected for it either: the device-side trace stays clean.
. tests/lib.sh
test_setup
sock=$TEST_DIR/qmp.sock

build_driver

start=$SECONDS
vm_run --device-trace --qmp "$sock" --timeout 240 \
	-- tests/vm/fault-unplug.guest.sh &
vm_pid=$!
if wait_for_file "$TEST_OUT/unplug-now" $((150 * SLOWDOWN)); then
	reply=$(qmp "$sock" '{"execute":"device_del","arguments":{"id":"lab"}}')
	check "QMP device_del lab accepted" sh -c "echo '$reply' | grep -q '\"return\": *{}'"
	touch "$TEST_OUT/unplug-sent"
else
	not_ok "the guest never asked for the unplug"
fi
if wait_for_file "$TEST_OUT/replug-now" $((150 * SLOWDOWN)); then
	reply=$(qmp "$sock" '{"execute":"device_add","arguments":{"driver":"nvme","id":"lab","bus":"rp2","serial":"tnvme-lab","drive":"drv-lab","max_ioqpairs":64,"msix_qsize":65,"mdts":7}}')
	check "QMP device_add lab accepted" sh -c "echo '$reply' | grep -q '\"return\": *{}'"
	touch "$TEST_OUT/replug-sent"
else
	not_ok "the guest never asked for the re-add"
fi
wait $vm_pid
expect_eq "the guest half exits 0 with no kernel splat" 0 $?
check_device_trace_clean
echo "# fault-unplug: $((SECONDS - start)) s of VM time"
finish
