#!/usr/bin/env bash
# Guest half of tests/vm/nvmescope-poll.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh
T=/tmp/nvmescope-poll
mkdir -p $T
K=/sys/kernel/tracing
NS=build/bin/nvmescope
D=/dev/tnvme0n1
POLLQ="5 6"
IRQQ="1 2 3 4"

# top_start / top_stop: as in nvmescope-vm.guest.sh.  The counts are
# exact: top attaches with the controller idle, its first report comes
# before the load starts, and it stops two reports after the load ended,
# so its reports add up to all the load (and ftrace, enabled around top,
# holds the same events).
top_start() {
	local out=$1 i
	shift
	$NS top --json -i 0.5 "$@" >"$out" 2>"$out.err" &
	TOP_PID=$!
	for i in $(seq 1 150); do [ -s "$out" ] && return 0; sleep 0.1; done
	return 1
}
top_stop() {
	local out=$1 n i
	n=$(wc -l <"$out")
	for i in $(seq 1 150); do [ "$(wc -l <"$out")" -ge $((n + 2)) ] && break; sleep 0.1; done
	kill -INT $TOP_PID 2>/dev/null
	wait $TOP_PID
	TOP_RC=$?
	[ $TOP_RC -eq 130 ] && TOP_RC=0
}
# nsum JSON QID FILTER: a number of queue QID summed over top's reports
nsum() {
	jq -s --argjson q "$2" "[.[].queues[] | select(.qid == \$q) | $3 // 0] | add // 0" "$1"
}
# skipped_runs JSON PROGRAM: the kernel's count of the program's skipped runs
skipped_runs() {
	jq -s --arg p "$2" '[.[].lost.bpf_runs_skipped_by_program[$p] // 0] | add // 0' "$1"
}
# exact WHAT NVMESCOPE WANT SKIPPED: nvmescope's count equals WANT, or falls
# short by no more than the runs the kernel skipped (and counted) of the
# program that counts it
exact() {
	if [ "$2" -eq "$3" ]; then
		ok "$1: $2 = $3"
	elif [ "$2" -lt "$3" ] && [ $(($2 + $4)) -ge "$3" ]; then
		ok "$1: $2 + $4 skipped runs = $3"
	else
		not_ok "$1: nvmescope $2, want $3 (skipped runs $4)"
	fi
}
# irqs_of PREFIX: "qid count" lines summed over CPUs, from /proc/interrupts
irqs_of() {
	awk -v p="$1" '$NF ~ "^"p"q[0-9]+$" { s = 0; for (i = 2; i <= NF - 3; i++) if ($i ~ /^[0-9]+$/) s += $i; q = $NF; sub("^"p"q", "", q); print q, s }' /proc/interrupts
}
# fio_terse_ios FILE: reads + writes completed (terse v3: KiB read in field
# 6, KiB written in field 47), in 4 KiB I/Os
fio_terse_ios() {
	awk -F';' '{ print ($6 + $47) / 4 }' "$1"
}

check "bind the lab controller to tnvme with poll_queues=2" tools/tnvme-bind poll_queues=2
expect_eq "hardware contexts: 4 default, 2 poll (debugfs)" "default default default default poll poll" \
	"$(cat /sys/kernel/debug/block/tnvme0n1/hctx{0,1,2,3,4,5}/type | paste -sd' ')"

# ---------------------------------------------------------------- irq
# A poll queue has no interrupt: listed with a note, never a mismatch.
$NS irq --json -i 0.5 >$T/irq.json 2>$T/irq.err
expect_eq "irq --json exits 0" 0 $?
check "irq --json: queues 5 and 6 are poll queues with no interrupt and no mismatch" \
	jqe '[.queues[] | select(.driver == "tnvme" and (.qid == 5 or .qid == 6)) |
		.queue_type == "poll" and .irq == null and .count == null and .mismatch == false and
		(.note | startswith("poll queue: no interrupt, reaped by polling on CPU(s) ")) and
		.polling_cpus == .blk_mq_cpus and (.blk_mq_cpus | length > 0)] | length == 2 and all' $T/irq.json
