#!/usr/bin/env bash
# nvmescope's unit tests (parsers, histograms, JSON) and its command line
# without a kernel: help, usage errors and their exit codes, the man page.
. tests/lib.sh
if [ ! -x build/bin/nvmescope-unit ] || [ ! -x build/bin/nvmescope ]; then
	not_ok "nvmescope and nvmescope-unit are built (run make)"
	finish
	exit
fi
build/bin/nvmescope-unit
[ $? -eq 0 ] || not_ok "nvmescope-unit exits 0"
build/bin/nvmescope --help >/tmp/nvmescope-help.$$ 2>&1
expect_eq "nvmescope --help exits 0" 0 $?
check "--help has examples" grep -q '^Examples:' /tmp/nvmescope-help.$$
rm -f /tmp/nvmescope-help.$$
build/bin/nvmescope >/dev/null 2>&1; expect_eq "no command: exit 2" 2 $?
build/bin/nvmescope top --interval=-1 >/dev/null 2>&1; expect_eq "negative interval: exit 2" 2 $?
build/bin/nvmescope top --driver foo >/dev/null 2>&1; expect_eq "unknown driver: exit 2" 2 $?
build/bin/nvmescope lat extra >/dev/null 2>&1; expect_eq "stray argument: exit 2" 2 $?
n=$(build/bin/nvmescope top -i 0 2>&1 >/dev/null | wc -l)
expect_eq "a usage error is one line" 1 "$n"
# Each command takes only its own options: one it does not use is refused
# (getopt's line and a hint), not ignored.
for c in "lat -n 3" "top -o read" "top -c 1" "irq --irq-events" "trace --no-bpf" "merge -q 1 a b" \
	 "trace --sample 2" "irq --sample 2" "record --sample 2"; do
	err=$(build/bin/nvmescope $c 2>&1 >/dev/null); rc=$?
	expect_eq "nvmescope $c: exit 2" 2 "$rc"
	expect_eq "... with the hint" "Try 'nvmescope ${c%% *} --help' for more information." "$(echo "$err" | tail -n 1)"
done
err=$(build/bin/nvmescope top --x 2>&1 >/dev/null)
expect_eq "an unknown long option: getopt's line, then the hint" \
	"nvmescope top: unrecognized option '--x'|Try 'nvmescope top --help' for more information." "$(echo "$err" | paste -sd '|')"
build/bin/nvmescope merge -c -1 a b >/dev/null 2>&1; expect_eq "merge -c -1: exit 2" 2 $?
# --sample (top, lat): 1 to 65536, one line naming the option
for v in 0 65537 -1 2x ""; do
	err=$(build/bin/nvmescope top --sample "$v" 2>&1 >/dev/null); rc=$?
	expect_eq "top --sample '$v': exit 2, one line" "2 1" "$rc $(echo "$err" | wc -l)"
done
expect_eq "lat --sample 0: the bad value named" \
	"nvmescope: bad sample '0': want N, time 1 command in N (1 to 65536) (see nvmescope lat --help)" \
	"$(build/bin/nvmescope lat --sample 0 2>&1 >/dev/null)"
for c in top lat irq trace record merge timeline; do
	build/bin/nvmescope $c --help | grep -q "^Usage: nvmescope $c "
	expect_eq "nvmescope $c --help: its own usage" 0 $?
done
check "the man page renders" sh -c 'MANWIDTH=80 man -l docs/nvmescope.1 2>/dev/null | grep -q "EXIT STATUS" || groff -man -Tutf8 docs/nvmescope.1 2>/dev/null | grep -q "EXIT STATUS"'
finish
