#!/usr/bin/env bash
# Guest half of tests/vm/driver-io.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

D=/dev/tnvme0n1
T=/sys/kernel/tracing
W=/tmp/driver-io
mkdir -p $W
[ -d $T/events ] || mount -t tracefs nodev $T

# A small queue depth makes every SQ and CQ wrap many times during fio, so
# the phase tag flips (CQEs with phase=0 appear on the second pass).
if ! insmod "$LABVM_ROOT/driver/tnvme.ko" io_depth=32 || ! tools/tnvme-bind >/dev/null; then
	not_ok "tnvme-bind"
	finish
	exit
fi
cpus=$(nproc)

irq_count() { # irq_count QID: interrupts of tnvme0q<QID>, all CPUs
	awk -v n="tnvme0q$1" '$NF == n { for (i = 2; i < NF - 2; i++) s += $i } END { print s + 0 }' /proc/interrupts
}

# --- fio verify, one job per CPU, each pinned, each on its own region.
for q in $(seq 1 "$cpus"); do before[$q]=$(irq_count "$q"); done
echo 1 >$T/events/tnvme/tnvme_rq_start/enable
echo 1 >$T/events/tnvme/tnvme_cqe/enable
# shellcheck disable=SC2046
(cd $W && fio --filename=$D --direct=1 --ioengine=libaio --rw=randrw \
	--bsrange=512-1m --iodepth=8 --size=16m --verify=crc32c \
	--do_verify=1 --verify_fatal=1 --verify_state_save=0 $(cpu_jobs pin) \
	--output-format=terse --terse-version=3 >$W/fio.out 2>&1)
rc=$?
echo 0 >$T/events/tnvme/tnvme_rq_start/enable
echo 0 >$T/events/tnvme/tnvme_cqe/enable
if fio_terse_ok $rc $W/fio.out "$cpus"; then
	ok "fio crc32c verify, randrw 512 B - 1 MiB, $cpus jobs pinned one per CPU"
else
	not_ok "fio verify: rc=$rc errors=$FIO_ERRORS: $(head -c 400 $W/fio.out)"
fi
for q in $(seq 1 "$cpus"); do
	after=$(irq_count "$q")
	n=$(grep -c "tnvme_rq_start: ctrl=0 qid=$q " $T/trace)
	wraps=$(grep -c "tnvme_cqe: ctrl=0 qid=$q .*cq_slot=0 status=0x0 phase=0" $T/trace)
	if [ "$after" -gt "${before[$q]}" ] && [ "$n" -gt 0 ]; then
		ok "I/O queue $q got $n requests and $((after - before[$q])) interrupts of its own"
	else
		not_ok "I/O queue $q: $n requests, interrupts ${before[$q]} -> $after"
	fi
	check "I/O queue $q wrapped its CQ, phase tag flipped ($wraps CQEs with phase 0 at slot 0)" test "$wraps" -gt 0
done
echo >$T/trace

# --- PRP corner cases, traced.
echo 1 >$T/events/tnvme/tnvme_dma_map/enable
check "unaligned buffers (offsets 512 and 3584 into a page) read back what was written" python3 - "$D" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_DIRECT)
buf = mmap.mmap(-1, 1 << 21)
pat = os.urandom(65536 + 512)
buf[512:512 + len(pat)] = pat
assert os.pwritev(fd, [memoryview(buf)[512:512 + len(pat)]], 1 << 20) == len(pat)
buf[:] = b"\0" * len(buf)
assert os.preadv(fd, [memoryview(buf)[1536:1536 + len(pat)]], 1 << 20) == len(pat)
assert buf[1536:1536 + len(pat)] == pat, "data mismatch"
# 4 KiB starting 512 bytes before a page end: PRP1 + PRP2
assert os.preadv(fd, [memoryview(buf)[3584:3584 + 4096]], 1 << 20) == 4096
assert buf[3584:3584 + 4096] == pat[:4096]
PY
check "65 KiB + 512 B at page offset 512 uses 17 PRP entries" grep -q "write=1 bytes=66048 prp_entries=17 list_pages=1" $T/trace
check "4 KiB at page offset 3584 uses PRP1 + PRP2, no list" grep -q "write=0 bytes=4096 prp_entries=2 list_pages=0" $T/trace