check "irq --json: queues 1-4 are interrupt queues, each with its IRQ, no mismatch" \
	jqe '[.queues[] | select(.driver == "tnvme" and .qid >= 1 and .qid <= 4) |
		.queue_type == "interrupt" and (.irq | type == "number") and .mismatch == false and .note == null] |
		length == 4 and all' $T/irq.json
check "irq --json: the types come from debugfs" \
	jqe '[.queues[] | select(.driver == "tnvme" and .qid > 0) | .queue_type_from == "debugfs"] | all' $T/irq.json
$NS irq -i 0.5 >$T/irq.txt 2>&1
check "irq (text): q5 and q6 say they are poll queues" \
	sh -c "[ \$(grep -cE '^tnvme0 q[56] .*poll queue: no interrupt, reaped by polling on CPU\(s\) [0-9]' $T/irq.txt) -eq 2 ]"
check "irq (text): no queue reports a mismatch" sh -c "! grep -q 'YES' $T/irq.txt"

# ---------------------------------------------------------------- counts
# Polled and interrupt-driven fio side by side; ftrace records the poll
# queues' events at the same time, in a buffer big enough for all of them.
echo 0 >$K/events/enable
echo 32768 >$K/buffer_size_kb
: >$K/trace
for e in tnvme_poll tnvme_cqe tnvme_cq_doorbell tnvme_irq; do echo 1 >$K/events/tnvme/$e/enable; done
# --sample 1: every command timed, so the latency counts are exact too
top_start $T/top.json --sample 1 || not_ok "top --json reports"
irqs_of tnvme0 >$T/irq.before
# the polled jobs on CPUs 0 and 1: one on each poll queue (5: CPUs 0,2; 6: 1,3)
fio --name=polled --filename=$D --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
	--hipri --iodepth=4 --numjobs=2 --cpus_allowed=0,1 --cpus_allowed_policy=split \
	--runtime=3 --time_based --group_reporting \
	--output-format=terse --terse-version=3 >$T/fio-polled.out 2>&1 &
fpid=$!
fio --name=irq --filename=$D --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
	--iodepth=8 --numjobs=2 --runtime=3 --time_based --group_reporting \
	--output-format=terse --terse-version=3 >$T/fio-irq.out 2>&1
wait $fpid
irqs_of tnvme0 >$T/irq.after
top_stop $T/top.json
echo 0 >$K/events/tnvme/enable
expect_eq "top stops on SIGINT with exit 0" 0 $TOP_RC
overrun=$(awk '/^overrun:/ { s += $2 } END { print s + 0 }' $K/per_cpu/cpu*/stats)
expect_eq "ftrace lost no event (overrun)" 0 "$overrun"
cat $K/trace >$T/trace.txt
echo 1408 >$K/buffer_size_kb
# per queue: polls, empty polls, CQEs seen by polls, CQEs, CQ doorbells, irq events
awk '
	match($0, / tnvme_(poll|cqe|cq_doorbell|irq): /) {
		ev = substr($0, RSTART + 1, RLENGTH - 3)
		q = ""; n = 0
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^qid=/) q = substr($i, 5)
			if ($i ~ /^cqes=/) n = substr($i, 6)
		}
		if (ev == "tnvme_poll") { polls[q]++; seen[q] += n; if (n == 0) empty[q]++ }
		else if (ev == "tnvme_cqe") cqes[q]++
		else if (ev == "tnvme_cq_doorbell") dbs[q]++
		else irqs[q]++
		all[q] = 1
	}
	END { for (q in all) printf "%s %d %d %d %d %d %d\n", q, polls[q], empty[q], seen[q], cqes[q], dbs[q], irqs[q] }
' $T/trace.txt | sort -n >$T/ftrace.counts
echo "# ftrace per queue (qid polls empty seen cqes cq_doorbells irqs):"
sed 's/^/#   /' $T/ftrace.counts
ft() { awk -v q=$1 -v f=$2 '$1 == q { print $f }' $T/ftrace.counts | grep . || echo 0; }

