#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lab 03's exercise: how many I/O queues tnvme_pick_queue_count() asks for
# and uses (Set Features, Number of Queues: NVMe 2.0 section 5.27.1.5).
#
# labvm: --smp 4 --ctrl lab:ioqpairs=3
#
# One boot, two controllers: the lab controller grants 3 queue pairs
# (fewer than the VM's 4 CPUs), the sys controller grants QEMU's default
# 64.  Three loads of the student's module, each on its own:
#   lab, io_queues=64 (default)  min(4 CPUs, 64, 3 granted) = 3: the grant
#   lab, io_queues=2             min(4 CPUs, 2, 3 granted)  = 2: the parameter
#   sys, io_queues=64            min(4 CPUs, 64, 64 granted) = 4: the CPUs
# In each, a kprobe on tnvme_set_queue_count() records the dword 11 the
# driver sent (QEMU ignores the request, so nothing else would show it),
# and /proc/interrupts shows how many I/O queues it created.  What the
# controller grants comes from the stock nvme driver, before any binding.
. tools/lab.d/check-lib.sh

KPROBE=tnvme_lab03_numq

# ctrl_dw0 PCI: dword 0 of Get Features 07h (NSQA/NCQA) through the stock
# driver still bound to PCI, e.g. 0x00020002.
ctrl_dw0() {
	local dir
	for dir in /sys/bus/pci/devices/"$1"/nvme/nvme*; do
		[ -e "$dir" ] || return 1
		break
	done
	timeout 30 nvme get-feature -f 7 "/dev/${dir##*/}" 2>/dev/null |
		sed -n 's/.*Current value:\(0x[0-9a-fA-F]*\).*/\1/p'
}

kprobe_on() {
	echo 0 >"$TRACEFS/tracing_on"
	echo 0 >"$TRACEFS/events/enable"
	echo >"$TRACEFS/trace"
	echo "p:$KPROBE tnvme_set_queue_count dword11=%si:x32" >>"$TRACEFS/kprobe_events" || return 1
	echo 1 >"$TRACEFS/events/kprobes/$KPROBE/enable" || return 1
	echo 1 >"$TRACEFS/tracing_on"
}

# kprobe_off: save the trace as $LAB_OUT/kprobe.trace, then remove the
# probe (removing an event empties the trace buffer).
kprobe_off() {
	echo 0 >"$TRACEFS/events/kprobes/$KPROBE/enable" 2>/dev/null
	cat "$TRACEFS/trace" >"$LAB_OUT/kprobe.trace"
	echo "-:$KPROBE" >>"$TRACEFS/kprobe_events" 2>/dev/null
	echo 0 >"$TRACEFS/tracing_on"
}

unbind_pci() {
	timeout 60 tnvme-bind --unbind "$1" >/dev/null 2>&1 || true
	timeout 30 rmmod tnvme >/dev/null 2>&1 || true
}

cpus=$(nproc)
lab_dw0=$(ctrl_dw0 "$LABVM_LAB_PCI")
sys_dw0=$(ctrl_dw0 "$LABVM_SYS_PCI")
if [ -z "$lab_dw0" ] || [ -z "$sys_dw0" ]; then
	give_up "the stock nvme driver reports what each controller grants" \
		"Get Features 07h through nvme answered '${lab_dw0:-nothing}' (lab) and '${sys_dw0:-nothing}' (sys)" \
		"this is the lab VM, not your code: boot it again (tools/lab check 03)"
fi
# Pairs: the smaller of NSQA + 1 and NCQA + 1.
pairs() {
	local sq=$(($1 & 0xffff)) cq=$(($1 >> 16))
	echo $(((sq < cq ? sq : cq) + 1))
}
lab_grant=$(pairs "$lab_dw0")
sys_grant=$(pairs "$sys_dw0")
ok "the VM has $cpus CPUs; the lab controller grants $lab_grant queue pairs (dword 0 $lab_dw0), the sys controller $sys_grant ($sys_dw0)"

