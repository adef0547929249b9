#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# labs/05-doorbells-batching/tests/check.sh - the exercise check of lab 05:
# tnvme_write_sq_db() in driver/io.c, the SQ tail doorbell with batching.
# Run by "tools/lab check 05" in the lab VM (see tools/lab.d/check-lib.sh).
#
# What it checks, from the student's own trace events (tnvme_sq_write and
# tnvme_sq_doorbell) and from the data:
#   - every command written to an SQ is announced by a doorbell, and that
#     doorbell carries the slot after the last command (the new tail);
#   - each doorbell's cmds= is the number of commands written since the
#     previous one, also across the end of the ring;
#   - a single request (bd->last true) is announced at once, so a
#     synchronous read completes;
#   - a submission batch (io_uring, 16 I/Os per system call) rings fewer
#     doorbells than it writes commands;
#   - data written and read back is the same (fio verify), with and without
#     shadow doorbells.
# The queues are 64 entries deep here (io_depth=64), so the ring wraps
# every 64 commands; io_timeout=15 and max_retries=0 keep a lost command
# from holding the checker for long.

. tools/lab.d/check-lib.sh

DISK=/dev/tnvme0n1
PARAMS=(io_depth=64 io_timeout=15 max_retries=0)
ADMIN_DEPTH=32		# TNVME_ADMIN_DEPTH
IO_DEPTH=64
SPEC="NVMe 2.0 §3.1.3 (SQ y Tail Doorbell), §3.3.1 (the queue is a ring)"

# audit TRACE: walk the sq_write and sq_doorbell events of each queue in
# order and print what is wrong, one line per problem kind and queue:
#   TAIL qid tail last_slot want      a doorbell wrote the wrong tail
#   RANGE qid tail depth              a tail outside the ring
#   CMDS qid tail cmds written wrapped   cmds= is not what was written
#   LOST qid count last_slot opcode   commands no doorbell announced
# and per queue "Q qid writes doorbells sum_of_cmds max_cmds".
audit() {
	awk -v adepth="$ADMIN_DEPTH" -v iodepth="$IO_DEPTH" '
	function fld(name,   m) {
		if (match($0, " " name "=[^ ]*")) {
			m = substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2)
			return m
		}
		return ""
	}
	function note(q) {
		if (!(q in seen)) {
			seen[q] = 1
			order[++nq] = q
		}
	}
	/ tnvme_sq_write: / {
		q = fld("qid") + 0
		note(q)
		writes[q]++
		pending[q]++
		last_slot[q] = fld("sq_slot") + 0
		last_opc[q] = fld("opcode")
		next
	}
	/ tnvme_sq_doorbell: / {
		q = fld("qid") + 0
		t = fld("tail") + 0
		c = fld("cmds") + 0
		note(q)
		# A doorbell before any command of this window announced
		# commands written before the trace started: skip it.
		if (!(q in synced)) {
			synced[q] = 1
			if (!pending[q]) {
				lastt[q] = t
				next
			}
		}
		d = q ? iodepth : adepth
		dbs[q]++
		sum[q] += c
		if (c > maxc[q])
			maxc[q] = c
		if (t >= d && !bad["RANGE", q]++)
			print "RANGE", q, t, d
		if (pending[q]) {
			want = (last_slot[q] + 1) % d
			if (t != want && !bad["TAIL", q]++)
				print "TAIL", q, t, last_slot[q], want
		}
		if (c != pending[q] && !bad["CMDS", q]++)
			print "CMDS", q, t, c, pending[q], ((q in lastt) && t < lastt[q]) ? 1 : 0
		pending[q] = 0
		lastt[q] = t
		next
	}
	END {
		for (i = 1; i <= nq; i++) {
			q = order[i]
			if (pending[q])
				print "LOST", q, pending[q], last_slot[q], last_opc[q]
			printf "Q %d %d %d %d %d\n", q, writes[q], dbs[q], sum[q], maxc[q]
		}
	}' "$1"
}

