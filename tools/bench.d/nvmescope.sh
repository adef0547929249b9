#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make bench", nvmescope suite (issues 4 and 16): what a
# tracer costs fio, side by side with the floor and with bpftrace.
#   nvmescope.sh ROUNDS SECONDS
# fio 4 KiB random read, QD16 x 4 jobs on /dev/tnvme0n1, in six arms:
#   none      no tracer
#   floor     nvmescope-attach-floor: empty programs on the seven
#             per-command tnvme events of nvmescope top (what attaching
#             costs before a program does any work)
#   top       nvmescope top --json -i 1 (to a file)
#   lat       nvmescope lat, from before fio starts until it ends (Ctrl-C)
#   trace     nvmescope trace to /dev/null
#   bpftrace  tools/bench.d/top.bt: top's job written in bpftrace (its
#             header says how close it is), to a file
# Each round runs every arm once, the order rotated by one arm per round,
# so a slow drift of this noisy machine hits every arm alike.  A tracer is
# started and its first report (top, bpftrace) or its start-up line
# (floor: "attached", lat: "collecting", trace: "tracing") awaited before
# fio starts, and it is stopped with SIGINT after fio ends.
#
# Per arm, medians over the rounds:
#   iops       fio's IOPS: the total of its 4 jobs
#   ratio      iops / iops of "none"
#   added_us   added time per I/O, µs = (1/iops - 1/iops_none) * 1e6: the
#              wall time the tracer adds per completed I/O of the whole
#              run (4 jobs share the guest's 4 vCPUs, which QEMU TCG runs
#              in one host thread, so the guest is CPU-bound and this is
#              the guest CPU time the tracer costs per I/O).  Computed
#              from the medians of iops.
#   x_floor    added_us / added_us of "floor"
#   x_bpftrace added_us / added_us of "bpftrace"
#   bpf_us     BPF program time per I/O, µs: kernel.bpf_stats_enabled=1
#              (for the whole suite, every arm), and the sum of
#              run_time_ns in "bpftool prog show --json" over the
#              tracer's programs, read just before fio starts and just
#              after it ends, divided by fio's completed I/Os.  The
#              tracer's programs are those whose id was not there before
#              it was launched (nothing else loads BPF in the guest);
#              for bpftrace that includes its interval:s:1 program.
#   bpf_x_floor bpf_us / bpf_us of "floor"
#   cpu_pct    the tracer's own CPU over fio's run: utime + stime of its
#              process (/proc/PID/stat), % of one CPU
#   start_ms   launch -> first report (top -i 1, bpftrace: its first
#              per-second print) or -> start-up line (floor, lat, trace),
#              with no I/O running
# and, under the same fio load after each round (as before issue 16):
#   first_report_ms  launch -> first report line of top -i 1
#   attach_ms        launch -> first report of top -i 0.1, minus 100 ms
# RESULT lines: nvmescope.ARM.METRIC, nvmescope.first_report_ms,
# nvmescope.attach_ms, nvmescope.top.lost (what top's JSON counted as
# lost) and nvmescope.bpftrace.seen (bpftrace's completions / fio's I/Os);
# then one verdict line per goal of issue 16
# (printed, never a failure: bench is not a test).
set -u
. "$(dirname "$0")/lib.sh"
rounds=$1
secs=$2
DEV=/dev/tnvme0n1
BT_SCRIPT=$(cd "$(dirname "$0")" && pwd)/top.bt
T=$(mktemp -d)
stats_was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
trap 'sysctl -q -w kernel.bpf_stats_enabled=$stats_was; rm -rf "$T"' EXIT

[ -b $DEV ] || tnvme-bind >/dev/null || { echo "bench: tnvme-bind failed" >&2; exit 1; }
command -v bpftrace >/dev/null || { echo "bench: bpftrace is not installed (tools/deps)" >&2; exit 1; }
sysctl -q -w kernel.bpf_stats_enabled=1 || { echo "bench: cannot enable kernel.bpf_stats_enabled" >&2; exit 1; }
FIO_ARGS="--rw=randread --bs=4k --iodepth=16 --numjobs=4"
ARMS="none floor top lat trace bpftrace"
hz=$(getconf CLK_TCK)

