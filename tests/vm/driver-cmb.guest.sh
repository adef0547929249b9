#!/usr/bin/env bash
# Guest half of tests/vm/driver-cmb.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

D=/dev/tnvme0n1
W=/tmp/driver-cmb
T=/sys/kernel/tracing
mkdir -p $W
[ -d $T/events ] || mount -t tracefs nodev $T
cpus=$(nproc)

check "the lab controller has a 16 MiB prefetchable BAR 2 (the CMB)" \
	sh -c "lspci -vv -s $LABVM_LAB_PCI | grep -q 'Region 2: Memory at .*prefetchable) \[size=16M\]'"
# Small rings (io_depth=32): every SQ in the CMB wraps many times.
if ! insmod driver/tnvme.ko io_depth=32 || ! tools/tnvme-bind >/dev/null; then
	not_ok "tnvme-bind"
	finish
	exit
fi
check "dmesg: tnvme found the CMB in BAR 2 and it allows SQs" \
	sh -c "dmesg | grep -q 'tnvme $LABVM_LAB_PCI: CMB: 16384 KiB at offset 0 of BAR 2 (CMBSZ 0x[0-9a-f]* CMBLOC 0x[0-9a-f]*), SQs allowed'"
check "dmesg: every I/O SQ went to the CMB" \
	sh -c "dmesg | grep -qE 'tnvme0: ([0-9]+) of \1 I/O SQs in the CMB \(use_cmb_sqes=1\), [1-9][0-9]* KiB of 16384 used'"

# --- fio verify, one job per CPU, pinned, sizes 512 B - 1 MiB, traced.
echo 1 >$T/events/tnvme/tnvme_sq_write/enable
# shellcheck disable=SC2046
(cd $W && fio --filename=$D --direct=1 --ioengine=libaio --rw=randrw \
	--bsrange=512-1m --iodepth=8 --size=16m --verify=crc32c \
	--do_verify=1 --verify_fatal=1 --verify_state_save=0 $(cpu_jobs pin) \
	--output-format=terse --terse-version=3 >$W/fio.out 2>&1)
rc=$?
nvme id-ctrl /dev/tnvme0 >/dev/null	# an admin command, traced too
echo 0 >$T/events/tnvme/tnvme_sq_write/enable
if fio_terse_ok $rc $W/fio.out "$cpus"; then
	ok "fio crc32c verify with SQs in the CMB, randrw 512 B - 1 MiB, $cpus jobs pinned one per CPU"
else
	not_ok "fio verify with CMB SQs: rc=$rc errors=$FIO_ERRORS: $(head -c 400 $W/fio.out)"
fi
io_cmb=$(grep -cE 'tnvme_sq_write: ctrl=0 qid=[1-9][0-9]* .* sq=cmb$' $T/trace)
io_host=$(grep -cE 'tnvme_sq_write: ctrl=0 qid=[1-9][0-9]* .* sq=host$' $T/trace)
check "tnvme_sq_write: $io_cmb I/O commands written into the CMB, none into host memory ($io_host)" \
	test "$io_cmb" -gt 100 -a "$io_host" = 0
qids=$(grep -oE 'tnvme_sq_write: ctrl=0 qid=[1-9][0-9]* ' $T/trace | sort -u | wc -l)
check "... on $qids I/O queues (one per CPU: $cpus)" test "$qids" = "$cpus"
check "tnvme_sq_write: the admin SQ stays in host memory (sq=host)" \
	grep -qE 'tnvme_sq_write: ctrl=0 qid=0 .*opcode=0x06 .* sq=host$' $T/trace
check "tnvme_sq_write: some CMB SQ wrapped (a command in slot 31 of a 32-entry ring)" \
	grep -qE 'tnvme_sq_write: ctrl=0 qid=[1-9][0-9]* cid=[0-9]+ sq_slot=31 .* sq=cmb$' $T/trace
echo >$T/trace

# --- nvmescope top: the SQ column and sq_mem.
# (fio runs long enough for top's two reports even on the debug kernel,
# where nvmescope takes seconds to start; top waits until it runs)
fio --name=top --filename=$D --direct=1 --ioengine=io_uring --rw=randread \
	--bs=4k --iodepth=8 --numjobs=$cpus --runtime=$((4 * ${LABVM_SLOWDOWN:-1})) \
	--time_based >/dev/null 2>&1 &
