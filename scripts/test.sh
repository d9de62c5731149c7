#!/usr/bin/env bash
# The whole test suite: set-up (as root), build, then every ctest label.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit` (no root needed).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MAPGW_BUILD_DIR:-$top/build}

if [[ $(id -u) -eq 0 ]]; then
  "$top/scripts/setup.sh"
else
  echo "test.sh: not root, so setup.sh is not run; the bpf/netns labels need root" >&2
fi
"$top/scripts/build.sh"
cd "$build"
ctest --output-on-failure --timeout 900 "$@"
# The whole suite (no ctest arguments) also runs the `unit` label under
# ASan + UBSan and every libFuzzer target for 30 s (scripts/fuzz.sh runs
# them longer).
if [[ $# -eq 0 ]]; then
  "$top/scripts/sanitize.sh"
  "$top/scripts/fuzz.sh" 30
fi
