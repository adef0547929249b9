#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fresh-machine.sh - rehearse the README's two commands on a "new" machine.
#
#   tests/fresh-machine.sh --yes [--only demo|check] [--keep-clone]
#
# Run by hand, as root, before a release (never from "make check": it takes
# 25-40 minutes and removes packages).  For each of "make demo" and
# "make check" it
#
#   1. purges (apt-get purge, not remove) the packages "tools/deps --list"
#      names, with the lab kernel's versioned packages and every package
#      that was installed only for them, so that the machine looks as it did
#      before the toolkit came;
#   2. clones the committed HEAD of this repository into a new folder (no
#      build/, no disk images, no extracted kernel: nothing cached);
#   3. runs the command there once, as CI does (CI=true, no standard input),
#      and records whether that first run succeeded and how long it took.
#
# Packages the machine itself stands on are kept and named: those dpkg
# marks essential or of priority required/important, the toolchain
# (make, gcc, python3), and any toolkit package whose purge would take with
# it a package someone installed by hand (e.g. xz-utils, which dpkg-dev and
# so build-essential need).  A package that was already auto-removable
# before the rehearsal is marked manual first, so the purge removes only
# what the toolkit brought.
#
# Exit status: 0 when every first run succeeded; 1 when one failed; 2 on
# bad usage.  The report ends with one line per command.

set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=fresh-machine

die() {
	echo "$PROG: $*" >&2
	exit 2
}

usage() {
	sed -n '6,7p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

KEEP_TOOLCHAIN="make gcc python3"
only=""
yes=0
keep_clone=0
while [ $# -gt 0 ]; do
	case $1 in
	--yes) yes=1 ;;
	--only)
		[ $# -ge 2 ] || die "--only needs demo or check"
		case $2 in demo|check) only=$2 ;; *) die "--only takes demo or check, not '$2'" ;; esac
		shift
		;;
	--keep-clone) keep_clone=1 ;;
	-h|--help) usage 0 ;;
	*) die "unknown option '$1' (try '$0 --help')" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "run it as root: it purges and installs Debian packages"
[ $yes = 1 ] || die "this purges the toolkit's Debian packages (QEMU, the lab kernel, clang, ...); say --yes"
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null || die "this needs Debian's apt and dpkg"
git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null || die "$ROOT is not a git checkout with a commit"
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ] ||
	echo "$PROG: note: uncommitted changes are not rehearsed (the clone is of HEAD)"

installed() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'
}

# A package the machine stands on: essential, required or important.
base_package() {
	local p=$1 fields
	case " $KEEP_TOOLCHAIN " in *" $p "*) return 0 ;; esac
	fields=$(dpkg-query -W -f='${Essential} ${Priority}' "$p" 2>/dev/null) || return 1
	case $fields in yes*|*required|*important) return 0 ;; esac
	return 1
}

# The lab kernel's versioned packages: the metapackages' dependencies,
# which apt never auto-removes (kernels are protected from autoremove).
lab_kernel_packages() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
		'linux-image-6.1*' 'linux-headers-6.1*' 'linux-kbuild-6.1*' 2>/dev/null |
		awk '$1 ~ /^ii/ { print $2 }'
}

# removed_by PACKAGE...: what "apt-get purge --autoremove" would remove.
removed_by() {
	apt-get -s purge --autoremove "$@" 2>/dev/null | awk '/^Purg /{ print $2 }'
}

# A package the machine needs: installed by hand (not as a dependency) and
# not one of the toolkit's.  Purging a toolkit package that would take such
# a package with it (xz-utils takes dpkg-dev and so build-essential) would
# leave the machine worse than new, so that toolkit package is kept.
needed_elsewhere() {
	local p
	for p in $(removed_by "$1"); do
		case " ${CANDIDATES[*]} " in *" $p "*) continue ;; esac
		case " $AUTO_INSTALLED " in *" ${p%:*} "*) continue ;; esac
		echo "$p"
		return 0
	done
	return 1
}

purge_packages() {
	local p by purge=() kept=() orphans log
	log=$WORK/purge-$1.log
	CANDIDATES=()
	for p in $("$ROOT/tools/deps" --list) $(lab_kernel_packages); do
		installed "$p" || continue
		if base_package "$p"; then kept+=("$p"); else CANDIDATES+=("$p"); fi
	done
	# Whatever apt would already auto-remove is not the toolkit's: keep it.
	orphans=$(apt-get -s autoremove 2>/dev/null | awk '/^Remv /{ print $2 }')
	[ -z "$orphans" ] || apt-mark manual $orphans >"$log" 2>&1
	AUTO_INSTALLED=$(apt-mark showauto | tr '\n' ' ')
	for p in "${CANDIDATES[@]}"; do
		if by=$(needed_elsewhere "$p"); then kept+=("$p (for $by)"); else purge+=("$p"); fi
	done
	echo "   kept (the machine stands on them): ${kept[*]:-none}"
	if [ ${#purge[@]} -eq 0 ]; then
		echo "   nothing to purge"
		return 0
	fi
	echo "   purging ${#purge[@]} packages: ${purge[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove "${purge[@]}" >>"$log" 2>&1 ||
		{ echo "$PROG: apt-get purge failed (see $log)" >&2; exit 1; }
	for p in "${purge[@]}"; do
		! installed "$p" || { echo "$PROG: $p is still installed after the purge (see $log)" >&2; exit 1; }
	done
	echo "   purged: $(grep -c '^Removing ' "$log") packages removed in all (see $log)"
}

# rehearse TARGET: purge, clone, run "make TARGET" once; sets RESULT_<target>.
rehearse() {
	local target=$1 clone log start secs rc last
	echo "== make $target on a fresh machine"
	purge_packages "$target"
	clone=$WORK/$target/tnvme
	git clone -q "$ROOT" "$clone" || die "git clone of $ROOT failed"
	echo "   fresh clone of $(git -C "$clone" log -1 --format='%h %s' | cut -c1-70)"
	log=$WORK/make-$target.log
	start=$SECONDS
	(cd "$clone" && CI=true make "$target" </dev/null >"$log" 2>&1)
	rc=$?
	secs=$((SECONDS - start))
	grep '^deps: ' "$log" | sed 's/^/   /'
	if [ "$target" = check ]; then
		grep -E '^(FAIL|total time:)' "$log" | sed 's/^/   /'
		last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	else
		last=$(grep -E 'IOPS|iops' "$log" | tail -n 1 | sed 's/^ *//')
	fi
	if [ $rc -eq 0 ]; then
		printf -v "RESULT_$target" 'PASS  make %-6s first run, exit 0, %4d s  %s' "$target" "$secs" "$last"
	else
		FAILED=1
		echo "   --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/   | /'
		printf -v "RESULT_$target" 'FAIL  make %-6s first run, exit %d, %4d s  %s (log: %s)' \
			"$target" "$rc" "$secs" "$last" "$log"
	fi
	[ $keep_clone = 1 ] || rm -rf "$WORK/$target"
}

WORK=$(mktemp -d /var/tmp/tnvme-fresh.XXXXXX)
echo "$PROG: logs in $WORK"
FAILED=0
targets="demo check"
[ -z "$only" ] || targets=$only
for t in $targets; do
	rehearse "$t"
done
echo "== result"
for t in $targets; do
	v=RESULT_$t
	echo "${!v}"
done
exit $FAILED
