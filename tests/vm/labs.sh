#!/usr/bin/env bash
# make check-labs: run every lab's tasks in the lab VM, with this project's
# build (the reference), and check their expected output (tools/lab run).
# The exercise checkers are tested by vm/lab-checkers.
# tests/run: start first (about 10-14 minutes under TCG)
. tests/lib.sh
test_setup

for readme in labs/[0-9][0-9]-*/README.md; do
	[ -e "$readme" ] || continue
	nn=$(basename "$(dirname "$readme")" | cut -c1-2)
	tools/lab run "$nn"
	[ $? -eq 0 ] || TESTS_FAILED=$((TESTS_FAILED + 1))
done
finish