sk_poll=$(skipped_runs $T/top.json tnvme_poll)
sk_cqe=$(skipped_runs $T/top.json tnvme_cqe)
sk_db=$(skipped_runs $T/top.json tnvme_cq_doorbell)
sk_end=$(skipped_runs $T/top.json tnvme_rq_end)
fio_polled=$(fio_terse_ios $T/fio-polled.out)
fio_irq=$(fio_terse_ios $T/fio-irq.out)
echo "# fio: polled $fio_polled I/Os, interrupt-driven $fio_irq I/Os; skipped runs: poll $sk_poll cqe $sk_cqe cq_doorbell $sk_db rq_end $sk_end"
check "fio did polled and interrupt-driven I/O ($fio_polled, $fio_irq)" \
	test "${fio_polled%.*}" -gt 0 -a "${fio_irq%.*}" -gt 0

for q in $POLLQ; do
	check "top: q$q is a poll queue in every report (from debugfs)" \
		jqe -s --argjson q $q '[.[].queues[] | select(.qid == $q) | .queue_type == "poll" and .queue_type_from == "debugfs"] | length > 0 and all' $T/top.json
	exact "q$q: polls counted = ftrace's tnvme_poll" "$(nsum $T/top.json $q .events.poll)" "$(ft $q 2)" "$sk_poll"
	exact "q$q: empty polls = ftrace's tnvme_poll with cqes=0" "$(nsum $T/top.json $q .events.poll_empty)" "$(ft $q 3)" "$sk_poll"
	exact "q$q: CQEs seen by polls = the sum of ftrace's cqes=" "$(nsum $T/top.json $q .events.poll_cqes)" "$(ft $q 4)" "$sk_poll"
	exact "q$q: CQEs reaped by polls = ftrace's tnvme_cqe" "$(nsum $T/top.json $q .events.poll_reaped)" "$(ft $q 5)" "$sk_cqe"
	exact "q$q: polls that reaped = ftrace's tnvme_cq_doorbell" "$(nsum $T/top.json $q .events.poll_batches)" "$(ft $q 6)" "$sk_db"
	exact "q$q: completions = CQEs reaped by polls" "$(nsum $T/top.json $q .completions)" "$(nsum $T/top.json $q .events.poll_reaped)" "$sk_end"
	expect_eq "q$q: no interrupt (irqs, hardirqs, ftrace's tnvme_irq)" "0 0 0" \
		"$(nsum $T/top.json $q .irqs) $(nsum $T/top.json $q .hardirqs) $(ft $q 7)"
	# every polled command has its poll step: sq_doorbell -> poll per completion
	exact "q$q: sq_doorbell -> poll timed for every completion" \
		"$(nsum $T/top.json $q '.latency["sq_doorbell-poll"].count')" "$(nsum $T/top.json $q .completions)" "$sk_end"
	exact "q$q: poll -> cqe timed for every CQE" \
		"$(nsum $T/top.json $q '.latency["poll-cqe"].count')" "$(nsum $T/top.json $q .events.cqe)" "$sk_cqe"
	check "q$q: no irq latency keys, CQE/IRQ null, CQEs per poll and polls per second given" \
		jqe -s --argjson q $q '[.[].queues[] | select(.qid == $q) | (.latency | has("sq_doorbell-irq") or has("irq-cqe") | not) and .cqes_per_irq == null and (.polls_per_s | type == "number")] | all' $T/top.json
	# (a poll that saw no entry may still reap one that came meanwhile:
	# empty_polls_pct may be 100 in an interval with completions; and a
	# poll whose event fell just before a report's boundary reaps in the
	# next interval, which then has completions but no poll and no
	# polling CPU: seen once, 4 CQEs in the last report of a run)
	check "q$q: while it completed commands, CQEs per poll >= 1, and polling CPUs where it polled" \
		jqe -s --argjson q $q '[.[].queues[] | select(.qid == $q and .completions > 0) | .cqes_per_poll >= 1 and (.events.poll == 0 or (.empty_polls_pct <= 100 and .poll_cpus != []))] | length > 0 and all' $T/top.json
