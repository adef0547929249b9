#!/usr/bin/env bash
# Guest half of tests/vm/pci-events.sh, second run (labvm --s3): suspend
# to RAM with I/O before and after.  After the wake-up nothing from the
# host's folders can run (tools/labvm --help, "Suspend to RAM"), so the
# part from "echo mem" on is a busybox script in /tmp, and its results go
# to the console like everything the guest prints.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

D=/dev/tnvme0n1
check "bind the lab controller to tnvme" tools/tnvme-bind "$LABVM_LAB_PCI"
check "S3: the guest offers suspend to RAM (deep)" grep -qw deep /sys/power/mem_sleep

# I/O before: a pattern that must survive, and a write+verify run.
dd if=/dev/urandom of=/tmp/before bs=1M count=8 status=none
check "S3: write 8 MiB before suspend" \
	dd if=/tmp/before of=$D bs=1M seek=64 oflag=direct status=none
# The same on the sys controller, left to the stock driver: its first
# read after the wake-up is timed beside tnvme's, for comparison.
S=$LABVM_SYS_DEV
check "S3: write 8 MiB to the stock driver's disk ($S) too" \
	dd if=/tmp/before of=$S bs=1M seek=64 oflag=direct status=none
check "S3: fio write+verify before suspend" \
	fio --name=before --filename=$D --direct=1 --ioengine=libaio \
	--rw=randrw --bs=4k-64k --iodepth=16 --size=32m --offset=256m \
	--verify=crc32c --verify_state_save=0 --output=/dev/null
want=$(md5sum </tmp/before | cut -d' ' -f1)
resets=$(dmesg | grep -c 'tnvme .*: reset done')
[ "$TESTS_FAILED" -eq 0 ] || exit 1

cat >/tmp/s3.sh <<'SH'
# Runs in busybox sh from RAM: $BB for every program.
fails=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fails=$((fails + 1)); }
up() { read -r u _ </proc/uptime; echo "$u"; }

t0=$(up)
if echo mem >/sys/power/state 2>/tmp/s3.err; then
	ok "S3: echo mem > /sys/power/state returns after the wake-up"
else
	not_ok "S3: echo mem > /sys/power/state: $($BB cat /tmp/s3.err)"
fi
t1=$(up)
# The first 4 KiB read of each disk, both at once, each timed on its own:
# tnvme's may take at most 1 s or twice the stock driver's, whichever is
# more (the resume rebuilds both controllers; under TCG with other VMs
# beside this one both reads have taken up to 2 s).
( $BB dd if=$S of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null; up >/tmp/stock.t ) &
$BB dd if=$D of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
t2=$(up)
wait
ts=$($BB cat /tmp/stock.t)
dt=$($BB awk -v a=$t1 -v b=$t2 'BEGIN { print b - a }')
ds=$($BB awk -v a=$t1 -v b=$ts 'BEGIN { print b - a }')
echo "# S3: suspend+wake took $($BB awk -v a=$t0 -v b=$t1 'BEGIN { print b - a }') s; the first 4 KiB read after it: tnvme $dt s, stock nvme $ds s"
# (/proc/uptime has 10 ms steps)
if $BB awk -v t=$dt -v s=$ds 'BEGIN { b = 2 * s; if (b < 1) b = 1; exit !(t <= b + 0.01) }'; then
	ok "S3: the first read after resume completes within max(1 s, 2 x stock's) ($dt s; stock $ds s)"
else
	not_ok "S3: the first read after resume took $dt s, more than max(1 s, 2 x stock's $ds s)"
fi
got=$($BB dd if=$D bs=1M skip=64 count=8 iflag=direct 2>/dev/null | $BB md5sum | $BB cut -d' ' -f1)
if [ "$($BB dd if=$S bs=1M skip=64 count=8 iflag=direct 2>/dev/null | $BB md5sum | $BB cut -d' ' -f1)" = "$want" ]; then
	ok "S3: the stock driver's disk read back intact too (the harness works)"
else
	not_ok "S3: the stock driver's disk read back wrong: the harness is broken"
fi
if [ "$got" = "$want" ]; then
	ok "S3: the 8 MiB written before suspend read back intact"
else
	not_ok "S3: the 8 MiB written before suspend read back as $got, not $want"
fi
# I/O after: a new pattern written and read back, O_DIRECT.
$BB dd if=/dev/urandom of=/tmp/after bs=1M count=8 2>/dev/null
if $BB dd if=/tmp/after of=$D bs=1M seek=128 oflag=direct 2>/dev/null &&
	[ "$($BB dd if=$D bs=1M skip=128 count=8 iflag=direct 2>/dev/null | $BB md5sum)" = \
	  "$($BB md5sum </tmp/after)" ]; then
	ok "S3: write and read back 8 MiB after resume"
else
	not_ok "S3: write and read back 8 MiB after resume"
fi
n=$($BB dmesg | $BB grep -c 'tnvme .*: reset done')
if [ "$n" -gt "$resets" ]; then
	ok "S3: tnvme reset the controller on resume"
else
	not_ok "S3: tnvme reset the controller on resume (no new 'reset done' in dmesg)"
fi
n=$($BB dmesg | $BB grep -c 'tnvme.*timed out')
if [ "$n" = 0 ]; then
	ok "S3: no command waited for a timeout"
else
	not_ok "S3: $n 'timed out' lines from tnvme in dmesg"
fi
exit $fails
SH

# The host wakes the guest once it is suspended (it waits for this file).
: >"$LABVM_OUT/s3-ready"
cd /tmp || exit 1
BB=$LABVM_BUSYBOX D=$D S=$S want=$want resets=$resets exec "$LABVM_BUSYBOX" sh /tmp/s3.sh