# CPU ticks (utime + stime) of a process; the command name has no spaces
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
prog_ids() { bpftool prog show --json | jq -r '.[].id' | sort; }
# bpf_snapshot FILE-OF-IDS: "id name run_time_ns run_cnt" per program
bpf_snapshot() {
	bpftool prog show --json | jq -r --argjson ids "[$(paste -sd, "$1")]" \
		'.[] | select(.id as $i | any($ids[]; . == $i)) | "\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# fio_run: one fio run; prints "IOPS IOS" (total over the jobs, read + write)
fio_run() {
	local out
	out=$(fio --name=bench --filename="$DEV" --direct=1 --ioengine=io_uring \
		--runtime="$secs" --time_based --group_reporting \
		--output-format=terse --terse-version=3 $FIO_ARGS 2>&1) || {
		echo "bench: fio failed on $DEV: $out" >&2
		return 1
	}
	# terse v3: 5 = error, 6/47 = read/write KiB, 8/49 = read/write IOPS
	echo "$out" | awk -F';' '$5 != 0 { exit 1 } { printf "%d %d\n", $8 + $49, ($6 + $47) / 4 }'
}

# wait_for FILE PATTERN PID: wait until FILE has a line matching PATTERN
# (or PID died; give up after 60 s)
wait_for() {
	local i
	for i in $(seq 1 6000); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# run_arm ARM ROUND: one fio run with ARM's tracer; appends the round's
# figures to $T/ARM.{iops,bpf,cpu,start}
run_arm() {
	local arm=$1 pid= start out err pat ms t0 t1 w0 w1 io iops ios
	prog_ids >$T/ids.before
	out=$T/$arm.out
	err=$T/$arm.err
	: >$out
	: >$err
	start=$(date +%s%N)
	case $arm in
	none) ;;
	floor) nvmescope-attach-floor >$out 2>$err & pid=$!; pat=. ;;
	top) nvmescope top --json -i 1 >$out 2>$err & pid=$!; pat=. ;;
	lat) nvmescope lat >$out 2>$err & pid=$!; out=$err; pat='collecting' ;;
	trace) nvmescope trace >/dev/null 2>$err & pid=$!; out=$err; pat='tracing' ;;
	bpftrace) bpftrace "$BT_SCRIPT" >$out 2>$err & pid=$!; pat='^=== top.bt' ;;
	esac
	if [ -n "$pid" ]; then
		wait_for "$out" "$pat" $pid || {
			echo "bench: $arm did not start: $(head -c 400 $err)" >&2
			kill -INT $pid 2>/dev/null
			exit 1
		}
		ms=$(( ($(date +%s%N) - start) / 1000000 ))
		echo $ms >>$T/$arm.start
		prog_ids | comm -13 $T/ids.before - >$T/ids.arm
		bpf_snapshot $T/ids.arm >$T/bpf0
		t0=$(ticks $pid)
	fi
	w0=$(date +%s%N)
	io=$(fio_run) || exit 1
	w1=$(date +%s%N)
	read -r iops ios <<<"$io"
	echo "$iops" >>$T/$arm.iops
	[ -n "$pid" ] || return 0
	t1=$(ticks $pid)
	bpf_snapshot $T/ids.arm >$T/bpf1
	kill -INT $pid
	wait $pid
	awk -v d=$((t1 - t0)) -v hz="$hz" -v ns=$((w1 - w0)) \
		'BEGIN { printf "%.2f\n", d / hz / (ns / 1e9) * 100 }' >>$T/$arm.cpu
	# per program: µs per I/O and runs per I/O over fio's run
	join <(sort $T/bpf0) <(sort $T/bpf1) |
		awk -v ios="$ios" '{ ns = $6 - $3; runs = $7 - $4; tot += ns
			printf "%s %.2f %.2f\n", $2, ns / ios / 1000, runs / ios }
			END { printf "TOTAL %.2f\n", tot / ios / 1000 }' >$T/$arm.progs
	awk '$1 == "TOTAL" { print $2 }' $T/$arm.progs >>$T/$arm.bpf
	printf '    %-8s programs (µs/I/O, runs/I/O):' "$arm" >>$T/progs.log
	awk '$1 != "TOTAL" { printf " %s %s %s;", $1, $2, $3 }' $T/$arm.progs >>$T/progs.log
	echo >>$T/progs.log
	case $arm in
	top)	# every report must count what it could not see (JSON "lost")
		# (the numbers; bpf_runs_skipped_by_program breaks one of them down)
		jq -s '[.[].lost | del(.bpf_runs_skipped_by_program) | .[] | numbers] | add // 0' $out >>$T/lost ;;
	bpftrace)	# completions bpftrace counted / fio's
		awk -v ios="$ios" '/^@completions\[/ { n += $NF }
			END { printf "%.3f\n", n / ios }' $out >>$T/bt_seen ;;
	esac
}

