#!/usr/bin/env bash
# Labs, host side: every lab README has the required sections and
# checkable steps; every lab's student skeleton builds and really lacks the
# removed code; the architecture diagram's SVG is generated from its source.
. tests/lib.sh
export KDIR=${KDIR:-}
[ -n "$KDIR" ] || unset KDIR

for readme in labs/[0-9][0-9]-*/README.md; do
	[ -e "$readme" ] || continue
	nn=$(basename "$(dirname "$readme")" | cut -c1-2)
	missing=""
	for sec in Objectives Background Steps Questions Exercises; do
		grep -q "^## $sec" "$readme" || missing+=" $sec"
	done
	expect_eq "lab $nn README has the sections Objectives Background Steps Questions Exercises" "" "$missing"
	if steps=$(tools/lab steps "$nn" 2>&1); then
		n=$(grep -c '^--- ' <<<"$steps")
		ok "lab $nn: tools/lab reads its $n steps"
		# Every block that runs must check something.
		bare=$(awk '/^--- / { if (h != "" && !skip && !e) print h; h = $0; skip = /skip\]$/; e = 0; next }
			/^    expect/ { e = 1 }
			END { if (h != "" && !skip && !e) print h }' <<<"$steps")
		expect_eq "lab $nn: every step that runs has an expect pattern" "" "$bare"
	else
		not_ok "lab $nn: tools/lab steps $nn: $steps"
	fi
done

# Skeletons: one per lab tag found in the driver.
tags=$(grep -ho 'LAB-TODO([0-9][0-9]) begin' driver/*.c driver/*.h | grep -o '[0-9][0-9]' | sort -u)
for nn in $tags; do
	dest=build/tests/labs-skeleton/lab$nn
	rm -rf "$dest"
	mkdir -p "$dest"
	if ! tools/lab skeleton "$nn" "$dest" >/dev/null 2>"$dest.err"; then
		not_ok "lab $nn: tools/lab skeleton: $(cat "$dest.err")"
		continue
	fi
	if make -C "$dest/driver" ${KDIR:+KDIR=$KDIR} >"$dest/build.log" 2>&1 && [ -f "$dest/driver/tnvme.ko" ]; then
		ok "lab $nn: the student skeleton builds with no warning"
	else
		tail -n 20 "$dest/build.log"
		not_ok "lab $nn: the student skeleton builds (log: $dest/build.log)"
	fi
	check "lab $nn: the skeleton has no LAB-TODO($nn) region left" \
		sh -c "! grep -q 'LAB-TODO($nn)' $dest/driver/*.c $dest/driver/*.h"
	check "lab $nn: the skeleton marks each removed region with TODO(lab $nn)" \
		grep -q "TODO(lab $nn):" -r "$dest/driver"
	while IFS= read -r line; do
		file=${line#removed from }
		file=${file%%:*}
		key=${line#*: }
		if grep -qF -- "$key" "$dest/driver/$file"; then
			not_ok "lab $nn: the solution line is gone from $file: $key"
		else
			ok "lab $nn: the solution line is gone from $file: $key"
		fi
	done < <(grep '^removed from ' "$dest/SKELETON")
done

# The architecture diagram: SVG generated from the .dot beside it.
if [ -f docs/architecture.dot ]; then
	if command -v dot >/dev/null; then
		dot -Tsvg docs/architecture.dot >build/tests/architecture.svg 2>build/tests/architecture.err
		if cmp -s build/tests/architecture.svg docs/architecture.svg; then
			ok "docs/architecture.svg is generated from docs/architecture.dot (dot -Tsvg)"
		else
			not_ok "docs/architecture.svg is out of date: run dot -Tsvg docs/architecture.dot -o docs/architecture.svg"
		fi
	else
		not_ok "graphviz 'dot' is installed (needed to check docs/architecture.svg; run make deps)"
	fi
fi
finish
