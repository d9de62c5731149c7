#!/usr/bin/env bash
# The main job: set up, build, and show mapgw at work. At this stage that is
# the MAP-E rule engine answering what a v6plus-style CE and its BR compute;
# the namespace lab joins it as the data plane lands.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MAPGW_BUILD_DIR:-$top/build}
[[ $(id -u) -eq 0 ]] && "$top/scripts/setup.sh"
"$top/scripts/build.sh" >/dev/null
ctl="$build/agent/mapgwctl"

rule=ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4
prefix=240b:10:abcd:ef00::/56
section() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

section "CE: what a v6plus-shaped rule gives the End-user prefix $prefix (legacy IID as JP VNEs use)" \
  "$ctl" calc --rule "$rule" --prefix "$prefix" --legacy-iid
section "BR: where a packet to 106.72.171.205:7920 goes" \
  "$ctl" calc --rule "$rule" --dst 106.72.171.205:7920 --legacy-iid
section "BR: a port below 4096 belongs to no CE (A = 0)" \
  "$ctl" calc --rule "$rule" --dst 106.72.171.205:80
section "BR anti-spoofing (RFC 7597 §8.1): a CE using a port of another PSID" \
  "$ctl" calc --rule "$rule" --check-src 240b:10:abcd:ef00:6a:48ab:cd00:ef00 \
  --inner-src 106.72.171.205:8000 --legacy-iid
section "RFC 7598 DHCPv6 OPTION_S46_CONT_MAPE, decoded" \
  "$ctl" calc --dhcpv6-hex 005e002d00590015011018c00002002820010db800005d000406000000005a001020010db8ffff00000000000000000001
section "The same CE answer as JSON, for scripts" \
  "$ctl" calc --rule "$rule" --prefix "$prefix" --json
