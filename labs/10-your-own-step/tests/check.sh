#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab-check: nvmescope
#
# labs/10-your-own-step/tests/check.sh - the exercise of lab 10: your
# tnvme_sq_level event (driver) and SQ_USED (nvmescope).  tools/lab check
# 10 runs it in the lab VM, as root, from the project folder, with your
# tnvme.ko ($TNVME_KO) and your nvmescope ($NVMESCOPE).
#
# Every check rests on what the workload fixes, never on a speed:
#  - io_depth=64: the SQ ring wraps every 64 commands, so within the
#    first second of each run;
#  - psync, one read at a time: when the driver rings for a read, the
#    previous read has completed and its CQE told the host how far the
#    controller had fetched (SQHD), so sq_head is the previous doorbell's
#    tail and used is 1, on every doorbell;
#  - io_uring, 32 reads in flight: no more than 32 slots can hold commands
#    the host does not know fetched, and a doorbell's own commands are
#    among them (used >= cmds);
#  - nvmescope during psync: every used is 1, so the mean is exactly 1.
. tools/lab.d/check-lib.sh

DEPTH=64
DISK=/dev/tnvme0n1
FMT=$TRACEFS/events/tnvme/tnvme_sq_level/format

bind_student io_depth=$DEPTH

# ------------------------------------------------------------ the event
if [ ! -r "$FMT" ]; then
	give_up "your driver has the event tnvme_sq_level" \
		"there is no $TRACEFS/events/tnvme/tnvme_sq_level: declare it in driver/trace.h" \
		"with TRACE_EVENT(tnvme_sq_level, ...), modelled on tnvme_fetch, and fire it with trace_tnvme_sq_level()"
fi
ok "your driver has the event tnvme_sq_level"

# The record's fields, in order: "TYPE NAME" per line.
fields=$(sed -n 's/^[[:space:]]*field:\([^;]*\);.*/\1/p' "$FMT" | grep -v ' common_' |
	sed 's/^unsigned short /u16 /; s/^unsigned int /u32 /')
want="u32 ctrl
u16 qid
u16 sq_head
u16 used"
if [ "$fields" = "$want" ]; then
	ok "tnvme_sq_level's record: u32 ctrl, u16 qid, u16 sq_head, u16 used"
else
	give_up "tnvme_sq_level's record: u32 ctrl, u16 qid, u16 sq_head, u16 used" \
		"its format file lists: $(tr '\n' ',' <<<"$fields" | sed 's/,$//; s/,/, /g')" \
		"TP_STRUCT__entry needs __field(u32, ctrl), __field(u16, qid), __field(u16, sq_head), __field(u16, used), in this order:" \
		"nvmescope and the checker read them by these names and widths"
fi

# ------------------------------------------------------------ helpers

# fio on CPU 1 (so on one I/O queue), random 4 KiB reads.
run_fio() {
	io_ok 180 fio --filename=$DISK --rw=randread --bs=4k --direct=1 \
		--cpus_allowed=1 --output=/dev/null "$@"
}

# pairs TRACE: each tnvme_sq_level with the tnvme_sq_doorbell just before
# it on the same CPU and queue (the driver fires both under the queue's
# sq_lock), as "qid tail cmds sq_head used"; then one line per queue:
# "DB qid doorbells levels levels_without_doorbell doorbells_without_level".
pairs() {
	awk '
	function kv(k,  i) {
		for (i = 1; i <= NF; i++)
			if (index($i, k "=") == 1)
				return substr($i, length(k) + 2)
		return ""
	}
	{
		cpu = ""; ev = ""
		for (i = 1; i <= NF; i++) {
			if (cpu == "" && $i ~ /^\[[0-9]+\]$/)
				cpu = $i
			if ($i == "tnvme_sq_doorbell:" || $i == "tnvme_sq_level:") {
				ev = $i
				break
			}
		}
		if (ev == "")
			next
		q = kv("qid")
		if (ev == "tnvme_sq_doorbell:") {
			ndb[q]++
			if ((cpu, q) in pend)
				lonely[q]++
			pend[cpu, q] = kv("tail") " " kv("cmds")
			next
		}
		nlv[q]++
		if (!((cpu, q) in pend)) {
			orphan[q]++
			next
		}
		print q, pend[cpu, q], kv("sq_head"), kv("used")
		delete pend[cpu, q]
	}
	END {
		for (k in pend) {
			split(k, a, SUBSEP)
			lonely[a[2]]++
		}
		for (q in ndb)
			printf "DB %s %d %d %d %d\n", q, ndb[q], nlv[q], orphan[q], lonely[q]
		for (q in nlv)
			if (!(q in ndb))
				printf "DB %s 0 %d %d 0\n", q, nlv[q], orphan[q]
	}' "$1"
}

