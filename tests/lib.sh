# SPDX-License-Identifier: GPL-2.0
#
# tests/lib.sh - helpers shared by the tests, host side and guest side.
# Source it: . tests/lib.sh  (from the repository root, or via $LABVM_ROOT
# in the guest).
#
# Results are lines "ok - WHAT" / "not ok - WHAT" (tests/run counts them).

TESTS_FAILED=0

ok() { echo "ok - $*"; }

not_ok() {
	echo "not ok - $*"
	TESTS_FAILED=$((TESTS_FAILED + 1))
}

# check WHAT COMMAND...: one result line from a command's exit status.
check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
	fi
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (expected '$2', got '$3')"
	fi
}

# The exit status of a test script: non-zero if any check failed.
finish() {
	[ "$TESTS_FAILED" -eq 0 ]
}

# ------------------------------------------------------------ host side

# Each test gets its own folder under build/tests/ (output folder, fresh
# backing files), named after the test script; under build/tests-debug/
# for tests/run --debug, whose driver and logs are the debug kernel's.
test_setup() {
	TEST_NAME=$(basename "$0" .sh)
	TEST_DIR=$PWD/${TESTS_DIR:-build/tests}/$TEST_NAME
	rm -rf "$TEST_DIR"
	mkdir -p "$TEST_DIR/out" "$TEST_DIR/disks"
	TEST_OUT=$TEST_DIR/out
}

# build_driver: make the tnvme module (a no-op when it is up to date) and
# check it is there.  tests/run may run VM tests side by side: flock keeps
# two kbuilds out of driver/ at once.
build_driver() {
	mkdir -p build
	flock build/.driver.lock make -C driver -s >"$TEST_DIR/build.log" 2>&1
	check "driver builds (make -C driver)" test -f driver/tnvme.ko
}

# vm_run [LABVM OPTIONS] -- COMMAND...: labvm run with this test's output
# folder and fresh disks; sets VM_RC.
vm_run() {
	tools/labvm run --out "$TEST_OUT" --disk-dir "$TEST_DIR/disks" "$@"
	VM_RC=$?
	return $VM_RC
}

# QEMU processes that belong to this test (found by its output folder).
test_qemu_pids() {
	pgrep -f "qemu-system.*path=$TEST_OUT," 2>/dev/null
}

# qmp SOCKET JSON...: send QMP commands, print the replies.
qmp() {
	local sock=$1
	shift
	{
		echo '{"execute":"qmp_capabilities"}'
		for c in "$@"; do echo "$c"; sleep 0.2; done
		sleep 0.5
	} | socat -t 2 - "UNIX-CONNECT:$sock"
}

# wait_for_file FILE SECONDS
wait_for_file() {
	local i
	for i in $(seq 1 $(($2 * 5))); do
		[ -e "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# No device-side protocol error: QEMU's pci_nvme_err*/pci_nvme_ub* events.
check_device_trace_clean() {
	local trace=$TEST_OUT/device-trace.log n
	if [ ! -s "$trace" ]; then
		not_ok "device-side trace recorded ($trace)"
		return
	fi
	n=$(grep -cE 'pci_nvme_(err|ub)' "$trace")
	if [ "$n" -eq 0 ]; then
		ok "no pci_nvme_err/pci_nvme_ub line in the device-side trace"
	else
		not_ok "$n pci_nvme_err/pci_nvme_ub lines in the device-side trace, e.g. $(grep -m1 -E 'pci_nvme_(err|ub)' "$trace" | cut -c1-160)"
	fi
}
