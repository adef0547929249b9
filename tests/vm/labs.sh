#!/usr/bin/env bash
# make check-labs: run every lab's steps in the lab VM and check their
# expected output (tools/lab run), then check that the solution driver
# passes the exercise check the student skeletons are graded with.
# tests/run: start first (the longest VM test: about 5-9 minutes under TCG)
. tests/lib.sh
test_setup

for readme in labs/[0-9][0-9]-*/README.md; do
	[ -e "$readme" ] || continue
	nn=$(basename "$(dirname "$readme")" | cut -c1-2)
	tools/lab run "$nn"
	[ $? -eq 0 ] || TESTS_FAILED=$((TESTS_FAILED + 1))
done

# The solution (driver/ as it is), built from a copy like a student's,
# graded exactly as "make check-lab" grades a skeleton.  The exercise check
# is the same for every lab with exercise regions, so one boot covers them.
tags=$(grep -ho 'LAB-TODO([0-9][0-9]) begin' driver/*.c | grep -o '[0-9][0-9]' | sort -u | tr '\n' ' ')
if [ -n "$tags" ]; then
	sol=$TEST_DIR/solution
	tools/lab copy "$sol" >/dev/null
	first=${tags%% *}
	tools/lab check "$first" "$sol" | sed "s/^ok - lab $first/ok - solution (labs ${tags% }): lab $first/; s/^not ok - lab $first/not ok - solution (labs ${tags% }): lab $first/"
	[ "${PIPESTATUS[0]}" -eq 0 ] || TESTS_FAILED=$((TESTS_FAILED + 1))
fi
finish