# analyze PAIRS QID: numbers about that queue's pairs, as NAME=VALUE lines.
analyze() {
	awk -v Q="$2" -v D=$DEPTH '
	$1 != Q || $1 == "DB" { next }
	{
		tail = $2; cmds = $3; head = $4; used = $5
		n++
		sum += used
		if (used > max) max = used
		if (cmds > maxcmds) maxcmds = cmds
		# the first doorbell may come before any CQE of the run
		if (n > 1) {
			heads[head] = 1
			lasthead = head
		}
		if (used >= D && !bigd++)
			big = used " " tail " " head
		x = ((tail - head) % D + D) % D
		if (used != x && !badf++)
			formula = used " " tail " " head " " x
		if (used < cmds && !badc++)
			short = used " " cmds " " tail
		if (used != 1 && !badone++)
			notone = used " " tail " " head
		if (n > 1 && head != prevtail && !badprev++)
			prev = head " " prevtail " " tail
		prevtail = tail
	}
	END {
		nh = 0
		for (h in heads) nh++
		printf "n=%d\nmean=%.2f\nmax=%d\nmaxcmds=%d\n", n, n ? sum / n : 0, max, maxcmds
		printf "bigd=%d\nbig=\"%s\"\nbadf=%d\nformula=\"%s\"\n", bigd, big, badf, formula
		printf "badc=%d\nshort=\"%s\"\nbadone=%d\nnotone=\"%s\"\n", badc, short, badone, notone
		printf "badprev=%d\nprev=\"%s\"\nnheads=%d\nonehead=%s\n", badprev, prev, nh, nh == 1 ? lasthead : "\"\""
	}' "$1"
}

