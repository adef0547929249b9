#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make bench", driver suite (issue 3): tnvme on the lab
# controller against the stock nvme driver on the identical sys controller.
#   driver.sh ROUNDS SECONDS
# Workloads: 4 KiB random read, QD32, one job per vCPU; 128 KiB sequential
# read, QD32, one job.  Rounds alternate which driver goes first.  Then the
# random read again with every tnvme tracepoint enabled in ftrace.
set -u
. "$(dirname "$0")/lib.sh"
rounds=$1
secs=$2
ncpu=$(nproc)
tnvme-bind >/dev/null || exit 1
stock=$LABVM_SYS_DEV
ours=/dev/tnvme0n1
tracing=/sys/kernel/tracing

declare -A args=(
	[randread4k]="--rw=randread --bs=4k --iodepth=32 --numjobs=$ncpu"
	[seqread128k]="--rw=read --bs=128k --iodepth=32 --numjobs=1"
)

# run_pair WORKLOAD ROUND TAG: one round on both drivers, alternating order.
run_pair() {
	local w=$1 r=$2 tag=$3 a b
	if [ $((r % 2)) -eq 0 ]; then
		a=$(fio_iops "$stock" "$secs" ${args[$w]}) || exit 1
		b=$(fio_iops "$ours" "$secs" ${args[$w]}) || exit 1
	else
		b=$(fio_iops "$ours" "$secs" ${args[$w]}) || exit 1
		a=$(fio_iops "$stock" "$secs" ${args[$w]}) || exit 1
	fi
	echo "$a" >>/tmp/bench.$w.$tag.stock
	echo "$b" >>/tmp/bench.$w.$tag.tnvme
	ratio "$b" "$a" >>/tmp/bench.$w.$tag.ratio
	printf '  %-12s round %d %-10s stock nvme %7d IOPS   tnvme %7d IOPS   ratio %s\n' \
		"$w" "$r" "$tag" "$a" "$b" "$(ratio "$b" "$a")"
}

# The verdict uses "ratio" (median tnvme IOPS / median stock IOPS);
# "paired_ratio", the median of the rounds' own ratios, is printed too: it
# cancels load changes between rounds, but not within one.
summary() {
	local w=$1 tag=$2 a b
	a=$(median </tmp/bench.$w.$tag.stock)
	b=$(median </tmp/bench.$w.$tag.tnvme)
	echo "RESULT driver.$w.$tag.stock_iops $a"
	echo "RESULT driver.$w.$tag.tnvme_iops $b"
	echo "RESULT driver.$w.$tag.ratio $(ratio "$b" "$a")"
	echo "RESULT driver.$w.$tag.paired_ratio $(median </tmp/bench.$w.$tag.ratio)"
	warn_slow_rounds "$w $tag, stock nvme" /tmp/bench.$w.$tag.stock
	warn_slow_rounds "$w $tag, tnvme" /tmp/bench.$w.$tag.tnvme
}

# warm_up WORKLOAD: 2 s on each device, not counted.  The first run after
# boot (cold QEMU block cache, page tables, slab caches) was off by up to
# 30 % in either direction.
warm_up() {
	fio_iops "$stock" 2 ${args[$1]} >/dev/null || exit 1
	fio_iops "$ours" 2 ${args[$1]} >/dev/null || exit 1
}

echo "== driver: tnvme vs stock nvme, $rounds rounds of $secs s, $ncpu vCPUs"
echo 0 >$tracing/events/tnvme/enable
for w in randread4k seqread128k; do
	warm_up "$w"
	for r in $(seq 1 "$rounds"); do run_pair "$w" "$r" trace-off; done
	summary "$w" trace-off
done
# The same with all tnvme tracepoints on, recording into ftrace's buffer.
echo 1 >$tracing/events/tnvme/enable
echo 1 >$tracing/tracing_on
for r in $(seq 1 "$rounds"); do run_pair randread4k "$r" trace-on; done
summary randread4k trace-on
echo 0 >$tracing/events/tnvme/enable
echo >$tracing/trace
floor=$(summary randread4k trace-off | awk '$2 ~ /\.ratio$/ { print $3 }')
verdict=$(awk -v r="$floor" 'BEGIN { print (r >= 0.95) ? "meets" : "BELOW" }')
echo "  tnvme/stock 4 KiB random read with tracepoints off: $floor ($verdict the 0.95 floor)"
