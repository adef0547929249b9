# SPDX-License-Identifier: GPL-2.0
#
# tnvme - a teaching toolkit for NVMe on Linux.
#
#   make            build the driver, the BPF programs and nvmescope
#   make demo       install what is missing, build, boot the lab VM, bind the
#                   lab controller to tnvme, run fio and show nvmescope
#   make check      install what is missing, build, run every test
#   make vm         a shell in the lab VM
#   make check-lab LAB=NN [DIR=dir] [DEBUG_KERNEL=1]   grade lab NN's
#                   exercise on your tree (default: this one) or on DIR; DIR
#                   is not modified; DEBUG_KERNEL=1: on the debug kernel,
#                   whose bug detectors fail the check on any report
#   make skeleton LAB=NN [DEST=dir]   this project with lab NN's exercise
#                   replaced by its stand-in (what a student starts from)
#   make student-pack  the tarball a course hands out: every exercise a
#                   stand-in, no answers, no instructor/ folder
#   make check-labs run every lab's tasks in the VM
#   make check-checkers  every exercise checker against the reference, the
#                   skeleton and the committed wrong solutions (mutants)
#   make check-faults  the fault-injection tests only
#   make bench      tnvme against the stock driver, as ratios
#   make debug-kernel  build the debug lab kernel (KASAN, UBSAN, lockdep,
#                   kmemleak, DMA-API debugging, fault injection, BTF) once,
#                   cached in /var/cache/tnvme; boot it: labvm --kernel debug
#   make check-debug  the driver, fault and nvmescope VM tests on the debug
#                   kernel (built first if needed); fails on any detector
#                   report; not part of "make check" (hours under TCG)
#   make deps       only install the Debian packages
#   make help       this list and the variables
#
# Variables: KVER (lab kernel version, default from linux-image-amd64),
# KDIR (its headers), V=1 (show build commands).

# Nothing here may depend on a package at parse time: "make check" and
# "make demo" install the packages first (tools/deps) and only then run a
# second make, which reads this file again with everything in place.  So
# KVER and KDIR are recursive (=) and looked up when a recipe needs them,
# and no $(wildcard) or := names a file a package brings.
KVER ?= $(shell tools/lab-kver 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
BUILD := build

# The parts that exist in this tree; a missing one is reported, not fatal.
HAVE_DRIVER := $(wildcard driver/Makefile)
HAVE_NVMESCOPE := $(wildcard tools/nvmescope/Makefile)

.PHONY: all deps driver nvmescope checkpatch check check-host check-vm \
	check-debug check-labs check-lab check-checkers check-faults skeleton student-pack demo vm bench clean help \
	debug-kernel

all: driver nvmescope

deps:
	@tools/deps

# Each part builds only if its prerequisites are installed; "make deps" gets them.
driver:
ifneq ($(HAVE_DRIVER),)
	@test -n "$(KVER)" || { echo "make: the lab kernel (linux-image-amd64) is not installed (run 'make deps')" >&2; exit 1; }
	@test -d "$(KDIR)" || { echo "make: lab kernel headers not found in $(KDIR) (run 'make deps')" >&2; exit 1; }
	$(MAKE) -C driver KVER=$(KVER) KDIR=$(KDIR)
else
	@echo "make: driver/ is not written yet: skipping the tnvme module"
endif

nvmescope:
ifneq ($(HAVE_NVMESCOPE),)
	$(MAKE) -C tools/nvmescope BUILD=$(abspath $(BUILD)) KVER=$(KVER)
else
	@echo "make: tools/nvmescope is not written yet: skipping the tracer"
endif

# checkpatch.pl is not in the headers package: take it from Debian's kernel
# source tarball, once.  (The path contains "scripts" on purpose: that is
# where kernel tools look for it.)
# The tarball is looked up when the recipe runs (recursive =), not when make
# reads this file: on a fresh machine it does not exist until tools/deps ran.
CHECKPATCH := $(BUILD)/scripts/checkpatch.pl
LINUX_SOURCE_TARBALL = $(firstword $(wildcard /usr/src/linux-source-*.tar.xz))

$(CHECKPATCH):
	@test -n "$(LINUX_SOURCE_TARBALL)" || { echo "make: /usr/src/linux-source-*.tar.xz not found (run 'make deps')" >&2; exit 1; }
	@mkdir -p $(BUILD)/scripts
	@echo "  EXTRACT $@ (from $(LINUX_SOURCE_TARBALL))"
	@tar -xJf $(LINUX_SOURCE_TARBALL) -C $(BUILD)/scripts --strip-components=2 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	@touch $@

checkpatch: $(CHECKPATCH)
ifneq ($(HAVE_DRIVER),)
	perl $(CHECKPATCH) --no-tree --strict --terse -f $(filter-out %.mod.c,$(wildcard driver/*.c driver/*.h))
endif

# The targets that install packages first: deps, then a new make that
# reads this file (and the sub-Makefiles) with the packages in place.
check: deps
	@$(MAKE) --no-print-directory $(CHECKPATCH) all
	@tests/run

check-host: $(CHECKPATCH) all
	@tests/run --host

check-vm: all
	@tests/run --vm

# The driver, fault and nvmescope VM tests again on the debug lab kernel
# (built first if it is not; tests/debug/vm-tests lists them): any KASAN,
# UBSAN, lockdep, kmemleak or DMA-API report fails.  Not part of "check".
check-debug: deps debug-kernel
	@$(MAKE) --no-print-directory all
	@tests/run --debug

# Course labs (tools/lab --help): LAB=NN picks one.
need-lab = @test -n "$(LAB)" || { echo "make: say which lab, e.g. make $@ LAB=05 (tools/lab list shows them)" >&2; exit 2; }

skeleton:
	$(need-lab)
	@tools/lab skeleton $(LAB) $(DEST)

check-lab: all
	$(need-lab)
	@tools/lab check $(LAB) $(DIR) $(if $(DEBUG_KERNEL),--debug-kernel)

check-labs: all
	@tests/run host/labs vm/labs

check-checkers: all
	@tests/run vm/lab-checkers

student-pack:
	@tools/lab pack $(PACK)

# The fault-tolerance tests (issue 6); "make check" runs them too.
check-faults: all
	@tests/run $(patsubst tests/%.sh,%,$(filter-out %.guest.sh,$(wildcard tests/vm/fault-*.sh)))

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo

vm: deps
	@$(MAKE) --no-print-directory all
	@tools/labvm shell

bench: deps
	@$(MAKE) --no-print-directory all
	@tools/bench

# The debug lab kernel (tools/debug-kernel --help): built once, cached
# outside the clone; its own packages (tools/deps --debug-kernel).
debug-kernel:
	@tools/debug-kernel

clean:
ifneq ($(HAVE_DRIVER),)
	$(MAKE) -C driver KDIR=$(KDIR) clean
endif
	rm -rf $(BUILD)/bin $(BUILD)/bpf $(BUILD)/nvmescope $(BUILD)/tests $(BUILD)/labs \
		$(BUILD)/skeleton $(BUILD)/student-pack $(BUILD)/bench $(BUILD)/labvm/runs $(BUILD)/labvm/out

help:
	@sed -n '3,/^# Variables/p' Makefile | head -n -2 | sed 's/^# \{0,1\}//'