# check_pairs WHAT PAIRS: the checks every run must pass; sets QID and the
# analyze numbers (n, mean, max, ...).
QID=
n=0 mean=0 max=0 maxcmds=0 nheads=0 onehead=''
bigd=0 big='' badf=0 formula='' badc=0 short='' badone=0 notone='' badprev=0 prev=''
check_pairs() {
	local what=$1 pairs=$2 db
	db=$(grep '^DB ' "$pairs" | awk '$2 != 0' | sort -k3,3nr | head -n 1)
	if [ -z "$db" ]; then
		not_ok "tnvme_sq_level fires after the SQ doorbells ($what)" \
			"the trace has no tnvme_sq_doorbell of an I/O queue at all: did the reads reach your driver? ($LAB_OUT)"
		return 1
	fi
	# shellcheck disable=SC2086 # the DB line's fields
	set -- $db
	QID=$2
	local ndb=$3 nlv=$4 orphan=$5 lonely=$6
	if [ "$nlv" -eq 0 ]; then
		not_ok "tnvme_sq_level fires after the SQ doorbells ($what)" \
			"queue $QID rang $ndb doorbells, and not one tnvme_sq_level came: is trace_tnvme_sq_level() called" \
			"(from tnvme_trace_sq_level(), after every tnvme_write_sq_db()), and is the condition the right way round?"
		return 1
	elif [ "$orphan" -gt 0 ]; then
		not_ok "tnvme_sq_level fires once after each SQ doorbell ($what)" \
			"queue $QID: $nlv tnvme_sq_level events for $ndb doorbells, $orphan of them with no doorbell just before:" \
			"fire it only when tnvme_write_sq_db() rang (the tail it last wrote, last_sq_tail, is sq_tail now)," \
			"not after every command: with batches, most commands ring no doorbell"
	elif [ "$lonely" -gt 0 ]; then
		not_ok "tnvme_sq_level fires once after each SQ doorbell ($what)" \
			"queue $QID: $lonely of $ndb doorbells had no tnvme_sq_level after them:" \
			"fire it after every doorbell rung, from tnvme_queue_rq() and from tnvme_commit_rqs()"
	else
		ok "tnvme_sq_level fires once after each SQ doorbell ($what: $ndb on queue $QID)"
	fi
	eval "$(analyze "$pairs" "$QID")"
	if [ "$n" -eq 0 ]; then
		not_ok "tnvme_sq_level prints sq_head= and used= ($what)" \
			"no tnvme_sq_level line of queue $QID could be read: TP_printk must print \"ctrl=%u qid=%u sq_head=%u used=%u\""
		return 1
	fi
	local u t h x
	if [ "$bigd" -gt 0 ]; then
		read -r u t h <<<"$big"
		if [ "$t" -lt "$h" ] && [ "$u" -eq $((t - h + 65536)) ]; then
			not_ok "used stays below the queue depth, $DEPTH ($what)" \
				"used=$u after the tail wrapped (tail=$t, sq_head=$h): compute (tail - head) mod depth," \
				"e.g. (tail + depth - head) % depth: the SQ is a ring of depth slots (NVMe 2.0 §3.3.1)," \
				"and tail - head alone goes negative once the tail has wrapped to 0 ($bigd of $n doorbells)"
		elif [ "$u" -eq $((t + DEPTH - h)) ]; then
			not_ok "used stays below the queue depth, $DEPTH ($what)" \
				"used=$u with tail=$t, sq_head=$h: tail + depth - head needs \"% depth\" too when the tail" \
				"has not wrapped ($bigd of $n doorbells)"
		else
			not_ok "used stays below the queue depth, $DEPTH ($what)" \
				"used=$u at the doorbell with tail=$t, sq_head=$h ($bigd of $n doorbells): used counts slots" \
				"of a $DEPTH-slot ring, (tail - sq_head) mod depth, so it is at most depth - 1"
		fi
	else
		ok "used stays below the queue depth, $DEPTH ($what: at most $max)"
	fi
	if [ "$badf" -gt 0 ]; then
		read -r u t h x <<<"$formula"
		not_ok "used = (tail - sq_head) mod depth on every doorbell ($what)" \
			"used=$u, but the doorbell's tail=$t and the event's sq_head=$h give ($t - $h) mod $DEPTH = $x" \
			"($badf of $n doorbells): used counts the slots from sq_head up to the new tail, this doorbell's commands included"
	else
		ok "used = (tail - sq_head) mod depth on every doorbell ($what)"
	fi
}

# ------------------------------------------------------------ one read at a time
if ! trace_start tnvme_sq_doorbell tnvme_sq_level; then
	give_up "the events tnvme_sq_doorbell and tnvme_sq_level can be enabled" \
		"echo 1 >$TRACEFS/events/tnvme/.../enable failed"
fi
if run_fio --name=sync --ioengine=psync --number_ios=300; then
	ok "300 reads, one at a time, complete"
else
	trace_stop "$LAB_OUT/sync.trace" >/dev/null
	give_up "300 reads, one at a time, complete" \
		"fio did not finish within 180 s or failed: $(tail -n 2 "$LAB_OUT/io.out" | tr '\n' ' ')" \
		"lab 10 adds no command: look at what your changes do on the submission path (tnvme_queue_rq)"