# explain AUDIT_OUTPUT: turn the audit's problem lines into hints.
explain() {
	local kind q a b c d
	while read -r kind q a b c d; do
		case $kind in
		TAIL)
			if [ "$a" = "$b" ]; then
				echo "queue $q: the doorbell wrote tail=$a, the slot of the last command it announces; the SQ tail is the slot AFTER the last command (here $c), the next one the host will fill: write q->sq_tail as it is after the copy ($SPEC)"
			else
				echo "queue $q: the doorbell wrote tail=$a after the last command went to slot $b; it must be $c, the slot after it, or the controller fetches the wrong slots ($SPEC)"
			fi
			;;
		RANGE)
			echo "queue $q: the doorbell wrote tail=$a, outside the ring of $b slots (0-$((b - 1))): the tail wraps to 0 at the depth ($SPEC)"
			;;
		CMDS)
			if [ "$d" = 1 ] || [ "$b" -gt "$IO_DEPTH" ]; then
				echo "queue $q: the doorbell with tail=$a says cmds=$b, but $c command(s) were written since the previous doorbell: the ring wrapped between the two, so count the slots from the tail last written to the new one modulo the depth"
			else
				echo "queue $q: the doorbell with tail=$a says cmds=$b, but $c command(s) were written since the previous doorbell: cmds is the number of slots from the tail you wrote last time (keep it in q->last_sq_tail, updated at every doorbell) to the new tail"
			fi
			;;
		LOST)
			if [ "$a" = 1 ]; then
				echo "queue $q: the command in slot $b (opcode $c) got no SQ tail doorbell: nothing followed it, so it was the last of its batch (bd->last true, or commit_rqs), and the doorbell must be rung for it at once; the controller never fetches it and it times out"
			else
				echo "queue $q: the last $a commands (the last one in slot $b, opcode $c) got no SQ tail doorbell: a batch ends with bd->last true (or commit_rqs), and then the doorbell must announce every command held back; the controller never fetches them and they time out"
			fi
			;;
		esac
	done
}

# problems AUDIT_OUTPUT: the problem lines only.
problems() {
	grep -E '^(TAIL|RANGE|CMDS|LOST) ' <<<"$1" || true
}

# tnvme's own complaints about lost commands since dmesg line $1.
timeouts_since() {
	dmesg | tail -n "+$(($1 + 1))" | grep -E 'tnvme.*(timed out|resetting|disabling|reset failed)' | head -n 3 | tr '\n' '|'
}

# fio_errors FILE: fio's error field (terse v3 field 5), or "?".
fio_errors() {
	awk -F';' 'NF > 5 { e = $5 } END { print (e == "" ? "?" : e) }' "$1"
}

phase() {	# phase NAME: start a traced part of the check
	PHASE=$1
	DMESG0=$(dmesg | wc -l)
	trace_start tnvme_sq_write tnvme_sq_doorbell || give_up "the tnvme trace events exist (tnvme_sq_write, tnvme_sq_doorbell)" \
		"your module has no such events under $TRACEFS/events/tnvme: was it built from this project's driver/ (trace.h)?"
}

# end_phase: stop the trace, audit it; prints the audit, returns 1 if any
# command was mishandled.
end_phase() {
	trace_stop "$LAB_OUT/$PHASE.trace"
	AUDIT=$(audit "$LAB_OUT/$PHASE.trace")
	echo "$AUDIT" >"$LAB_OUT/$PHASE.audit"
	[ -z "$(problems "$AUDIT")" ]
}

# report_audit WHAT: one ok/not ok line for the doorbells of the phase.
report_audit() {
	local p
	p=$(problems "$AUDIT")
	if [ -z "$p" ]; then
		ok "$1"
		return 0
	fi
	local hints=()
	while IFS= read -r line; do
		hints+=("$line")
	done < <(explain <<<"$p" | head -n 3)
	not_ok "$1" "${hints[@]}"
	return 1
}

# the queue of this phase with the most commands: "qid writes doorbells sum max"
busiest_queue() {
	awk '$1 == "Q" && $2 != 0 && $3 > best { best = $3; line = $2 " " $3 " " $4 " " $5 " " $6 } END { print line }' <<<"$AUDIT"
}

