#!/usr/bin/env bash
# Guest half of tests/vm/namespaces.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

C=/dev/tnvme0
W=/tmp/namespaces
mkdir -p $W

# disks: "tnvme0n1:nsid=1:lbs=512:bytes=..." for each disk, sorted.
disks() {
	local d
	for d in /sys/block/tnvme0n*; do
		[ -e "$d" ] || continue
		echo "$(basename "$d"):nsid=$(cat "$d/nsid"):lbs=$(cat "$d/queue/logical_block_size"):bytes=$(($(cat "$d/size") * 512))"
	done | sort | tr '\n' ' '
}
# wait_disks WANT: the disks match WANT within 10 s (a rescan that an
# event starts runs in a work item, after the command that caused it).
wait_disks() {
	local i
	for i in $(seq 1 50); do
		[ "$(disks)" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
# roundtrip DISK OFFSET_MIB: 1 MiB of random data written and read back.
roundtrip() {
	dd if=/dev/urandom of=$W/pat bs=64k count=16 status=none
	dd if=$W/pat of="$1" bs=64k seek=$(($2 * 16)) oflag=direct status=none &&
		cmp -s $W/pat <(dd if="$1" bs=64k skip=$(($2 * 16)) count=16 iflag=direct status=none)
}

G=1073741824
N1="tnvme0n1:nsid=1:lbs=512:bytes=$G"
N2="tnvme0n2:nsid=2:lbs=4096:bytes=$((2 * G))"
N3="tnvme0n3:nsid=3:lbs=512:bytes=$G"

check "bind the lab controller to tnvme" tools/tnvme-bind "$LABVM_LAB_PCI"
expect_eq "at bind: a disk for each attached namespace (1 and 3), none for detached 2" \
	"$N1 $N3 " "$(disks)"
expect_eq "nvme list-ns shows the attached namespaces" "1 3" \
	"$(nvme list-ns $C -o json | jq -r '[.nsid_list[].nsid] | join(" ")')"

# --- attach: the disk appears, with the namespace's own block size.
check "nvme attach-ns -n 2 succeeds" nvme attach-ns $C -n 2 -c 0
check "after attach: tnvme0n2 appears (2 GiB, 4 KiB blocks)" wait_disks "$N1 $N2 $N3 "
echo "# disks: $(disks)"
check "after attach: data round trip on tnvme0n2" roundtrip /dev/tnvme0n2 100
udevadm settle
check "after attach: udev made /dev/tnvme0n2" test -b /dev/tnvme0n2

# --- detach with a file descriptor open on the disk: the disk goes,
# reading the descriptor finds no data, nothing hangs.
exec 3</dev/tnvme0n2
check "nvme detach-ns -n 2 succeeds" nvme detach-ns $C -n 2 -c 0
check "after detach: tnvme0n2 is gone" wait_disks "$N1 $N3 "
# (del_gendisk() set the capacity to 0: a read returns end of file)
expect_eq "after detach: a read through the old open descriptor returns, with no data" \
	0 "$(timeout 20 dd bs=4k count=1 iflag=direct status=none <&3 | wc -c)"
exec 3<&-
check "after detach: data round trip on tnvme0n1 still works" roundtrip /dev/tnvme0n1 10

# --- attach again, then a rescan that finds nothing new.
check "attach namespace 2 again" nvme attach-ns $C -n 2 -c 0
check "attached again: tnvme0n2 is back" wait_disks "$N1 $N2 $N3 "
check "nvme ns-rescan succeeds" nvme ns-rescan $C
expect_eq "nvme ns-rescan changes nothing" "$N1 $N2 $N3 " "$(disks)"

# --- format namespace 1 to 4 KiB blocks (LBA format 4 on QEMU) and
# back: the same disk (a descriptor opened before stays good), new size.
exec 3<>/dev/tnvme0n1
major_minor=$(cat /sys/block/tnvme0n1/dev)
check "nvme format -l 4 (4 KiB blocks) succeeds, block size set too" \
	nvme format /dev/tnvme0n1 -l 4 -f
check "after format: tnvme0n1 has 4 KiB blocks" \
	wait_disks "tnvme0n1:nsid=1:lbs=4096:bytes=$G $N2 $N3 "
expect_eq "after format: the same disk (same dev_t)" "$major_minor" "$(cat /sys/block/tnvme0n1/dev)"
check "after format: a 4 KiB read through the descriptor opened before it works" \
	timeout 20 dd bs=4k count=1 iflag=direct status=none of=/dev/null <&3
exec 3<&-
check "after format: a 512-byte O_DIRECT read is refused (smaller than a block)" \
	sh -c '! dd if=/dev/tnvme0n1 bs=512 count=1 iflag=direct status=none of=/dev/null 2>/dev/null'
check "after format: data round trip" roundtrip /dev/tnvme0n1 20
check "after format: fio write+verify, 4-64 KiB" \
	fio --name=fmt --filename=/dev/tnvme0n1 --direct=1 --ioengine=libaio \
	--rw=randwrite --bsrange=4k-64k --iodepth=16 --size=16m --offset=64m \
	--verify=crc32c --verify_fatal=1 --output=/dev/null
check "nvme format -l 0 (back to 512-byte blocks)" nvme format /dev/tnvme0n1 -l 0 -f
check "formatted back: tnvme0n1 has 512-byte blocks" wait_disks "$N1 $N2 $N3 "
check "formatted back: data round trip" roundtrip /dev/tnvme0n1 30

# --- Persistent names: driver/60-tnvme.rules gives tnvme's disks the
# by-id and by-path names the stock driver's get from systemd's
# 60-persistent-storage.rules, so a controller keeps them when it moves
# from one driver to the other.  Controller "u" (one namespace, no
# subsystem: the stock driver's disk is then its own, not a multipath
# head) is read on the stock driver, then on tnvme; udevadm test runs
# the rules without applying them (/run is the guest's own).
# links SYSPATH: the symlinks udev would make, sorted (by-diskseq counts
# disks since boot: not a name).
links() {
	udevadm test --action=add "$1" 2>/dev/null | sed -n 's/^DEVLINKS=//p' |
		tr ' ' '\n' | grep -v '^/dev/disk/by-diskseq/' | sort | tr '\n' ' '
}
U=$LABVM_U_DEV
# Two partitions, an MBR written by hand (no partitioning tool needed):
# type 0x83, 64 MiB each, from sectors 2048 and 133120.
python3 - "$U" <<'PY'
import struct, sys
mbr = bytearray(512)
for i, start in enumerate((2048, 133120)):
    mbr[446 + 16 * i:462 + 16 * i] = struct.pack("<B3sB3sII", 0, b"\xff\xff\xff", 0x83, b"\xff\xff\xff", start, 131072)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "r+b") as f:
    f.write(mbr)
PY
blockdev --rereadpt "$U"
u=$(basename "$U")
stock_disk=$(links /sys/block/$u)
stock_part=$(links /sys/block/$u/${u}p2)
echo "# stock: $stock_disk / $stock_part"
check "the stock driver's disk has by-id and by-path names" \
	sh -c "echo '$stock_disk' | grep -q by-id/ && echo '$stock_disk' | grep -q by-path/"
check "bind controller u to tnvme" tools/tnvme-bind "$LABVM_U_PCI"
mkdir -p /run/udev/rules.d
cp driver/60-tnvme.rules /run/udev/rules.d/
expect_eq "driver/60-tnvme.rules: tnvme1n1 gets the stock disk's names" "$stock_disk" "$(links /sys/block/tnvme1n1)"
expect_eq "driver/60-tnvme.rules: tnvme1n1p2 gets the stock partition's names" "$stock_part" "$(links /sys/block/tnvme1n1/tnvme1n1p2)"

n=$(dmesg | grep -c 'tnvme.*timed out')
expect_eq "no command waited for a timeout" 0 "$n"
dmesg | grep -i tnvme >"$LABVM_OUT/dmesg-tnvme.txt"
finish
