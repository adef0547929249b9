#!/usr/bin/env bash
# make check-checkers: a checker is only as good as the wrong code it
# rejects.  For every lab with an exercise (labs/NN-*/tests/check.sh),
# tools/lab mutants NN builds and grades, each in its own lab VM boot:
# the reference (must pass), the skeleton with the region's stand-in (must
# fail) and every committed mutant, a typical wrong solution (must fail,
# and the checker's output must match the mutant's "# expect:" line: the
# message that tells the student what is wrong).
# tests/run: start first (the longest VM test: about 15-22 minutes under TCG)
. tests/lib.sh
test_setup

for check in labs/[0-9][0-9]-*/tests/check.sh; do
	[ -e "$check" ] || continue
	nn=$(basename "$(dirname "$(dirname "$check")")" | cut -c1-2)
	tools/lab mutants "$nn" -j "${LAB_CHECKER_JOBS:-2}"
	[ $? -eq 0 ] || TESTS_FAILED=$((TESTS_FAILED + 1))
done
finish