fi
trace_stop "$LAB_OUT/sync.trace"
pairs "$LAB_OUT/sync.trace" >"$LAB_OUT/sync.pairs"
if check_pairs "one read at a time" "$LAB_OUT/sync.pairs"; then
	what="used=1 on every doorbell, one read at a time (sq_head = the previous doorbell's tail)"
	if [ "$badone" -eq 0 ] && [ "$badprev" -eq 0 ]; then
		ok "used=1 on all $n doorbells, one read at a time (sq_head = the previous doorbell's tail)"
	elif [ "$nheads" -eq 1 ] && [ "$onehead" = 0 ]; then
		not_ok "$what" \
			"sq_head=0 on every doorbell ($n): the host's SQ head is never stored. The interrupt handler must keep" \
			"each CQE's SQ Head Pointer (SQHD, Dword 2 of the CQE, NVMe 2.0 §3.3.3.2) in the queue (tnvme_handle_cqe())"
	elif [ "$nheads" -eq 1 ] && [ "$onehead" = "$QID" ]; then
		not_ok "$what" \
			"sq_head=$onehead on every doorbell after the first ($n in all), which is the queue id:" \
			"the handler stores the CQE's SQ Identifier (SQID, cqe->sq_id); keep its SQ Head Pointer" \
			"(SQHD, cqe->sq_head, NVMe 2.0 §3.3.3.2)"
	elif [ "$nheads" -eq 1 ]; then
		not_ok "$what" \
			"sq_head=$onehead on every doorbell after the first ($n in all): it never moves. Keep each CQE's SQ Head Pointer" \
			"(SQHD, cqe->sq_head, NVMe 2.0 §3.3.3.2) in the queue, as the interrupt handler reads it"
	elif [ "$badprev" -gt 0 ]; then
		read -r h p t <<<"$prev"
		not_ok "$what" \
			"at the doorbell with tail=$t, sq_head=$h, but the previous doorbell's tail was $p ($badprev of $n doorbells):" \
			"with one read at a time the controller had fetched up to there, and the previous read's CQE said so" \
			"(SQHD, NVMe 2.0 §3.3.3.2): store le16_to_cpu(cqe->sq_head) in the handler, note it before the doorbell"
	else
		read -r u t h <<<"$notone"
		not_ok "$what" \
			"used=$u at the doorbell with tail=$t, sq_head=$h ($badone of $n doorbells): sq_head is right, so the" \
			"slot count is not: (tail - sq_head) mod depth, this doorbell's command included, is 1 here"
	fi
fi
SYNC_QID=$QID

# ------------------------------------------------------------ 32 in flight, batches of 16
trace_start tnvme_sq_doorbell tnvme_sq_level
if run_fio --name=batch --ioengine=io_uring --iodepth=32 --iodepth_batch_submit=16 \
	--iodepth_batch_complete_min=16 --number_ios=1600; then
	ok "1600 reads, 32 in flight in batches of 16, complete"
else
	trace_stop "$LAB_OUT/batch.trace" >/dev/null
	give_up "1600 reads, 32 in flight in batches of 16, complete" \
		"fio did not finish within 180 s or failed: $(tail -n 2 "$LAB_OUT/io.out" | tr '\n' ' ')"
fi
trace_stop "$LAB_OUT/batch.trace"
pairs "$LAB_OUT/batch.trace" >"$LAB_OUT/batch.pairs"
if check_pairs "32 in flight" "$LAB_OUT/batch.pairs"; then
	if [ "$badc" -gt 0 ]; then
		read -r u c t <<<"$short"
		not_ok "used >= the doorbell's cmds (32 in flight)" \
			"used=$u at the doorbell with tail=$t, which alone announced cmds=$c commands ($badc of $n doorbells):" \
			"the controller cannot have fetched what the host has not announced yet. Take sq_head as it was before" \
			"the doorbell (noted when the command was copied, under sq_lock), not after it"
	else
		ok "used >= the doorbell's cmds on all $n doorbells (32 in flight)"
	fi
	if [ "$max" -gt 32 ]; then
		not_ok "used <= 32 with 32 reads in flight" \
			"used reached $max with at most 32 reads in flight: the sq_head it started from was older than the" \
			"SQHD of completions the host had already handled (keep the newest CQE's SQHD, before the doorbell)"
	elif [ "$maxcmds" -ge 16 ] && [ "$max" -lt 16 ]; then
		not_ok "the largest used is 16 to 32 (32 in flight, batches of 16)" \
			"doorbells announced up to $maxcmds commands, but the largest used was $max"
	elif [ "$maxcmds" -ge 16 ]; then
		ok "the largest used is 16 to 32: $max (32 in flight, batches of 16; mean $mean)"
	else
		ok "used <= 32 with 32 reads in flight: at most $max (mean $mean)"
		echo "# (your doorbells announced at most $maxcmds commands each: lab 05's batching is not in your tree," \
			"so the lower bound 16 is not checked)"
	fi
