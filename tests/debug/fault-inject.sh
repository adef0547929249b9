#!/usr/bin/env bash
# tnvme, issue 15 item 4: the fault-injection points of the completion
# path, run for real.  Only the debug lab kernel (make debug-kernel) has
# CONFIG_FAULT_INJECTION_DEBUG_FS and CONFIG_FAIL_IO_TIMEOUT, so this test
# is part of "make check-debug", not "make check".  Three rounds, each
# losing exactly one completion while fio writes and verifies:
#   tnvme-first   tnvme's own attribute, /sys/kernel/debug/tnvme/
#                 fail_completion (tnvme_drop_completion()): the next CQE
#   tnvme-50th    the same attribute with interval 50: the 50th CQE
#   block-layer   the block layer's, /sys/block/<disk>/io-timeout-fail and
#                 /sys/kernel/debug/fail_io_timeout (blk_should_fake_timeout())
# Each lost completion must take the path the timeout handler promises:
# the timeout polls the CQ and finds nothing (the entry was consumed),
# sends an Abort (the controller answers "not aborted": the command is
# done), times out again and resets; the request is requeued and sent
# again, fio's verify stays clean, and nvmescope top counts the one
# completion it never saw (lost.completions_missed).
#
# VM time: a few minutes (the debug kernel is slow under TCG).
. tests/lib.sh
test_setup

debug_kernel_or_exit
build_driver

start=$SECONDS
vm_run --kernel debug --device-trace --timeout 1200 -- tests/debug/fault-inject.guest.sh
expect_eq "the guest half exits 0 with no kernel splat or detector report" 0 "$VM_RC"
check_device_trace_clean
echo "# fault-inject: $((SECONDS - start)) s of VM time"
finish
