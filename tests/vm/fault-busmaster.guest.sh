#!/usr/bin/env bash
# Guest half of tests/vm/fault-busmaster.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

D=/dev/tnvme0n1
W=/tmp/fault-busmaster
T=/sys/kernel/tracing
mkdir -p $W
[ -d $T/events ] || mount -t tracefs nodev $T
LAB=$LABVM_LAB_PCI
if ! insmod driver/tnvme.ko io_timeout=3 || ! tools/tnvme-bind >/dev/null; then
	not_ok "tnvme-bind"
	finish
	exit
fi
echo 1 >$T/events/tnvme/tnvme_timeout/enable
echo 1 >$T/events/tnvme/tnvme_ctrl_state/enable

(cd $W && fio --name=bm --filename=$D --direct=1 --ioengine=libaio \
	--rw=randwrite --bsrange=4k-64k --iodepth=16 --numjobs=2 --size=16m \
	--offset_increment=16m --verify=crc32c --do_verify=1 --verify_fatal=1 \
	--verify_state_save=0 --time_based --runtime=25 \
	--output-format=terse --terse-version=3 >$W/fio.out 2>&1
 echo $? >$W/fio.rc) &
fio_pid=$!
sleep 5
for round in 1 2; do
	# Clear Bus Master Enable and read COMMAND back in the same setpci
	# run: read later, under a loaded host, the reset this provokes may
	# already have set it again (io_timeout is 3 s).
	cmd=$(setpci -s "$LAB" COMMAND=0:4 COMMAND)
	check "round $round: bus mastering is off (COMMAND=$cmd)" test $((0x$cmd & 4)) = 0
	# The timeout (3 s + up to 1 s timer slack) must find CFS and reset.
	for _ in $(seq 1 40); do
		[ $((0x$(setpci -s "$LAB" COMMAND) & 4)) = 4 ] && break
		sleep 0.5
	done
	check "round $round: the reset turned bus mastering back on" \
		test $((0x$(setpci -s "$LAB" COMMAND) & 4)) = 4
	sleep 3
done
wait $fio_pid
rc=$(cat $W/fio.rc)
errs=$(awk -F';' '{ s += $5 } END { print s + 0 }' $W/fio.out)
if [ "$rc" = 0 ] && [ "$errs" = 0 ]; then
	ok "fio crc32c verify passes across two bus-master drops"
else
	not_ok "fio rc=$rc errors=$errs: $(head -c 400 $W/fio.out)"
fi
resets=$(grep -c 'tnvme_timeout: ctrl=0 .*action=reset' $T/trace)
cfs=$(grep 'tnvme_timeout: ctrl=0 .*action=reset' $T/trace | grep -c -v 'csts=0x1 ')
check "timeouts saw CSTS.CFS and reset ($resets resets, $cfs with CFS)" test "$resets" -ge 2 -a "$cfs" -ge 2
check "dmesg: controller fatal status, reset done" \
	sh -c "dmesg | grep -q 'controller fatal status' && dmesg | grep -q 'reset done'"
expect_eq "state is live" live "$(cat /sys/class/tnvme/tnvme0/state)"
check "unbind and rmmod" sh -c "tools/tnvme-bind --unbind >/dev/null && rmmod tnvme"
finish
