#!/usr/bin/env bash
# Fetches the Debian kernels our users run and unpacks each, with its modules,
# into the guest harness's cache (tests/guest/README.md). Idempotent and silent
# when every kernel is cached; nothing is installed on this machine.
#
#   6.1   Debian 12's stock kernel      linux-image-6.1.0-NN-amd64 (bookworm)
#   6.12  Debian 13's and backports'     linux-image-6.12.NN+deb12-amd64
#                                        (bookworm-backports)
#
# Each series is fetched once (the newest the registry serves then) and kept:
# later runs reuse it, so results compare the same kernel build.
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH
cache=${MAPGW_KERNEL_CACHE:-/var/cache/mapgw/kernels}

declare -A series_pattern=(
  [6.1]='^linux-image-6\.1\.0-[0-9]+-amd64$'
  [6.12]='^linux-image-6\.12\.[0-9]+\+deb12-amd64$'
)

backports=/etc/apt/sources.list.d/mapgw-bookworm-backports.sources
ensure_backports() {
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  cat >"$backports" <<'SRC'
# Added by mapgw's scripts/guest-kernels.sh: the 6.12 test kernel comes from
# here. Backports has priority 100, so nothing installed is upgraded from it.
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
}

fetch_series() {
  local series=$1 pattern=${series_pattern[$1]}
  local link=$cache/$series
  [[ -f $link/vmlinuz && -f $link/ready ]] && return 0
  [[ $series == 6.12 ]] && ensure_backports
  local pkg
  pkg=$(apt-cache pkgnames linux-image-6 | grep -E "$pattern" | sort -V | tail -n 1)
  if [[ -z $pkg ]]; then
    echo "guest-kernels.sh: no package matching $pattern in the registry" >&2
    return 1
  fi
  local kver=${pkg#linux-image-}
  local dir=$cache/$kver
  echo "guest-kernels.sh: fetching $pkg for the $series guest"
  rm -rf "$dir" && mkdir -p "$dir/pkg"
  (cd "$dir" && apt-get download -qq "$pkg" 2>&1 | grep -v 'unsandboxed' || true)
  local deb
  deb=$(ls "$dir"/*.deb 2>/dev/null | head -n 1)
  [[ -n $deb ]] || { echo "guest-kernels.sh: apt-get download $pkg failed" >&2; return 1; }
  dpkg-deb -x "$deb" "$dir/pkg"
  rm -f "$deb"
  depmod -b "$dir/pkg" "$kver"
  ln -sfn "pkg/boot/vmlinuz-$kver" "$dir/vmlinuz"
  ln -sfn "pkg/boot/config-$kver" "$dir/config"
  echo "$kver" >"$dir/kver"
  touch "$dir/ready"
  ln -sfn "$kver" "$link"
}

mkdir -p "$cache"
for s in "${!series_pattern[@]}"; do fetch_series "$s"; done
