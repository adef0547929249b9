#!/usr/bin/env bash
# Labs, host side: every lab README has the required sections and
# checkable tasks; every exercise has a checker and at least three mutants;
# every lab's skeleton builds and really lacks the removed code; the student
# pack builds, and holds no answer, no instructor file and no mutant; the
# architecture diagram's SVG is generated from its source.
. tests/lib.sh
export KDIR=${KDIR:-}
[ -n "$KDIR" ] || unset KDIR

for readme in labs/[0-9][0-9]-*/README.md; do
	[ -e "$readme" ] || continue
	nn=$(basename "$(dirname "$readme")" | cut -c1-2)
	missing=""
	for sec in Objectives Background Tasks Questions Exercises; do
		grep -q "^## $sec" "$readme" || missing+=" $sec"
	done
	expect_eq "lab $nn README has the sections Objectives Background Tasks Questions Exercises" "" "$missing"
	if steps=$(tools/lab tasks "$nn" 2>&1); then
		n=$(grep -c '^--- ' <<<"$steps")
		ok "lab $nn: tools/lab reads its $n tasks"
		# Every block that runs must check something.
		bare=$(awk '/^--- / { if (h != "" && !skip && !e) print h; h = $0; skip = /skip\]$/; e = 0; next }
			/^    expect/ { e = 1 }
			END { if (h != "" && !skip && !e) print h }' <<<"$steps")
		expect_eq "lab $nn: every task that runs has an expect pattern" "" "$bare"
	else
		not_ok "lab $nn: tools/lab tasks $nn: $steps"
	fi
done

# Exercises: one per lab with LAB-TODO(NN) regions in the sources.
tags=$(grep -rho 'LAB-TODO([0-9][0-9]) begin' driver bpf tools/nvmescope --include='*.[ch]' |
	grep -o '[0-9][0-9]' | sort -u)
for nn in $tags; do
	dir=$(ls -d labs/"$nn"-*/ 2>/dev/null | head -n 1)
	if [ -z "$dir" ]; then
		not_ok "lab $nn: the exercise regions LAB-TODO($nn) belong to a lab (no labs/$nn-*/)"
		continue
	fi
	check "lab $nn: the exercise has a checker (${dir}tests/check.sh)" test -f "${dir}tests/check.sh"
	n=$(ls "${dir}"tests/mutants/*.patch 2>/dev/null | wc -l)
	if [ "$n" -ge 3 ]; then
		ok "lab $nn: the exercise has $n mutants (at least 3)"
	else
		not_ok "lab $nn: the exercise has at least 3 mutants in ${dir}tests/mutants (it has $n)"
	fi
	for m in "${dir}"tests/mutants/*.patch; do
		[ -e "$m" ] || continue
		check "lab $nn: mutant $(basename "$m") says what it is and what the checker must print (# what:, # expect:)" \
			sh -c "grep -q '^# what: ' '$m' && grep -q '^# expect: ' '$m'"
	done

	dest=build/tests/labs-skeleton/lab$nn
	rm -rf "$dest"
	mkdir -p "$(dirname "$dest")"
	if ! tools/lab skeleton "$nn" "$dest" >/dev/null 2>"$dest.err"; then
		not_ok "lab $nn: tools/lab skeleton: $(cat "$dest.err")"
		continue
	fi
	if make -C "$dest/driver" ${KDIR:+KDIR=$KDIR} >"$dest.build.log" 2>&1 && [ -f "$dest/driver/tnvme.ko" ]; then
		ok "lab $nn: the skeleton's driver builds with no warning"
	else
		tail -n 20 "$dest.build.log"
		not_ok "lab $nn: the skeleton's driver builds (log: $dest.build.log)"
	fi
	check "lab $nn: the skeleton has no LAB-TODO($nn) region left" \
		sh -c "! grep -rq 'LAB-TODO($nn)' $dest/driver $dest/bpf $dest/tools/nvmescope"
	check "lab $nn: the skeleton marks each removed region with TODO(lab $nn)" \
		grep -rq "TODO(lab $nn):" "$dest/driver" "$dest/bpf" "$dest/tools/nvmescope"
	check "lab $nn: the skeleton has no instructor kit and no mutant" \
		sh -c "[ ! -e $dest/instructor ] && [ -z \"\$(ls -d $dest/labs/*/tests/mutants 2>/dev/null)\" ]"
	while IFS= read -r line; do
		file=${line#removed from }
		file=${file%%:*}
		key=${line#*: }
		if grep -qF -- "$key" "$dest/$file"; then
			not_ok "lab $nn: the reference line is gone from $file: $key"
		else
			ok "lab $nn: the reference line is gone from $file: $key"
		fi
	done < <(grep '^removed from ' "$dest/SKELETON")
done

# The student pack: builds as it is (driver with -Werror, nvmescope), and
# holds none of the code lines that are unique to an exercise region.
pack=build/tests/student-pack
rm -rf "$pack"
mkdir -p "$pack"
if tools/lab pack "$pack/tnvme-student.tar.gz" >"$pack/pack.out" 2>&1 &&
	tar -xzf "$pack/tnvme-student.tar.gz" -C "$pack"; then
	ok "make student-pack writes the pack ($(cat "$pack/pack.out" | cut -d: -f3-))"
	p=$pack/tnvme
	check "the student pack has no instructor folder" test ! -e "$p/instructor"
	expect_eq "the student pack has no mutant (wrong answers)" "" "$(cd "$p" && ls -d labs/*/tests/mutants 2>/dev/null)"
	expect_eq "the student pack's sources have no LAB-TODO marker" "" "$(grep -rl 'LAB-TODO(' "$p/driver" "$p/bpf" "$p/tools/nvmescope" 2>/dev/null)"
	# The reference lines of every region, from the regions themselves.
	python3 - "$p" >"$pack/leaks" <<'PY'
import importlib.machinery, importlib.util, os, sys
loader = importlib.machinery.SourceFileLoader("lab", "tools/lab")
spec = importlib.util.spec_from_loader("lab", loader)
lab = importlib.util.module_from_spec(spec)
loader.exec_module(lab)
pack = sys.argv[1]
regions = lab.todo_regions()
done = []
for r in regions:
    with open(os.path.join(lab.ROOT, r["file"])) as f:
        lines = f.read().split("\n")
    done.append((r, lab.code_lines(lines[r["begin"] + 1:r["end"]])))
stubs = lab.read_stubs()
lines = []
for r, code in done:
    stub = set(l.strip() for l in lab.stub_for(stubs, r))
    unique = [x for x in lab.unique_region_lines([(r, code)])]
    hidden = [(r, l) for r, l in unique if l not in stub]
    # The stand-in may share plumbing with the answer (a trace call, a
    # writel), but not most of it.
    if unique and len(hidden) * 2 < len(unique):
        print("LEAK lab %s %s: the stand-in repeats %d of the region's %d unique lines"
              % (r["lab"], r["file"], len(unique) - len(hidden), len(unique)))
    lines += hidden
texts = {}
for dp, dn, fn in os.walk(pack):
    for f in fn:
        try:
            with open(os.path.join(dp, f)) as fh:
                texts[os.path.join(dp, f)] = set(x.strip() for x in fh.read().split("\n"))
        except (UnicodeDecodeError, OSError):
            pass
print("checked %d lines" % len(lines))
for r, l in lines:
    for path, t in texts.items():
        if l in t:
            print("LEAK lab %s %s: %r in %s" % (r["lab"], r["file"], l, os.path.relpath(path, pack)))
PY
	n=$(head -n 1 "$pack/leaks" | grep -o '[0-9]*')
	leaks=$(grep '^LEAK' "$pack/leaks")
	if [ -z "$leaks" ] && [ "${n:-0}" -gt 0 ]; then
		ok "the student pack holds none of the $n code lines unique to an exercise region"
	else
		echo "$leaks" | head -n 10
		not_ok "the student pack holds none of the code lines unique to an exercise region (see $pack/leaks)"
	fi
	if make -C "$p/driver" ${KDIR:+KDIR=$KDIR} >"$pack/driver.log" 2>&1 && [ -f "$p/driver/tnvme.ko" ]; then
		ok "the student pack's driver builds with no warning"
	else
		tail -n 20 "$pack/driver.log"
		not_ok "the student pack's driver builds (log: $pack/driver.log)"
	fi
	mkdir -p "$p/build/scripts" "$p/build/bpf"
	cp build/scripts/extract-vmlinux "$p/build/scripts/" 2>/dev/null || true
	cp build/bpf/vmlinux* "$p/build/bpf/" 2>/dev/null || true
	if make -C "$p/tools/nvmescope" BUILD="$PWD/$p/build" >"$pack/nvmescope.log" 2>&1 && [ -x "$p/build/bin/nvmescope" ]; then
		ok "the student pack's nvmescope builds with no warning"
	else
		tail -n 20 "$pack/nvmescope.log"
		not_ok "the student pack's nvmescope builds (log: $pack/nvmescope.log)"
	fi
	d=$(cd "$p" && tools/lab diff 05 . 2>&1)
	expect_eq "tools/lab diff in an untouched student pack shows nothing" "" "$d"
else
	cat "$pack/pack.out"
	not_ok "make student-pack writes the pack"
fi

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
