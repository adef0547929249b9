#!/usr/bin/env bash
# labvm rejects bad input with one clear line and exit status 125, before
# it starts any QEMU.
. tests/lib.sh
test_setup

# expect_reject WHAT PATTERN LABVM-ARGS...: exit 125, one stderr line
# matching PATTERN, nothing on stdout.
expect_reject() {
	local what=$1 pattern=$2 out err rc
	shift 2
	out=$(tools/labvm "$@" 2>"$TEST_DIR/err" </dev/null)
	rc=$?
	err=$(cat "$TEST_DIR/err")
	if [ "$rc" -eq 125 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] &&
		echo "$err" | grep -q -- "$pattern" && [ -z "$out" ]; then
		ok "$what"
	else
		not_ok "$what: rc=$rc stderr='$err' stdout='$out'"
	fi
}

expect_reject "unknown command" "unknown command 'frobnicate'" frobnicate
expect_reject "unknown option" "unknown option '--frob'" run --frob -- true
expect_reject "option without its value" "option --smp needs a value" run --smp
expect_reject "bad --smp" "--smp must be a number" run --smp lots -- true
expect_reject "bad --mem" "--mem must be at least 256" run --mem 12 -- true
expect_reject "bad --accel" "--accel must be auto, kvm or tcg" run --accel xen -- true
expect_reject "bad --timeout" "--timeout must be a whole number" run --timeout soon -- true
expect_reject "run without a command" "run needs a command" run
expect_reject "shell with a command" "'shell' takes no command" shell -- ls
expect_reject "bad controller key" "unknown key 'queues'" run --ctrl lab:queues=4 -- true
expect_reject "bad controller value" "ioqpairs must be 1..256" run --ctrl lab:ioqpairs=0 -- true
expect_reject "bad controller name" "must be a lower-case word" run --ctrl Lab -- true
expect_reject "bad controller link" "link must be 2.5" run --ctrl lab:link=8 -- true
expect_reject "bad controller CMB size" "cmb must be a size in MiB, 1..1024" run --ctrl lab:cmb=0 -- true
expect_reject "CMB size not a number" "cmb must be a size in MiB, 1..1024, not '16M'" run --ctrl lab:cmb=16M -- true
expect_reject "missing lab kernel" "lab kernel /boot/vmlinuz-0.0.0-none not found" run --kver 0.0.0-none -- true
expect_reject "bad --kernel" "--kernel must be lab or debug, not 'frob'" run --kernel frob -- true
# The debug kernel (tools/debug-kernel), looked up in an empty cache.
TNVME_CACHE=$TEST_DIR/no-cache expect_reject "debug kernel not built" \
	"the debug kernel is not built (run 'make debug-kernel')" run --kernel debug -- true
TNVME_CACHE=$TEST_DIR/no-cache expect_reject "debug kernel not built (--kver)" \
	"the debug kernel is not built (run 'make debug-kernel')" run --kver "$(tools/lab-kver)-debug" -- true
if tools/debug-kernel --release >/dev/null 2>&1; then
	LABVM_DEBUG_SLOWDOWN=0 expect_reject "bad LABVM_DEBUG_SLOWDOWN" \
		"LABVM_DEBUG_SLOWDOWN must be a whole number from 1, not '0'" run --kernel debug -- true
else
	echo "# the debug kernel is not built: LABVM_DEBUG_SLOWDOWN not checked"
fi
# make check-debug without the debug kernel: tests/run says so in one line.
out=$(TNVME_CACHE=$TEST_DIR/no-cache tests/run --debug 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] &&
	echo "$out" | grep -q "^tests/run: the debug kernel is not built (run 'make debug-kernel')$"; then
	ok "tests/run --debug without the debug kernel: one line, exit 2"
else
	not_ok "tests/run --debug without the debug kernel: one line, exit 2: rc=$rc '$out'"
fi
# A PATH without QEMU (but with everything else labvm uses).
mkdir -p "$TEST_DIR/bin"
for c in /usr/local/bin/* /usr/bin/* /bin/*; do
	case $c in */qemu-system-*) continue ;; esac
	ln -sf "$c" "$TEST_DIR/bin/" 2>/dev/null
done
PATH=$TEST_DIR/bin expect_reject "missing QEMU" "qemu-system-x86_64 not found" run -- true

# Backing files that cannot be created: a read-only folder.
mkdir -p "$TEST_DIR/ro"
if mount -t tmpfs -o ro,size=128m tmpfs "$TEST_DIR/ro" 2>/dev/null; then
	expect_reject "read-only disk folder" "cannot create backing file" run --accel tcg --disk-dir "$TEST_DIR/ro" -- true
	umount "$TEST_DIR/ro"
else
	not_ok "could not mount a read-only tmpfs for the test (not root?)"
fi

# A full disk: a tiny tmpfs as the output folder.
mkdir -p "$TEST_DIR/full"
if mount -t tmpfs -o size=4m tmpfs "$TEST_DIR/full" 2>/dev/null; then
	expect_reject "full output folder" "less than 64 MiB free" run --accel tcg --out "$TEST_DIR/full" -- true
	umount "$TEST_DIR/full"
else
	not_ok "could not mount a small tmpfs for the test (not root?)"
fi

if pgrep -f "qemu-system.*$TEST_DIR" >/dev/null; then
	not_ok "a QEMU process was left behind"
else
	ok "no QEMU process left behind"
fi
finish
