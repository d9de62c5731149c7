#!/bin/bash
# The kernel matrix's checks, run on the kernel under test (inside a guest
# started by kernel_matrix.sh, or directly on this machine's own kernel):
#   1. mapgw --check-kernel: every BPF program of both roles verifies;
#   2. the `bpf` ctest label: BPF_PROG_TEST_RUN fixtures;
#   3. the CE-BR and BR labs: real traffic through namespaces (ping, UDP
#      both ways, TCP, anti-spoofing drops counted), and interop with the
#      kernel's own ip6tnl as the CE and as the BR.
# Writes check.json, bpf-*.xml, lab.log and logs into OUTDIR; exits non-zero
# when any step failed (every step runs regardless).
#   tests/guest/matrix_checks.sh BUILD_DIR OUTDIR
set -u
build=$1 out=$2
mkdir -p "$out"
rc=0
uname -r >"$out/kernel"

echo "== check-kernel ($(uname -r))"
"$build/agent/mapgw" --check-kernel --json >"$out/check.json" 2>"$out/check.log" || rc=1
"$build/agent/mapgw" --check-kernel 2>/dev/null | tail -n 20

cd "$build" || exit 2
echo "== bpf fixtures"
# The gtest programs behind the `bpf` label, each run as two shards side by
# side (one per vCPU): ctest starts a process per test, which under
# emulation costs seconds each. Their test count must equal the label's, so
# none is left out.
want=$(ctest -N -L bpf | sed -n 's/^Total Tests: //p')
for bin in tests/bpf/ce_bpf_tests tests/bpf/br_bpf_tests tests/bpf/bpf_tests tests/bpf/kernel_support_tests; do
  name=$(basename "$bin")
  pids=()
  for shard in 0 1; do
    GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$shard "$bin" --gtest_output="xml:$out/bpf-$name-$shard.xml" \
      >"$out/bpf-$name-$shard.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
done
ran=$(cat "$out"/bpf-*.xml | sed -n 's/^<testsuites tests="\([0-9]*\)".*/\1/p' | awk '{n += $1} END {print n + 0}')
echo "bpf: $ran tests run, the label has $want"
[[ "$ran" == "$want" ]] || { echo "bpf: the gtest programs above are not the whole label" >&2; rc=1; }
echo "$want" >"$out/bpf-label-count"
grep -h -E '^\[  (PASSED|FAILED) ' "$out"/bpf-*.log

echo "== labs"
# The cases that show the gateway at work, both slow paths included; the
# whole labs run natively (ctest -L netns) and are too slow under TCG.
ce_cases=(V6plusShape.test_ping_from_lan V6plusShape.test_udp_both_ways_ports_in_set_and_eim
          V6plusShape.test_tcp_transfer_and_static_napt V6plusShape.test_df_clear_over_tunnel_mtu_arrives_whole)
br_cases=(BrLab.test_udp_from_ce_decapsulated_exactly BrLab.test_spoofed_sources_dropped_and_counted
          BrLab.test_ping_both_ways BrLab.test_tcp_transfer_both_directions
          BrLab.test_unresolved_neighbour_goes_through_slow_path
          BrLab.test_decap_slow_path_unresolved_ipv4_neighbour
          BrLab.test_ttl_1_from_ce_gets_time_exceeded_through_the_tunnel)
src=$(cd "$(dirname "$0")/../netns" && pwd)
export MAPGW_TIME_SCALE=${MAPGW_TIME_SCALE:-6}  # software emulation: waits stretch (tests/netns/lab.py)
: >"$out/lab.log"
MAPGW_BUILD_DIR=$build timeout 600 /usr/bin/python3 "$src/ce_lab_test.py" "${ce_cases[@]}" >>"$out/lab.log" 2>&1 || rc=1
MAPGW_BUILD_DIR=$build timeout 600 /usr/bin/python3 "$src/br_lab_test.py" "${br_cases[@]}" >>"$out/lab.log" 2>&1 || rc=1
# Interop with Linux's ip6tnl, which exists here but not on the VM.
MAPGW_BUILD_DIR=$build timeout 600 /usr/bin/python3 "$(dirname "$0")/ip6tnl_interop_test.py" >>"$out/lab.log" 2>&1 || rc=1
grep -E '^(Ran|OK|FAILED)' "$out/lab.log"
exit $rc
