#!/bin/bash
# Stress for issue #4 (not part of make check; tests/run only runs
# tests/host and tests/vm): attach and detach nvmescope 12 times while fio
# loads both controllers, the load under which the TCG guest used to hang
# (soft lockup in text_poke_bp, see docs/troubleshooting.md).  Run from the
# project folder on the host; exit 0 = fine, 124 = the guest hung:
#
#   tools/labvm run --timeout 200 \
#       --append "softlockup_all_cpu_backtrace=1 watchdog_thresh=8 loglevel=7" \
#       -- tests/stress/nvmescope-attach.guest.sh
#
# The --append makes a hang print every CPU's backtrace on the console.
# --env NVMESCOPE_EXTRA=--irq-events attaches to irq:irq_handler_entry too
# (the attach that used to hang under --tcg-threads multi).
rmmod tnvme 2>/dev/null
insmod $LABVM_ROOT/driver/tnvme.ko io_queues=2 && tnvme-bind >/dev/null || exit 1
fio --name=a --filename=/dev/tnvme0n1 --rw=randread --bs=4k --direct=1 --ioengine=io_uring --iodepth=32 --cpus_allowed=3 --runtime=200 --time_based --output=/dev/null &
fio --name=b --filename=$LABVM_SYS_DEV --rw=randread --bs=4k --direct=1 --ioengine=io_uring --iodepth=32 --numjobs=2 --runtime=200 --time_based --output=/dev/null &
sleep 2
for i in $(seq 12); do
	t0=$(date +%s.%N)
	nvmescope trace $NVMESCOPE_EXTRA -c 2 --json -d 10 >/tmp/t.json 2>/tmp/t.err &
	p=$!
	sleep 1
	dd if=/dev/tnvme0n1 of=/dev/null bs=4k count=4 iflag=direct 2>/dev/null
	wait $p; rc=$?
	nvmescope top $NVMESCOPE_EXTRA -n 1 -i 0.5 --plain >/dev/null 2>&1; rc2=$?
	nvmescope top $NVMESCOPE_EXTRA -n 1 -i 0.3 --driver nvme --plain >/dev/null 2>&1; rc3=$?
	echo "iter $i trace=$rc top=$rc2 stock=$rc3 $(echo "$(date +%s.%N) - $t0" | bc) s"
done
kill %1 %2; wait
echo done