# startup INTERVAL: ms from launch to the first report line of top, taken
# when that line reaches the reading end of a pipe (a blocking read, no
# polling: under fio load each poll of a file cost tens of ms here)
startup() {
	local t0 t1
	t0=$EPOCHREALTIME
	t1=$(nvmescope top --json -i "$1" -n 1 2>$T/start.err |
		{ IFS= read -r _ && echo "$EPOCHREALTIME"; cat >/dev/null; })
	if [ -n "$t1" ]; then
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d\n", (b - a) * 1000 }'
	else
		echo -1
	fi
}

last() { tail -1 "$T/$1" 2>/dev/null || echo -; }

echo "== nvmescope: fio 4 KiB randread QD16 x 4 on tnvme, arms: $ARMS; $rounds rounds of $secs s, arm order rotated per round; bpf_stats on"
echo "  (guest clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null); $(bpftrace --version))"
set -- $ARMS
narms=$#
for r in $(seq 1 "$rounds"); do
	order=
	for i in $(seq 0 $((narms - 1))); do
		j=$(( (i + r - 1) % narms + 1 ))
		order="$order ${!j}"
	done
	: >$T/progs.log
	for arm in $order; do
		run_arm $arm $r
	done
	# start-up of top under fio load
	fio --name=bg --filename=$DEV --direct=1 --ioengine=io_uring $FIO_ARGS \
		--runtime=60 --time_based >/dev/null 2>&1 &
	fpid=$!
	sleep 1
	startup 1 >>$T/first
	a=$(startup 0.1)
	[ "$a" -ge 0 ] && echo $((a - 100)) >>$T/attach || echo -1 >>$T/attach
	kill $fpid 2>/dev/null
	wait $fpid 2>/dev/null
	echo "  round $r (order:$order)"
	for arm in $ARMS; do
		printf '    %-8s %6s IOPS  ratio %-6s' $arm "$(last $arm.iops)" \
			"$(ratio "$(last $arm.iops)" "$(last none.iops)")"
		[ $arm = none ] || printf '  bpf %6s µs/I/O  cpu %6s %%  start %5s ms' \
			"$(last $arm.bpf)" "$(last $arm.cpu)" "$(last $arm.start)"
		echo
	done
	cat $T/progs.log
	echo "    top under load: first report $(last first) ms, attach $(last attach) ms; top lost $(last lost); bpftrace saw $(last bt_seen) of fio's completions"
done

