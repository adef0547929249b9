#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest-side benchmark of nvmescope (run inside the lab VM, as root).
# Prints "RESULT name value" lines:
#   nvmescope_fio_iops_base        fio 4K randread IOPS on tnvme, no tracer
#   nvmescope_fio_iops_traced      the same with "nvmescope top" attached
#   nvmescope_iops_ratio           traced / base (goal >= 0.90)
#   nvmescope_cpu_percent          nvmescope's own CPU use (% of one CPU), 1 s interval
#   nvmescope_first_report_ms      start to first report of "top -i 1" (goal <= 2000)
#   nvmescope_attach_ms            start to first report of "top -i 0.1", minus 100 ms
# Each fio run is BENCH_SECONDS long (default 10); base and traced runs
# alternate twice and the best of each is kept (TCG is noisy).
set -u
SECS=${BENCH_SECONDS:-10}
DEV=/dev/tnvme0n1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

[ -b $DEV ] || tnvme-bind >/dev/null || { echo "nvmescope bench: tnvme-bind failed" >&2; exit 1; }

fio_iops() {
	fio --name=bench --filename=$DEV --rw=randread --bs=4k --direct=1 \
		--ioengine=io_uring --iodepth=16 --numjobs=4 --runtime="$SECS" \
		--time_based --group_reporting --output-format=terse \
		--terse-version=3 2>/dev/null | awk -F';' '{ print $8 }'
}

# CPU ticks (utime + stime) of a process
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

best_base=0
best_traced=0
cpu_pct=0
for round in 1 2; do
	b=$(fio_iops)
	[ "${b:-0}" -gt $best_base ] && best_base=$b

	nvmescope top --plain -i 1 >/dev/null 2>&1 &
	pid=$!
	sleep 2		# attached and past the first report
	t0=$(ticks $pid)
	w0=$(date +%s%N)
	t=$(fio_iops)
	t1=$(ticks $pid)
	w1=$(date +%s%N)
	kill -INT $pid
	wait $pid
	[ "${t:-0}" -gt $best_traced ] && best_traced=$t
	hz=$(getconf CLK_TCK)
	cpu_pct=$(awk -v d=$((t1 - t0)) -v hz=$hz -v ns=$((w1 - w0)) \
		'BEGIN { printf "%.1f", d / hz / (ns / 1e9) * 100 }')
done
echo "RESULT nvmescope_fio_iops_base $best_base"
echo "RESULT nvmescope_fio_iops_traced $best_traced"
awk -v a=$best_traced -v b=$best_base 'BEGIN { printf "RESULT nvmescope_iops_ratio %.3f\n", b ? a / b : 0 }'
echo "RESULT nvmescope_cpu_percent $cpu_pct"

# Start-up: time to the first line of JSON.
first_report_ms() {
	local start line
	start=$(date +%s%N)
	line=$(nvmescope top --json -i "$1" -n 1 2>/dev/null | head -1)
	[ -n "$line" ] || { echo -1; return; }
	echo $(( ($(date +%s%N) - start) / 1000000 ))
}
fio --name=bg --filename=$DEV --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
	--iodepth=16 --runtime=30 --time_based >/dev/null 2>&1 &
fpid=$!
sleep 1
echo "RESULT nvmescope_first_report_ms $(first_report_ms 1)"
a=$(first_report_ms 0.1)
echo "RESULT nvmescope_attach_ms $((a - 100))"
kill $fpid 2>/dev/null
wait $fpid 2>/dev/null
exit 0
