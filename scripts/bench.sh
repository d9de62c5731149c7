#!/usr/bin/env bash
# Every benchmark (bench/run_all.py): set-up (as root), build, then the runs.
#   scripts/bench.sh            full run (~35 min), writes bench/results/latest.md
#   scripts/bench.sh --quick    <= 20 minutes
# The last line of stdout is one JSON object (add --json for only that line
# on stdout; progress always goes to stderr). Needs root: namespaces, XDP.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
args=()
for a in "$@"; do
  [[ "$a" == "--json" ]] && continue  # stdout carries only the JSON line anyway
  args+=("$a")
done
if [[ $(id -u) -ne 0 ]]; then
  echo "bench.sh: must run as root (namespaces, XDP, BPF_PROG_TEST_RUN)" >&2
  exit 1
fi
"$top/scripts/setup.sh" >&2
"$top/scripts/build.sh" >&2
exec /usr/bin/python3 "$top/bench/run_all.py" "${args[@]}"
