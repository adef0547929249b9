#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""lab regs [PCI_ADDR]: read an NVMe controller's registers (BAR0) and decode
CAP, VS, CC, CSTS, AQA, ASQ and ACQ (NVMe Base 2.0, section 3.1.3).

Reads /sys/bus/pci/devices/ADDR/resource0 with mmap, as root, in the lab VM.
The kernel refuses this mapping while a driver owns the BAR (it "revokes"
user mappings of claimed I/O memory), so unbind the controller first:
  echo ADDR > /sys/bus/pci/devices/ADDR/driver/unbind
"""
import mmap
import os
import struct
import sys


def die(msg):
    print("lab regs: " + msg, file=sys.stderr)
    sys.exit(1)


def bits(v, hi, lo):
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


def main():
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    addr = args[0] if args else os.environ.get("LABVM_LAB_PCI", "")
    if not addr:
        die("no PCI address given and $LABVM_LAB_PCI is not set")
    res = "/sys/bus/pci/devices/%s/resource0" % addr
    if not os.path.exists(res):
        die("no PCI device %s (%s is missing)" % (addr, res))
    drv = "/sys/bus/pci/devices/%s/driver" % addr
    if os.path.exists(drv):
        name = os.path.basename(os.readlink(drv))
        die("%s is bound to %s, which owns its registers; unbind it first:\n"
            "  echo %s > /sys/bus/pci/devices/%s/driver/unbind" % (addr, name, addr, addr))
    try:
        fd = os.open(res, os.O_RDONLY | os.O_SYNC)
        m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)
    except OSError as e:
        die("cannot map %s: %s (are you root, in the lab VM?)" % (res, e.strerror))

    def r32(off):
        return struct.unpack("<I", m[off:off + 4])[0]

    def r64(off):
        return r32(off) | (r32(off + 4) << 32)

    cap, vs, cc, csts = r64(0x00), r32(0x08), r32(0x14), r32(0x1c)
    aqa, asq, acq = r32(0x24), r64(0x28), r64(0x30)
    if cap == (1 << 64) - 1:
        die("CAP reads all ones: the device is not responding")
    print("controller %s" % addr)
    print("CAP  0x%016x  MQES %d (max %d entries per queue)  CQR %d  TO %d (%d ms)"
          % (cap, bits(cap, 15, 0), bits(cap, 15, 0) + 1, bits(cap, 16, 16),
             bits(cap, 31, 24), bits(cap, 31, 24) * 500))
    print("                          DSTRD %d (doorbell stride %d B)  CSS 0x%02x  MPSMIN %d (%d B)  MPSMAX %d (%d B)"
          % (bits(cap, 35, 32), 4 << bits(cap, 35, 32), bits(cap, 44, 37),
             bits(cap, 51, 48), 1 << (12 + bits(cap, 51, 48)),
             bits(cap, 55, 52), 1 << (12 + bits(cap, 55, 52))))
    print("VS   0x%08x          NVMe %d.%d.%d" % (vs, vs >> 16, bits(vs, 15, 8), bits(vs, 7, 0)))
    print("CC   0x%08x          EN %d  CSS %d  MPS %d (%d B)  AMS %d  SHN %d  IOSQES %d (%d B)  IOCQES %d (%d B)"
          % (cc, bits(cc, 0, 0), bits(cc, 6, 4), bits(cc, 10, 7), 1 << (12 + bits(cc, 10, 7)),
             bits(cc, 13, 11), bits(cc, 15, 14), bits(cc, 19, 16), 1 << bits(cc, 19, 16),
             bits(cc, 23, 20), 1 << bits(cc, 23, 20)))
    print("CSTS 0x%08x          RDY %d  CFS %d  SHST %d  NSSRO %d"
          % (csts, bits(csts, 0, 0), bits(csts, 1, 1), bits(csts, 3, 2), bits(csts, 4, 4)))
    print("AQA  0x%08x          ASQS %d (%d entries)  ACQS %d (%d entries)"
          % (aqa, bits(aqa, 11, 0), bits(aqa, 11, 0) + 1, bits(aqa, 27, 16), bits(aqa, 27, 16) + 1))
    print("ASQ  0x%016x  admin submission queue base (bus address)" % asq)
    print("ACQ  0x%016x  admin completion queue base (bus address)" % acq)
    return 0


if __name__ == "__main__":
    sys.exit(main())