echo 64 >/proc/sys/vm/nr_hugepages
echo 4096 >/sys/block/tnvme0n1/queue/max_sectors_kb
(cd $W && fio --name=big --filename=$D --direct=1 --ioengine=libaio \
	--iomem=shmhuge --rw=randwrite --bs=4m --iodepth=4 --size=64m \
	--offset=256m --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
	--output-format=terse --terse-version=3 >$W/big.out 2>&1)
rc=$?
echo 0 >$T/events/tnvme/tnvme_dma_map/enable
check "fio crc32c verify with 4 MiB transfers (rc=$rc)" test $rc -eq 0 -a "$(awk -F';' '{ print $5 }' $W/big.out)" = 0
check "4 MiB transfers use 1024 PRP entries on 2 chained list pages" grep -q "bytes=4194304 prp_entries=1024 list_pages=2" $T/trace
echo >$T/trace

# --- discard and write zeroes.
dd if=/dev/urandom of=$W/rand bs=1M count=1 status=none
dd if=$W/rand of=$D bs=1M seek=512 oflag=direct status=none
check "write zeroes (blkdiscard -z) of 1 MiB" blkdiscard -f -z -o $((512 << 20)) -l $((1 << 20)) $D
check "written zeroes read back as zeroes" cmp -n $((1 << 20)) <(dd if=$D bs=1M skip=512 count=1 iflag=direct status=none) /dev/zero
check "discard (Dataset Management) of 1 MiB" blkdiscard -f -o $((512 << 20)) -l $((1 << 20)) $D

# --- ext4.
check "mkfs.ext4" mkfs.ext4 -q -F $D
mkdir -p /mnt/t
check "mount ext4" mount $D /mnt/t
dd if=/dev/urandom of=/mnt/t/file bs=1M count=32 status=none
sum1=$(md5sum </mnt/t/file)
check "fstrim on ext4" fstrim /mnt/t
umount /mnt/t
echo 3 >/proc/sys/vm/drop_caches
mount $D /mnt/t
expect_eq "a 32 MiB file reads back the same after remount" "$sum1" "$(md5sum </mnt/t/file)"
umount /mnt/t
check "fsck.ext4 -fn is clean" fsck.ext4 -fn $D

# --- every tracepoint fires, with sane fields.
echo 1 >$T/events/tnvme/enable
dd if=$D of=/dev/null bs=64k count=1 skip=100 iflag=direct status=none
nvme id-ctrl /dev/tnvme0 >/dev/null
echo 0 >$T/events/tnvme/enable
tr=$W/trace
grep -v '^#' $T/trace >$tr
has() { grep -qE "$1" $tr; }
check "tnvme_rq_start: 64 KiB read" has "tnvme_rq_start: ctrl=0 qid=[1-9][0-9]* cid=[0-9]+ cpu=[0-9]+ opcode=0x02 bytes=65536 status=0x0"
check "tnvme_dma_map: 64 KiB read, 16 PRP entries" has "tnvme_dma_map: ctrl=0 qid=[1-9][0-9]* cid=[0-9]+ write=0 bytes=65536 prp_entries=16 list_pages=1"
check "tnvme_sq_write: slba 12800, 128 blocks" has "tnvme_sq_write: ctrl=0 qid=[1-9][0-9]* cid=[0-9]+ sq_slot=[0-9]+ opcode=0x02 nsid=1 slba=12800 nlb=128 data_len=65536"
check "tnvme_sq_doorbell" has "tnvme_sq_doorbell: ctrl=0 qid=[0-9]+ tail=[0-9]+ cmds=[1-9]"
check "tnvme_irq" has "tnvme_irq: ctrl=0 qid=[0-9]+ vector=[0-9]+ irq=[0-9]+ cpu=[0-9]+ cqes=[0-9]+"
check "tnvme_cqe: success, phase 0 or 1" has "tnvme_cqe: ctrl=0 qid=[0-9]+ cid=[0-9]+ cq_slot=[0-9]+ status=0x0 phase=[01] sq_head=[0-9]+"
check "tnvme_fetch" has "tnvme_fetch: ctrl=0 qid=[0-9]+ sq_head=[0-9]+"
check "tnvme_rq_end: 64 KiB read, success" has "tnvme_rq_end: ctrl=0 qid=[1-9][0-9]* cid=[0-9]+ cpu=[0-9]+ opcode=0x02 bytes=65536 status=0x0"
check "tnvme_dma_unmap" has "tnvme_dma_unmap: ctrl=0 qid=[1-9][0-9]* cid=[0-9]+ write=0 bytes=65536 prp_entries=16 list_pages=1"
check "tnvme_cq_doorbell" has "tnvme_cq_doorbell: ctrl=0 qid=[0-9]+ head=[0-9]+ cqes=[1-9]"
check "admin queue events: Identify (opcode 0x06) on qid 0" has "tnvme_sq_write: ctrl=0 qid=0 cid=[0-9]+ sq_slot=[0-9]+ opcode=0x06 nsid=0 slba=0 nlb=0 data_len=4096"
check "tnvme_sq_level (lab 10): SQ occupancy at the doorbell" has "tnvme_sq_level: ctrl=0 qid=[0-9]+ sq_head=[0-9]+ used=[1-9]"
# Order for the read: rq_start dma_map sq_write sq_doorbell irq cqe fetch
# rq_end dma_unmap cq_doorbell.  (tnvme_sq_level is left out: it fires when
# tnvme_write_sq_db() has returned, and a fast completion's interrupt can
# run on this CPU before that.)
order=$(grep -E 'qid=[1-9]' $tr | grep -v 'tnvme_sq_level:' | sed -E 's/.*(tnvme_[a-z_]+):.*/\1/' | tr '\n' ' ')
expect_eq "events of the read come in the documented order" \
	"tnvme_rq_start tnvme_dma_map tnvme_sq_write tnvme_sq_doorbell tnvme_irq tnvme_cqe tnvme_fetch tnvme_rq_end tnvme_dma_unmap tnvme_cq_doorbell " "$order"

