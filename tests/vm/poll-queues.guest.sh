#!/usr/bin/env bash
# Guest half of tests/vm/poll-queues.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

D=/dev/tnvme0n1
B=/sys/block/tnvme0n1
K=/sys/kernel/tracing
W=/tmp/poll-queues
mkdir -p $W

# hctx_types: the type of each hardware context, in order (debugfs: 6.1
# has no mq/*/type in sysfs).
hctx_types() {
	local h
	for h in $(ls -d /sys/kernel/debug/block/tnvme0n1/hctx* | sort -V); do
		cat "$h/type"
	done | tr '\n' ' '
}
# irqs QID: the interrupt count of queue QID's vector, all CPUs ("none"
# if it has no line in /proc/interrupts).
irqs() {
	awk -v q="tnvme0q$1" '$NF == q { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s; f = 1 }
		END { if (!f) print "none" }' /proc/interrupts
}
# fio_ok NAME ARGS...: fio with crc32c verify must end with no error.
fio_ok() {
	local name=$1
	shift
	(cd $W && fio --name="$name" --filename=$D --direct=1 --verify=crc32c \
		--verify_fatal=1 --verify_state_save=0 --output-format=terse \
		--terse-version=3 "$@" >$W/$name.out 2>&1)
	local rc=$? errs
	errs=$(awk -F';' '$1 == 3 { s += $5 } END { print s + 0 }' $W/$name.out)
	check "$name: fio ends with no error (rc $rc, error sum $errs)" test "$rc" = 0 -a "$errs" = 0
}

check "bind the lab controller to tnvme with poll_queues=2" tools/tnvme-bind poll_queues=2
check "dmesg says which queues poll" sh -c "dmesg | grep -q 'tnvme0: I/O queues 5-6 are poll queues (no interrupt)'"
expect_eq "hardware contexts: 4 default (interrupts), 2 poll" \
	"default default default default poll poll " "$(hctx_types)"
expect_eq "queue/io_poll is 1 (the queue can poll)" 1 "$(cat $B/queue/io_poll)"
expect_eq "queue/io_poll_delay is -1 (classic polling)" -1 "$(cat $B/queue/io_poll_delay)"
expect_eq "queues 5 and 6 have no interrupt line in /proc/interrupts" "none none" "$(irqs 5) $(irqs 6)"
check "queues 1-4 have theirs" sh -c "[ $(irqs 1) != none ] && [ $(irqs 4) != none ]"
# every CPU has a poll context to submit polled I/O to (contexts 4 and
# 5; blk_mq_map_queues() spreads the CPUs over them)
expect_eq "every CPU is in a poll context's cpu_list" "0,1,2,3" \
	"$(cat $B/mq/4/cpu_list $B/mq/5/cpu_list | tr ', ' '\n\n' | grep . | sort -n | paste -sd,)"

# --- Polled I/O, traced: every CQE of a poll queue is reaped by a poll.
echo 1 >$K/events/tnvme/tnvme_poll/enable
echo 1 >$K/events/tnvme/tnvme_cqe/enable
echo 1 >$K/events/tnvme/tnvme_irq/enable
: >$K/trace
fio_ok hipri --ioengine=io_uring --hipri --rw=randwrite --bsrange=4k-128k \
	--iodepth=8 --size=16m
echo 0 >$K/events/tnvme/enable
cat $K/trace >$W/trace.txt
awk '
	/ tnvme_poll: / { for (i = 1; i <= NF; i++) if ($i ~ /^(qid|cqes)=/) { split($i, kv, "="); v[kv[1]] = kv[2] }
		polls++; if (v["cqes"] == 0) empty++; pending[v["qid"]] = v["cqes"] }
	/ tnvme_cqe: / { for (i = 1; i <= NF; i++) if ($i ~ /^qid=/) { split($i, kv, "="); q = kv[2] }
		if (q >= 5) { cqes++ } }
	/ tnvme_irq: / { for (i = 1; i <= NF; i++) if ($i ~ /^qid=/) { split($i, kv, "="); q = kv[2] }
		if (q >= 5) irq_on_poll++ }
	END { printf "polls=%d empty=%d cqes_on_poll_queues=%d irq_events_on_poll_queues=%d\n", polls, empty, cqes, irq_on_poll + 0 }
' $W/trace.txt >$W/counts.txt
echo "# io_uring --hipri: $(cat $W/counts.txt)"
eval "$(tr ' ' '\n' <$W/counts.txt | sed 's/^/c_/')"
check "polled I/O went through tnvme_poll (polls counted: $c_polls)" test "${c_polls:-0}" -gt 0
check "its completions were on the poll queues 5-6 ($c_cqes_on_poll_queues CQEs)" test "${c_cqes_on_poll_queues:-0}" -gt 0
expect_eq "no tnvme_irq event on a poll queue" 0 "$c_irq_events_on_poll_queues"
# a poll that saw N entries reaps them (and any that arrive meanwhile):
# the CQEs handled on poll queues are at least the sum of what polls saw
seen=$(awk '/ tnvme_poll: / { for (i = 1; i <= NF; i++) if ($i ~ /^cqes=/) { split($i, kv, "="); s += kv[2] } } END { print s + 0 }' $W/trace.txt)
check "every entry a poll saw was handled ($seen seen, $c_cqes_on_poll_queues handled)" test "$seen" -le "$c_cqes_on_poll_queues"

