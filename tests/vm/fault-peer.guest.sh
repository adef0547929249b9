#!/usr/bin/env bash
# Guest half of tests/vm/fault-peer.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

D=/dev/tnvme0n1
W=/tmp/fault-peer
mkdir -p $W
if ! insmod driver/tnvme.ko || ! tools/tnvme-bind >/dev/null; then
	not_ok "tnvme-bind"
	finish
	exit
fi
cpus=$(nproc)

# fio_verify NAME SECONDS [FIO OPTIONS]: crc32c verify, one job per CPU on
# its own 16 MiB region, in the background; fio_check NAME judges it.
fio_verify() {
	local name=$1 secs=$2 jobs="" c
	shift 2
	for c in $(seq 0 $((cpus - 1))); do
		jobs="$jobs --name=$name$c --offset=$((c * 16))m"
	done
	# shellcheck disable=SC2086
	(cd $W && timeout $((secs + 60)) fio --filename=$D --direct=1 \
		--ioengine=libaio --rw=randwrite --bsrange=4k-128k --iodepth=16 \
		--size=16m --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--verify_state_save=0 --time_based --runtime="$secs" "$@" $jobs \
		--output-format=terse --terse-version=3 >$W/$name.out 2>&1
	 echo $? >$W/$name.rc) &
	FIO_PID=$!
}
fio_check() {
	local rc errs
	wait "$FIO_PID"
	rc=$(cat $W/$1.rc)
	errs=$(awk -F';' '{ s += $5 } END { print s + 0 }' $W/$1.out)
	if [ "$rc" = 0 ] && [ "$errs" = 0 ] && [ "$(grep -c '^3;' $W/$1.out)" = "$cpus" ]; then
		ok "$2: fio crc32c verify passes"
	else
		not_ok "$2: fio rc=$rc errors=$errs: $(head -c 400 $W/$1.out)"
	fi
}

# --- I/O schedulers switched every 0.3 s during fio.
modprobe -q kyber-iosched 2>/dev/null; modprobe -q bfq 2>/dev/null
scheds=$(tr -d '[]' </sys/block/tnvme0n1/queue/scheduler)
fio_verify sched 15
n=0
while kill -0 $FIO_PID 2>/dev/null; do
	for s in $scheds; do
		echo "$s" >/sys/block/tnvme0n1/queue/scheduler && n=$((n + 1))
		sleep 0.3
	done
done
fio_check sched "$n scheduler switches ($scheds)"
echo none >/sys/block/tnvme0n1/queue/scheduler

# --- CPU hotplug during fio: CPUs 1..n-1 offline and online again, one
# after the other (CPU 0 cannot go offline).  With managed interrupts each
# CPU's queue loses its only CPU: blk-mq drains it, the IRQ core shuts the
# vector down, and brings both back.
fio_verify hotplug 20
n=0
while kill -0 $FIO_PID 2>/dev/null; do
	for c in $(seq 1 $((cpus - 1))); do
		echo 0 >/sys/devices/system/cpu/cpu$c/online && n=$((n + 1))
		sleep 0.5
		echo 1 >/sys/devices/system/cpu/cpu$c/online
		sleep 0.3
	done
done
for c in $(seq 1 $((cpus - 1))); do echo 1 >/sys/devices/system/cpu/cpu$c/online; done
fio_check hotplug "$n CPU offline/online cycles"
expect_eq "all CPUs online again" "$cpus" "$(nproc)"

# --- Large discards: the whole 1 GiB at once, then 512 MiB ranges; data
# outside a discarded range survives.
check "blkdiscard of the whole device (1 GiB, one request per max_discard)" blkdiscard $D
dd if=/dev/urandom of=$W/pat bs=1M count=1 status=none
dd if=$W/pat of=$D bs=1M oflag=direct status=none
check "blkdiscard -o 1M -l 512M" blkdiscard -o 1048576 -l 536870912 $D
check "blkdiscard -o 513M (to the end)" blkdiscard -o 537919488 $D
check "the first MiB, outside the discards, is intact" \
	sh -c "dd if=$D bs=1M count=1 iflag=direct status=none | cmp -s - $W/pat"

# --- Flush storm: every write followed by fdatasync (REQ_PREFLUSH),
# plus blockdev --flushbufs in a loop, during verify.
fio_verify flush 10 --fdatasync=1 --ioengine=psync --iodepth=1
n=0
while kill -0 $FIO_PID 2>/dev/null; do
	blockdev --flushbufs $D && n=$((n + 1))
done
fio_check flush "fdatasync after every write + $n blockdev --flushbufs"
check "nvme flush /dev/tnvme0n1" sh -c "nvme flush /dev/tnvme0n1 -n 1 >/dev/null"

check "no reset, no timeout, no error logged" \
	sh -c "! dmesg | grep -E 'tnvme|0000:02:00.0' | grep -q -e 'timed out' -e reset -e Error -e Fault"
check "unbind and rmmod" sh -c "tools/tnvme-bind --unbind >/dev/null && rmmod tnvme"
finish
