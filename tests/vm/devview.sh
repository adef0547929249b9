#!/usr/bin/env bash
# The device view (issue 7, docs/device-view.md): one boot with QEMU's NVMe
# trace (labvm --device-trace) and "nvmescope record" in the guest while fio
# runs on tnvme; then on the host "nvmescope merge" and "timeline":
#   - at least 99 % of the recorded commands are joined with the device's;
#   - every joined command has its seven steps in causal order;
#   - the clock bounds agree, and the offset's uncertainty is below the
#     median device time (SQ doorbell to interrupt);
#   - timeline --svg writes a well-formed SVG.
# The numbers go to build/tests/devview/summary.txt.
. tests/lib.sh
test_setup
if [ ! -x build/bin/nvmescope ]; then
	not_ok "build/bin/nvmescope is built (run make)"
	finish
	exit
fi
vm_run -q --timeout 400 --device-trace -- tests/vm/devview.guest.sh
expect_eq "the guest script exits 0 with no kernel splat" 0 "$VM_RC"
HOST=$TEST_OUT/host-trace.log
DEV=$TEST_OUT/device-trace.log
if [ ! -s "$HOST" ] || [ ! -s "$DEV" ]; then
	not_ok "both traces were written ($HOST, $DEV)"
	finish
	exit
fi

M=$TEST_DIR/merge.json
build/bin/nvmescope merge --json --all "$HOST" "$DEV" >"$M" 2>"$TEST_DIR/merge.err"
expect_eq "nvmescope merge exits 0" 0 $?
S=$TEST_DIR/summary.json
tail -n 1 "$M" >"$S"
check "the last line is the merge summary" jq -e '.report == "merge"' "$S"
joined=$(jq .joined "$S")
guest=$(jq .guest_commands "$S")
rate=$(jq .join_rate "$S")
unc=$(jq .clock.uncertainty_ns "$S")
devp50=$(jq .device_time.p50_us "$S")
check "join rate $joined/$guest = $rate >= 0.99" jq -e '.join_rate >= 0.99 and .guest_commands > 100' "$S"
n_cmd=$(grep -c '"report":"merge_cmd"' "$M")
expect_eq "--all prints every joined command" "$joined" "$n_cmd"
# the causal order, checked here from the printed steps (not merge's own
# flag); QEMU prints microseconds, so the one step that crosses the clocks
# (guest sq_write -> device sq_doorbell) may be up to 999 ns "backwards"
bad=$(jq -c 'select(.report == "merge_cmd") | .steps_ns |
	(.sq_write - 999) as $w | [$w, .sq_doorbell, .fetch, .dma, .cq_post, .irq, .cq_doorbell] |
	map(select(. != null)) | select(. != sort)' "$M" | wc -l)
expect_eq "every joined command has its seven steps in causal order" 0 "$bad"
steps7=$(jq -c 'select(.report == "merge_cmd") | select([.steps_ns | to_entries[] |
	select(.value == null) | .key] - ["dma"] | length > 0)' "$M" | wc -l)
expect_eq "every joined command has all steps (dma only for data commands)" 0 "$steps7"
check "the clock bounds agree" jq -e '.clock.consistent' "$S"
check "every queue's SQ was in host memory (sq_mem \"host\")" \
	jq -e '[.queues[] | select(.joined > 0) | .sq_mem] | length > 0 and all(. == "host")' "$S"
check "uncertainty ${unc} ns < median device time ${devp50} us" \
	jq -e '.clock.uncertainty_ns < .device_time.p50_us * 1000' "$S"

SVG=$TEST_DIR/timeline.svg
build/bin/nvmescope timeline --svg "$SVG" -n 50 "$HOST" "$DEV" 2>"$TEST_DIR/timeline.err"
expect_eq "nvmescope timeline exits 0" 0 $?
if command -v xmllint >/dev/null; then
	check "the timeline is well-formed XML" xmllint --noout "$SVG"
fi
check "the timeline is an SVG with queue lanes and 50 commands" \
	sh -c "grep -q '<svg' '$SVG' && grep -q '</svg>' '$SVG' && grep -q '>queue [0-9]' '$SVG' && [ \$(grep -c '>cid [0-9]' '$SVG') -eq 50 ]"

{
	echo "fio: $(grep -E 'read:|write:' "$TEST_OUT/fio.out" | sed 's/^ *//' | tr '\n' ' ')"
	echo "joined $joined of $guest guest commands (rate $rate)"
	jq -r '"clock: offset \(.clock.offset_ns) ns +- \(.clock.uncertainty_ns) ns, drift \(.clock.drift_ppm) ppm over \(.clock.span_s) s, bounds \(.clock.bounds)"' "$S"
	jq -r '"device time (sq_doorbell-irq): p50 \(.device_time.p50_us) us, p99 \(.device_time.p99_us) us"' "$S"
} >"$TEST_DIR/summary.txt"
sed 's/^/# /' "$TEST_DIR/summary.txt"
finish