fio_ok irq --ioengine=io_uring --rw=randwrite --bsrange=4k-128k --iodepth=8 --size=16m --offset=64m

# --- The blktests block/007 pattern: polled reads in classic mode
# (io_poll_delay=-1), then hybrid (0).  On the 6.1 lab kernel io_uring
# polls without sleeping in both modes, and pvsync2 --hipri (the engine
# block/007 uses) is not polled at all: 6.1 ignores RWF_HIPRI for
# synchronous direct I/O.  Both must still work with either setting.
for mode in -1 0; do
	echo $mode >$B/queue/io_poll_delay
	expect_eq "io_poll_delay=$mode is taken" "$mode" "$(cat $B/queue/io_poll_delay)"
	fio_ok "b007-uring-$mode" --ioengine=io_uring --hipri --rw=randrw --bs=4k \
		--iodepth=4 --numjobs=2 --size=8m --offset_increment=8m
	fio_ok "b007-pvsync2-$mode" --ioengine=pvsync2 --hipri --rw=randrw --bs=4k \
		--size=4m --offset=128m
done
echo -1 >$B/queue/io_poll_delay

# --- A polled read that nobody polls for: the task submits it and sleeps
# (tests/vm/iopoll-stall.c).  The CQE is posted at once, but on a poll
# queue no interrupt says so; the timeout handler (2 s here) polls the CQ
# before anything else, finds the completion and ends the request: no
# Abort, no reset.
old_timeout=$(cat $B/queue/io_timeout)
echo 2000 >$B/queue/io_timeout
: >$K/trace
echo 1 >$K/events/tnvme/tnvme_timeout/enable
before=$(dmesg | wc -l)
out=$("$LABVM_OUT/iopoll-stall" $D 5 2>&1)
check "a polled read left unpolled for 5 s still returns its 4 KiB ($out)" \
	sh -c "echo '$out' | grep -q 'res=4096 after'"
check "the timeout handler found it by polling the poll queue" \
	sh -c "dmesg | tail -n +$((before + 1)) | grep -q 'tnvme .*: queue [56] cid [0-9]*: completion found by polling (poll queue, not polled in time)'"
actions=$(grep -o 'tnvme_timeout: ctrl=0 qid=[0-9]* .*action=[a-z]*' $K/trace | sed 's/.*action=//' | tr '\n' ' ')
expect_eq "its only timeout action: completed (no Abort, no reset)" "completed " "$actions"
echo 0 >$K/events/tnvme/tnvme_timeout/enable
echo "$old_timeout" >$B/queue/io_timeout

# --- A controller reset during polled I/O: requests on the poll queues
# are cancelled, requeued and sent again; fio verify stays clean.
(fio_ok reset --ioengine=io_uring --hipri --rw=randwrite --bsrange=4k-64k \
	--iodepth=8 --numjobs=2 --size=16m --offset_increment=16m \
	--time_based --runtime=8 >$W/reset.tap) &
sleep 3
check "nvme reset during polled I/O" nvme reset /dev/tnvme0
wait
cat $W/reset.tap
expect_eq "after the reset: still 2 poll contexts" \
	"default default default default poll poll " "$(hctx_types)"

# --- Unbind during polled I/O: fio ends (with errors), nothing hangs.
(cd $W && timeout 60 fio --name=unbind --filename=$D --direct=1 --ioengine=io_uring \
	--hipri --rw=randread --bs=4k --iodepth=8 --time_based --runtime=20 \
	--allow_file_create=0 --output-format=terse >$W/unbind.out 2>&1
 echo $? >$W/unbind.rc) &
sleep 3
check "unbind tnvme during polled I/O" tools/tnvme-bind --unbind
wait
check "fio on the unbound disk ended (rc $(cat $W/unbind.rc), not killed by its timeout)" \
	test "$(cat $W/unbind.rc)" != 124

# --- Without poll_queues (the default): no poll context, no polling.
check "unload tnvme (its parameters are read at load)" rmmod tnvme
check "bind tnvme again, default parameters" tools/tnvme-bind
expect_eq "default: 4 hardware contexts, no poll one" "default default default default " "$(hctx_types)"
expect_eq "default: queue/io_poll is 0" 0 "$(cat $B/queue/io_poll)"
fio_ok hipri-no-poll-queues --ioengine=io_uring --hipri --rw=randwrite --bs=4k \
	--iodepth=4 --size=8m

n=$(dmesg | grep -c 'tnvme.*timed out')
expect_eq "no command timed out" 0 "$n"
finish
