#!/usr/bin/env bash
# Guest half of tests/vm/fault-timeout.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T
LAB=$LABVM_LAB_PCI
EXTRA=$LABVM_EXTRA_PCI

# Bind with the default io_timeout (30 s), so the partition scan's reads
# (3.5 s and 9 s each) simply wait; both binds run at once.  Then shorten
# the timeout per disk through the block layer's own attribute
# (queue/io_timeout, milliseconds).  max_retries is writable at run time.
insmod driver/tnvme.ko || { not_ok "insmod"; finish; exit; }
tools/tnvme-bind "$LAB" >/dev/null & b1=$!
tools/tnvme-bind "$EXTRA" >/dev/null & b2=$!
if ! wait $b1 || ! wait $b2; then
	not_ok "bind both null-co controllers to tnvme"
	finish
	exit
fi
inst_of() { ls "/sys/bus/pci/devices/$1/tnvme"; }
L=$(inst_of "$LAB")
X=$(inst_of "$EXTRA")
check "instances found ($L for lab, $X for extra)" test -n "$L" -a -n "$X"
echo 2000 >/sys/block/${L}n1/queue/io_timeout
echo 2000 >/sys/block/${X}n1/queue/io_timeout
echo 1 >/sys/module/tnvme/parameters/max_retries

before=$(dmesg | wc -l)
echo 1 >$T/events/tnvme/tnvme_timeout/enable
echo 1 >$T/events/tnvme/tnvme_ctrl_state/enable

# Both scenarios at once: they run on different controllers.
( s=$(date +%s%N)
  dd if=/dev/${L}n1 of=/dev/null bs=4k count=1 iflag=direct status=none
  echo "$? $((($(date +%s%N) - s) / 1000000))" >/tmp/lab.rc ) &
( s=$(date +%s%N)
  dd if=/dev/${X}n1 of=/dev/null bs=4k count=1 iflag=direct 2>/tmp/extra.err status=none
  echo "$? $((($(date +%s%N) - s) / 1000000))" >/tmp/extra.rc ) &
wait

read -r rc ms </tmp/lab.rc
expect_eq "lab: the 3.5 s read succeeds after one Abort ($ms ms)" 0 "$rc"
lc=${L#tnvme}
xc=${X#tnvme}
aborts=$(grep -c "tnvme_timeout: ctrl=$lc .*action=abort" $T/trace)
resets=$(grep -c "tnvme_timeout: ctrl=$lc .*action=reset" $T/trace)
expect_eq "lab: exactly one timeout, answered with Abort" "1 0" "$aborts $resets"
check "lab: dmesg shows the Abort and its answer (not aborted)" \
	sh -c "dmesg | grep '$LAB' | grep -q 'Abort of queue [0-9]* cid .*command not aborted'"
expect_eq "lab: no reset, state stays live" live "$(cat /sys/class/tnvme/$L/state)"

read -r rc ms </tmp/extra.rc
check "extra: the 9 s read fails with EIO after Abort, reset, retry, reset ($ms ms): $(cat /tmp/extra.err)" \
	sh -c "[ $rc -ne 0 ] && grep -q 'Input/output error' /tmp/extra.err"
# The read fails when the second reset cancels it, before that reset has
# rebuilt the controller: let the reset finish before looking at states.
for i in $(seq 50); do
	[ "$(cat /sys/class/tnvme/$X/state)" = resetting ] || break
	sleep 0.2
done
seq=$(grep "tnvme_timeout: ctrl=$xc " $T/trace | sed 's/.*action=//' | tr '\n' ' ')
expect_eq "extra: timeout actions in order" "abort reset abort reset " "$seq"
states=$(grep "tnvme_ctrl_state: ctrl=$xc " $T/trace | sed 's/.*ctrl=[0-9]* //' | tr '\n' ',')
expect_eq "extra: state transitions" "live -> resetting,resetting -> live,live -> resetting,resetting -> live," "$states"
n=$(dmesg | tail -n +$((before + 1)) | grep "$EXTRA" | grep -c "${X}n1: Command Aborted By Host (sct 0x3 / sc 0x71) opcode 0x02 LBA 0 blocks 8 retries 1")
expect_eq "extra: the failed read is logged once, with LBA, blocks and retries" 1 "$n"
expect_eq "extra: live again after the resets" live "$(cat /sys/class/tnvme/$X/state)"
check "extra: admin commands work after the resets (nvme id-ctrl)" sh -c "nvme id-ctrl /dev/$X >/dev/null"
check "lab: tnvme-bind --unbind, rmmod" sh -c "tools/tnvme-bind --unbind $LAB >/dev/null && tools/tnvme-bind --unbind $EXTRA >/dev/null && rmmod tnvme"

# The lab scenario again on a poll queue (poll_queues=1: queue 5 on this
# 4-CPU guest).  The task that submitted the read polls for it; the
# timeout handler polls the CQ too (empty), sends Abort and restarts the
# timer, and at 3.5 s the task's own poll reaps the completion.
if tools/tnvme-bind "$LAB" poll_queues=1 >/dev/null; then
	L=$(inst_of "$LAB")
	lc=${L#tnvme}
	echo 2000 >/sys/block/${L}n1/queue/io_timeout
	: >$T/trace
	# a module's events are created anew, disabled, when it loads
	echo 1 >$T/events/tnvme/tnvme_timeout/enable
	echo 1 >$T/events/tnvme/tnvme_cqe/enable
	s=$(date +%s%N)
	fio --name=polled --filename=/dev/${L}n1 --direct=1 --ioengine=io_uring \
		--hipri --rw=read --bs=4k --size=4k --number_ios=1 \
		--output-format=terse --terse-version=3 >/tmp/polled.out 2>&1
	rc=$?
	ms=$((($(date +%s%N) - s) / 1000000))
	errs=$(awk -F';' '$1 == 3 { s += $5 } END { print s + 0 }' /tmp/polled.out)
	expect_eq "poll queue: the 3.5 s polled read succeeds after one Abort ($ms ms)" "0 0" "$rc $errs"
	seq=$(grep "tnvme_timeout: ctrl=$lc " $T/trace | sed 's/.*qid=\([0-9]*\) .*action=/\1:/' | tr '\n' ' ')
	expect_eq "poll queue: one timeout on queue 5, answered with Abort" "5:abort " "$seq"
	# A poll queue's CQE is reaped by a poll or by the timeout handler
	# (action "completed", which the check above rules out).  (Not
	# "a poll with cqes=1": a poll that saw nothing at its start may
	# reap an entry posted while it looked.)
	check "poll queue: the completion was reaped on queue 5, by the task's poll" \
		grep -q "tnvme_cqe: ctrl=$lc qid=5 " $T/trace
	expect_eq "poll queue: no reset, state stays live" live "$(cat /sys/class/tnvme/$L/state)"
	echo 0 >$T/events/tnvme/tnvme_cqe/enable
	check "poll queue: tnvme-bind --unbind, rmmod" \
		sh -c "tools/tnvme-bind --unbind $LAB >/dev/null && rmmod tnvme"
else
	not_ok "bind the lab controller with poll_queues=1"
fi
dmesg | grep -E 'tnvme|nvme' | tail -40 >"$LABVM_OUT/dmesg-tail.txt"
finish