done
polled=$(( $(nsum $T/top.json 5 .completions) + $(nsum $T/top.json 6 .completions) ))
exact "completions on the poll queues = fio's polled I/Os" "$polled" "${fio_polled%.*}" "$sk_end"
if [ "$sk_poll$sk_cqe$sk_db" != 000 ]; then
	echo "# some runs were skipped: the per-queue counts above are checked against their sum"
fi

# Interrupt queues, unchanged: their commands, their interrupts (= the
# /proc/interrupts deltas), their irq keys, no polls.
irq_done=0
for q in $IRQQ; do irq_done=$((irq_done + $(nsum $T/top.json $q .completions))); done
exact "completions on the interrupt queues = fio's interrupt-driven I/Os" "$irq_done" "${fio_irq%.*}" "$sk_end"
n=0
while read -r q before; do
	[ "$q" -gt 0 ] || continue
	after=$(awk -v q=$q '$1 == q { print $2 }' $T/irq.after)
	proc=$((after - before))
	[ $proc -gt 0 ] || continue
	n=$((n + 1))
	expect_eq "q$q: interrupts (tnvme_irq, hardirqs) = /proc/interrupts delta" "$proc $proc" \
		"$(nsum $T/top.json $q .irqs) $(nsum $T/top.json $q .hardirqs)"
done <$T/irq.before
check "interrupt queues took interrupts ($n)" test $n -gt 0
check "q1-4: interrupt queues, irq latency keys, no poll" \
	jqe -s '[.[].queues[] | select(.qid >= 1 and .qid <= 4) | .queue_type == "interrupt" and (.latency | has("sq_doorbell-irq") and has("irq-cqe") and (has("sq_doorbell-poll") | not)) and .events.poll == 0 and .polls_per_s == 0 and .cqes_per_poll == null] | length > 0 and all' $T/top.json
check "no event lost or unmatched (cqe_outside_irq included)" \
	jqe -s '[.[].lost | del(.bpf_runs_skipped, .bpf_runs_skipped_by_program, .completions_missed) | .[]] | add == 0' $T/top.json
check "completions missed only as skipped rq_end runs" \
	test "$(jq -s '[.[].lost.completions_missed] | add' $T/top.json)" -le "$sk_end"

# ---------------------------------------------------------------- text, lat
# Background load for the reports below, stopped when they are done (its
# runtime only bounds it: each report's attach takes seconds under TCG).
fio --name=bg --filename=$D --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
	--hipri --iodepth=4 --numjobs=2 --cpus_allowed=0,1 --cpus_allowed_policy=split \
	--runtime=300 --time_based >/dev/null 2>&1 &
fpid=$!
fio --name=bgirq --filename=$D --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
	--iodepth=4 --numjobs=2 --cpus_allowed=2,3 --cpus_allowed_policy=split \
	--runtime=300 --time_based >/dev/null 2>&1 &
fpid2=$!
# Wait until both loads complete commands (fio's start-up can take
# seconds on a loaded host): 50 more interrupts on queues 3-4, the
# interrupt queues of CPUs 2-3, and 50 more reads in all.
irqsum() {
	awk '$NF ~ /^tnvme0q[34]$/ { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i }
		END { print s + 0 }' /proc/interrupts
}
i0=$(irqsum)
r0=$(awk '{ print $1 }' /sys/block/tnvme0n1/stat)
for _ in $(seq 1 600); do
	[ "$(irqsum)" -gt $((i0 + 50)) ] &&
		[ "$(awk '{ print $1 }' /sys/block/tnvme0n1/stat)" -gt $((r0 + 50)) ] && break
	sleep 0.1
done
$NS top --plain -n 1 -i 2 >$T/top.txt 2>&1
check "top (text): q5 and q6 rows end with '<- poll'" \
	sh -c "[ \$(grep -cE '^tnvme0 q[56] .* <- poll\$' $T/top.txt) -eq 2 ]"
check "top (text): a POLL QUEUE table with both poll queues, numbers in every column" \
	sh -c "grep -q '^POLL QUEUE .*POLLS/s .*EMPTY/s .*EMPTY% .*CQE/POLL .*POLL_CPUS' $T/top.txt &&
	       [ \$(sed -n '/^POLL QUEUE/,/^\$/p' $T/top.txt | grep -cE '^tnvme0 q[56] +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9]') -eq 2 ]"
