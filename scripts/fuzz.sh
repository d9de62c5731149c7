#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz) for SECONDS each (default 600;
# CI runs 30) from its seed corpus, in the sanitizer build (sanitize.sh
# builds it). New inputs go to a scratch copy, not into the repository. A
# crash, a sanitizer report, a leak or a hang (10 s) fails the run and
# leaves the input in $out/<target>/. Prints executions and findings per
# target.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
san=${MAPGW_SAN_DIR:-$top/build-san}
secs=${1:-600}
out=${MAPGW_FUZZ_OUT:-$san/fuzz-runs}
if [[ ! -x "$san/tests/fuzz/fuzz_config" ]]; then
  CC=clang CXX=clang++ cmake -S "$top" -B "$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMAPGW_SANITIZE=ON -DMAPGW_FUZZ=ON >/dev/null
fi
cmake --build "$san" -j "$(nproc 2>/dev/null || echo 2)" --target \
  fuzz_config fuzz_dhcpv6 fuzz_calc fuzz_control fuzz_rule_history fuzz_sip fuzz_l2tp fuzz_ppp fuzz_tun_gro >/dev/null
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
printf '%-14s %10s %8s %s\n' target executions corpus findings
for t in config dhcpv6 calc control rule_history sip l2tp ppp tun_gro; do
  dir=$out/$t
  rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$top/tests/fuzz/corpus/$t/"* "$dir/corpus/" 2>/dev/null || true
  set +e
  "$san/tests/fuzz/fuzz_$t" "$dir/corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$dir/artifacts/" -print_final_stats=1 >"$dir/log" 2>&1
  status=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  found=$(find "$dir/artifacts" -type f | wc -l)
  printf '%-14s %10s %8s %s\n' "$t" "${execs:-?}" "$(ls "$dir/corpus" | wc -l)" "$found"
  if [[ $status -ne 0 || $found -ne 0 ]]; then
    rc=1
    echo "fuzz_$t failed (exit $status); input(s) in $dir/artifacts, log $dir/log:" >&2
    grep -m 5 -E 'ERROR|SUMMARY|runtime error' "$dir/log" >&2 || tail -n 20 "$dir/log" >&2
  fi
done
exit $rc
