#!/usr/bin/env bash
# Guest half of tests/vm/driver-basic.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

LAB=$LABVM_LAB_PCI
KO=$LABVM_ROOT/driver/tnvme.ko
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)"; }

# --- load / unload without a free controller: tnvme must take nothing.
check "insmod tnvme.ko" insmod "$KO"
expect_eq "tnvme leaves the lab controller to nvme" nvme "$(driver_of "$LAB")"
expect_eq "tnvme leaves the sys controller to nvme" nvme "$(driver_of "$LABVM_SYS_PCI")"
check "rmmod tnvme" rmmod tnvme

# --- module parameter range checks.
if insmod "$KO" io_depth=1 2>/dev/null; then
	not_ok "insmod io_depth=1 is rejected"
	rmmod tnvme
else
	ok "insmod io_depth=1 is rejected"
fi
if insmod "$KO" io_queues=0 2>/dev/null; then
	not_ok "insmod io_queues=0 is rejected"
	rmmod tnvme
else
	ok "insmod io_queues=0 is rejected"
fi

# --- serial filter: a wrong serial must not bind.
insmod "$KO" serial=no-such-serial
if tools/tnvme-bind "$LAB" 2>/dev/null; then
	not_ok "serial=no-such-serial keeps tnvme off the lab controller"
else
	ok "serial=no-such-serial keeps tnvme off the lab controller"
fi
tools/tnvme-bind --unbind "$LAB" >/dev/null
rmmod tnvme

# --- bind.
out=$(tools/tnvme-bind 2>&1)
check "tnvme-bind binds the lab controller ($out)" test "$(driver_of "$LAB")" = tnvme
check "lspci -k says: Kernel driver in use: tnvme" sh -c "lspci -k -s $LAB | grep -q 'Kernel driver in use: tnvme'"
expect_eq "the sys controller stays with nvme" nvme "$(driver_of "$LABVM_SYS_PCI")"
check "/dev/tnvme0 is a char device" test -c /dev/tnvme0
check "/dev/tnvme0n1 is a block device" test -b /dev/tnvme0n1

# --- Identify values = the QEMU configuration.
sn=$(nvme id-ctrl /dev/tnvme0 | awk -F: '$1 ~ /^sn / { gsub(/ /, "", $2); print $2 }')
expect_eq "nvme id-ctrl /dev/tnvme0: serial" tnvme-lab "$sn"
expect_eq "capacity of tnvme0n1 is 1 GiB" 1073741824 "$(blockdev --getsize64 /dev/tnvme0n1)"
expect_eq "logical block size of tnvme0n1" 512 "$(blockdev --getss /dev/tnvme0n1)"
nsze=$(nvme id-ns /dev/tnvme0n1 | awk -F: '$1 ~ /^nsze/ { gsub(/ /, "", $2); print $2 }')
expect_eq "nvme id-ns /dev/tnvme0n1: nsze" 0x200000 "$nsze"
check "nvme get-feature -f 7 /dev/tnvme0" sh -c "nvme get-feature -f 7 /dev/tnvme0 | grep -q 'Number of Queues'"
check "nvme smart-log /dev/tnvme0" sh -c "nvme smart-log /dev/tnvme0 | grep -q temperature"
check "nvme smart-log /dev/tnvme0n1 (admin ioctl on the block device)" sh -c "nvme smart-log /dev/tnvme0n1 >/dev/null"

# --- 64-bit passthrough and NVME_IOCTL_ID, straight from Python.
check "NVME_IOCTL_ID and NVME_IOCTL_ADMIN64_CMD" python3 - <<'PY'
import fcntl, os, struct, sys
def ioc(d, t, nr, size): return (d << 30) | (size << 16) | (ord(t) << 8) | nr
NVME_IOCTL_ID = ioc(0, 'N', 0x40, 0)
NVME_IOCTL_ADMIN64_CMD = ioc(3, 'N', 0x47, 80)
ns = os.open("/dev/tnvme0n1", os.O_RDONLY)
assert fcntl.ioctl(ns, NVME_IOCTL_ID) == 1
ctrl = os.open("/dev/tnvme0", os.O_RDONLY)
try:
    fcntl.ioctl(ctrl, NVME_IOCTL_ID)
    sys.exit("NVME_IOCTL_ID on the char device must fail")
except OSError as e:
    assert e.errno == 25, e      # ENOTTY
import ctypes
buf = ctypes.create_string_buffer(4096)
# opcode flags rsvd1 nsid cdw2 cdw3 metadata addr metadata_len data_len
# cdw10..cdw15 timeout_ms rsvd2 result
cmd = bytearray(struct.pack("=BBHIIIQQII6III Q", 0x06, 0, 0, 0, 0, 0, 0,
                ctypes.addressof(buf), 0, 4096, 1, 0, 0, 0, 0, 0, 0, 0, 0))
assert len(cmd) == 80, len(cmd)
assert fcntl.ioctl(ctrl, NVME_IOCTL_ADMIN64_CMD, cmd) == 0
assert buf.raw[4:24].decode().strip() == "tnvme-lab", buf.raw[4:24]
PY

# --- malformed requests: rejected with an error, never sent, never a crash.
rejects() { ! nvme admin-passthru /dev/tnvme0 "$@" >/dev/null 2>&1; }
check "admin passthrough with an odd data length is rejected" rejects --opcode=0x06 --cdw10=1 --data-len=4097 -r
check "admin passthrough larger than MDTS is rejected" rejects --opcode=0x06 --cdw10=1 --data-len=16777216 -r
check "Create I/O SQ from user space is rejected" rejects --opcode=0x01
check "Delete I/O CQ from user space is rejected" rejects --opcode=0x04 --cdw10=1
check "data on a no-data opcode is rejected" rejects --opcode=0x80 --data-len=4096 -w -i /dev/zero
check "metadata is rejected" rejects --opcode=0x06 --cdw10=1 --data-len=4096 --metadata-len=64 -r
check "nvme io-passthru read of 8 blocks" sh -c "nvme io-passthru /dev/tnvme0n1 --opcode=0x02 --namespace-id=1 --data-len=4096 --cdw12=7 -r >/dev/null 2>&1"
check "nvme read -c 7 -z 4096" sh -c "nvme read /dev/tnvme0n1 -s 0 -c 7 -z 4096 -d /dev/null >/dev/null 2>&1"

# --- reset: the controller comes back and I/O works.
check "nvme reset /dev/tnvme0" nvme reset /dev/tnvme0
check "I/O after reset" dd if=/dev/tnvme0n1 of=/dev/null bs=1M count=8 iflag=direct status=none

# --- /proc/interrupts names.
cpus=$(nproc)
expect_eq "/proc/interrupts has tnvme0q0..q$cpus" $((cpus + 1)) "$(grep -cE ' tnvme0q[0-9]+$' /proc/interrupts)"

# --- unbind and unload.
check "tnvme-bind --unbind gives the controller back to nvme" tools/tnvme-bind --unbind
expect_eq "lab controller driver after --unbind" nvme "$(driver_of "$LAB")"
check "rmmod tnvme after unbind" rmmod tnvme

# --- remove while bound (rmmod with a bound controller).
tools/tnvme-bind >/dev/null
check "rmmod tnvme while bound" rmmod tnvme
tools/tnvme-bind --unbind >/dev/null 2>&1
check "no tnvme message at warning level or worse" sh -c "! dmesg -l emerg,alert,crit,err,warn | grep -i tnvme | grep -v -e taints -e 'verification failed' -e 'failed: status' -e 'invalid for parameter'"
finish
