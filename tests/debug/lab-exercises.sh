#!/usr/bin/env bash
# tnvme, issue 15 item 6: the lab exercises on the debug kernel.  For every
# lab with an exercise checker, "tools/lab mutants NN --debug-kernel":
#   - the reference solution passes its checker with KASAN, UBSAN, lockdep,
#     kmemleak and DMA-API debugging watching (no report);
#   - each labs/NN-*/tests/debug-mutants/*.patch, a bug the checker itself
#     cannot see (on the lab kernel it passes), fails, and the output shows
#     the detector's report and what it means (its "# expect:" lines):
#     lab 08's missing dma_unmap_sg() and an unmap one entry short.
# VM time: one debug-kernel boot per variant, ~3-4 minutes each.
# tests/run: start first
. tests/lib.sh
test_setup

debug_kernel_or_exit

start=$SECONDS
for check in labs/[0-9][0-9]-*/tests/check.sh; do
	[ -e "$check" ] || continue
	nn=$(basename "$(dirname "$(dirname "$check")")" | cut -c1-2)
	python3 tools/lab mutants "$nn" --debug-kernel -j "${LAB_CHECKER_JOBS:-1}"
	[ $? -eq 0 ] || TESTS_FAILED=$((TESTS_FAILED + 1))
done
n=$(ls labs/*/tests/debug-mutants/*.patch 2>/dev/null | wc -l)
check "there are debug-kernel mutants to catch ($n)" test "$n" -ge 2
echo "# lab-exercises: $((SECONDS - start)) s of VM time"
finish
