#!/usr/bin/env bash
# nvmescope merge without a VM: the unit tests of the device view (QEMU
# trace parser, record parser, clock offset estimator on known offset and
# drift, a simulated run joined end to end), and merge/timeline's usage.
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
for c in merge timeline record; do
	build/bin/nvmescope $c --help >/dev/null; expect_eq "nvmescope $c --help exits 0" 0 $?
done
rm -rf "$T"
finish