check "doorbell events say whether they were MMIO writes" has "tnvme_sq_doorbell: ctrl=0 qid=[0-9]+ tail=[0-9]+ cmds=[1-9][0-9]* mmio=[01]$"
check "admin queue doorbells are always MMIO writes" has "tnvme_sq_doorbell: ctrl=0 qid=0 tail=[0-9]+ cmds=[1-9][0-9]* mmio=1$"

# --- shadow doorbells (driver/shadow_doorbell.c): QEMU offers them (OACS
# bit 8), so under load most I/O queue doorbells skip the MMIO write; with
# shadow_doorbells=0 every one is an MMIO write, and data still verifies.
# doorbell_mix: "<I/O doorbells with mmio=0> <with mmio=1>" during 3 s of fio
doorbell_mix() {
	echo >$T/trace
	echo 1 >$T/events/tnvme/tnvme_sq_doorbell/enable
	echo 1 >$T/events/tnvme/tnvme_cq_doorbell/enable
	fio --name=shadow --filename=$D --rw=randrw --bs=4k --direct=1 \
		--ioengine=io_uring --iodepth=16 --numjobs=2 --runtime=3 --time_based \
		--size=256m --verify=crc32c --group_reporting >$W/fio-shadow.out 2>&1
	echo "fio=$?" >>$W/fio-shadow.out
	echo 0 >$T/events/tnvme/enable
	grep -E 'doorbell: ctrl=0 qid=[1-9]' $T/trace |
		awk '/mmio=0$/ { z++ } /mmio=1$/ { o++ } END { print z + 0, o + 0 }'
}
expect_eq "shadow_doorbells is on by default" Y "$(cat /sys/module/tnvme/parameters/shadow_doorbells)"
read -r shadow mmio <<<"$(doorbell_mix)"
check "fio verify with shadow doorbells" grep -q '^fio=0$' $W/fio-shadow.out
check "with shadow doorbells, I/O doorbells skip the MMIO write ($shadow shadow-only, $mmio MMIO)" [ "$shadow" -gt 0 ]
check "tnvme-bind --unbind" tools/tnvme-bind --unbind
check "rmmod tnvme" rmmod tnvme
check "tnvme-bind shadow_doorbells=0" tools/tnvme-bind shadow_doorbells=0
read -r shadow mmio <<<"$(doorbell_mix)"
check "fio verify with MMIO doorbells only" grep -q '^fio=0$' $W/fio-shadow.out
check "with shadow_doorbells=0, every doorbell is an MMIO write ($shadow shadow-only, $mmio MMIO)" [ "$shadow" -eq 0 -a "$mmio" -gt 0 ]
check "tnvme-bind refuses a parameter that differs from the loaded module" sh -c '! tools/tnvme-bind shadow_doorbells=1 2>/dev/null'

check "tnvme-bind --unbind" tools/tnvme-bind --unbind
check "rmmod tnvme" rmmod tnvme
finish
