#!/usr/bin/env bash
# tnvme, issue 6 item 7: the debugfs fault-injection point in the
# completion path (irq.c, tnvme_drop_completion()).
#   Host: the branch compiled only under CONFIG_FAULT_INJECTION_DEBUG_FS
#   builds.  Debian's lab kernel has neither CONFIG_FAULT_INJECTION nor
#   its debugfs part, so we compile irq.c against the same headers with
#   both forced on (-D...) and check the object really calls should_fail()
#   and fault_create_debugfs_attr().  It cannot be linked or loaded here:
#   the lab kernel does not export those functions.
#   Guest: on the lab kernel the hook is compiled out - no
#   /sys/kernel/debug/tnvme - and the module still works.
. tests/lib.sh
test_setup

KVER=$(tools/lab-kver)
KDIR=/lib/modules/$KVER/build
check "lab kernel lacks CONFIG_FAULT_INJECTION_DEBUG_FS (so the hook is compiled out there)" \
	sh -c "! grep -q '^CONFIG_FAULT_INJECTION_DEBUG_FS=y' /boot/config-$KVER"

build_driver
check "the normal build does not reference should_fail" sh -c "! nm driver/irq.o | grep -qw should_fail"

src=$TEST_DIR/src
mkdir -p "$src"
cp driver/*.c driver/*.h driver/Kbuild "$src"/
if make -C "$KDIR" M="$src" \
	KCFLAGS="-DCONFIG_FAULT_INJECTION=1 -DCONFIG_FAULT_INJECTION_DEBUG_FS=1" \
	irq.o >"$TEST_DIR/fault-build.log" 2>&1; then
	ok "irq.c compiles (warnings are errors) with CONFIG_FAULT_INJECTION_DEBUG_FS forced on"
else
	not_ok "irq.c with the fault hook enabled: $(grep -m3 -E 'error|warning' "$TEST_DIR/fault-build.log")"
fi
check "... and then calls should_fail() and fault_create_debugfs_attr()" \
	sh -c "nm '$src/irq.o' | grep -qw should_fail && nm '$src/irq.o' | grep -qw fault_create_debugfs_attr"

start=$SECONDS
vm_run --device-trace --timeout 120 -- sh -c '
	cd "$LABVM_ROOT" && . tests/lib.sh
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	check "insmod, bind" sh -c "insmod driver/tnvme.ko && tools/tnvme-bind >/dev/null"
	check "no /sys/kernel/debug/tnvme on the lab kernel (hook compiled out)" test ! -e /sys/kernel/debug/tnvme
	check "I/O works" dd if=/dev/tnvme0n1 of=/dev/null bs=1M count=4 iflag=direct status=none
	check "unbind, rmmod" sh -c "tools/tnvme-bind --unbind >/dev/null && rmmod tnvme"
	finish'
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
echo "# fault-hooks: $((SECONDS - start)) s of VM time"
finish
