#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lab 06's exercise: tnvme_map_queues() (driver/io.c), the map from CPUs
# to hardware queues, must follow the managed affinity of the queues'
# MSI-X vectors, so that a queue's interrupt fires on a CPU that submits
# to it.
#
# labvm: --smp 4
#
# The VM's 4 CPUs and the default controller (64 queue pairs), loaded
# three times: io_queues=3 (the vectors get CPUs 0-1, 2 and 3, while
# blk-mq's generic spread would give 0,3 / 1 / 2), io_queues=2 (0-1 and
# 2-3 against 0,2 / 1,3) and the default, one queue per CPU.  For each:
#   - every CPU's hardware queue (/sys/block/tnvme0n1/mq/*/cpu_list) must
#     be the I/O queue whose vector's smp_affinity_list holds that CPU
#     (the vector of a queue: the MSI-X entry in its /proc/interrupts line);
#   - reads issued from each CPU (taskset) must go to that queue, and its
#     interrupts (tnvme_irq) must fire on a CPU of the vector's affinity,
#     which now contains the submitting CPU.
. tools/lab.d/check-lib.sh

cpus=$(nproc)

# expand LIST: "0-1,3" or "0, 1" -> "0 1 3"
expand() {
	local part out=
	for part in $(tr ',' ' ' <<<"$1"); do
		case $part in
		*-*) out="$out $(seq -s ' ' "${part%-*}" "${part#*-}")" ;;
		*) out="$out $part" ;;
		esac
	done
	echo $out
}

# in_list X "A B C": is X one of them?
in_list() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

