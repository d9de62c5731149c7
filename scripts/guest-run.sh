#!/usr/bin/env bash
# Runs one command inside a QEMU guest booted from a Debian kernel package
# (software emulation; no KVM needed) and returns its output and exit status.
# The guest sees this machine's / read-only under a tmpfs overlay, so built
# binaries, scripts and installed tools are all there; what it writes is lost.
#
#   scripts/guest-run.sh [-k 6.1|6.12|KDIR] [-t SECONDS] [-m MEM] [-C DIR]
#                        [-e VAR=VALUE]... [-w DIR]... -- COMMAND [ARG]...
#
# -k  kernel series cached by scripts/guest-kernels.sh, or a cache directory
#     (default 6.1);  -t  wall-clock bound for the whole guest (default 600);
# -m  guest memory (default 4G);  -C  working directory (default: the current
# one);  -e  environment for COMMAND (MAPGW_* and CI are passed on anyway);
# -w  a directory of this machine the guest may write, at the same path (for
#     logs and results that must outlive the guest).
# Exit status: COMMAND's, 124 when the bound ran out, 125 when the guest
# ended without reporting one (the console's last lines are printed).
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MAPGW_KERNEL_CACHE:-/var/cache/mapgw/kernels}
kernel=6.1 timeout_s=600 mem=4G workdir=$PWD
envs=() writable=()
while getopts "k:t:m:C:e:w:" opt; do
  case $opt in
    k) kernel=$OPTARG ;;
    t) timeout_s=$OPTARG ;;
    m) mem=$OPTARG ;;
    C) workdir=$OPTARG ;;
    e) envs+=("$OPTARG") ;;
    w) mkdir -p "$OPTARG"; writable+=("$(cd "$OPTARG" && pwd -P)") ;;
    *) echo "usage: $0 [-k series] [-t s] [-m mem] [-C dir] [-e V=X]... -- cmd..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
[[ $# -gt 0 ]] || { echo "guest-run.sh: no command given" >&2; exit 2; }

kdir=$kernel
[[ -d $kdir ]] || kdir=$cache/$kernel
if [[ ! -f $kdir/ready ]]; then
  echo "guest-run.sh: kernel '$kernel' is not cached in $cache: run scripts/setup.sh (it calls scripts/guest-kernels.sh)" >&2
  exit 125
fi
kdir=$(cd "$kdir" && pwd -P)
kver=$(cat "$kdir/kver")
for tool in qemu-system-x86_64 busybox; do
  command -v "$tool" >/dev/null || { echo "guest-run.sh: $tool missing: run scripts/setup.sh" >&2; exit 125; }
done

# The initramfs: busybox, stage 1 and the modules the root file system needs,
# in load order. Cached per kernel and per version of stage 1.
initrd_for() {
  local stamp initrd
  stamp=$(cat "$top/tests/guest/init" "$(command -v busybox)" | sha256sum | cut -c1-12)
  initrd=$kdir/initrd-$stamp.cpio.gz
  if [[ ! -f $initrd ]]; then
    local root
    root=$(mktemp -d)
    mkdir -p "$root"/{bin,modules,proc,sys,dev}
    cp "$(command -v busybox)" "$root/bin/busybox"
    cp "$top/tests/guest/init" "$root/init"
    : >"$root/modules/order"
    local line ko name
    while read -r line; do
      [[ $line == insmod* ]] || continue
      ko=${line#insmod }; ko=${ko%% *}
      name=$(basename "$ko"); name=${name%.xz}; name=${name%.zst}
      grep -qx "$name" "$root/modules/order" && continue
      case $ko in
        *.xz) xz -dc "$ko" >"$root/modules/$name" ;;
        *.zst) zstd -qdc "$ko" >"$root/modules/$name" ;;
        *) cp "$ko" "$root/modules/$name" ;;
      esac
      echo "$name" >>"$root/modules/order"
    done < <(modprobe -d "$kdir/pkg" -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p overlay)
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$root"
  fi
  echo "$initrd"
}
initrd=$(initrd_for)

xchg=$(mktemp -d /tmp/mapgw-guest.XXXXXX)
qemu_pid=
cleanup() {
  [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null || true
  rm -rf "$xchg"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$top/tests/guest/stage2.sh" "$xchg/stage2.sh"
{
  printf 'KVER=%q\nKDIR=%q\nWORKDIR=%q\n' "$kver" "$kdir" "$workdir"
  printf 'WRITABLE=('; for w in "${writable[@]}"; do printf '%q ' "$w"; done; printf ')\n'
} >"$xchg/env"
shares=()
for i in "${!writable[@]}"; do
  shares+=(-virtfs "local,path=${writable[$i]},mount_tag=w$i,security_model=none,multidevs=remap")
done
{
  while IFS='=' read -r name value; do
    printf 'export %s=%q\n' "$name" "$value"
  done < <(env | grep -E '^(MAPGW_[A-Z0-9_]*|CI)=' || true)
  for e in "${envs[@]}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
  printf 'exec'; printf ' %q' "$@"; printf '\n'
} >"$xchg/cmd"

# The console carries the command's output; QEMU's own complaints go to a log.
# One boot; its exit code in rc.
boot() {
  timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt -smp 2 -m "$mem" -machine q35 \
    -display none -monitor none -serial stdio -no-reboot -nic none \
    -kernel "$kdir/vmlinuz" -initrd "$initrd" \
    -append "console=ttyS0 rdinit=/init panic=-1 loglevel=4 mitigations=off" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$xchg,mount_tag=xchg,security_model=none,multidevs=remap" "${shares[@]}" \
    </dev/null 2>"$xchg/qemu.log" > >(tee "$xchg/console") &
  qemu_pid=$!
  set +e
  wait "$qemu_pid"
  rc=$?
  set -e
  qemu_pid=
}
boot
# A guest that died before stage 2 ran the command (an emulation fault
# while the kernel patches itself has been seen once in many boots) gets
# one more boot; a command that started is never run twice.
if [[ ! -f $xchg/status && ! -f $xchg/started && $rc -ne 124 ]]; then
  echo "guest-run.sh: the $kver guest died before running the command; booting it once more" >&2
  boot
fi
if [[ -f $xchg/status ]]; then
  exit "$(cat "$xchg/status")"
fi
if [[ $rc -eq 124 ]]; then
  echo "guest-run.sh: the $kver guest did not finish within ${timeout_s}s" >&2
  exit 124
fi
echo "guest-run.sh: the $kver guest ended without an exit status (QEMU $rc)" >&2
tail -n 5 "$xchg/qemu.log" >&2 || true
exit 125
