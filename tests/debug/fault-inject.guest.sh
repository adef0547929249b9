#!/usr/bin/env bash
# Guest half of tests/debug/fault-inject.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

B=/sys/block/tnvme0n1
K=/sys/kernel/tracing
F=/sys/kernel/debug
W=/tmp/fault-inject
NS=build/bin/nvmescope
mkdir -p $W
[ -d $K/events ] || mount -t tracefs nodev $K
[ -d $F/block ] || mount -t debugfs none $F

if ! insmod driver/tnvme.ko || ! tools/tnvme-bind >/dev/null; then
	not_ok "insmod, bind"
	finish
	exit
fi
check "tnvme's fault attribute exists (CONFIG_FAULT_INJECTION_DEBUG_FS)" \
	test -f $F/tnvme/fail_completion/probability
check "the block layer's exists (CONFIG_FAIL_IO_TIMEOUT)" \
	test -f $B/io-timeout-fail -a -f $F/fail_io_timeout/probability
# 2 s instead of 30: each lost completion costs two timeouts
echo 2000 >$B/queue/io_timeout
echo 1 >$K/events/tnvme/tnvme_timeout/enable

# lose_one NAME ATTR INTERVAL MESSAGE: arm fault attribute folder ATTR to
# fail once, at its INTERVAL-th call; fio writes and verifies with
# nvmescope top watching; then check what happened.  MESSAGE: what the
# kernel log says when the fault fires.
lose_one() {
	local name=$1 attr=$2 interval=$3 msg=$4 before ns rc errs seq missed
	: >$K/trace
	before=$(dmesg | wc -l)
	$NS top --json -i 1 >$W/$name.top.json 2>$W/$name.top.err &
	ns=$!
	for _ in $(seq 1 300); do
		[ -s $W/$name.top.json ] && break
		sleep 0.2
	done
	# probability last: it arms the attribute
	echo "$interval" >$attr/interval
	echo 1 >$attr/verbose
	echo 1 >$attr/times
	echo 100 >$attr/probability
	(cd $W && fio --name=$name --filename=/dev/tnvme0n1 --direct=1 \
		--ioengine=libaio --rw=randwrite --bsrange=4k-64k --iodepth=4 \
		--size=8m --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--verify_state_save=0 --output-format=terse --terse-version=3 \
		>$W/$name.fio 2>&1)
	rc=$?
	sleep 1.5	# one more report after fio
	kill -INT $ns
	wait $ns
	errs=$(awk -F';' '$1 == 3 { s += $5 } END { print s + 0 }' $W/$name.fio)
	check "$name: fio write+verify ends with no error (rc $rc, errors $errs)" \
		test "$rc" = 0 -a "$errs" = 0
	expect_eq "$name: the attribute failed once (times left)" 0 "$(cat $attr/times)"
	check "$name: the kernel log says so ($msg)" \
		sh -c "dmesg | tail -n +$((before + 1)) | grep -q '$msg'"
	seq=$(grep -o 'tnvme_timeout: ctrl=0 .*action=[a-z]*' $K/trace | sed 's/.*action=//' | tr '\n' ' ')
	expect_eq "$name: timeout actions: Abort (nothing found by polling), then reset" "abort reset " "$seq"
	check "$name: dmesg: sent Abort, not aborted, reset, reset done" sh -c "
		dmesg | tail -n +$((before + 1)) >$W/$name.dmesg
		grep -q 'timed out: sent Abort' $W/$name.dmesg &&
		grep -q 'command not aborted' $W/$name.dmesg &&
		grep -q 'timed out after Abort: resetting the controller' $W/$name.dmesg &&
		grep -q 'reset done' $W/$name.dmesg"
	missed=$(jq -s '[.[].lost.completions_missed] | add' $W/$name.top.json 2>/dev/null)
	expect_eq "$name: nvmescope top counts the one completion it never saw" 1 "$missed"
	expect_eq "$name: state is live again" live "$(cat /sys/class/tnvme/tnvme0/state)"
	echo 0 >$attr/probability
}

lose_one tnvme-first $F/tnvme/fail_completion 1 'fault injection: dropped the CQE of queue'
lose_one tnvme-50th $F/tnvme/fail_completion 50 'fault injection: dropped the CQE of queue'
echo 1 >$B/io-timeout-fail
lose_one block-layer $F/fail_io_timeout 1 'name fail_io_timeout'
echo 0 >$B/io-timeout-fail

check "unbind and rmmod" sh -c "tools/tnvme-bind --unbind >/dev/null && rmmod tnvme"
# kmemleak: two scans (an object must look unreferenced twice in a row)
echo scan >$F/kmemleak
echo scan >$F/kmemleak
check "kmemleak suspects no leak" sh -c "! grep -q unreferenced $F/kmemleak"
finish
