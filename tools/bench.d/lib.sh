# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest-side benchmark suites (sourced).

# median of the numbers on stdin
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B, to 3 decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print "nan" }'; }

# fio_iops DEV SECONDS FIO-ARGS...: one fio run, prints its total IOPS
# (read + write) as a whole number.  Fails loudly on a fio error.
fio_iops() {
	local dev=$1 secs=$2 out
	shift 2
	out=$(fio --name=bench --filename="$dev" --direct=1 --ioengine=io_uring \
		--runtime="$secs" --time_based --group_reporting \
		--output-format=terse --terse-version=3 "$@" 2>&1) || {
		echo "bench: fio failed on $dev: $out" >&2
		return 1
	}
	# terse v3: 5 = error, 8 = read IOPS, 49 = write IOPS
	echo "$out" | awk -F';' '$5 != 0 { exit 1 } { printf "%d\n", $8 + $49 }'
}

# warn_slow_rounds WHAT FILE: one warning line when some rounds in FILE (one
# IOPS figure per line) ran at under a third of the best round.  Seen now
# and then under QEMU TCG, with either driver and with no fault of its own:
# the device keeps answering, but at 1-2k IOPS for a whole round or
# several (docs/troubleshooting.md, "tools/bench").  Medians absorb one such
# round; when they are many the ratio says nothing, and this line says so.
warn_slow_rounds() {
	awk -v what="$1" '{ v[NR] = $1; if ($1 > best) best = $1 }
		END { for (i = 1; i <= NR; i++) if (v[i] < best / 3) { n++; list = list " " i }
		      if (n) printf "  WARNING: %s: %d of %d rounds (round%s) ran under a third of the best round (%d IOPS): a TCG slow spell, the ratio is unreliable; run the bench again\n", what, n, NR, list, best }' "$2"
}
