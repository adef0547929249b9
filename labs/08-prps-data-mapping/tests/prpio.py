#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""prpio.py - data round trips through PRP lists, for lab 08's checker.

Usage (in the lab VM, as root, tnvme_dma_map tracing on): prpio.py DEVICE

Each case is a transfer size, a buffer layout and an offset of the buffer
into its first page.  For each case:
  1. one O_DIRECT pwritev() of the whole buffer: one Write command whose
     PRPs the driver builds, through which the controller READS the data;
     then read back 4 KiB at a time (PRP1 only, no list) and compared;
  2. fresh data written 4 KiB at a time, then one preadv() of the whole
     buffer: the controller WRITES through the list; compared.
     Only after 1 passed: a broken list would let the controller write
     into memory that is not the buffer.
  3. the tnvme_dma_map event of each large command: one command of that
     size (the block layer did not split it), with the PRP entries and
     list pages it needs.
Layouts:
  huge       one piece of memory (2 MiB huge pages): few scatterlist entries
  scattered  separate 4 KiB pages, chosen with /proc/self/pagemap so that no
             page follows the previous one in physical memory: one
             scatterlist entry per page
Every 512 bytes of a case's data carry a text stamp unique to the run, the
case and the sector, so a page from the wrong place is recognised.  Text
has no page-aligned 8-byte word, so a data page misread as a PRP list makes
the controller refuse the command instead of transferring anywhere.  Every
buffer page is used by one case only, so an entry the driver forgot to
write (stale memory) never points at the right data by chance.

