#!/usr/bin/env bash
# Guest half of tests/vm/platform.sh: the lab VM as the labs expect it.
. "$LABVM_ROOT/tests/lib.sh"

n=$(lspci -n | grep -c ' 0108: ')
expect_eq "the guest sees two NVMe controllers" 2 "$n"
drv=$(basename "$(readlink "/sys/bus/pci/devices/$LABVM_SYS_PCI/driver")")
expect_eq "the sys controller ($LABVM_SYS_PCI) is bound to the stock nvme driver" nvme "$drv"
expect_eq "the sys controller is nvme0" "tnvme-sys" "$(tr -d ' ' </sys/class/nvme/nvme0/serial)"
expect_eq "the lab controller is nvme1" "tnvme-lab" "$(tr -d ' ' </sys/class/nvme/nvme1/serial)"
# under TCG (the only accelerator that works here) labvm picks the ACPI PM
# timer: the HPET's shared reads give stale timestamps (tools/labvm)
if grep -q '^flags.* hypervisor' /proc/cpuinfo && ! grep -q kvm-clock /sys/devices/system/clocksource/clocksource0/available_clocksource; then
	expect_eq "the guest clock is the ACPI PM timer" acpi_pm \
		"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
fi

# How the kernel was entered, for tests/vm/platform.sh to compare with what
# labvm said it booted: a bzImage boot leaves the image's own boot protocol
# version in boot_params, while the kernel's PVH entry point fills in 2.12
# itself (arch/x86/platform/pvh/enlighten.c).
bp_version=$(cat /sys/kernel/boot_params/version)
bz_version=$(printf '0x%04x' "$(od -An -t u2 --endian=little -j $((0x206)) -N 2 "/boot/vmlinuz-$(uname -r)" | tr -d ' ')")
if [ "$bp_version" = "$bz_version" ]; then
	echo bzImage >"$LABVM_OUT/kernel-entry"
elif [ "$bp_version" = 0x020c ]; then
	echo PVH >"$LABVM_OUT/kernel-entry"
else
	echo "unknown (boot protocol $bp_version, the bzImage's is $bz_version)" >"$LABVM_OUT/kernel-entry"
fi

io_irqs() { awk '$NF ~ /^nvme0q[1-9]/ { for (i = 2; i < NF - 2; i++) s += $i } END { print s + 0 }' /proc/interrupts; }
before=$(io_irqs)
fio --name=platform --filename="$LABVM_SYS_DEV" --rw=randread --bs=4k --direct=1 \
	--ioengine=io_uring --iodepth=16 --numjobs=2 --runtime=3 --time_based \
	--group_reporting --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1
rc=$?
# terse v3: field 5 = error, field 8 = read IOPS
ios=$(awk -F';' '{ print $8 }' /tmp/fio.out)
err=$(awk -F';' '{ print $5 }' /tmp/fio.out)
if [ "$rc" -eq 0 ] && [ "$err" = 0 ] && [ "${ios:-0}" -gt 300 ]; then
	ok "fio runs 3 s on the sys controller ($ios IOPS)"
else
	not_ok "fio on the sys controller: rc=$rc error=$err ios=$ios: $(head -c 300 /tmp/fio.out)"
fi
after=$(io_irqs)

queues=$(grep -cE 'nvme0q[0-9]+$' /proc/interrupts)
if grep -qE 'nvme0q0$' /proc/interrupts && [ "$queues" -ge 5 ]; then
	ok "/proc/interrupts shows nvme0's admin queue and $((queues - 1)) I/O queues"
else
	not_ok "/proc/interrupts shows $queues nvme0 queue interrupts (want q0 and 4 I/O queues)"
fi
if [ $((after - before)) -gt 100 ]; then
	ok "the I/O queues' interrupts count the fio run ($((after - before)))"
else
	not_ok "I/O queue interrupts went from $before to $after during fio"
fi

# Let the host talk to QEMU's QMP socket while the guest is up.
touch "$LABVM_OUT/guest-ready"
for _ in $(seq 1 150); do
	[ -e "$LABVM_OUT/host-done" ] && break
	sleep 0.2
done
check "the host finished its QMP queries while the guest ran" test -e "$LABVM_OUT/host-done"
finish
