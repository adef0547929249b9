#!/usr/bin/env bash
# labvm's fault levers: null-co latency, blkdebug media errors, and
# hot-unplug through QMP device_del; and a controller memory buffer.
. tests/lib.sh
test_setup
sock=$TEST_DIR/qmp.sock
vm_run -q --qmp "$sock" --timeout 300 \
	--ctrl lab:backend=null,latency-ns=2000000,cmb=16 \
	--ctrl extra:inject-error=read,inject-sector=2048,size=64M \
	-- tests/vm/labvm-faults.guest.sh 2>"$TEST_DIR/stderr" &
vm_pid=$!
if wait_for_file "$TEST_OUT/unplug-now" 200; then
	reply=$(qmp "$sock" '{"execute":"device_del","arguments":{"id":"extra"}}')
	if echo "$reply" | grep -q '"return": *{}'; then
		ok "QMP device_del of the extra controller is accepted"
	else
		not_ok "QMP device_del: $(echo "$reply" | tail -c 300)"
	fi
else
	not_ok "the guest never asked for the unplug"
fi
wait $vm_pid
expect_eq "the guest exits 0 with no kernel splat" 0 $?
finish
