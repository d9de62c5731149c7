#!/usr/bin/env bash
# The sanitizer build (clang, ASan + UBSan, libFuzzer targets) in
# build-san/ (or $MAPGW_SAN_DIR), then the `unit` label under it: every
# out-of-bounds read, use after free, overflow or other undefined behaviour
# a unit test reaches fails the run. Extra arguments go to ctest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
san=${MAPGW_SAN_DIR:-$top/build-san}
jobs=$(nproc 2>/dev/null || echo 2)
CC=clang CXX=clang++ cmake -S "$top" -B "$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMAPGW_SANITIZE=ON -DMAPGW_FUZZ=ON >/dev/null
cmake --build "$san" -j "$jobs" --target unit_tests mapgwctl l2tp_unit_tests l2tp_data_tests ppp_unit_tests \
  fuzz_config fuzz_dhcpv6 fuzz_calc fuzz_control fuzz_rule_history
cd "$san"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure --timeout 300 -L unit "$@"
