#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make bench", nvmescope suite (issue 4, item 5).
#   nvmescope.sh ROUNDS SECONDS
# fio 4 KiB random read, QD16 x 4 jobs on tnvme, without a tracer ("base"),
# with empty BPF programs on the same seven tnvme events as nvmescope top
# ("floor", nvmescope-attach-floor: what attaching costs before a program
# does any work) and with "nvmescope top -i 1" attached ("traced").  Each
# round runs all three, base first in odd rounds and traced first in even
# ones, so a slow drift of this noisy machine hits every arm alike.  Then,
# under the same fio load, the start-up: launch -> first report line of
# "top -i 1", and launch -> first report of "top -i 0.1" minus its 100 ms
# interval ("attach").
# Prints, as medians over the rounds:
#   RESULT nvmescope.iops_base        fio IOPS, no tracer
#   RESULT nvmescope.iops_floor       fio IOPS with the empty programs attached
#   RESULT nvmescope.iops_traced      fio IOPS with nvmescope top attached
#   RESULT nvmescope.floor_ratio      floor / base: the cost of attaching at all
#   RESULT nvmescope.iops_ratio       traced / base, of the two medians (goal >= 0.90)
#   RESULT nvmescope.work_ratio       traced / floor: the cost of nvmescope's own work
#   RESULT nvmescope.cpu_percent      nvmescope's own CPU (% of one CPU) at a 1 s
#                                     interval, from /proc/PID/stat during fio
#   RESULT nvmescope.first_report_ms  launch -> first report of top -i 1 (goal <= 2000)
#   RESULT nvmescope.attach_ms        launch -> first report of top -i 0.1, - 100 ms
set -u
. "$(dirname "$0")/lib.sh"
rounds=$1
secs=$2
DEV=/dev/tnvme0n1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

[ -b $DEV ] || tnvme-bind >/dev/null || { echo "bench: tnvme-bind failed" >&2; exit 1; }
FIO_ARGS="--rw=randread --bs=4k --iodepth=16 --numjobs=4"
hz=$(getconf CLK_TCK)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# CPU ticks (utime + stime) of a process; the command name has no spaces
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# wait_first_line FILE PID: wait until FILE has a line (or PID died)
wait_first_line() {
	local i
	for i in $(seq 1 1000); do
		[ -s "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

run_base() {
	fio_iops $DEV "$secs" $FIO_ARGS >>$T/base || exit 1
}

run_floor() {
	local pid iops
	: >$T/floor.out
	nvmescope-attach-floor >$T/floor.out 2>$T/floor.err &
	pid=$!
	wait_first_line $T/floor.out $pid || {
		echo "bench: nvmescope-attach-floor did not attach: $(head -c 300 $T/floor.err)" >&2
		exit 1
	}
	iops=$(fio_iops $DEV "$secs" $FIO_ARGS) || exit 1
	kill -INT $pid
	wait $pid || { echo "bench: nvmescope-attach-floor failed" >&2; exit 1; }
	echo "$iops" >>$T/floor
}

run_traced() {
	local pid t0 t1 w0 w1 iops
	: >$T/top.out
	nvmescope top --json -i 1 >$T/top.out 2>$T/top.err &
	pid=$!
	wait_first_line $T/top.out $pid || {
		echo "bench: nvmescope top gave no report: $(head -c 300 $T/top.err)" >&2
		exit 1
	}
	t0=$(ticks $pid)
	w0=$(date +%s%N)
	iops=$(fio_iops $DEV "$secs" $FIO_ARGS) || exit 1
	t1=$(ticks $pid)
	w1=$(date +%s%N)
	kill -INT $pid
	wait $pid
	echo "$iops" >>$T/traced
	awk -v d=$((t1 - t0)) -v hz="$hz" -v ns=$((w1 - w0)) \
		'BEGIN { printf "%.2f\n", d / hz / (ns / 1e9) * 100 }' >>$T/cpu
	# every report must count what it could not see (JSON "lost")
	jq -s '[.[].lost | to_entries[] | .value] | add // 0' $T/top.out >>$T/lost
}

# startup INTERVAL: ms from launch to the first report line
startup() {
	local start pid ms
	: >$T/start.out
	start=$(date +%s%N)
	nvmescope top --json -i "$1" -n 1 >$T/start.out 2>$T/start.err &
	pid=$!
	if wait_first_line $T/start.out $pid; then
		ms=$(( ($(date +%s%N) - start) / 1000000 ))
	else
		ms=-1
	fi
	wait $pid
	echo $ms
}

echo "== nvmescope: fio 4 KiB randread QD16 x 4 on tnvme, without a tracer / with empty programs on nvmescope's events / with 'nvmescope top -i 1'; $rounds rounds of $secs s"
echo "  (guest clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null))"
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then run_base; run_floor; run_traced; else run_traced; run_floor; run_base; fi
	# start-up under the same load
	fio --name=bg --filename=$DEV --direct=1 --ioengine=io_uring $FIO_ARGS \
		--runtime=60 --time_based >/dev/null 2>&1 &
	fpid=$!
	sleep 1
	startup 1 >>$T/first
	a=$(startup 0.1)
	[ "$a" -ge 0 ] && echo $((a - 100)) >>$T/attach || echo -1 >>$T/attach
	kill $fpid 2>/dev/null
	wait $fpid 2>/dev/null
	printf '  round %d  base %6d IOPS  floor %6d IOPS  traced %6d IOPS  ratio %s  cpu %s %%  first report %s ms  attach %s ms  lost %s\n' \
		"$r" "$(tail -1 $T/base)" "$(tail -1 $T/floor)" "$(tail -1 $T/traced)" \
		"$(ratio "$(tail -1 $T/traced)" "$(tail -1 $T/base)")" "$(tail -1 $T/cpu)" \
		"$(tail -1 $T/first)" "$(tail -1 $T/attach)" "$(tail -1 $T/lost)"
done
base=$(median <$T/base)
floor=$(median <$T/floor)
traced=$(median <$T/traced)
r=$(ratio "$traced" "$base")
first=$(median <$T/first)
echo "RESULT nvmescope.iops_base $base"
echo "RESULT nvmescope.iops_floor $floor"
echo "RESULT nvmescope.iops_traced $traced"
echo "RESULT nvmescope.floor_ratio $(ratio "$floor" "$base")"
echo "RESULT nvmescope.iops_ratio $r"
echo "RESULT nvmescope.work_ratio $(ratio "$traced" "$floor")"
echo "RESULT nvmescope.cpu_percent $(median <$T/cpu)"
echo "RESULT nvmescope.first_report_ms $first"
echo "RESULT nvmescope.attach_ms $(median <$T/attach)"
warn_slow_rounds "nvmescope, no tracer" $T/base
warn_slow_rounds "nvmescope, empty programs" $T/floor
warn_slow_rounds "nvmescope, top attached" $T/traced
v1=$(awk -v r="$r" 'BEGIN { print (r >= 0.90) ? "meets" : "BELOW" }')
v2=$(awk -v f="$first" 'BEGIN { print (f >= 0 && f <= 2000) ? "meets" : "MISSES" }')
echo "  nvmescope: IOPS ratio $r ($v1 the 0.90 goal; empty programs on the same events alone: $(ratio "$floor" "$base")); first report after $first ms ($v2 the 2 s goal)"
exit 0
