# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tools/lab.d/check-lib.sh - what every exercise checker shares.
#
# An exercise checker is labs/NN-topic/tests/check.sh.  "tools/lab check NN"
# builds the student's tree (never the reference), boots the lab VM and runs
# the checker there, as root, from the project folder, with:
#   $TNVME_KO     the student's tnvme.ko (tnvme-bind loads it)
#   $NVMESCOPE    the student's nvmescope (built when the checker's header
#                 says "# lab-check: nvmescope")
#   $LAB_OUT      a folder for the checker's files (also seen by the host)
# Header lines the host reads before it boots:
#   # labvm: ARGS...        extra "tools/labvm run" options (--smp, --ctrl...)
#   # lab-check: nvmescope  build the student's nvmescope too
#
# The checker prints one "ok - WHAT" or "not ok - WHAT" line per check, and
# after a failure "#   " lines that tell the student what is wrong and
# where to look: the symptom seen, what causes it, the spec section.  Order
# the checks from the most basic to the finest, and stop (give_up) when the
# rest cannot mean anything.  After the VM, the host adds checks of its own:
# no protocol error in the controller's trace (pci_nvme_err_*, pci_nvme_ub_*)
# and no kernel splat.

CHECK_N=0
CHECK_FAILED=0

ok() {
	CHECK_N=$((CHECK_N + 1))
	echo "ok - $1"
}

# not_ok WHAT [HINT...]: each HINT becomes one "#   " line.
not_ok() {
	local what=$1 line
	shift
	CHECK_N=$((CHECK_N + 1))
	CHECK_FAILED=$((CHECK_FAILED + 1))
	echo "not ok - $what"
	for line in "$@"; do
		echo "#   $line"
	done
}

# check_done: the summary line; the exit status says whether all passed.
check_done() {
	echo "# $CHECK_N checks, $CHECK_FAILED failed"
	[ "$CHECK_FAILED" -eq 0 ] || exit 1
	exit 0
}

# give_up WHAT [HINT...]: a failure after which nothing else can be checked.
give_up() {
	not_ok "$@"
	unbind_student
	check_done
}

# bind_student [NAME=VALUE...]: load the student's module with these
# parameters and bind the lab controller to it.
bind_student() {
	local out
	if out=$(timeout 90 tnvme-bind "$@" 2>&1); then
		ok "your tnvme.ko loads and binds the lab controller${*:+ ($*)}"
		return 0
	fi
	give_up "your tnvme.ko loads and binds the lab controller${*:+ ($*)}" \
		"tnvme-bind said: $(tail -n 1 <<<"$out")" \
		"the driver's own messages: $(dmesg | grep -E 'tnvme' | tail -n 3 | tr '\n' '|')" \
		"if an admin command timed out, the controller never saw or never completed it"
}

# unbind_student: give the controller back and unload the module (bounded:
# a broken driver must not hang the checker).
unbind_student() {
	timeout 60 tnvme-bind --unbind >/dev/null 2>&1 || true
	timeout 30 rmmod tnvme >/dev/null 2>&1 || true
}

# io_ok SECONDS CMD...: run CMD with a time limit; fails if it did not finish
# (a command the controller never fetched, or never completed) or failed.
io_ok() {
	local limit=$1
	shift
	timeout -k 5 "$limit" "$@" >"$LAB_OUT/io.out" 2>&1
}

# Tracing: tnvme's events into the ftrace ring buffer.
TRACEFS=/sys/kernel/tracing

# trace_start EVENT...: clear the buffer, enable these tnvme events only.
trace_start() {
	local ev
	echo 0 >"$TRACEFS/tracing_on"
	echo 0 >"$TRACEFS/events/enable"
	echo 16384 >"$TRACEFS/buffer_size_kb"
	echo >"$TRACEFS/trace"
	for ev in "$@"; do
		echo 1 >"$TRACEFS/events/tnvme/$ev/enable" || return 1
	done
	echo 1 >"$TRACEFS/tracing_on"
}

# trace_stop FILE: stop, save the buffer as FILE, say if events were lost.
trace_stop() {
	echo 0 >"$TRACEFS/tracing_on"
	cat "$TRACEFS/trace" >"$1"
	echo 0 >"$TRACEFS/events/enable"
	if grep -q 'LOST' "$1" || [ "$(cat "$TRACEFS/per_cpu/cpu0/stats" | awk '$1 == "overrun:" { print $2 }')" != 0 ]; then
		echo "# (the trace lost events: the ring buffer overran)"
	fi
}

# field NAME: print the value of NAME=... from each trace line on stdin.
field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p"
}
