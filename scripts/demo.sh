#!/usr/bin/env bash
# The main job: set up (as root), build, and show mapgw at work in a
# namespace lab: LAN host - CE - IPv6 core - BR - IPv4 internet host.
#   scripts/demo.sh            traffic and live counters for 120 s
#   scripts/demo.sh --once     one round, then exit (for scripts)
# Options go to tests/netns/demo_lab.py (--seconds N, --shape v6plus|rfc).
# The lab is always torn down.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: the lab needs root (network namespaces, XDP)" >&2
  exit 1
fi
"$top/scripts/setup.sh"
"$top/scripts/build.sh" >/dev/null
export MAPGW_BUILD_DIR=${MAPGW_BUILD_DIR:-$top/build}
ctl="$MAPGW_BUILD_DIR/agent/mapgwctl"
echo "== The mapping a v6plus-shaped rule gives an End-user prefix (mapgwctl calc)"
"$ctl" calc --rule ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4 \
  --prefix 240b:10:abcd:ef00::/56 --legacy-iid | head -8
exec /usr/bin/python3 "$top/tests/netns/demo_lab.py" "$@"
