#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make bench", polling suite (issue 14): 4 KiB random
# reads at queue depth 1, one job, completed by interrupts (io_uring) or
# by polling (io_uring with IOPOLL, fio --hipri), on tnvme (lab
# controller, poll_queues=1) and on the stock driver (sys controller,
# rebound with its own poll_queues=1).  QD1 because that is where polling
# is meant to pay: one request at a time, its latency is all there is.
#   polling.sh ROUNDS SECONDS
# Each round runs the four arms, in an order that alternates between
# rounds; reported are the medians of the rounds' p50 and p99 completion
# latencies (fio's clat, in µs), the ratios poll/interrupt per driver and
# tnvme/stock per mode, and the CPU time fio spent (usr+sys, % of one
# CPU), which polling trades for latency.
set -u
. "$(dirname "$0")/lib.sh"
rounds=$1
secs=$2
W=/tmp/bench-polling
mkdir -p $W

# The stock driver reads poll_queues when it probes a controller: set it,
# then rebind the sys controller.
stock_pci=$LABVM_SYS_PCI
echo 1 >/sys/module/nvme/parameters/poll_queues || exit 1
echo "$stock_pci" >/sys/bus/pci/drivers/nvme/unbind
echo "$stock_pci" >/sys/bus/pci/drivers/nvme/bind
for _ in $(seq 1 50); do
	[ -b "$LABVM_SYS_DEV" ] && break
	sleep 0.2
done
[ -b "$LABVM_SYS_DEV" ] || { echo "bench: $LABVM_SYS_DEV did not come back" >&2; exit 1; }
tnvme-bind poll_queues=1 >/dev/null || exit 1
stock=$LABVM_SYS_DEV
ours=/dev/tnvme0n1
for d in "$stock" "$ours"; do
	[ "$(cat /sys/block/$(basename "$d")/queue/io_poll)" = 1 ] ||
		{ echo "bench: $d has no poll queue (io_poll is not 1)" >&2; exit 1; }
done

# qd1 DEV MODE: one fio run; prints "p50 p99 cpu" (µs, µs, % of a CPU).
qd1() {
	local dev=$1 mode=$2 extra=() out
	[ "$mode" = poll ] && extra=(--hipri)
	out=$(fio --name=qd1 --filename="$dev" --direct=1 --ioengine=io_uring \
		"${extra[@]}" --rw=randread --bs=4k --iodepth=1 --numjobs=1 \
		--runtime="$secs" --time_based --output-format=json 2>&1) || {
		echo "bench: fio failed on $dev ($mode): $out" >&2
		return 1
	}
	echo "$out" | jq -r '.jobs[0] | [(.read.clat_ns.percentile["50.000000"] / 1000),
		(.read.clat_ns.percentile["99.000000"] / 1000),
		(.usr_cpu + .sys_cpu)] | map(. * 10 | round / 10) | @tsv'
}

arms=(stock.irq stock.poll tnvme.irq tnvme.poll)
run_arm() {
	local arm=$1 r=$2 dev v
	case $arm in stock.*) dev=$stock ;; *) dev=$ours ;; esac
	v=$(qd1 "$dev" "${arm#*.}") || exit 1
	read -r p50 p99 cpu <<<"$v"
	echo "$p50" >>$W/$arm.p50
	echo "$p99" >>$W/$arm.p99
	echo "$cpu" >>$W/$arm.cpu
	printf '  round %d %-11s p50 %8s us   p99 %8s us   fio CPU %5s %%\n' "$r" "$arm" "$p50" "$p99" "$cpu"
}

echo "== polling: 4 KiB random read, QD1, interrupts vs polling, $rounds rounds of $secs s"
rm -f $W/*
for arm in "${arms[@]}"; do
	case $arm in stock.*) d=$stock ;; *) d=$ours ;; esac
	qd1 "$d" "${arm#*.}" >/dev/null || exit 1	# warm-up, not counted
done
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then order=("${arms[@]}"); else order=(tnvme.poll tnvme.irq stock.poll stock.irq); fi
	for arm in "${order[@]}"; do run_arm "$arm" "$r"; done
done
for arm in "${arms[@]}"; do
	for m in p50 p99 cpu; do
		echo "RESULT polling.$arm.$m $(median <$W/$arm.$m)"
	done
done
med() { median <"$W/$1.$2"; }
for drv in stock tnvme; do
	for m in p50 p99; do
		echo "RESULT polling.$drv.poll_vs_irq.$m $(ratio "$(med $drv.poll $m)" "$(med $drv.irq $m)")"
	done
done
for mode in irq poll; do
	for m in p50 p99; do
		echo "RESULT polling.tnvme_vs_stock.$mode.$m $(ratio "$(med tnvme.$mode $m)" "$(med stock.$mode $m)")"
	done
done
echo "  (ratios under 1: the first is faster; polling's CPU cost is in the .cpu lines)"
tnvme-bind --unbind >/dev/null 2>&1