# bounded LIMIT CMD...: run CMD in the background until it ends, one of
# tnvme's commands times out (io_timeout: a command the controller never
# completed), or LIMIT seconds pass; the command's status in RC (124 if it
# did not end), "timeout" or "limit" in STUCK.  A command stuck in the
# kernel cannot be killed: then it stays behind and the check gives up.
bounded() {
	local limit=$1 pid n=0
	shift
	"$@" &
	pid=$!
	STUCK=""
	while kill -0 $pid 2>/dev/null; do
		if [ -n "$(timeouts_since "$DMESG0")" ]; then
			STUCK=timeout
		elif [ $n -ge $((limit * 5)) ]; then
			STUCK=limit
		fi
		if [ -n "$STUCK" ]; then
			RC=124
			return 1
		fi
		sleep 0.2
		n=$((n + 1))
	done
	wait $pid
	RC=$?
	[ $RC -eq 0 ]
}

# stuck_hints: what a stuck command means.
stuck_hints() {
	case $STUCK in
	timeout) echo "a command timed out (io_timeout=15: the controller did not complete it): dmesg: $(timeouts_since "$DMESG0")" ;;
	limit) echo "it did not finish within its time limit" ;;
	esac
}

echo 0 >"$TRACEFS/tracing_on"
echo global >"$TRACEFS/trace_clock"	# one clock for events of all CPUs

# ---------------------------------------------------------------------
# 1. Load and bind without shadow doorbells (every doorbell an MMIO
#    write), tracing from the first admin command on.
if ! out=$(insmod "$TNVME_KO" "${PARAMS[@]}" shadow_doorbells=0 2>&1); then
	give_up "your tnvme.ko loads" "insmod said: $out"
fi
phase bind
if out=$(timeout 120 tnvme-bind "${PARAMS[@]}" shadow_doorbells=0 2>&1); then
	end_phase
	if ! report_audit "binding the controller: every admin command is announced by the right doorbell"; then
		give_up "your tnvme.ko binds the lab controller and its doorbells are right" \
			"the commands of the bring-up (admin commands, the partition table read) show the problem above; later checks could not mean anything"
	fi
	ok "your tnvme.ko binds the lab controller (shadow_doorbells=0)"