med() { [ -s "$T/$1" ] && median <"$T/$1" || echo nan; }
# added µs per I/O from two IOPS figures
added() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f\n", (1 / a - 1 / b) * 1e6; else print "nan" }'; }
# a / b; nan when b <= 0: a cost relative to a reference that noise put
# at or below no tracer says nothing
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "nan") printf "%.2f\n", a / b; else print "nan" }'; }
none=$(med none.iops)
for arm in $ARMS; do
	eval "iops_$arm=$(med $arm.iops)"
	eval "added_$arm=$(added "$(med $arm.iops)" "$none")"
	eval "bpf_$arm=$(med $arm.bpf)"
done
echo "  medians over $rounds rounds:"
printf '    %-8s %7s %6s %9s %7s %10s %8s %11s %7s %8s\n' arm IOPS ratio added_us x_floor x_bpftrace bpf_us bpf_x_floor cpu_pct start_ms
for arm in $ARMS; do
	i=iops_$arm a=added_$arm b=bpf_$arm
	rat=$(ratio "${!i}" "$none")
	xf=$(div "${!a}" "$added_floor")
	xb=$(div "${!a}" "$added_bpftrace")
	bxf=$(div "${!b}" "$bpf_floor")
	cpu=$(med $arm.cpu)
	st=$(med $arm.start)
	bu=${!b}
	if [ $arm = none ]; then xf=-; xb=-; bu=-; bxf=-; cpu=-; st=-; fi
	printf '    %-8s %7s %6s %9s %7s %10s %8s %11s %7s %8s\n' $arm "${!i}" "$rat" "${!a}" "$xf" "$xb" "$bu" "$bxf" "$cpu" "$st"
	echo "RESULT nvmescope.$arm.iops ${!i}"
	[ $arm = none ] && continue
	echo "RESULT nvmescope.$arm.ratio $rat"
	echo "RESULT nvmescope.$arm.added_us ${!a}"
	echo "RESULT nvmescope.$arm.x_floor $xf"
	echo "RESULT nvmescope.$arm.x_bpftrace $xb"
	echo "RESULT nvmescope.$arm.bpf_us ${!b}"
	echo "RESULT nvmescope.$arm.bpf_x_floor $bxf"
	echo "RESULT nvmescope.$arm.cpu_pct $cpu"
	echo "RESULT nvmescope.$arm.start_ms $st"
done
first=$(med first)
fr=$first	# -1: a run of top gave no report
awk -v f="$first" 'BEGIN { exit !(f < 0) }' && fr=nan
echo "RESULT nvmescope.first_report_ms $first"
echo "RESULT nvmescope.attach_ms $(med attach)"
echo "RESULT nvmescope.top.lost $(med lost)"
echo "RESULT nvmescope.bpftrace.seen $(med bt_seen)"
for arm in $ARMS; do
	warn_slow_rounds "nvmescope, arm $arm" $T/$arm.iops
done

# the goals of issue 16 (requirement 2)
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v == "nan") ? "NO VERDICT (the reference cost is <= 0 or missing: noise, run again)" : (v <= lim) ? "met" : "NOT met" }'; }
xf=$(div "$added_top" "$added_floor")
xb=$(div "$added_top" "$added_bpftrace")
bxf=$(div "$bpf_top" "$bpf_floor")
echo "  VERDICT nvmescope top added cost <= 2x the floor's: $(verdict "$xf" 2) (${added_top} µs/I/O vs floor ${added_floor}: ${xf}x)"
echo "  VERDICT nvmescope top added cost <= 0.35x bpftrace's: $(verdict "$xb" 0.35) (${added_top} µs/I/O vs bpftrace ${added_bpftrace}: ${xb}x)"
echo "  VERDICT nvmescope top BPF time per I/O <= 2x the floor's: $(verdict "$bxf" 2) (${bpf_top} µs vs floor ${bpf_floor}: ${bxf}x)"
echo "  VERDICT nvmescope top -i 1 first report within 1.2 s (under fio load): $(verdict "$fr" 1200) (${first} ms; with no I/O running $(med top.start) ms, bpftrace's $(med bpftrace.start) ms)"
exit 0
