#!/usr/bin/env bash
# The lab VM platform: boot, controllers, stock driver, fio, interrupts,
# exit status, device-side trace, QMP, splat detection, timeout, Ctrl-C,
# and never a QEMU process left behind.
. tests/lib.sh
test_setup

no_qemu_left() {
	sleep 0.5
	if [ -n "$(test_qemu_pids)" ]; then
		not_ok "no QEMU left after $1 (found: $(test_qemu_pids | tr '\n' ' '))"
		pkill -9 -f "qemu-system.*path=$TEST_OUT," 2>/dev/null
	else
		ok "no QEMU left after $1"
	fi
}

# 1. The main boot: guest-side checks, device-side trace, QMP.
qmp_sock=$TEST_DIR/qmp.sock
vm_run --device-trace --qmp "$qmp_sock" --timeout 300 -- tests/vm/platform.guest.sh \
	2> >(tee "$TEST_DIR/main.err" >&2) &
vm_pid=$!
if wait_for_file "$TEST_OUT/guest-ready" 200; then
	reply=$(qmp "$qmp_sock" '{"execute":"query-status"}' '{"execute":"query-pci"}')
	if echo "$reply" | grep -q '"status": *"running"'; then
		ok "QMP answers query-status: running"
	else
		not_ok "QMP query-status: $(echo "$reply" | head -c 300)"
	fi
	n=$(echo "$reply" | grep -o '"class": *264' | wc -l)
	expect_eq "QMP query-pci lists two NVMe controllers (class 0x0108)" 2 "$n"
else
	not_ok "the guest never signalled that it was ready"
fi
touch "$TEST_OUT/host-done"
wait $vm_pid
expect_eq "the main test guest exits 0 with no kernel splat" 0 $?
n=$(grep -c 'pci_nvme_' "$TEST_OUT/device-trace.log" 2>/dev/null)
if [ "${n:-0}" -gt 1000 ] && grep -qE '^[0-9]+@[0-9]+\.[0-9]{6}:pci_nvme_io_cmd ' "$TEST_OUT/device-trace.log"; then
	ok "the device-side trace has $n timestamped pci_nvme_ lines"
else
	not_ok "the device-side trace has ${n:-no} pci_nvme_ lines ($TEST_OUT/device-trace.log)"
fi
check_device_trace_clean
no_qemu_left "the main run"

# The kernel image: labvm names the one it boots, the guest (platform.guest.sh)
# recorded how it was entered, and a lab kernel built with CONFIG_PVH boots
# as the PVH vmlinux (no decompressor to run under emulation).
said=$(sed -n 's/^labvm: booting [^,]*, \(PVH vmlinux\|bzImage\) .*/\1/p' "$TEST_DIR/main.err")
entered=$(cat "$TEST_OUT/kernel-entry" 2>/dev/null)
expect_eq "the guest was entered the way labvm says it booted ('$said')" \
	"${said% vmlinux}" "$entered"
if grep -q '^CONFIG_PVH=y' "/boot/config-$(tools/lab-kver)"; then
	if [ "$said" = "PVH vmlinux" ]; then
		ok "labvm boots the lab kernel (CONFIG_PVH=y) as a PVH vmlinux"
	else
		not_ok "labvm boots the lab kernel (CONFIG_PVH=y) as '$said': $(grep -m1 'not a PVH vmlinux' "$TEST_DIR/main.err")"
	fi
fi

# 2. The guest's exit status reaches the host.
vm_run -q -- sh -c 'exit 7'
expect_eq "labvm run -- sh -c 'exit 7' exits 7" 7 "$VM_RC"

# 3. A kernel splat in dmesg fails the run.
vm_run -q -- sh -c 'echo "WARNING: CPU: 0 PID: 1 at labvm-test: pretend splat" >/dev/kmsg' 2>"$TEST_DIR/splat.err"
expect_eq "a WARNING in the guest's dmesg makes labvm exit 123" 123 "$VM_RC"
check "labvm names the splat line" grep -q 'pretend splat' "$TEST_DIR/splat.err"

# 4. The timeout kills the guest.
vm_run -q --timeout 25 -- sleep 600 2>"$TEST_DIR/timeout.err"
expect_eq "an expired --timeout makes labvm exit 124" 124 "$VM_RC"
check "labvm says the timeout expired" grep -q 'timeout' "$TEST_DIR/timeout.err"
no_qemu_left "a timeout"

# 5. Ctrl-C (SIGINT) stops the guest.  Background jobs of a script ignore
# SIGINT, so give labvm the default disposition back.
rm -f "$TEST_OUT/sleeping"
env --default-signal=INT tools/labvm run -q --out "$TEST_OUT" --disk-dir "$TEST_DIR/disks" \
	-- sh -c 'touch $LABVM_OUT/sleeping; sleep 600' 2>"$TEST_DIR/sigint.err" &
vm_pid=$!
if wait_for_file "$TEST_OUT/sleeping" 200; then
	kill -INT $vm_pid
	wait $vm_pid
	expect_eq "SIGINT makes labvm exit 130" 130 $?
else
	not_ok "the SIGINT test guest never started its command"
	kill -INT $vm_pid
	wait $vm_pid
fi
no_qemu_left "SIGINT"
# 6. A project below a path the guest covers with tmpfs (a clone in /tmp)
# stays visible at the same path, and so does an output folder there.
tmp_project=$(mktemp -d /tmp/labvm-test.XXXXXX)
cp -r tools "$tmp_project/"
out=$(cd "$tmp_project" && tools/labvm run -q --out "$tmp_project/out" --disk-dir "$TEST_DIR/disks" \
	-- sh -c 'pwd; test -x tools/labvm && echo project-visible; echo written >$LABVM_OUT/probe' 2>&1)
expect_eq "a project in /tmp is visible in the guest at the same path" \
	"$tmp_project project-visible" "$(echo $out)"
expect_eq "an output folder in /tmp is written through" written "$(cat "$tmp_project/out/probe" 2>/dev/null)"
rm -rf "$tmp_project"
finish
