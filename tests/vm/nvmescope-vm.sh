#!/usr/bin/env bash
# nvmescope in the lab VM: argument order and the stock driver's CO-RE reads
# against tracefs, exact counts against fio and /proc/interrupts (skipped
# runs included), one traced read in causal order, and bad input.  One boot; the checks run in the guest.
. tests/lib.sh
test_setup
if [ ! -x build/bin/nvmescope ]; then
	not_ok "build/bin/nvmescope is built (run make)"
	finish
	exit
fi
vm_run -q --timeout 400 -- tests/vm/nvmescope-vm.guest.sh
rc=$VM_RC
expect_eq "the nvmescope guest script exits 0 with no kernel splat" 0 "$rc"
finish
