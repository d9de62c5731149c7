#!/usr/bin/env bash
# Installs every Debian 12 package mapgw needs to build, test and run its real
# peers, and caches the Debian kernels the guest harness boots
# (scripts/guest-kernels.sh). Idempotent: when everything is present it
# prints nothing and exits 0.
# When a package cannot be installed it names it and exits non-zero.
set -euo pipefail

# Build toolchain and libraries.
BUILD_PKGS=(
  build-essential cmake pkg-config git
  clang llvm lld libclang-rt-14-dev
  libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
  libosip2-dev libssl-dev
  prometheus-cpp-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format
)
# Lab, test peers and tools the tests drive.
PEER_PKGS=(
  iproute2 iputils-ping nftables ethtool tcpdump iperf3 procps psmisc logrotate curl
  python3 python3-scapy
  xdp-tools
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
  libstrongswan-extra-plugins libcharon-extauth-plugins strongswan-pki
  kamailio sip-tester
  xl2tpd ppp
  prometheus
  linux-perf
  qemu-system-x86 busybox-static kmod cpio xz-utils zstd
)

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: must run as root (it installs packages with apt-get)" >&2
  exit 1
fi

missing=()
for p in "${BUILD_PKGS[@]}" "${PEER_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exec "$(dirname "$0")/guest-kernels.sh"
fi

echo "setup.sh: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "setup.sh: apt-get update failed" >&2; exit 1; }

# Ask apt which of the missing packages it cannot provide at all, so the error
# names them instead of burying them in apt's output.
unavailable=()
for p in "${missing[@]}"; do
  cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [[ -z "$cand" || "$cand" == "(none)" ]]; then unavailable+=("$p"); fi
done
if [[ ${#unavailable[@]} -gt 0 ]]; then
  echo "setup.sh: no installation candidate for: ${unavailable[*]}" >&2
  echo "setup.sh: is this Debian 12 (bookworm) with the main repository enabled?" >&2
  exit 1
fi

# Services we start ourselves in tests must not be auto-started by the packages.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && rm -f "$policy"' EXIT

if ! apt-get install -y -qq --no-install-recommends \
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
     "${missing[@]}" >/tmp/mapgw-setup-apt.log 2>&1; then
  echo "setup.sh: apt-get install failed; last lines of /tmp/mapgw-setup-apt.log:" >&2
  tail -n 20 /tmp/mapgw-setup-apt.log >&2
  exit 1
fi

# Verify: every package must now be installed.
still=()
for p in "${missing[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || still+=("$p")
done
if [[ ${#still[@]} -gt 0 ]]; then
  echo "setup.sh: still not installed after apt-get: ${still[*]}" >&2
  exit 1
fi
"$(dirname "$0")/guest-kernels.sh"
echo "setup.sh: done"
