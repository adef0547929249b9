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
	# Time limits' factor: labvm's (LABVM_DEBUG_SLOWDOWN) when the
	# test runs on the debug kernel (tests/run --debug), else 1.  labvm
	# stretches --timeout itself; a host-side wait uses this.
	case ${KVER:-} in
	*-debug) SLOWDOWN=${LABVM_DEBUG_SLOWDOWN:-6} ;;
	*) SLOWDOWN=1 ;;
	esac
}

# debug_kernel_or_exit: for the tests in tests/debug/: export KVER as the
# debug lab kernel's release (labvm boots it, driver/ builds for it), or
# fail the test with the reason if it is not built.
debug_kernel_or_exit() {
	if ! KVER=$(tools/debug-kernel --release 2>&1); then
		not_ok "the debug kernel is built: $KVER"
		finish
		exit
	fi
	export KVER
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

# ------------------------------------------------------------ guest side

# jqe ARGS...: jq -e, quietly (a check's result is its exit status)
jqe() {
	jq -e "$@" >/dev/null
}

# wait_attached EVENT...: until BPF programs (nvmescope's) are attached to
# all these raw tracepoints; at most 20 s, stretched on the debug kernel.
# Loading and attaching take longer on a slow kernel than any fixed sleep,
# and I/O started before the last attach is half seen.
wait_attached() {
	local i tp missing
	for i in $(seq 1 $((200 * ${LABVM_SLOWDOWN:-1}))); do
		missing=
		for tp in "$@"; do
			bpftool link show 2>/dev/null | grep -q "tp '$tp'" || missing=$tp
		done
		[ -z "$missing" ] && return 0
		sleep 0.1
	done
	return 1
}

# no_programs_left: no nvmescope program is loaded any more.
no_programs_left() {
	! bpftool prog show 2>/dev/null | grep -qE 'name (tnvme_|nvme_setup_cmd|nvme_sq|nvme_complete_rq|irq_handler_e)'
}

# wait_disk_io DISK: until DISK (e.g. tnvme0n1) has completed 64 more
# I/Os than when called, i.e. a workload started in the background is
# really running; at most 60 s, stretched on the debug kernel (where fio
# may take seconds to open the disk).
wait_disk_io() {
	local stat=/sys/block/$1/stat n0 n i
	n0=$(awk '{ print $1 + $5 }' "$stat" 2>/dev/null) || return 1
	for i in $(seq 1 $((300 * ${LABVM_SLOWDOWN:-1}))); do
		n=$(awk '{ print $1 + $5 }' "$stat" 2>/dev/null) || return 1
		[ $((n - n0)) -ge 64 ] && return 0
		sleep 0.2
	done
	return 1
}

# cpu_jobs [pin]: fio job options for a verify run over every I/O queue:
# one job per CPU of the guest, each on its own 16 MiB region, and with
# "pin" on its own CPU (so that each submits on that CPU's queue).
cpu_jobs() {
	local c jobs=
	for c in $(seq 0 $(($(nproc) - 1))); do
		jobs="$jobs --name=cpu$c --offset=$((c * 16))m"
		[ "${1:-}" = pin ] && jobs="$jobs --cpus_allowed=$c"
	done
	echo "$jobs"
}

# fio_terse_ok RC FILE JOBS: fio exited RC, FILE holds its terse (v3)
# output: true if it exited 0, every job has its line and no job had an
# error (field 5).  FIO_ERRORS gets the sum of the jobs' errors.
fio_terse_ok() {
	FIO_ERRORS=$(awk -F';' '{ s += $5 } END { print s + 0 }' "$2")
	[ "$1" -eq 0 ] && [ "$FIO_ERRORS" = 0 ] && [ "$(grep -c '^3;' "$2")" = "$3" ]
}

# resets_while PID: reset controller tnvme0 every 0.5 s for as long as PID
# runs, alternating the passthrough ioctl (nvme reset) and the sysfs
# attribute.  RESETS gets how many, RESETS_FAILED how many of them failed.
resets_while() {
	RESETS=0
	RESETS_FAILED=0
	while kill -0 "$1" 2>/dev/null; do
		if [ $((RESETS % 2)) = 0 ]; then
			nvme reset /dev/tnvme0 >/dev/null 2>&1 || RESETS_FAILED=$((RESETS_FAILED + 1))
		else
			echo 1 >/sys/class/tnvme/tnvme0/reset_controller || RESETS_FAILED=$((RESETS_FAILED + 1))
		fi
		RESETS=$((RESETS + 1))
		sleep 0.5
	done
}

# record_start FILE: "nvmescope record -o FILE" in the background
# (RECORD_PID), and wait until it says its programs are attached (at most
# 30 s); false if it never does.
record_start() {
	rm -f "$1"
	"$LABVM_ROOT/build/bin/nvmescope" record -o "$1" 2>"$1.err" &
	RECORD_PID=$!
	for _ in $(seq 150); do
		grep -q '^# attached' "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
