#!/usr/bin/python3
"""Packet-rate benchmark: gen -> DUT -> sink in namespaces, 64-byte frames.

The generator is BPF_PROG_RUN with live frames (benchctl gen) pinned to
CPU 0; the DUT's receive work runs in a threaded NAPI kthread pinned to
CPU 1; the sink counts and drops. The DUT forwards what it can; its rate is
what reaches the sink per second of generation. Scenarios, measured in
interleaved rounds (A B C ... A B C ...) because this shared VM drifts:

  xdp_forward  bare XDP redirect (the local ceiling)
  ce           mapgw CE: NAT44 into the port set + MAP-E encap (XDP)
  br           mapgw BR: MAP-E encap towards the CE (XDP)
  kernel_ce    Linux: forwarding + nftables SNAT into the port set +
               lwt-bpf IPv6 encapsulation
  kernel_br    Linux: forwarding + lwt-bpf IPv6 encapsulation

usage: throughput.py [--rounds N] [--packets N] [--flows 1,256] [--json]
The last line of stdout is one JSON object with medians, min, max and the
per-round ratios' medians.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "netns"))
from lab import BUILD, MAPGW, Lab, ctl, sh, wait_for  # noqa: E402

BENCHCTL = os.path.join(BUILD, "bench", "benchctl")
LWT_OBJ = {role: os.path.join(BUILD, "bench", "bpf_out", "bench_lwt_%s.bpf.o" % role) for role in ("ce", "br")}
MAC = {"g0": "02:00:00:00:01:01", "d0": "02:00:00:00:01:02", "d1": "02:00:00:00:02:01",
       "s0": "02:00:00:00:02:02"}
PUB = "106.72.171.205"
# The CE's port set is 15 ranges of 16 ports; nftables SNAT takes one range,
# so the kernel gets 240 contiguous ports (an easier job than the port set).
KERNEL_SNAT_PORTS = "7920-8159"

CE_CFG = """role = "ce"
instance = "{tag}"
socket = "/run/mapgw/{tag}.sock"
bpffs = "{bpffs}"
state_dir = "{state}"
on_stop = "detach"
metrics = ""
[ce]
wan_interface = "d1"
lan_interface = "d0"
end_user_prefix = "240b:10:abcd:ef00::/56"
br_address = "2001:db8:ffff::1"
legacy_iid = true
rules = ["ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4"]
"""

BR_CFG = """role = "br"
instance = "{tag}"
socket = "/run/mapgw/{tag}.sock"
bpffs = "{bpffs}"
state_dir = "{state}"
on_stop = "detach"
metrics = ""
[br]
ipv4_interface = "d0"
ipv6_interface = "d1"
[[br.domain]]
name = "bench"
br_address = "2001:db8:ffff::1"
legacy_iid = true
rules = ["ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4"]
"""


def template(src, dst, sport, dport):
    from scapy.all import IP, UDP, Ether, raw
    return raw(Ether(dst=MAC["d0"], src=MAC["g0"]) / IP(src=src, dst=dst, ttl=64) /
               UDP(sport=sport, dport=dport, chksum=0) / (b"x" * 22)).hex()


class Scenario:
    def __init__(self, lab, name, index):
        self.lab, self.name = lab, name
        self.gen, self.dut, self.sink = (lab.ns("%s%d" % (r, index)) for r in ("g", "d", "s"))
        lab.link(self.gen, "g0", self.dut, "d0")
        lab.link(self.dut, "d1", self.sink, "s0")
        for ns, i in ((self.gen, "g0"), (self.dut, "d0"), (self.dut, "d1"), (self.sink, "s0")):
            lab.run(ns, "ip link set %s address %s" % (i, MAC[i]))
        self.pin = "%s/%s" % (lab.bpffs, name)
        lab.run(self.sink, [BENCHCTL, "attach", "bench_sink", "s0", "--pin", self.pin + "_sink"])
        self.daemon = None

    def pin_napi(self, ns, ifname, cpu):
        """Run @ifname's receive work in its own kthread on @cpu."""
        self.lab.run(ns, "echo 1 > /sys/class/net/%s/threaded" % ifname)
        out = sh("ps -eo pid,comm", capture=True)
        for line in out.splitlines():
            pid, _, comm = line.strip().partition(" ")
            if comm.strip().startswith("napi/%s-" % ifname):
                # Every lab has its own d0 and s0: pin every such thread.
                sh(["taskset", "-pc", str(cpu), pid], capture=True)

    def pin_dut_napi(self):
        """The DUT's receive work on CPU 1, the generator on CPU 0. (The sink
        runs where the DUT sends from; a sink on CPU 0 starves the generator.)"""
        self.pin_napi(self.dut, "d0", 1)

    def start_mapgw(self, cfg):
        f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        f.write(cfg.format(tag=self.lab.tag + self.name, bpffs=self.lab.bpffs, state=self.lab.state_dir))
        f.close()
        self.daemon = self.lab.spawn(self.dut, [MAPGW, "--config", f.name], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        sock = "/run/mapgw/%s%s.sock" % (self.lab.tag, self.name)
        wait_for(lambda: ctl(sock, "status")["attached"], timeout=30, what=self.name + " up")
        os.unlink(f.name)

    def sink_count(self):
        return int(sh([BENCHCTL, "count", self.pin + "_sink_count"], capture=True))

    def run(self, hexframe, packets, flows, vary_dport):
        before = self.sink_count()
        argv = [BENCHCTL, "gen", "g0", "--template", hexframe, "--packets", str(packets),
                "--flows", str(flows), "--cpu", "0", "--base-port", str(self.base_port)]
        if vary_dport:
            argv.append("--vary-dport")
        out = json.loads(self.lab.run(self.gen, argv, capture=True, timeout=300))
        time.sleep(0.2)  # let the DUT drain
        return (self.sink_count() - before) / out["seconds"]


def build(lab, name, index):
    s = Scenario(lab, name, index)
    run = lambda cmd: lab.run(s.dut, cmd)
    if name == "xdp_forward":
        run([BENCHCTL, "attach", "bench_fwd", "d0", "--pin", s.pin + "_fwd", "--out", "d1",
             "--dmac", MAC["s0"], "--smac", MAC["d1"]])
        s.frame, s.base_port, s.vary_dport = template("192.168.1.10", "203.0.113.2", 20000, 53), 20000, False
    elif name in ("ce", "kernel_ce"):
        run("ip addr add 192.168.1.1/24 dev d0 && ip -6 addr add 2001:db8:c0::2/64 dev d1 nodad && "
            "ip -6 neigh add 2001:db8:c0::1 lladdr %s dev d1 nud permanent && "
            "ip -6 route add default via 2001:db8:c0::1" % MAC["s0"])
        if name == "ce":
            s.start_mapgw(CE_CFG)
        else:
            run([BENCHCTL, "attach", "bench_pass", "d0", "--pin", s.pin + "_pass"])
            run("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 && "
                "ip -6 addr add 240b:10:abcd:ef00:6a:48ab:cd00:ef00/128 dev d1 nodad && "
                "nft add table ip nat && nft add chain ip nat post '{ type nat hook postrouting priority 100; }' && "
                "nft add rule ip nat post ip saddr 192.168.1.0/24 udp dport 53 snat to %s:%s && "
                "ip route add default encap bpf xmit obj %s sec lwt_xmit dev d1" % (PUB, KERNEL_SNAT_PORTS, LWT_OBJ["ce"]))
        s.frame, s.base_port, s.vary_dport = template("192.168.1.10", "203.0.113.2", 20000, 53), 20000, False
    else:  # br, kernel_br
        run("ip addr add 203.0.113.1/24 dev d0 && ip -6 addr add 2001:db8:b0::2/64 dev d1 nodad && "
            "ip -6 addr add 2001:db8:ffff::1/128 dev d1 nodad && "
            "ip -6 neigh add 2001:db8:b0::1 lladdr %s dev d1 nud permanent && "
            "ip -6 route add 240b::/16 via 2001:db8:b0::1" % MAC["s0"])
        if name == "br":
            s.start_mapgw(BR_CFG)
        else:
            run([BENCHCTL, "attach", "bench_pass", "d0", "--pin", s.pin + "_pass"])
            run("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 && "
                "ip route add 106.72.0.0/15 encap bpf xmit obj %s sec lwt_xmit dev d1" % LWT_OBJ["br"])
        s.frame, s.base_port, s.vary_dport = template("203.0.113.2", PUB, 53, 7920), 7920, True
    s.pin_dut_napi()
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--packets", type=int, default=4_000_000)
    ap.add_argument("--flows", default="1,256")
    ap.add_argument("--scenarios", default="xdp_forward,ce,br,kernel_ce,kernel_br")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    names = args.scenarios.split(",")
    flows_list = [int(f) for f in args.flows.split(",")]
    results = {}
    with Lab("mgwbench") as lab:
        scen = {n: build(lab, n, i) for i, n in enumerate(names)}
        for flows in flows_list:
            for n in names:  # warm-up: NAT sessions, neighbours
                scen[n].run(scen[n].frame, 200_000, flows, scen[n].vary_dport)
            for r in range(args.rounds):
                for n in names:
                    pps = scen[n].run(scen[n].frame, args.packets, flows, scen[n].vary_dport)
                    results.setdefault((n, flows), []).append(pps)
                    print("round %d flows %3d %-12s %6.2f Mpps" % (r + 1, flows, n, pps / 1e6), flush=True)
    summary = {}
    for (n, flows), v in results.items():
        summary["%s_f%d" % (n, flows)] = {"median_mpps": round(statistics.median(v) / 1e6, 3),
                                          "min_mpps": round(min(v) / 1e6, 3),
                                          "max_mpps": round(max(v) / 1e6, 3)}

    def ratio(a, b):
        out = {}
        for flows in flows_list:
            if (a, flows) in results and (b, flows) in results:
                per_round = [x / y for x, y in zip(results[(a, flows)], results[(b, flows)]) if y > 0]
                if per_round:
                    out["f%d" % flows] = round(statistics.median(per_round), 3)
        return out

    summary["ce_vs_kernel"] = ratio("ce", "kernel_ce")
    summary["br_vs_kernel"] = ratio("br", "kernel_br")
    summary["ce_vs_xdp_forward"] = ratio("ce", "xdp_forward")
    summary["br_vs_xdp_forward"] = ratio("br", "xdp_forward")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