Output: one line per check: "OK<TAB>what" or "FAIL<TAB>what<TAB>hint...".
"""
import ctypes
import mmap
import os
import re
import struct
import subprocess
import sys

PAGE = 4096
HUGE = 2 << 20
MAP_HUGETLB = 0x40000
TRACE = "/sys/kernel/tracing/trace"
SPEC = "NVMe 2.0 §4.1.1"
SMALL_LIST = 32        # entries in one 256-byte list (TNVME_SMALL_POOL_SIZE)
PER_PAGE = 512         # entries in one 4 KiB list page
BASE = 64 << 20        # where on the disk the cases start
RUN = os.urandom(4).hex()

# (name, bytes, layout, offset into the first page, what it exercises)
CASES = [
    ("12k", 12 << 10, "huge", 0, "first"),
    ("12k-scattered", 12 << 10, "scattered", 0, "segments"),
    ("12k-scattered+512", 12 << 10, "scattered", 512, "offset"),
    ("128k", 128 << 10, "huge", 0, "small"),
    ("132k-scattered", 132 << 10, "scattered", 0, "small"),
    ("136k", 136 << 10, "huge", 0, "page"),
    ("508k-scattered+512", 508 << 10, "scattered", 512, "page"),
    ("2m", 2 << 20, "huge", 0, "page"),
    ("2m+4k", (2 << 20) + (4 << 10), "huge", 0, "page"),
    ("2m+8k", (2 << 20) + (8 << 10), "huge", 0, "chain"),
    ("4m", 4 << 20, "huge", 0, "chain"),
    # 4 MiB starting 512 bytes into a page would need 1025 entries: more
    # than QEMU's controller maps for one command (1024, IOV_MAX).
    ("4m-4k+512", (4 << 20) - (4 << 10), "huge", 512, "chain"),
]

WHY = {
    "first": "the smallest transfer that needs a PRP list (12 KiB in 3 pages: PRP1, and PRP2 pointing at a list of 2 entries) fails",
    "segments": "a transfer made of separate pieces of memory (one scatterlist entry per 4 KiB page) fails, while the same size in one piece worked: when a scatterlist entry is used up (seg_len reaches 0), move on to the next one with sg_next() and take its address and length",
    "offset": "a buffer that starts 512 bytes into a page fails, while page-aligned ones worked: PRP1 covers only the rest of its page, so every later entry is a whole page and the transfer needs one entry more",
    "small": "a list of up to 32 entries (the 256-byte pool) fails, while a list of 2 worked",
    "page": "a list of more than 32 entries (a 4 KiB list page, up to 512 entries) fails, while shorter lists worked: take the list from the page pool when the entries do not fit in 32 (slots = TNVME_PRPS_PER_PAGE)",
    "chain": "a transfer whose PRP list needs a second list page (more than 512 entries after PRP1) fails, while one full list page worked: when a list page is full and data remains, its last slot becomes the pointer to the next list page and the entry that was there moves to slot 0 of the new page (%s)" % SPEC,
}


def entries(n, off):
    """PRP entries of n bytes starting off bytes into a page."""
    return (off + n + PAGE - 1) // PAGE


def list_pages(n, off):
    e = entries(n, off) - 1     # entries in the list, after PRP1
    if e <= 1:
        return 0                # PRP1 alone, or PRP1 + PRP2 = a page
    if e <= PER_PAGE:
        return 1
    return (e - 1 + PER_PAGE - 2) // (PER_PAGE - 1)


def stamp(tag, case, sector):
    s = ("tnvme lab08 run=%s %s case=%02d sector=%010d | " % (RUN, tag, case, sector)).encode()
    return (s * (512 // len(s) + 1))[:512]


STAMP_RX = re.compile(rb"tnvme lab08 run=(\w+) (\w) case=(\d+) sector=(\d+) \| ")


def data_for(tag, case, lba0, n):
    return b"".join(stamp(tag, case, lba0 + i) for i in range(n // 512))


def addr_of(mm):
    return ctypes.addressof(ctypes.c_char.from_buffer(mm))


class Pages:
    """A pool of 4 KiB pages handed out in falling physical order."""

    def __init__(self, npages):
        self.mm = mmap.mmap(-1, npages * PAGE, flags=mmap.MAP_PRIVATE)
        self.mm.madvise(mmap.MADV_NOHUGEPAGE)
        for i in range(npages):
            self.mm[i * PAGE:i * PAGE + 1] = b"\x01"
        base = addr_of(self.mm) // PAGE
        pfns = []
        with open("/proc/self/pagemap", "rb") as f:
            for i in range(npages):
                f.seek((base + i) * 8)
                e = struct.unpack("<Q", f.read(8))[0]
                pfns.append((e & ((1 << 55) - 1), i))
        # Falling physical addresses: a page never directly follows the
        # one before it, so the block layer cannot merge two into one
        # scatterlist entry.
        self.order = [i for _, i in sorted(pfns, reverse=True)]
        self.next = 0

    def take(self, k):
        if self.next + k > len(self.order):
            raise RuntimeError("page pool exhausted")
        got = self.order[self.next:self.next + k]
        self.next += k
        return [memoryview(self.mm)[i * PAGE:(i + 1) * PAGE] for i in got]


def huge_views(n, off):
    size = (off + n + HUGE - 1) // HUGE * HUGE
    mm = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | MAP_HUGETLB)
    for i in range(0, size, PAGE):
        mm[i:i + 1] = b"\x01"
    return mm, [memoryview(mm)[off:off + n]]


def scattered_views(pool, n, off):
    pages = pool.take(entries(n, off))
    views = []
    left = n
    for i, p in enumerate(pages):
        start = off if i == 0 else 0
        ln = min(PAGE - start, left)
        views.append(p[start:start + ln])
        left -= ln
    return views


def fill(views, data):
    pos = 0
    for v in views:
        v[:] = data[pos:pos + len(v)]
        pos += len(v)


def gather(views):
    return b"".join(bytes(v) for v in views)


def dmesg_lines():
    try:
        return subprocess.run(["dmesg"], stdout=subprocess.PIPE, check=False).stdout.decode(errors="replace").split("\n")
    except OSError:
        return []


def new_kernel_lines(before):
    now = dmesg_lines()
    return [l for l in now[max(len(before) - 1, 0):] if re.search(r"tnvme|I/O error", l)]


SC_NAMES = {0x4: "Data Transfer Error", 0x13: "Invalid PRP Offset", 0x2: "Invalid Field in Command"}


def io_error_hints(err, before):
    """Why an I/O failed: the controller's status from tnvme's log, or
    the driver refused it itself."""
    lines = new_kernel_lines(before)
    hints = []
    st = [l for l in lines if re.search(r"sct 0x\w+ / sc 0x\w+", l)]
    if st:
        m = re.search(r"sct 0x(\w+) / sc 0x(\w+)", st[0])
        sct, sc = int(m.group(1), 16), int(m.group(2), 16)
        name = SC_NAMES.get(sc, "status 0x%x" % sc) if sct == 0 else "sct 0x%x sc 0x%x" % (sct, sc)
        hints.append("the controller completed it with an error: %s (dmesg: %s)" % (name, st[0].strip()[-120:]))
        if sct == 0 and sc == 0x13:
            hints.append("Invalid PRP Offset: an entry the controller read where PRP2 points is not the address of a page start; PRP2 must point at the list (iod->list_dma[0]), not at a data page, and every list entry is the address of a whole page (%s)" % SPEC)
        elif sct == 0 and sc == 0x4:
            hints.append("Data Transfer Error: the controller could not read or write memory at an address from your PRPs: an entry points outside the buffer, or at a list page that was not filled in (%s)" % SPEC)
    else:
        hints.append("no NVMe status in dmesg: your driver failed the request itself (tnvme_setup_prps() returned an error, e.g. BLK_STS_IOERR) before the controller saw it (%s)" % (err.strerror if hasattr(err, "strerror") else err))
    return hints


def diagnose(actual, expected, tag, case, lba0, n, off, which):
    """Where actual differs from expected: the first bad 512 bytes, as a
    page of the transfer (PRP entry index), and whose data it holds."""
    for s in range(n // 512):
        a = actual[s * 512:(s + 1) * 512]
        if a == expected[s * 512:(s + 1) * 512]:
            continue
        page = (off + s * 512) // PAGE
        last = entries(n, off) - 1
        where = "page %d of %d of the transfer (PRP entry %d%s)" % (
            page, last + 1, page, ", the last" if page == last else "")
        m = STAMP_RX.match(a)
        same = m and m.group(1).decode() == RUN and int(m.group(3)) == case and m.group(2).decode() == tag
        if same:
            other = (off + (int(m.group(4)) - lba0) * 512) // PAGE
            what = "the data of page %d of the same transfer" % other
            if other == page + 1:
                what += " (one page further on: an entry is missing before it, so every later page moved up by one)"
            elif other == page - 1:
                what += " (one page back: an entry is repeated)"
        elif m:
            what = "data of another transfer of this check (case %s, %s)" % (int(m.group(3)), "its write" if m.group(2) == b"W" else "its read")
        elif a == b"\xa5" * 512:
            what = "still the fill of the read buffer: the controller put this page's data somewhere else"
        elif a == bytes(512):
            what = "zeros: memory that is not part of this transfer"
        else:
            what = "bytes from memory that is not part of this transfer"
        hints = ["%s: %s holds %s" % (which, where, what)]
        if page == last and page >= 1 and not same:
            hints.append("only the last page is wrong: the list ends one entry short; the last page needs its entry too")
        return hints
    return ["%s: same length, but the data differ" % which]


def dma_events():
    with open(TRACE) as f:
        ev = []
        for line in f:
            m = re.search(r"tnvme_dma_map: ctrl=\d+ qid=(\d+) cid=\d+ write=(\d) bytes=(\d+) prp_entries=(\d+) list_pages=(\d+)", line)
            if m and m.group(1) != "0":
                ev.append(tuple(int(x) for x in m.groups()[1:]))
        return ev


def clear_trace():
    with open(TRACE, "w") as f:
        f.write("")


def out(ok, what, *hints):
    print("\t".join(["OK" if ok else "FAIL", what] + [h.replace("\t", " ") for h in hints]), flush=True)


def small_read(fd, pos, n):
    buf = mmap.mmap(-1, PAGE, flags=mmap.MAP_PRIVATE)
    got = []
    for p in range(pos, pos + n, PAGE):
        k = min(PAGE, pos + n - p)
        os.preadv(fd, [memoryview(buf)[:k]], p)
        got.append(bytes(buf[:k]))
    return b"".join(got)


def small_write(fd, pos, data):
    buf = mmap.mmap(-1, PAGE, flags=mmap.MAP_PRIVATE)
    for p in range(0, len(data), PAGE):
        k = min(PAGE, len(data) - p)
        buf[:k] = data[p:p + k]
        os.pwritev(fd, [memoryview(buf)[:k]], pos + p)


def main():
    dev = sys.argv[1]
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    need = sum(entries(n, off) for _, n, lay, off, _ in CASES if lay == "scattered")
    pool = Pages(2 * need + 16)
    keep = []
    shape_bad = []
    first_fail = None
    for case, (name, n, layout, off, kind) in enumerate(CASES):
        pos = BASE + case * (8 << 20)
        lba0 = pos // 512
        label = "%s (%d bytes, %s buffer%s)" % (name, n, "one-piece" if layout == "huge" else "page-by-page", ", starting 512 bytes into a page" if off else "")
        try:
            if layout == "huge":
                mw, wv = huge_views(n, off)
                mr, rv = huge_views(n, off)
                keep += [mw, mr]
            else:
                wv = scattered_views(pool, n, off)
                rv = scattered_views(pool, n, off)
        except (OSError, RuntimeError) as e:
            out(False, "a %s buffer for %s" % (layout, label), "the checker could not get its buffer: %s (huge pages: /proc/sys/vm/nr_hugepages)" % e)
            return 2
        # 1. one large write through the list, checked with 4 KiB reads
        wdata = data_for("W", case, lba0, n)
        fill(wv, wdata)
        clear_trace()
        before = dmesg_lines()
        try:
            done = os.pwritev(fd, wv, pos)
            err = None if done == n else "wrote %d of %d bytes" % (done, n)
        except OSError as e:
            err = e
        ev_w = dma_events()
        if err is not None:
            hints = ["one %d-byte O_DIRECT write failed: %s" % (n, err)]
            hints += io_error_hints(err, before)
        else:
            back = small_read(fd, pos, n)
            hints = [] if back == wdata else diagnose(back, wdata, "W", case, lba0, n, off,
                                                      "written through your PRP list, read back 4 KiB at a time")
        if hints:
            out(False, "a %s write through the PRP list stores the right data" % label, *(hints + [WHY[kind]]))
            first_fail = first_fail or name
            # a list that is wrong for the controller's reads is wrong for
            # its writes too: reading through it could write anywhere
            break
        # 2. small writes, one large read through the list
        rdata = data_for("R", case, lba0, n)
        small_write(fd, pos, rdata)
        fill(rv, b"\xa5" * n)
        clear_trace()
        before = dmesg_lines()
        try:
            done = os.preadv(fd, rv, pos)
            err = None if done == n else "read %d of %d bytes" % (done, n)
        except OSError as e:
            err = e
        ev_r = dma_events()
        if err is not None:
            hints = ["one %d-byte O_DIRECT read failed: %s" % (n, err)] + io_error_hints(err, before)
        else:
            got = gather(rv)
            hints = [] if got == rdata else diagnose(got, rdata, "R", case, lba0, n, off,
                                                     "read through your PRP list into the buffer")
        if hints:
            out(False, "a %s read through the PRP list delivers the right data" % label, *(hints + [WHY[kind]]))
            first_fail = first_fail or name
            break
        out(True, "%s: written and read back through the PRP list" % label)
        # 3. the shape of the commands
        want = (n, entries(n, off), list_pages(n, off))
        for direction, ev in (("write", ev_w), ("read", ev_r)):
            big = [e for e in ev if e[0] == (1 if direction == "write" else 0)]
            if len(big) != 1 or big[0][1] != n:
                shape_bad.append("the %d-byte %s became %d command(s) of %s bytes, not one: the block layer split it (see max_hw_sectors_kb, max_segments)"
                                 % (n, direction, len(big), "+".join(str(e[1]) for e in big) or "no"))
            elif big[0][1:] != want:
                shape_bad.append("the %d-byte %s (%s): tnvme_dma_map says prp_entries=%d list_pages=%d, expected %d and %d (count PRP1 and every list entry in iod->prp_entries; list pages in iod->nr_list_pages)"
                                 % (n, direction, label, big[0][2], big[0][3], want[1], want[2]))
    if first_fail is None:
        if shape_bad:
            out(False, "each large transfer is one command with the PRP entries and list pages it needs", *shape_bad[:3])
        else:
            out(True, "each large transfer is one command with the PRP entries and list pages it needs (tnvme_dma_map)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