check "top (text): the poll queues' intervals are sq_doorbell -> poll and poll -> cqe" \
	sh -c "[ \$(grep -c 'sq_doorbell -> poll' $T/top.txt) -eq 2 ] && [ \$(grep -c 'poll -> cqe' $T/top.txt) -eq 2 ]"
check "top (text): interrupt queues keep sq_doorbell -> irq" grep -q 'sq_doorbell -> irq' $T/top.txt
$NS lat --json -d 2 >$T/lat.json 2>&1
check "lat --json: poll queues have sq_doorbell-poll and poll-cqe with counts" \
	jqe '[.queues[] | select(.qid == 5 or .qid == 6) | .queue_type == "poll" and .latency["sq_doorbell-poll"].count > 0 and .latency["poll-cqe"].count > 0 and (.latency | has("irq-cqe") | not)] | length == 2 and all' $T/lat.json
check "lat --json: interrupt queues keep sq_doorbell-irq" \
	jqe '[.queues[] | select(.qid >= 1 and .qid <= 4 and .completions > 0) | .queue_type == "interrupt" and .latency["sq_doorbell-irq"].count > 0] | length > 0 and all' $T/lat.json
$NS lat -d 1 -q 5 >$T/lat.txt 2>&1
check "lat (text): '=== tnvme0 q5 (poll queue, no interrupt)' and 'sq_doorbell -> poll'" \
	sh -c "grep -q '^=== tnvme0 q5 (poll queue, no interrupt): ' $T/lat.txt && grep -q '^sq_doorbell -> poll ' $T/lat.txt && grep -q '^poll -> cqe ' $T/lat.txt"
kill $fpid $fpid2 2>/dev/null
wait $fpid $fpid2

# ---------------------------------------------------------------- trace
# One polled read on CPU 0 (blk-mq sends CPU 0's polled I/O to q5): its
# events in causal order, with "poll" where an interrupt queue has "irq".
pq=$(for q in $POLLQ; do grep -qw 0 <(tr ',' '\n' </sys/block/tnvme0n1/mq/$((q - 1))/cpu_list) && echo $q; done | head -1)
$NS trace --json -c 1 -o read -q "${pq:-5}" -d 60 >$T/trace.json 2>$T/trace.err &
pid=$!
# the read must not start before every program is attached (one by one)
check "trace attaches its programs" wait_attached tnvme_rq_start tnvme_dma_map tnvme_poll \
	tnvme_cqe tnvme_dma_unmap tnvme_cq_doorbell
# (io_uring: on 6.1 only it polls; a synchronous preadv2 with RWF_HIPRI
# goes to an interrupt queue)
taskset -c 0 fio --name=one --filename=$D --rw=read --bs=4k --size=4k --offset=1m --direct=1 \
	--ioengine=io_uring --hipri --iodepth=1 >/dev/null 2>&1
wait $pid
expect_eq "trace -c 1 of a polled read exits 0" 0 $?
expect_eq "trace of one polled read (q${pq:-?}): all steps in causal order, poll for irq" \
	"rq_start,dma_map,sq_write,sq_doorbell,poll,cqe,fetch,rq_end,dma_unmap,cq_doorbell" \
	"$(jq -r '[.events[].event] | join(",")' $T/trace.json 2>/dev/null)"
expect_eq "trace: polled, polled on CPU 0" "true 0" "$(jq -r '"\(.polled) \(.irq_cpu)"' $T/trace.json 2>/dev/null)"
check "no BPF program left" no_programs_left

