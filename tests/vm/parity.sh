#!/usr/bin/env bash
# tnvme behaves like the stock nvme driver to every user tool: two extra,
# identical controllers with a 6 GiB namespace, "pa" left to nvme and "pb"
# bound to tnvme; the guest half runs the same battery on both (sysfs
# queue limits, identity attributes, lsblk, nvme-cli, write / write zeroes
# / discard round trips past 4 GiB, reset and remove timings, dmesg) and
# prints every difference as "DIFF <what>: stock=<v> tnvme=<v>".  Any
# difference not in the allow-list of tests/vm/parity.guest.sh fails.
# Here: the device-side view (no pci_nvme_err/ub line; no DSM range that
# QEMU skipped for being longer than its DMRSL), and a summary.
#
#   tests/run vm/parity
#   PARITY_SELF=1 tests/vm/parity.sh    A/A run of the harness: both
#                                       controllers on the stock driver,
#                                       must pass (no difference)
#   TNVME_KO=/path/tnvme.ko tests/vm/parity.sh
#                                       test that build of the module
#                                       instead of building driver/
#   PARITY_RECOVER_WAIT=S               how long a timing step waits for a
#                                       stuck disk (default 10 s)
# VM time: about 3 minutes (measured: 156-171 s for PARITY_SELF=1, 190-225 s
# with the driver of commit da6457b, whose reset steps fail after 10 s each).
. tests/lib.sh
test_setup

env_args=()
if [ "${PARITY_SELF:-0}" = 1 ]; then
	env_args+=(--env PARITY_SELF=1)
elif [ -n "${TNVME_KO:-}" ]; then
	# (the guest has its own tmpfs on /tmp, /root, /var/tmp, /mnt: a
	# module there is not the host's)
	check "TNVME_KO=$TNVME_KO exists and the guest sees the same file" \
		sh -c 'test -f "$1" && case $1 in /tmp/*|/root/*|/var/tmp/*|/mnt/*) false ;; esac' - "$TNVME_KO"
else
	build_driver
fi
[ -n "${PARITY_RECOVER_WAIT:-}" ] && env_args+=(--env "PARITY_RECOVER_WAIT=$PARITY_RECOVER_WAIT")

# Only the events this test looks at: tracing every command slows QEMU's
# controller down, and the timing steps measure it.
start=$SECONDS
vm_run --device-trace=pci_nvme_err*,pci_nvme_ub*,pci_nvme_dsm* --timeout 600 \
	--ctrl pa:size=6G --ctrl pb:size=6G "${env_args[@]}" \
	-- tests/vm/parity.guest.sh
expect_eq "the guest half exits 0 with no kernel splat" 0 "$VM_RC"
check_device_trace_clean
n=$(grep -c pci_nvme_dsm_single_range_limit_exceeded "$TEST_OUT/device-trace.log" 2>/dev/null)
expect_eq "no pci_nvme_dsm_single_range_limit_exceeded in the device-side trace (a discard range longer than DMRSL, which QEMU skips)" 0 "${n:-0}"

echo "# parity: differences found (allowed or not; reasons in tests/vm/parity.guest.sh):"
if [ -s "$TEST_OUT/parity-diffs.txt" ]; then
	sed 's/^/#   /' "$TEST_OUT/parity-diffs.txt"
else
	echo "#   none"
fi
echo "# parity: $((SECONDS - start)) s of VM time"
finish
