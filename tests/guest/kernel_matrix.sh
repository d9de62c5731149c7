#!/bin/bash
# One row of the kernel matrix: boots Debian's SERIES kernel (6.1, 6.12) in
# a QEMU guest, runs matrix_checks.sh there against BUILD_DIR, and prints
# the row (programs verified, bpf fixtures passed, lab cases passed).
# SERIES "host" runs the same checks on this machine's own kernel.
#   tests/guest/kernel_matrix.sh SERIES BUILD_DIR [OUTDIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
series=$1 build=$(cd "$2" && pwd)
out=${3:-$build/kernel-matrix/$series}
rm -rf "$out" && mkdir -p "$out"
if [[ $series == host ]]; then
  "$here/matrix_checks.sh" "$build" "$out"
else
  # 25 minutes at most (a run takes 13-15 here): a stalled guest must not
  # hold CI for long.
  "$top/scripts/guest-run.sh" -k "$series" -t "${MAPGW_GUEST_TIMEOUT:-1500}" -w "$out" -C "$build" \
    -- "$here/matrix_checks.sh" "$build" "$out"
fi
rc=$?
/usr/bin/python3 "$here/matrix_summary.py" "$out" || rc=1
exit $rc
