#!/usr/bin/env bash
# Guest half of tests/vm/devview.sh: "nvmescope record" while fio runs on
# tnvme; the host side merges the record with QEMU's device trace.
. "$LABVM_ROOT/tests/lib.sh"
O=$LABVM_OUT
REC=$O/host-trace.log

# every doorbell must be an MMIO write QEMU traces (docs/device-view.md)
tnvme-bind shadow_doorbells=0 >/dev/null || { not_ok "tnvme-bind"; exit 1; }
# start the workload once the BPF programs run (the file says so)
check "nvmescope record attached" record_start "$REC"
pid=$RECORD_PID
fio --name=devview --filename=/dev/tnvme0n1 --rw=randrw --bs=4k --direct=1 \
	--ioengine=io_uring --iodepth=8 --numjobs=2 --runtime=${DEVVIEW_SECONDS:-3} \
	--time_based --group_reporting --output="$O/fio.out" >/dev/null
expect_eq "fio exits 0" 0 $?
kill -INT $pid
wait $pid
expect_eq "nvmescope record exits 0 on SIGINT" 0 $?
check "the record has an end line" grep -q '^# end ' "$REC"
n=$(grep -c '^C ' "$REC")
check "the record has commands ($n)" [ "$n" -gt 100 ]
finish