else
	end_phase
	hints=("tnvme-bind said: $(tail -n 1 <<<"$out")")
	while IFS= read -r line; do
		hints+=("$line")
	done < <(problems "$AUDIT" | explain | head -n 3)
	[ ${#hints[@]} -gt 1 ] || hints+=("the trace shows every admin command announced with the right tail, yet the bring-up failed: check the value written to the doorbell register (writel(tail, q->sq_db)) against the traced tail" \
		"the driver's own messages: $(dmesg | grep tnvme | tail -n 3 | tr '\n' '|')")
	give_up "your tnvme.ko binds the lab controller (shadow_doorbells=0)" "${hints[@]}"
fi

# ---------------------------------------------------------------------
# 2. Single requests: one 4 KiB read at a time (bd->last is true for
#    each), then a data round trip of 1 MiB in 4 KiB requests (256
#    commands on one queue: the 64-slot ring wraps four times).
phase single
DMESG_IO=$DMESG0
stalled=""
for i in $(seq 0 15); do
	if ! bounded 60 taskset -c 1 dd if=$DISK of=/dev/null bs=4k count=1 skip=$((i * 37)) \
		iflag=direct status=none 2>"$LAB_OUT/dd.err"; then
		stalled="read $((i + 1)) of 16 (4 KiB at block $((i * 37))) did not complete: $(stuck_hints)$(head -c 200 "$LAB_OUT/dd.err")"
		break
	fi
done
roundtrip=""
if [ -z "$stalled" ]; then
	head -c 1M /dev/urandom >/tmp/pattern
	if ! bounded 120 taskset -c 1 dd if=/tmp/pattern of=$DISK bs=4k seek=1024 oflag=direct status=none 2>"$LAB_OUT/dd.err" ||
		! bounded 120 taskset -c 1 dd if=$DISK of=/tmp/back bs=4k skip=1024 count=256 iflag=direct status=none 2>>"$LAB_OUT/dd.err"; then
		stalled="writing or reading 1 MiB in 4 KiB requests did not complete: $(stuck_hints)$(head -c 200 "$LAB_OUT/dd.err")"
	elif ! cmp -s /tmp/pattern /tmp/back; then
		roundtrip="1 MiB written in 4 KiB requests came back different ($(cmp /tmp/pattern /tmp/back 2>&1 | head -n 1)): the controller executed other commands than the ones the driver wrote, so the doorbell announced the wrong slots"
	fi
fi
end_phase || true
if [ -n "$stalled" ]; then
	hints=("$stalled")
	while IFS= read -r line; do hints+=("$line"); done < <(problems "$AUDIT" | explain | head -n 2)
	give_up "single 4 KiB requests (bd->last true for each) complete" "${hints[@]}"
fi
ok "single 4 KiB requests (bd->last true for each) complete"
report_audit "single requests: each is announced at once, with the right tail and cmds=" || true
if [ -n "$roundtrip" ]; then
	not_ok "1 MiB written and read back in 4 KiB requests is the same data" "$roundtrip"
else
	ok "1 MiB written and read back in 4 KiB requests is the same data"
fi

# ---------------------------------------------------------------------
# 3. Batches: fio submits 16 reads per io_uring_enter() on CPU 1; io_uring
#    plugs them and blk-mq hands them over as a list (bd->last false but
#    for the last one).  1024 reads on one queue: the ring wraps 16 times.
phase batch
bounded 180 fio --name=batch --filename=$DISK --rw=randread --bs=4k --direct=1 \
	--ioengine=io_uring --iodepth=32 --iodepth_batch_submit=16 --iodepth_batch_complete_min=16 \
	--cpus_allowed=1 --io_size=4M --output-format=terse --terse-version=3 >"$LAB_OUT/batch.fio" 2>&1
rc=$RC
end_phase || true
if [ $rc -ne 0 ] || [ "$(fio_errors "$LAB_OUT/batch.fio")" != 0 ]; then
	hints=("fio exited $rc, error field $(fio_errors "$LAB_OUT/batch.fio") $(stuck_hints)")
	while IFS= read -r line; do hints+=("$line"); done < <(problems "$AUDIT" | explain | head -n 2)
	hints+=("a batch must end with a doorbell that announces all its commands: the request with bd->last true, or tnvme_commit_rqs()")
	give_up "1024 reads submitted 16 per system call (io_uring, queue depth 32) complete" "${hints[@]}"
fi
ok "1024 reads submitted 16 per system call (io_uring, queue depth 32) complete"
report_audit "batches: every command announced, with the right tail and cmds= (also where the ring wraps)" || true
read -r bq bw bd bs bm <<<"$(busiest_queue)"
if [ -z "$bq" ]; then
	not_ok "the batch's commands show in the trace" "no tnvme_sq_write event on an I/O queue: are the events fired in tnvme_sq_copy_cmd() and tnvme_write_sq_db()?"
elif [ "$bd" -lt "$bw" ] && [ "$bm" -gt 1 ]; then
	ok "a batch rings fewer doorbells than it writes commands (queue $bq: $bw sq_writes, $bd doorbells, up to $bm commands per doorbell)"
else
	not_ok "a batch rings fewer doorbells than it writes commands" \
		"queue $bq: $bw sq_writes and $bd SQ tail doorbells, at most $bm command(s) per doorbell: every command rang its own doorbell" \
		"while bd->last (force) is false, more requests follow at once: skip the doorbell and let the request with last set (or tnvme_commit_rqs()) announce them all in one write ($SPEC)"
fi
if [ -n "$bq" ]; then
	if [ "$bs" = "$bw" ]; then
		ok "the doorbells' cmds= add up to the commands written (queue $bq: $bs)"
	else
		not_ok "the doorbells' cmds= add up to the commands written" \
			"queue $bq: the cmds= fields add up to $bs, but $bw commands were written in the same trace" \
			"cmds is the number of slots from the tail written at the previous doorbell (q->last_sq_tail) to the new tail, modulo the depth"
	fi
fi

# ---------------------------------------------------------------------
# 4. Data through batches: fio writes and verifies 8 MiB, 16 per system
#    call, sizes from 4 to 64 KiB.
phase verify
bounded 240 fio --name=verify --filename=$DISK --rw=randwrite --bsrange=4k-64k --direct=1 \
	--ioengine=io_uring --iodepth=32 --iodepth_batch_submit=16 --iodepth_batch_complete_min=8 \
	--cpus_allowed=1 --size=8M --offset=16M --verify=crc32c --do_verify=1 \
	--output-format=terse --terse-version=3 >"$LAB_OUT/verify.fio" 2>&1
rc=$RC
end_phase || true
if [ $rc -eq 0 ] && [ "$(fio_errors "$LAB_OUT/verify.fio")" = 0 ]; then
	ok "fio writes 8 MiB in batches and reads back the same data (verify=crc32c)"
else
	hints=("fio exited $rc, error field $(fio_errors "$LAB_OUT/verify.fio"): $(grep -m 1 -iE 'verify|error' "$LAB_OUT/verify.fio" | head -c 200) $(stuck_hints)")
	while IFS= read -r line; do hints+=("$line"); done < <(problems "$AUDIT" | explain | head -n 2)
	[ -n "$STUCK" ] || not_ok "fio writes 8 MiB in batches and reads back the same data (verify=crc32c)" "${hints[@]}"
	[ -z "$STUCK" ] || give_up "fio writes 8 MiB in batches and reads back the same data (verify=crc32c)" "${hints[@]}"
fi

# ---------------------------------------------------------------------
# 5. The same with shadow doorbells: the controller reads the tail from
#    the shadow buffer whenever it looks at the queue.
unbind_student
if ! out=$(insmod "$TNVME_KO" "${PARAMS[@]}" shadow_doorbells=1 2>&1); then
	give_up "your tnvme.ko loads again with shadow_doorbells=1" "insmod said: $out"
fi
phase shadow
SHADOW_HINT="the same I/O worked with shadow_doorbells=0: with a shadow doorbell buffer the controller takes the tail from that buffer, not from the register; publish every new tail there with tnvme_shadow_db_update() (and write the register only when it says so) (NVMe 2.0 §5.11 Doorbell Buffer Config)"
if ! bounded 120 tnvme-bind "${PARAMS[@]}" shadow_doorbells=1 >"$LAB_OUT/bind.out" 2>&1; then
	end_phase || true
	said=$(tail -n 1 "$LAB_OUT/bind.out")
	not_ok "with shadow doorbells: binding the controller (its first reads: the partition table) completes" \
		"$(stuck_hints)${said:+ (tnvme-bind said: $said)}" "$SHADOW_HINT"
	# the bind may still hang in the kernel: do not wait for it
	check_done
fi
stalled=""
for i in $(seq 0 3); do
	if ! bounded 60 taskset -c 1 dd if=$DISK of=/dev/null bs=4k count=1 skip=$((i * 41)) \
		iflag=direct status=none 2>"$LAB_OUT/dd.err"; then
		stalled="a single 4 KiB read did not complete: $(stuck_hints)$(head -c 200 "$LAB_OUT/dd.err")"
		break
	fi
done
if [ -z "$stalled" ]; then
	if ! bounded 240 fio --name=shadow --filename=$DISK --rw=randwrite --bsrange=4k-64k --direct=1 \
		--ioengine=io_uring --iodepth=32 --iodepth_batch_submit=16 --iodepth_batch_complete_min=8 \
		--cpus_allowed=1 --size=4M --offset=32M --verify=crc32c --do_verify=1 \
		--output-format=terse --terse-version=3 >"$LAB_OUT/shadow.fio" 2>&1 ||
		[ "$(fio_errors "$LAB_OUT/shadow.fio")" != 0 ]; then
		stalled="fio (writes and verify, 16 per system call) exited $RC, error field $(fio_errors "$LAB_OUT/shadow.fio") $(stuck_hints)"
	fi
fi
end_phase || true
if [ -z "$stalled" ]; then
	ok "with shadow doorbells: single reads and batched writes with verify complete"
else
	not_ok "with shadow doorbells: single reads and batched writes with verify complete" "$stalled" "$SHADOW_HINT"
	[ -z "$STUCK" ] || check_done
fi
report_audit "with shadow doorbells: every command announced, with the right tail and cmds=" || true
to=$(timeouts_since "$DMESG_IO")
if [ -z "$to" ]; then
	ok "no command timed out"
else
	not_ok "no command timed out" "dmesg: $to" \
		"a command the controller never completed: no doorbell announced it, or one announced it with a tail that leaves it out"
fi

unbind_student
check_done