fpid=$!
wait_disk_io tnvme0n1
build/bin/nvmescope top --json -i 1 -n 2 >$W/top.json 2>$W/top.err
expect_eq "nvmescope top --json exits 0" 0 $?
wait $fpid
check "nvmescope top: every I/O queue with commands has sq_mem \"cmb\"" \
	jqe -s '[.[].queues[] | select(.qid > 0 and .events.sq_write > 0)] |
		length > 0 and all(.sq_mem == "cmb" and .events.sq_write_cmb == .events.sq_write)' $W/top.json

# --- fio verify across controller resets (ioctl and sysfs, alternating).
echo 1 >$T/events/tnvme/tnvme_ctrl_state/enable
# 25 s, 50 on the debug kernel, where a reset takes several times longer
rt=25
[ "${LABVM_SLOWDOWN:-1}" -gt 1 ] && rt=50
# shellcheck disable=SC2046
(cd $W && fio --filename=$D --direct=1 --ioengine=libaio --rw=randwrite \
	--bsrange=4k-256k --iodepth=16 --size=16m --verify=crc32c \
	--do_verify=1 --verify_fatal=1 --verify_state_save=0 \
	--time_based --runtime=$rt $(cpu_jobs) \
	--output-format=terse --terse-version=3 >$W/fio-reset.out 2>&1) &
fio_pid=$!
sleep 2
resets_while $fio_pid
wait $fio_pid
rc=$?
echo 0 >$T/events/tnvme/tnvme_ctrl_state/enable
check "$RESETS resets during fio with CMB SQs, none failed ($RESETS_FAILED)" \
	test "$RESETS" -ge 10 -a "$RESETS_FAILED" = 0
if fio_terse_ok $rc $W/fio-reset.out "$cpus"; then
	ok "fio crc32c verify across the resets with CMB SQs: no error, no verify failure"
else
	not_ok "fio verify across resets with CMB SQs: rc=$rc errors=$FIO_ERRORS: $(head -c 600 $W/fio-reset.out)"
fi
done_n=$(grep -c 'tnvme_ctrl_state: ctrl=0 resetting -> live' $T/trace)
expect_eq "every reset went live -> resetting -> live (trace)" "$RESETS" "$done_n"
echo >$T/trace

# --- nvmescope record for the device view (host side merges): every
# doorbell must be an MMIO write QEMU traces.
tools/tnvme-bind --unbind >/dev/null && rmmod tnvme
if ! tools/tnvme-bind shadow_doorbells=0 >/dev/null; then
	not_ok "tnvme-bind shadow_doorbells=0"
	finish
	exit
fi
REC=$LABVM_OUT/host-trace.log
check "nvmescope record attached" record_start "$REC"
pid=$RECORD_PID
fio --name=rec --filename=$D --rw=randrw --bs=4k --direct=1 --ioengine=io_uring \
	--iodepth=8 --numjobs=2 --runtime=3 --time_based >/dev/null
expect_eq "fio under nvmescope record exits 0" 0 $?
kill -INT $pid
wait $pid
expect_eq "nvmescope record exits 0 on SIGINT" 0 $?

# --- use_cmb_sqes=0: the same controller, SQs in host memory.
tools/tnvme-bind --unbind >/dev/null && rmmod tnvme
if ! tools/tnvme-bind use_cmb_sqes=0 >/dev/null; then
	not_ok "tnvme-bind use_cmb_sqes=0"
	finish
	exit
fi
check "dmesg: use_cmb_sqes=0 leaves every I/O SQ in host memory" \
	sh -c "dmesg | grep -qE 'tnvme0: 0 of [1-9][0-9]* I/O SQs in the CMB \(use_cmb_sqes=0\), 0 KiB of 16384 used'"
echo 1 >$T/events/tnvme/tnvme_sq_write/enable
check "fio verify with SQs in host memory" \
	sh -c "cd $W && fio --name=h --filename=$D --direct=1 --ioengine=libaio --rw=randwrite --bs=4k --iodepth=8 --size=8m --verify=crc32c --verify_fatal=1 --verify_state_save=0 >/dev/null 2>&1"
echo 0 >$T/events/tnvme/tnvme_sq_write/enable
check "tnvme_sq_write: sq=host on the I/O queues, no sq=cmb" \
	sh -c "grep -qE 'qid=[1-9][0-9]* .* sq=host$' $T/trace && ! grep -q 'sq=cmb' $T/trace"
tools/tnvme-bind --unbind >/dev/null
check "rmmod tnvme" rmmod tnvme
finish
