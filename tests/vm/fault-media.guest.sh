#!/usr/bin/env bash
# Guest half of tests/vm/fault-media.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

if ! insmod driver/tnvme.ko || ! tools/tnvme-bind "$LABVM_LAB_PCI" >/dev/null ||
	! tools/tnvme-bind "$LABVM_EXTRA_PCI" >/dev/null; then
	not_ok "bind lab and extra to tnvme"
	finish
	exit
fi
R=/dev/$(ls /sys/bus/pci/devices/$LABVM_LAB_PCI/tnvme)n1
W=/dev/$(ls /sys/bus/pci/devices/$LABVM_EXTRA_PCI/tnvme)n1

# dio OP DEV OFFSET [COUNT]: COUNT (default 1) 4 KiB O_DIRECT reads or
# writes, back to back in one process; prints ok or the errno name of
# the last one.
dio() {
	python3 - "$@" <<'PY'
import errno, mmap, os, sys
op, dev, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
buf = mmap.mmap(-1, 4096)
fd = os.open(dev, (os.O_RDONLY if op == "read" else os.O_WRONLY) | os.O_DIRECT)
for _ in range(n):
    try:
        if op == "read":
            os.preadv(fd, [buf], off)
        else:
            os.pwritev(fd, [buf], off)
        res = "ok"
    except OSError as e:
        res = errno.errorcode.get(e.errno, e.errno)
print(res)
PY
}
drv_lines() { dmesg | grep -c "$1"; }

rd="${R#/dev/}: Unrecovered Read Error (sct 0x2 / sc 0x81) opcode 0x02 LBA 2048 blocks 8 retries 0"
wr="${W#/dev/}: Write Fault (sct 0x2 / sc 0x80) opcode 0x01 LBA 4096 blocks 8 retries 0"

expect_eq "read away from the bad sector succeeds" ok "$(dio read $R 0)"
expect_eq "read of sector 2048 fails with ENODATA (BLK_STS_MEDIUM)" ENODATA "$(dio read $R $((2048 * 512)))"
expect_eq "... logged once, with status name, opcode, LBA, blocks" 1 "$(drv_lines "$rd")"
expect_eq "write away from the bad sector succeeds" ok "$(dio write $W 0)"
expect_eq "write of sector 4096 fails with ENODATA (BLK_STS_MEDIUM)" ENODATA "$(dio write $W $((4096 * 512)))"
expect_eq "... logged once: Write Fault" 1 "$(drv_lines "$wr")"
check "media errors are not retried and cause no reset" \
	sh -c "! dmesg | grep -q -e 'retries [1-9]' -e 'reset done' -e 'timed out'"

# Rate limit: 30 failing reads in a burst give at most 10 lines per 5 s
# (the kernel's default ratelimit), then "callbacks suppressed".
before=$(drv_lines "$rd")
dio read $R $((2048 * 512)) 30 >/dev/null
burst=$(($(drv_lines "$rd") - before))
check "30 failing reads in a burst: $burst log lines (rate-limited, at most 10)" test "$burst" -ge 1 -a "$burst" -le 10
sleep 5.5
dio read $R $((2048 * 512)) >/dev/null
check "dmesg says how many were suppressed" sh -c "dmesg | grep -q 'tnvme_log_error: [0-9]* callbacks suppressed'"
expect_eq "both controllers are still live" "live live" \
	"$(cat /sys/class/tnvme/$(basename ${R%n1})/state) $(cat /sys/class/tnvme/$(basename ${W%n1})/state)"
check "unbind both, rmmod" sh -c "tools/tnvme-bind --unbind $LABVM_LAB_PCI >/dev/null && tools/tnvme-bind --unbind $LABVM_EXTRA_PCI >/dev/null && rmmod tnvme"
finish