# one_load NAME PCI GRANT DW0 IO_QUEUES
one_load() {
	local name=$1 pci=$2 grant=$3 dw0=$4 ioq=$5
	local wanted=$((cpus < ioq ? cpus : ioq)) want expected out n dw11 got_sq got_cq
	local before picked qid status what bound
	expected=$((wanted < grant ? wanted : grant))
	want=$(printf '0x%08x' $(((wanted - 1) << 16 | (wanted - 1))))
	what="$name controller (grants $grant), io_queues=$ioq, $cpus CPUs"
	before=$(dmesg | wc -l)

	if ! timeout 30 insmod "$TNVME_KO" io_queues="$ioq" 2>"$LAB_OUT/insmod.err"; then
		give_up "your tnvme.ko loads (io_queues=$ioq)" "insmod said: $(cat "$LAB_OUT/insmod.err")"
	fi
	if ! kprobe_on; then
		not_ok "a kprobe on tnvme_set_queue_count() can be set ($what)" \
			"your tnvme.ko has no function tnvme_set_queue_count(): keep it (driver/admin.c) and send Set Features through it"
		unbind_pci "$pci"
		return
	fi
	out=$(timeout 90 tnvme-bind "$pci" 2>&1)
	bound=$?
	kprobe_off
	dw11=$(grep -o "$KPROBE: .*dword11=0x[0-9a-f]*" "$LAB_OUT/kprobe.trace" | head -n 1 | sed 's/.*dword11=//')
	[ -z "$dw11" ] || dw11=$(printf '0x%08x' "$dw11")

	# The request: dword 11 = NCQR << 16 | NSQR, both 0's based.
	if [ -z "$dw11" ]; then
		not_ok "$what: your driver sends Set Features Number of Queues" \
			"tnvme_set_queue_count() was never called while the controller bound" \
			"ask for queues with it before creating any (NVMe 2.0 section 5.27.1.5)"
	elif [ "$((dw11))" -eq "$((want))" ]; then
		ok "$what: dword 11 $dw11 asks for $wanted pairs (NSQR = NCQR = $((wanted - 1)), 0's based)"
	else
		got_sq=$((dw11 & 0xffff))
		got_cq=$((dw11 >> 16))
		if [ "$got_sq" -eq "$wanted" ] && [ "$got_cq" -eq "$wanted" ]; then
			not_ok "$what: dword 11 asks for $wanted pairs" \
				"your dword 11 is $dw11: NSQR = NCQR = $wanted, but they are 0's based: that asks for $((wanted + 1)) pairs" \
				"write $((wanted - 1)) in each half to ask for $wanted (dword 11 $want; NVMe 2.0 section 5.27.1.5)"
		elif [ "$got_sq" -eq "$got_cq" ] && [ "$got_sq" -eq $((ioq - 1)) ] && [ "$ioq" -gt "$cpus" ]; then
			not_ok "$what: dword 11 asks for $wanted pairs" \
				"your dword 11 is $dw11: it asks for io_queues = $ioq pairs, more than the $cpus online CPUs" \
				"ask for min(online CPUs, io_queues) = $wanted pairs (dword 11 $want)"
		elif [ "$got_sq" -eq "$got_cq" ] && [ "$got_sq" -eq $((cpus - 1)) ] && [ "$cpus" -gt "$ioq" ]; then
			not_ok "$what: dword 11 asks for $wanted pairs" \
				"your dword 11 is $dw11: it asks for one pair per CPU ($cpus), but io_queues=$ioq" \
				"ask for min(online CPUs, io_queues) = $wanted pairs (dword 11 $want)"
		elif [ "$got_cq" -eq 0 ] && [ "$got_sq" -eq $((wanted - 1)) ]; then
			not_ok "$what: dword 11 asks for $wanted pairs" \
				"your dword 11 is $dw11: NSQR = $got_sq but NCQR (bits 31:16) = 0, i.e. one completion queue" \
				"every I/O SQ needs its own CQ here: put the same 0's based count in both halves ($want)"
		else
			not_ok "$what: dword 11 asks for $wanted pairs" \
				"your dword 11 is $dw11 (NCQR $got_cq, NSQR $got_sq, 0's based): expected $want" \
				"ask for min(online CPUs, io_queues) = min($cpus, $ioq) = $wanted pairs, minus 1 in each half"
		fi
	fi

	if [ "$bound" -ne 0 ]; then
		out=$(dmesg | tail -n +"$((before + 1))" | grep tnvme)
		picked=$(sed -n 's/.*: \([0-9]*\) I\/O queues picked, but.*/\1/p' <<<"$out" | tail -n 1)
		qid=$(sed -n 's/.*creating I\/O queue \([0-9]*\) failed.*/\1/p' <<<"$out" | tail -n 1)
		status=$(sed -n 's/.*admin opcode 0x0[15] failed: status \(0x[0-9a-f]*\).*/\1/p' <<<"$out" | tail -n 1)
		if [ -n "$qid" ] && [ "$qid" -gt "$grant" ]; then
			not_ok "$what: your driver creates $expected I/O queues" \
				"the controller granted $grant queue pairs (NSQA=$((dw0 & 0xffff)), NCQA=$((dw0 >> 16)) in dword 0 $dw0, 0's based) but your driver went on to queue $qid: Create I/O Completion Queue for qid $qid failed (status ${status:-?}: Invalid Queue Identifier)" \
				"use at most what was granted: min(NSQA + 1, NCQA + 1) pairs, whatever you asked for"
		elif [ -n "$picked" ] && [ "$picked" -gt "$ioq" ]; then
			not_ok "$what: your driver creates $expected I/O queues" \
				"with io_queues=$ioq your driver picked $picked I/O queues, so the probe stopped (the queue array holds $ioq)" \
				"the io_queues parameter caps the count: min(online CPUs, io_queues, granted)"
		elif [ -n "$picked" ] && [ "$picked" -gt "$cpus" ]; then
			not_ok "$what: your driver creates $expected I/O queues" \
				"on a VM with $cpus CPUs your driver picked $picked I/O queues, so the probe stopped (the queue array holds one per CPU)" \
				"cap the request at the online CPUs (num_online_cpus()): blk-mq would never use more queues than CPUs"
		else
			not_ok "$what: your driver creates $expected I/O queues" \
				"the controller did not bind: $(tail -n 1 <<<"$out")" \
				"expected min($cpus CPUs, io_queues $ioq, $grant granted) = $expected queues"
		fi
		unbind_pci "$pci"
		return
	fi

	# I/O vectors: tnvme0q1 .. tnvme0qN, one per I/O queue.
	n=$(grep -c 'tnvme0q[1-9]' /proc/interrupts)
	if [ "$n" -eq "$expected" ]; then
		ok "$what: $n I/O queues = min($cpus CPUs, io_queues $ioq, $grant granted)"
	elif [ "$n" -eq 1 ]; then
		not_ok "$what: your driver creates $expected I/O queues" \
			"it created one (the stand-in's count?): expected min($cpus CPUs, io_queues $ioq, $grant granted) = $expected" \
			"decode the grant and take the minimum in tnvme_pick_queue_count() (driver/probe.c)"
	elif [ "$n" -eq $((grant - 1)) ] && [ "$n" -lt "$expected" ]; then
		not_ok "$what: your driver creates $expected I/O queues" \
			"the controller granted $grant queue pairs (NSQA=$((dw0 & 0xffff)), NCQA=$((dw0 >> 16)) in dword 0 $dw0) but your driver created only $n" \
			"NSQA and NCQA are 0's based: the counts are NSQA + 1 and NCQA + 1 (NVMe 2.0 section 5.27.1.5)"
	elif [ "$n" -gt "$ioq" ]; then
		not_ok "$what: your driver creates $expected I/O queues" \
			"with io_queues=$ioq your driver created $n I/O queues" \
			"the io_queues parameter caps the count: min(online CPUs, io_queues, granted)"
	elif [ "$n" -gt "$cpus" ]; then
		not_ok "$what: your driver creates $expected I/O queues" \
			"on a VM with $cpus CPUs your driver created $n I/O queues" \
			"cap the request at the online CPUs: blk-mq would never use more queues than CPUs"
	else
		not_ok "$what: your driver creates $expected I/O queues" \
			"it created $n: expected min($cpus CPUs, io_queues $ioq, $grant granted) = $expected"
	fi

	# Every queue works: a few reads from each CPU (each goes to its CPU's queue).
	local c failed=
	for c in $(seq 0 $((cpus - 1))); do
		io_ok 30 taskset -c "$c" dd if=/dev/tnvme0n1 of=/dev/null bs=4k count=8 iflag=direct status=none ||
			failed="$failed $c"
	done
	if [ -z "$failed" ]; then
		ok "$what: reads from each CPU complete"
	else
		not_ok "$what: reads from each CPU complete" \
			"reads from CPU(s)$failed did not complete within 30 s: $(tail -n 1 "$LAB_OUT/io.out")" \
			"a queue the driver uses but the controller did not create never completes anything"
	fi
	unbind_pci "$pci"
}

one_load lab "$LABVM_LAB_PCI" "$lab_grant" "$lab_dw0" 64
one_load lab "$LABVM_LAB_PCI" "$lab_grant" "$lab_dw0" 2
one_load sys "$LABVM_SYS_PCI" "$sys_grant" "$sys_dw0" 64
check_done
