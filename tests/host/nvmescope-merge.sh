#!/usr/bin/env bash
# nvmescope merge without a VM: the unit tests of the device view (QEMU
# trace parser, record parser, clock offset estimator on known offset and
# drift, a simulated run joined end to end), merge/timeline's usage, and
# their refusal of a record whose doorbells went to the shadow buffer.
. tests/lib.sh
if [ ! -x build/bin/nvmescope-devview-unit ] || [ ! -x build/bin/nvmescope ]; then
	not_ok "nvmescope and nvmescope-devview-unit are built (run make)"
	finish
	exit
fi
build/bin/nvmescope-devview-unit
[ $? -eq 0 ] || not_ok "nvmescope-devview-unit exits 0"
T=$(mktemp -d)
build/bin/nvmescope merge >/dev/null 2>"$T/err"; expect_eq "merge without files: exit 2" 2 $?
check "merge without files: one line" sh -c "[ \$(wc -l <$T/err) -eq 1 ]"
build/bin/nvmescope merge "$T/none" "$T/none" >/dev/null 2>&1; expect_eq "merge of missing files: exit 6" 6 $?
echo hello >"$T/h"
build/bin/nvmescope merge "$T/h" "$T/h" >/dev/null 2>&1; expect_eq "merge of a non-record file: exit 2" 2 $?
build/bin/nvmescope timeline "$T/h" "$T/h" >/dev/null 2>&1; expect_eq "timeline without --svg: exit 2" 2 $?

# A simulated run as files (nvmescope-devview-unit --write-sim): every
# doorbell an MMIO write, as with tnvme shadow_doorbells=0.  merge joins it.
S=$T/sim
mkdir -p "$S"
build/bin/nvmescope-devview-unit --write-sim "$S" 4000
expect_eq "the simulated run is written" 0 $?
check "its record ends with doorbell totals" \
	grep -q '^# end .* sq_doorbells=1499 sq_doorbells_mmio=1499 cq_doorbells=1500 cq_doorbells_mmio=1500$' "$S/host-trace.log"
build/bin/nvmescope merge "$S/host-trace.log" "$S/device-trace.log" >"$T/out" 2>"$T/err"
expect_eq "merge of an all-MMIO record: exit 0" 0 $?
check "... every command joined" grep -q '^joined   2996 of 2996 guest commands' "$T/out"
# A record from before shadow doorbells: no doorbell totals, merged as before.
sed 's/ sq_doorbells=.*$//' "$S/host-trace.log" >"$T/old.log"
build/bin/nvmescope merge "$T/old.log" "$S/device-trace.log" >"$T/out" 2>"$T/err"
expect_eq "merge of a record without doorbell totals (older nvmescope): exit 0" 0 $?
# The same run with 1287 of its 1499 SQ doorbells only in the shadow buffer.
sed 's/ sq_doorbells_mmio=1499 / sq_doorbells_mmio=212 /' "$S/host-trace.log" >"$T/shadow.log"
want="1287 of 1499 SQ doorbells of ctrl 0 went only to the shadow doorbell buffer, QEMU saw no MMIO write for them: load tnvme with shadow_doorbells=0 for the device view"
for c in merge "merge --json" "timeline --svg $T/t.svg"; do
	build/bin/nvmescope $c "$T/shadow.log" "$S/device-trace.log" >"$T/out" 2>"$T/err"
	expect_eq "$c of a record with shadow-only doorbells: exit 2" 2 $?
	expect_eq "... one line on stderr, nothing on stdout" "1 0" "$(wc -l <"$T/err") $(wc -c <"$T/out")"
	expect_eq "... saying how many and what to do" "nvmescope ${c%% *}: $want" "$(cat "$T/err")"
done
check "timeline wrote no SVG for it" test ! -e "$T/t.svg"
sed 's/ cq_doorbells_mmio=1500$/ cq_doorbells_mmio=0/' "$S/host-trace.log" >"$T/shadow-cq.log"
build/bin/nvmescope merge "$T/shadow-cq.log" "$S/device-trace.log" >/dev/null 2>"$T/err"
expect_eq "merge of a record with shadow-only CQ doorbells: exit 2" 2 $?
check "... naming the CQ doorbells" grep -q '^nvmescope merge: 1500 of 1500 CQ doorbells of ctrl 0 went only' "$T/err"

for c in merge timeline record; do
	build/bin/nvmescope $c --help >/dev/null; expect_eq "nvmescope $c --help exits 0" 0 $?
done
rm -rf "$T"
finish
