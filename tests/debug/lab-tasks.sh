#!/usr/bin/env bash
# tnvme, issue 15 item 4: the lab tasks written for the debug kernel (the
# blocks marked "debug", which "tools/lab run NN" skips), run as a student
# runs them: "tools/lab run NN --debug-kernel" checks each block's output
# against its expected lines.  Lab 12 task 5 loses a completion through
# tnvme's fault-injection attribute.
. tests/lib.sh
test_setup

debug_kernel_or_exit

start=$SECONDS
n=0
for readme in labs/[0-9][0-9]-*/README.md; do
	grep -q '^```sh \(host\|guest\)\b.*\bdebug\b' "$readme" || continue
	nn=$(basename "$(dirname "$readme")" | cut -c1-2)
	n=$((n + 1))
	python3 tools/lab run "$nn" --debug-kernel | grep -v '# SKIP a lab-kernel task'
	[ "${PIPESTATUS[0]}" -eq 0 ] || TESTS_FAILED=$((TESTS_FAILED + 1))
done
check "some lab has a debug-kernel task ($n)" test "$n" -ge 1
echo "# lab-tasks: $((SECONDS - start)) s of VM time"
finish
