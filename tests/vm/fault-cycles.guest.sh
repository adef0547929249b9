#!/usr/bin/env bash
# Guest half of tests/vm/fault-cycles.sh.
cd "$LABVM_ROOT" || exit 1
. tests/lib.sh

KO=driver/tnvme.ko
LAB=$LABVM_LAB_PCI
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)"; }

# Settle, then print "MemFree_kB SUnreclaim_kB request_queue_objs".
# Dropping the page cache and reclaimable slab first removes the biggest
# noise (buffered reads of the disks, dentries of /sys).
snapshot() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
	awk '/^MemFree:/ { f = $2 } /^SUnreclaim:/ { u = $2 } END { printf "%d %d ", f, u }' /proc/meminfo
	awk '$1 == "request_queue" { printf "%d\n", $2 }' /proc/slabinfo
}

# compare WHAT BEFORE AFTER: tolerances, and why.
#  - MemFree may drop by at most 8 MiB.  Each bound controller takes
#    ~0.4 MiB (queue rings, tags, PRP pools); a leak of that per cycle
#    over 20 cycles is 8 MiB, so what we allow is below one leaked
#    controller per two cycles.  Noise: per-CPU page lists and slab pages
#    that stay cached (4 vCPUs, a few MiB).
#  - SUnreclaim may grow by at most 1 MiB: a leaked tnvme_dev (~2 KiB),
#    namespace and tag set (hundreds of requests of ~1.4 KiB each) per
#    cycle would exceed it within 20 cycles.
#  - request_queue objects (admin queue + one per namespace) must come
#    back exactly: a leaked queue is a leaked gendisk or admin queue.
compare() {
	local what=$1 f0 u0 q0 f1 u1 q1
	read -r f0 u0 q0 <<<"$2"
	read -r f1 u1 q1 <<<"$3"
	check "$what: MemFree $((f0 / 1024)) -> $((f1 / 1024)) MiB (drop <= 8 MiB)" test $((f0 - f1)) -le 8192
	check "$what: SUnreclaim $u0 -> $u1 kB (growth <= 1024 kB)" test $((u1 - u0)) -le 1024
	expect_eq "$what: request_queue objects back to $q0" "$q0" "$q1"
}

# --- 100 load/unload cycles.
# Warm-up: the first loads fill once-only and cached things (per-CPU page
# lists, slab pages, ftrace/tracefs structures of a module) that the
# measured cycles then reuse; a leak keeps growing after it.
for i in $(seq 1 10); do insmod $KO && rmmod tnvme; done
s0=$(snapshot)
t0=$(date +%s)
bad=0
for i in $(seq 1 100); do
	insmod $KO || bad=$((bad + 1))
	rmmod tnvme || bad=$((bad + 1))
done
t1=$(date +%s)
s1=$(snapshot)
check "100 insmod/rmmod cycles, none failed ($((t1 - t0)) s)" test $bad = 0
compare "100 load/unload cycles" "$s0" "$s1"

# --- 20 bind/unbind cycles with I/O between them.
dd if=/dev/urandom of=/tmp/pat bs=64k count=16 status=none
one_cycle() {
	tools/tnvme-bind >/dev/null || return 1
	dd if=/tmp/pat of=/dev/tnvme0n1 bs=64k oflag=direct status=none || return 2
	dd if=/dev/tnvme0n1 bs=64k count=16 iflag=direct status=none | cmp -s - /tmp/pat || return 3
	nvme id-ctrl /dev/tnvme0 >/dev/null || return 4
	tools/tnvme-bind --unbind >/dev/null || return 5
	rmmod tnvme || return 6
}
one_cycle && one_cycle && one_cycle	# warm-up, as above
s0=$(snapshot)
t0=$(date +%s)
bad=""
for i in $(seq 1 20); do
	one_cycle || bad="$bad cycle $i: step $?"
done
t1=$(date +%s)
s1=$(snapshot)
check "20 bind / write+read back / id-ctrl / unbind / rmmod cycles ($((t1 - t0)) s)$bad" test -z "$bad"
compare "20 bind/unbind cycles" "$s0" "$s1"
expect_eq "the stock driver has the lab controller at the end" nvme "$(driver_of "$LAB")"
finish
