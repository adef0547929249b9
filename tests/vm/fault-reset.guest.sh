#!/usr/bin/env bash
# Guest half of tests/vm/fault-reset.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

D=/dev/tnvme0n1
W=/tmp/fault-reset
T=/sys/kernel/tracing
mkdir -p $W
[ -d $T/events ] || mount -t tracefs nodev $T
if ! insmod driver/tnvme.ko || ! tools/tnvme-bind >/dev/null; then
	not_ok "tnvme-bind"
	finish
	exit
fi
expect_eq "state attribute after probe" live "$(cat /sys/class/tnvme/tnvme0/state)"

# fio: one verify job per CPU, each on its own 16 MiB region, for 45 s
# (write, then read back and check, over and over: --loops).
cpus=$(nproc)
echo 1 >$T/events/tnvme/tnvme_ctrl_state/enable
# shellcheck disable=SC2046
(cd $W && fio --filename=$D --direct=1 --ioengine=libaio --rw=randwrite \
	--bsrange=4k-256k --iodepth=16 --size=16m --verify=crc32c \
	--do_verify=1 --verify_fatal=1 --verify_state_save=0 \
	--time_based --runtime=45 $(cpu_jobs) \
	--output-format=terse --terse-version=3 >$W/fio.out 2>&1) &
fio_pid=$!

sleep 3
resets_while $fio_pid
n=$RESETS
wait $fio_pid
rc=$?
echo 0 >$T/events/tnvme/tnvme_ctrl_state/enable
check "$n resets during fio ($((n / 2 + n % 2)) by ioctl, $((n / 2)) by sysfs), none failed ($RESETS_FAILED)" test "$n" -ge 10 -a "$RESETS_FAILED" = 0
if fio_terse_ok $rc $W/fio.out "$cpus"; then
	ok "fio crc32c verify across the resets: no error, no verify failure"
else
	not_ok "fio verify across resets: rc=$rc errors=$FIO_ERRORS: $(head -c 600 $W/fio.out)"
fi
done_n=$(grep -c 'tnvme_ctrl_state: ctrl=0 resetting -> live' $T/trace)
expect_eq "every reset went live -> resetting -> live (trace)" "$n" "$done_n"
check "no request failed (no 'Command Aborted By Host' in dmesg)" \
	sh -c "! dmesg | grep -q 'Command Aborted By Host'"
requeued=$(dmesg | grep -c 'reset done')
check "dmesg: $requeued x 'reset done'" test "$requeued" = "$n"

# A reset on a quiet controller; the data written before it is still there.
dd if=/dev/urandom of=$W/pat bs=64k count=16 status=none
dd if=$W/pat of=$D bs=64k oflag=direct status=none
check "nvme reset on an idle controller" nvme reset /dev/tnvme0
check "data written before the reset reads back the same" \
	sh -c "dd if=$D bs=64k count=16 iflag=direct status=none | cmp -s - $W/pat"
check "unbind and rmmod" sh -c "tools/tnvme-bind --unbind >/dev/null && rmmod tnvme"
finish