fi

# ------------------------------------------------------------ nvmescope
if [ ! -x "$NVMESCOPE" ]; then
	not_ok "your nvmescope shows sq_used" "no nvmescope was built ($NVMESCOPE)"
	unbind_student
	check_done
fi
fio --filename=$DISK --rw=randread --bs=4k --direct=1 --cpus_allowed=1 \
	--name=sync --ioengine=psync --runtime=120 --time_based --output=/dev/null &
fio_pid=$!
n0=$(awk '{ print $1 }' /sys/block/tnvme0n1/stat)
i=0
until [ "$(awk '{ print $1 }' /sys/block/tnvme0n1/stat)" -gt $((n0 + 100)) ] || [ $i -ge 300 ]; do
	sleep 0.2
	i=$((i + 1))
done
timeout -k 5 100 "$NVMESCOPE" top --json -i 2 -n 1 -C 0 >"$LAB_OUT/top.json" 2>"$LAB_OUT/top.err"
rc=$?
kill $fio_pid 2>/dev/null
wait $fio_pid 2>/dev/null
line=$(jq -c --argjson q "${SYNC_QID:-2}" '.queues[]? | select(.qid == $q) |
	[.sq_used, .events.sq_doorbell, .events.sq_level, .events.sq_level_used]' "$LAB_OUT/top.json" 2>/dev/null)
if [ $rc -ne 0 ] || [ -z "$line" ]; then
	not_ok "your nvmescope runs (top --json) with your driver" \
		"nvmescope exited $rc: $(tail -n 2 "$LAB_OUT/top.err" | tr '\n' ' ')" \
		"\"cannot attach raw_tp/tnvme_sq_level\" means the BPF program's event is not in the loaded module"
else
	ok "your nvmescope runs (top --json) with your driver"
	IFS='[],' read -r _ used dbs lvls lvlsum <<<"$line"
	if [ "$used" = null ]; then
		not_ok "nvmescope's sq_used = the trace's mean used, 1, with one read at a time" \
			"sq_used is null (SQ_USED \"-\") on queue $SYNC_QID, which rang $dbs doorbells: nvmescope counted no" \
			"tnvme_sq_level (events: sq_level=$lvls). Is SEC(\"raw_tp/tnvme_sq_level\") in bpf/nvmescope.bpf.c, does it" \
			"add to the queue's counters, and does view.c compute sq_used from them?"
	elif awk -v u="$used" 'BEGIN { exit !(u >= 0.95 && u <= 1.05) }'; then
		ok "nvmescope's sq_used = the trace's mean used, 1, with one read at a time ($used over $dbs doorbells)"
	else
		not_ok "nvmescope's sq_used = the trace's mean used, 1, with one read at a time" \
			"nvmescope's sq_used is $used (events: sq_level=$lvls, sq_level_used=$lvlsum) where every" \
			"tnvme_sq_level had used=1: near $((DEPTH / 2)), the middle of the ring, it averages sq_head. The BPF" \
			"program must take the arguments in the order of the driver's TP_PROTO: ctrl, qid, sq_head, used"
	fi
fi

unbind_student
check_done
