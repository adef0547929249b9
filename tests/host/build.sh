#!/usr/bin/env bash
# "make" builds every part that exists, warnings as errors.
. tests/lib.sh
if make --no-print-directory all >build/tests/build.out 2>&1; then
	ok "make builds the toolkit with no warning"
else
	cat build/tests/build.out
	not_ok "make failed (see above)"
fi
[ ! -f driver/Makefile ] || check "the tnvme module is built" test -f driver/tnvme.ko
[ ! -f tools/nvmescope/Makefile ] || check "nvmescope is built" test -x build/bin/nvmescope
finish
