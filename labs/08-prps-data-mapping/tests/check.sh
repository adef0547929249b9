#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# labs/08-prps-data-mapping/tests/check.sh - the exercise check of lab 08:
# the PRP list in tnvme_setup_prps() and the transfer limit in
# tnvme_set_queue_limits() (driver/io.c).  Run by "tools/lab check 08" in
# the lab VM (see tools/lab.d/check-lib.sh).
#
# The lab controller has no MDTS limit here (mdts=0), so tnvme's own cap,
# 4 MiB, applies and one command can need a PRP list on two list pages.
# What it checks:
#   - the block layer may send requests up to that size (not 4 KiB);
#   - data round trips through one large command, both ways, at sizes from
#     12 KiB (a list of 2) to 4 MiB (two list pages, chained), with buffers in
#     one piece or page by page, page-aligned or 512 bytes into a page
#     (tests/prpio.py does the I/O and tells what went wrong where);
#   - each large transfer is one command with the PRP entries and list
#     pages it needs (tnvme_dma_map);
#   - fio verify with mixed sizes; no command timed out.
# labvm: --ctrl lab:mdts=0

. tools/lab.d/check-lib.sh

DISK=/dev/tnvme0n1
HERE=$(dirname "$0")

bind_student io_timeout=10 max_retries=0

# ---------------------------------------------------------------------
# 1. The transfer limit.
q=/sys/block/tnvme0n1/queue
hw=$(cat $q/max_hw_sectors_kb)
if [ "$hw" = 4096 ]; then
	ok "a request may carry 4 MiB (max_hw_sectors_kb 4096: no MDTS, tnvme's own cap)"
elif [ "$hw" -le 8 ]; then
	give_up "a request may carry 4 MiB (max_hw_sectors_kb 4096: no MDTS, tnvme's own cap)" \
		"max_hw_sectors_kb is $hw: the block layer splits every larger I/O into $hw KiB commands, so no request ever needs a PRP list" \
		"build PRP lists in tnvme_setup_prps(), then let tnvme_set_queue_limits() give the block layer the limit the controller allows (dev->max_xfer, from MDTS) instead of one page (NVMe 2.0 §4.1.1, §5.17.2.1)"
else
	not_ok "a request may carry 4 MiB (max_hw_sectors_kb 4096: no MDTS, tnvme's own cap)" \
		"max_hw_sectors_kb is $hw: tnvme_set_queue_limits() must give the block layer dev->max_xfer, what MDTS allows (here no limit, so tnvme's cap of 4 MiB) (NVMe 2.0 §5.17.2.1)"
fi
echo 4096 >$q/max_sectors_kb 2>/dev/null || true
echo 32 >/proc/sys/vm/nr_hugepages

# ---------------------------------------------------------------------
# 2. Round trips through PRP lists (prpio.py prints one line per check).
DMESG0=$(dmesg | wc -l)
trace_start tnvme_dma_map || give_up "the tnvme_dma_map trace event exists" \
	"your module has no such event under $TRACEFS/events/tnvme: was it built from this project's driver/ (trace.h)?"
timeout -k 5 300 python3 "$HERE/prpio.py" $DISK >"$LAB_OUT/prpio.out" 2>&1
rc=$?
trace_stop "$LAB_OUT/prpio.trace" >/dev/null
while IFS=$'\t' read -r -a f; do
	case ${f[0]} in
	OK) ok "${f[1]}" ;;
	FAIL) not_ok "${f[@]:1}" ;;
	esac
done <"$LAB_OUT/prpio.out"
if [ $rc -ne 0 ] || ! grep -q '^OK' "$LAB_OUT/prpio.out"; then
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		why="it did not finish within 300 s: a command never completed"
	else
		why="it exited $rc: $(grep -v -E '^(OK|FAIL)' "$LAB_OUT/prpio.out" | tail -n 2 | tr '\n' ' ' | head -c 300)"
	fi
	[ $rc = 0 ] || not_ok "the round trips ran to their end (tests/prpio.py)" "$why" \
		"tnvme's messages: $(dmesg | tail -n "+$((DMESG0 + 1))" | grep -E 'tnvme' | tail -n 3 | tr '\n' '|')"
fi
if grep -q '^FAIL' "$LAB_OUT/prpio.out"; then
	# A wrong list: the checks below would only repeat it.
	unbind_student
	check_done
fi

# ---------------------------------------------------------------------
# 3. fio: random writes of 4 KiB to 1 MiB, 8 in flight, then verify.
timeout -k 5 240 fio --name=verify --filename=$DISK --rw=randwrite --bsrange=4k-1m \
	--ioengine=io_uring --iodepth=8 --direct=1 --size=48M --offset=256M \
	--verify=crc32c --do_verify=1 --output-format=terse --terse-version=3 >"$LAB_OUT/fio.out" 2>&1
rc=$?
err=$(awk -F';' 'NF > 5 { e = $5 } END { print (e == "" ? "?" : e) }' "$LAB_OUT/fio.out")
if [ $rc -eq 0 ] && [ "$err" = 0 ]; then
	ok "fio writes random sizes from 4 KiB to 1 MiB and reads back the same data (verify=crc32c)"
else
	not_ok "fio writes random sizes from 4 KiB to 1 MiB and reads back the same data (verify=crc32c)" \
		"fio exited $rc (124: it did not finish within 240 s), error field $err: $(grep -m 1 -iE 'verify|error' "$LAB_OUT/fio.out" | head -c 200)"
fi

to=$(dmesg | tail -n "+$((DMESG0 + 1))" | grep -E 'tnvme.*(timed out|resetting|disabling)' | head -n 3 | tr '\n' '|')
if [ -z "$to" ]; then
	ok "no command timed out"
else
	not_ok "no command timed out" "dmesg: $to" \
		"the controller did not complete a command in time: a PRP entry it could not use, or a list page it waited for"
fi

unbind_student
check_done
