#!/usr/bin/env bash
# The driver is clean under the kernel's checkpatch.pl --strict.
. tests/lib.sh
[ -f driver/Makefile ] || { echo "no driver yet"; exit 0; }
make --no-print-directory build/scripts/checkpatch.pl >/dev/null || { not_ok "checkpatch.pl could not be extracted"; exit 1; }
# The driver's own sources, not Kbuild's generated tnvme.mod.c.
sources=$(ls driver/*.c driver/*.h | grep -v '\.mod\.c$')
out=$(perl build/scripts/checkpatch.pl --no-tree --strict --terse -f $sources 2>&1)
n=$(echo "$out" | grep -c ': \(ERROR\|WARNING\|CHECK\):')
if [ "$n" -eq 0 ]; then
	ok "checkpatch --strict: no finding in driver/"
else
	echo "$out" | grep ': \(ERROR\|WARNING\|CHECK\):'
	not_ok "checkpatch --strict: $n findings in driver/"
fi
finish