# ---------------------------------------------------------------- stock driver
# The stock driver with poll_queues=2 (read at probe): same queue types,
# but no event for a poll, so its poll numbers are unknown (null, "-").
echo 2 >/sys/module/nvme/parameters/poll_queues
check "give the lab controller back to nvme, with poll_queues=2" tools/tnvme-bind --unbind
echo 0 >/sys/module/nvme/parameters/poll_queues
c=
for i in $(seq 1 50); do
	c=$(ls /sys/bus/pci/devices/$LABVM_LAB_PCI/nvme 2>/dev/null | sed -n 's/^nvme\([0-9]*\)$/\1/p')
	[ -n "$c" ] && ls /sys/class/nvme/nvme$c/ | grep -q "^nvme.*n1$" && break
	sleep 0.2
done
disk=$(ls /sys/class/nvme/nvme$c/ 2>/dev/null | grep -m1 "^nvme.*n1$")
expect_eq "stock nvme$c ($disk): 2 poll contexts" "default default default default poll poll" \
	"$(cat /sys/kernel/debug/block/$disk/hctx{0,1,2,3,4,5}/type 2>/dev/null | paste -sd' ')"
$NS irq --driver nvme -C "$c" --json -i 0.5 >$T/nvme-irq.json 2>&1
check "irq --driver nvme: q5 and q6 are poll queues, no mismatch" \
	jqe '[.queues[] | select(.qid == 5 or .qid == 6) | .queue_type == "poll" and .mismatch == false and .irq == null] | length == 2 and all' $T/nvme-irq.json
top_start $T/nvme.json --driver nvme -C "$c" || not_ok "top --driver nvme reports"
fio --name=polled --filename=/dev/$disk --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
	--hipri --iodepth=4 --numjobs=2 --cpus_allowed=0,1 --cpus_allowed_policy=split \
	--runtime=3 --time_based --group_reporting \
	--output-format=terse --terse-version=3 >$T/fio-nvme.out 2>&1
top_stop $T/nvme.json
expect_eq "top --driver nvme stops on SIGINT with exit 0" 0 $TOP_RC
fio_ios=$(fio_terse_ios $T/fio-nvme.out)
done_nvme=$(( $(nsum $T/nvme.json 5 .completions) + $(nsum $T/nvme.json 6 .completions) ))
exact "--driver nvme: completions on the poll queues = fio's polled I/Os" "$done_nvme" "${fio_ios%.*}" \
	"$(skipped_runs $T/nvme.json nvme_complete_rq)"
check "--driver nvme: poll queues, their poll numbers null (unknown), never 0" \
	jqe -s '[.[].queues[] | select(.qid == 5 or .qid == 6) | .queue_type == "poll" and .polls_per_s == null and .empty_polls_per_s == null and .empty_polls_pct == null and .cqes_per_poll == null and .poll_cpus == null and .events.poll == null and .events.poll_reaped == null] | length > 0 and all' $T/nvme.json
check "--driver nvme: its reap start is poll -> cqe on a poll queue" \
	jqe -s '([.[].queues[] | select(.qid == 5 or .qid == 6) | .latency["poll-cqe"].count // 0] | add > 0) and ([.[].queues[] | select(.qid == 5 or .qid == 6) | .latency["sq_doorbell-poll"] == null] | all)' $T/nvme.json
fio --name=bg --filename=/dev/$disk --rw=randread --bs=4k --direct=1 --ioengine=io_uring \
	--hipri --iodepth=4 --numjobs=2 --cpus_allowed=0,1 --cpus_allowed_policy=split \
	--runtime=300 --time_based >/dev/null 2>&1 &
fpid=$!
check "fio polls on the stock driver's disk" wait_disk_io "$disk"
$NS top --driver nvme -C "$c" --plain -n 1 -i 2 >$T/nvme-top.txt 2>&1
kill $fpid 2>/dev/null
wait $fpid
check "top --driver nvme (text): poll rows with '-' and the reason" \
	sh -c "[ \$(sed -n '/^POLL QUEUE/,/^\$/p' $T/nvme-top.txt | grep -cE '^nvme$c q[56] +- +- +- +- +-') -eq 2 ] &&
	       grep -q 'the nvme driver has no event for a poll' $T/nvme-top.txt"
check "no BPF program left at the end" no_programs_left
cp $T/*.json $T/*.txt $T/*.err $T/ftrace.counts "$LABVM_OUT/" 2>/dev/null
finish
