#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make bench", CMB suite (issue 18): submission queues in
# the Controller Memory Buffer.  All three arms run on the same controller,
# "cmb" (16 MiB CMB in BAR 2, otherwise like lab and sys), rebound between
# arms:
#   cmb    tnvme, I/O SQs in the CMB (use_cmb_sqes=1, the default)
#   host   tnvme, I/O SQs in host memory (use_cmb_sqes=0)
#   stock  the stock nvme driver (the lab kernel has no CONFIG_PCI_P2PDMA:
#          it cannot register the CMB and keeps its SQs in host memory)
#   cmb.sh ROUNDS SECONDS
# Workload: 4 KiB random read, QD32, one job per vCPU.  The arm order
# rotates by one each round.
set -u
. "$(dirname "$0")/lib.sh"
rounds=$1
secs=$2
ncpu=$(nproc)
addr=${LABVM_CMB_PCI:?no controller named cmb (tools/bench adds it)}
dev=/sys/bus/pci/devices/$addr
param=/sys/module/tnvme/parameters/use_cmb_sqes
ARGS="--rw=randread --bs=4k --iodepth=32 --numjobs=$ncpu"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# bind_arm ARM: give the controller to the arm's driver; prints the disk
bind_arm() {
	local disk
	tnvme-bind --unbind "$addr" >/dev/null || return 1
	case $1 in
	stock)
		for _ in $(seq 100); do
			disk=$(cd "$dev"/nvme/nvme* 2>/dev/null && ls -d nvme*n1 2>/dev/null | head -n 1)
			[ -n "$disk" ] && break
			sleep 0.1
		done
		;;
	cmb | host)
		[ "$1" = cmb ] && echo 1 >"$param" || echo 0 >"$param"
		tnvme-bind "$addr" >/dev/null || return 1
		disk=$(cd "$dev"/tnvme/tnvme* && ls -d tnvme*n1 | head -n 1)
		# where the SQs went, as the driver says (checked, not assumed)
		dmesg | grep "tnvme $addr: .* I/O SQs in the CMB" | tail -n 1 |
			grep -q "(use_cmb_sqes=$([ "$1" = cmb ] && echo 1 || echo 0))" || {
			echo "bench: tnvme did not report use_cmb_sqes for arm $1" >&2
			return 1
		}
		;;
	esac
	[ -n "$disk" ] && [ -b "/dev/$disk" ] || {
		echo "bench: no disk for arm $1 on $addr" >&2
		return 1
	}
	echo "/dev/$disk"
}

if [ ! -d /sys/module/tnvme ]; then
	insmod "$(dirname "$0")/../../driver/tnvme.ko" || exit 1
fi
echo "== cmb: tnvme with SQs in the CMB, tnvme with SQs in host memory, stock nvme; all on $addr (16 MiB CMB), $rounds rounds of $secs s, 4 KiB random read QD32 x $ncpu"
dmesg | grep -q "nvme.*: failed to register the CMB" &&
	echo "  (the stock driver could not register the CMB: no CONFIG_PCI_P2PDMA, its SQs are in host memory)"
arms="cmb host stock"
for a in $arms; do	# warm-up, not counted
	d=$(bind_arm $a) || exit 1
	fio_iops "$d" 2 $ARGS >/dev/null || exit 1
done
set -- $arms
for r in $(seq 1 "$rounds"); do
	order=
	for i in 0 1 2; do
		j=$(( (i + r - 1) % 3 + 1 ))
		order="$order ${!j}"
	done
	line="  round $r (order:$order)"
	for a in $order; do
		d=$(bind_arm $a) || exit 1
		iops=$(fio_iops "$d" "$secs" $ARGS) || exit 1
		echo "$iops" >>"$T/$a"
		line="$line  $a $iops"
	done
	echo "$line IOPS"
done
echo 1 >"$param"
tnvme-bind --unbind "$addr" >/dev/null
for a in $arms; do
	echo "RESULT cmb.$a.iops $(median <"$T/$a")"
	warn_slow_rounds "cmb suite, arm $a" "$T/$a"
done
c=$(median <"$T/cmb") h=$(median <"$T/host") s=$(median <"$T/stock")
echo "RESULT cmb.cmb_vs_host.ratio $(ratio "$c" "$h")"
echo "RESULT cmb.cmb_vs_stock.ratio $(ratio "$c" "$s")"
echo "RESULT cmb.host_vs_stock.ratio $(ratio "$h" "$s")"
echo "  medians: CMB SQs $c, host-memory SQs $h, stock nvme $s IOPS; CMB/host $(ratio "$c" "$h"), CMB/stock $(ratio "$c" "$s"), host/stock $(ratio "$h" "$s")"