# one_load IO_QUEUES: bind with io_queues=IO_QUEUES and check the map.
one_load() {
	local ioq=$1 n expected q h c line irq hw what
	local -a aff eff vec map_of aff_of hctx_cpus
	expected=$((cpus < ioq ? cpus : ioq))
	what="io_queues=$ioq, $cpus CPUs"

	bind_student io_queues="$ioq"
	n=$(grep -c 'tnvme0q[1-9]' /proc/interrupts)
	if [ "$n" -ne "$expected" ]; then
		give_up "$what: your driver creates $expected I/O queues" \
			"it created $n: this lab's check needs lab 03's exercise (tnvme_pick_queue_count()) done first" \
			"expected min($cpus CPUs, io_queues $ioq, 64 granted) = $expected"
	fi

	# The vectors: queue q's IRQ, its MSI-X entry (the low 11 bits of the
	# PCI-MSI hwirq number), its managed mask and where it is routed now.
	for q in $(seq 1 "$n"); do
		line=$(grep -E "tnvme0q$q\$" /proc/interrupts)
		irq=$(awk -F: '{ print $1 + 0 }' <<<"$line")
		hw=$(grep -oE 'PCI-MSI(-[0-9a-f:.]+)? +[0-9]+-edge' <<<"$line" | grep -oE '[0-9]+-edge' | cut -d- -f1)
		vec[q]=$((${hw:-0} & 0x7ff))
		aff[q]=$(cat "/proc/irq/$irq/smp_affinity_list")
		eff[q]=$(cat "/proc/irq/$irq/effective_affinity_list")
		for c in $(expand "${aff[q]}"); do
			aff_of[c]=$q
		done
	done
	# The map: hardware context h is I/O queue h + 1.  A context no CPU
	# maps to has no folder in mq/.
	for h in $(seq 0 $((n - 1))); do
		hctx_cpus[h]=
		[ -r "/sys/block/tnvme0n1/mq/$h/cpu_list" ] || continue
		hctx_cpus[h]=$(expand "$(cat "/sys/block/tnvme0n1/mq/$h/cpu_list")")
		for c in ${hctx_cpus[h]}; do
			map_of[c]=$((h + 1))
		done
	done

	local bad='' mine='' theirs=''
	for q in $(seq 1 "$n"); do
		mine="$mine  q$q: $(tr ' ' ',' <<<"${hctx_cpus[q - 1]:-none}")"
		theirs="$theirs  q$q: ${aff[q]}"
	done
	for c in $(seq 0 $((cpus - 1))); do
		if [ "${map_of[c]:-0}" != "${aff_of[c]:-0}" ]; then
			bad=$c
			break
		fi
	done
	if [ -z "$bad" ]; then
		ok "$what: each CPU submits to the queue whose vector's affinity holds it ($mine )"
	else
		local qm=${map_of[bad]:-0} qa=${aff_of[bad]:-0} why=
		# Which typical mistake is it?
		if [ "$n" -gt 1 ] && [ "${hctx_cpus[0]}" = "$(seq -s ' ' 0 $((cpus - 1)))" ]; then
			why="every CPU submits to I/O queue 1 (hardware context 0): queues 2-$n get no I/O and their vectors never fire; give each queue the CPUs of its own vector"
		else
			local shifted=1 blind=1 partial=
			for h in $(seq 1 $((n - 1))); do
				[ "${hctx_cpus[h]}" = "$(expand "${aff[h]}")" ] || shifted=0
			done
			for c in $(seq 0 $((cpus - 1))); do
				# blk_mq_map_queues(): CPU c -> context c mod n (no SMT here)
				[ "${map_of[c]:-0}" = $((c % n + 1)) ] || blind=0
			done
			# a queue given some, not all, of its vector's CPUs
			for q in $(seq 1 "$n"); do
				local mask subset=1
				mask=$(expand "${aff[q]}")
				[ -n "${hctx_cpus[q - 1]}" ] && [ "${hctx_cpus[q - 1]}" != "$mask" ] || continue
				for c in ${hctx_cpus[q - 1]}; do
					in_list "$c" "$mask" || subset=0
				done
				if [ "$subset" = 1 ] && [ -z "$partial" ]; then
					partial="I/O queue $q gets only CPU(s) $(tr ' ' ',' <<<"${hctx_cpus[q - 1]}") of its vector's affinity ${aff[q]}: every CPU of the vector's mask must map to its queue, not just one"
				fi
			done
			if [ "$shifted" = 1 ] && [ "$n" -gt 1 ]; then
				why="your hardware context h got the CPUs of vector h, which is I/O queue h's: context h is queue h + 1, whose vector is h + 1 (vector 0 is the admin queue's, skip it: offset 1)"
			elif [ "$blind" = 1 ]; then
				why="this is blk-mq's generic spread (CPU c to context c mod $n, blk_mq_map_queues()), blind to the vectors: read each vector's mask instead (pci_irq_get_affinity())"
			elif [ -n "$partial" ]; then
				why=$partial
			else
				why="map each CPU to the queue whose vector's managed mask holds it (pci_irq_get_affinity(pdev, q + 1), or blk_mq_pci_map_queues())"
			fi
		fi
		not_ok "$what: each CPU submits to the queue whose vector's affinity holds it" \
			"I/O queue $qm's vector ${vec[qm]:-?} fires on CPU(s) ${aff[qm]:-none} (now routed to CPU ${eff[qm]:-?}) but your map sends CPU $bad's I/O to queue $qm (CPU $bad is in the affinity of queue $qa's vector ${vec[qa]:-?})" \
			"$why" \
			"your map:$mine; the vectors' affinity:$theirs"
	fi

	# The interrupts of each CPU's reads.
	local used fired
	local -a hints=()
	for c in $(seq 0 $((cpus - 1))); do
		trace_start tnvme_rq_start tnvme_irq >/dev/null
		io_ok 30 taskset -c "$c" dd if=/dev/tnvme0n1 of=/dev/null bs=4k count=20 iflag=direct status=none
		trace_stop "$LAB_OUT/irq.trace" >/dev/null
		used=$(grep 'tnvme_rq_start:' "$LAB_OUT/irq.trace" | field qid | sort -u | paste -sd ' ')
		case $used in
		'' | *' '*)
			hints+=("reads from CPU $c used queue(s) '${used:-none}': expected one queue")
			continue
			;;
		esac
		fired=$(grep 'tnvme_irq:' "$LAB_OUT/irq.trace" | grep " qid=$used " | field cpu | sort -u | paste -sd ' ')
		if [ -z "$fired" ]; then
			hints+=("reads from CPU $c went to I/O queue $used but no tnvme_irq of that queue was traced")
		elif ! in_list "$c" "$(expand "${aff[used]}")"; then
			hints+=("reads from CPU $c went to I/O queue $used, whose interrupt fired on CPU $fired (vector ${vec[used]:-?}, affinity ${aff[used]}): the completion ran on a CPU that did not submit the read (CPU $c's own vector is queue ${aff_of[c]:-?}'s)")
		fi
	done
	if [ "${#hints[@]}" -eq 0 ]; then
		ok "$what: reads from each CPU complete with an interrupt on a CPU of their queue's vector affinity"
	else
		not_ok "$what: reads from each CPU complete with an interrupt on a CPU of their queue's vector affinity" \
			"${hints[@]}"
	fi
	unbind_student
}

one_load 3
one_load 2
one_load 64
check_done
