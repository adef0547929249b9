#!/usr/bin/env bash
# Guest half of tests/vm/labvm-faults.sh: the fault levers the fault-tolerance
# tests rely on, seen from the stock driver.
. "$LABVM_ROOT/tests/lib.sh"

# lab: null-co backend with 2 ms latency per command.
start=$(date +%s%N)
dd if="$LABVM_LAB_DEV" of=/dev/null bs=4k count=50 iflag=direct status=none
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$ms" -ge 100 ]; then
	ok "null-co latency-ns: 50 reads took $ms ms (at least 2 ms each)"
else
	not_ok "null-co latency-ns: 50 reads took only $ms ms"
fi

# lab: cmb=16, a 16 MiB Controller Memory Buffer in BAR 2.  The stock
# driver of the lab kernel finds it and cannot use it: registering it
# needs the kernel's peer-to-peer DMA support (CONFIG_PCI_P2PDMA), which
# Debian's kernel does not have.
check "cmb=16: the lab controller has a 16 MiB memory BAR 2" \
	sh -c "lspci -vv -s $LABVM_LAB_PCI | grep -q 'Region 2: Memory at .*prefetchable) \[size=16M\]'"
check "cmb=16: the stock driver found the CMB and could not register it (no P2PDMA)" \
	sh -c "dmesg | grep -q 'nvme nvme1: failed to register the CMB'"

# extra (nvme2n1): reads covering sector 2048 fail as a media error.
check "a read away from the injected sector succeeds" \
	dd if=/dev/nvme2n1 of=/dev/null bs=4k count=1 iflag=direct status=none
if dd if=/dev/nvme2n1 of=/dev/null bs=4k count=1 skip=256 iflag=direct status=none 2>/dev/null; then
	not_ok "a read of the injected sector fails"
else
	ok "a read of the injected sector fails"
fi
check "the stock driver logs Unrecovered Read Error (sct 0x2 / sc 0x81) at LBA 2048" \
	grep -q 'LBA 2048.*sct 0x2 / sc 0x81' <(dmesg)

# Hot-unplug: the host sends QMP device_del for "extra".
touch "$LABVM_OUT/unplug-now"
for _ in $(seq 1 150); do
	[ -e /sys/block/nvme2n1 ] || break
	sleep 0.2
done
check "after QMP device_del the extra controller is gone from the guest" test ! -e /sys/block/nvme2n1
finish
