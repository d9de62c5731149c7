#!/usr/bin/python3
"""TCP through CE + BR: mapgw against the Linux kernel doing the same jobs.

  lan -- CE -- core (IPv6 router) -- BR -- inet      (one lab per contender)
  lan -- CE -- BR -- inet                           ("nocore_": wire-sized only)

Without the core the gateways are all that forwards: on a real network the
core is other hardware, here a kernel router on the same two vCPUs. There,
xdp_static is the ceiling of any XDP gateway pair: both only rewrite MACs
and redirect (bench_fwd), no lookup at all.

mapgw: both daemons, the lab topology of the CE tests (tests/netns/topology.py).
kernel: the CE forwards with nftables SNAT into 240 ports of the v6plus
address and encapsulates with lwt-bpf (`encap bpf xmit`); the BR encapsulates
towards the CE the same way; both decapsulate at tc ingress (tc_decap.bpf.c:
no ip6tnl in this kernel) and conntrack undoes the NAT. The kernel gets GRO
on its tunnel-side interfaces, its best working configuration here (GRO on
the IPv4 sides breaks lwt-bpf encapsulation: TCP stalls).

xdp_router: the same five namespaces, but the CE and BR namespaces only
route IPv4 with a minimal XDP router (xdp_router.bpf.c) and the core routes
IPv4: what any XDP gateway could reach in this topology.

direct: the two end hosts on one veth, no router between them: what the
two TCP stacks alone reach on this machine, the ceiling of any gateway
(mapgw can at most reach it; if it is below 2x the kernel path, so is
every gateway measured here).

Sender offloads: "wire" has TSO/GSO off at the iperf3 senders, so packets are
wire-sized as on a real link; "offload" turns GSO on (see set_sender_offloads
for why not TSO). Upload (lan -> inet) and
download (-R). Contenders alternate per round; ratios are per round.
"""
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "netns"))
from lab import BUILD, Lab  # noqa: E402
from topology import BR6, INET, V6PLUS, CeBrLab, build_chain, configure_core, configure_inet  # noqa: E402

LWT = {r: os.path.join(BUILD, "bench", "bpf_out", "bench_lwt_%s.bpf.o" % r) for r in ("ce", "br")}
DECAP = os.path.join(BUILD, "bench", "bpf_out", "bench_tc_decap.bpf.o")
CE6 = "240b:10:abcd:ef00:6a:48ab:cd00:ef00"  # the v6plus shape's CE address (lwt_encap.h)


class KernelCeBr:
    """The same addresses as CeBrLab, forwarded by the kernel."""

    def __init__(self, lab, core=True):
        s = V6PLUS
        build_chain(self, lab, core)
        # GRO where the tunnel arrives (decapsulation takes aggregates whole).
        # Not on the IPv4 sides: lwt-bpf encapsulation of GRO aggregates
        # stalls TCP completely on this kernel (measured: 0.0002 Gbit/s).
        for ns, i in ((self.ce, "wan0"), (self.br, "v6")):
            lab.run(ns, "ethtool -K %s gro on" % i)
        lab.run(self.lan, "ip addr add 192.168.1.10/24 dev eth0 && ip route add default via 192.168.1.1")
        configure_core(lab, self, s.eup)
        lab.run(self.ce, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 "
                         "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.wan0.rp_filter=0 && "
                         "ip addr add 192.168.1.1/24 dev lan0 && "
                         "ip -6 addr add 2001:db8:c0::2/64 dev wan0 nodad && "
                         "ip -6 addr add %s/128 dev wan0 nodad && "
                         "ip -6 route add default via 2001:db8:c0::1 && "
                         "ip link set lan0 mtu 1460 && "
                         "nft add table ip nat && "
                         "nft add chain ip nat post '{ type nat hook postrouting priority 100; }' && "
                         "nft add rule ip nat post ip saddr 192.168.1.0/24 meta l4proto { tcp, udp } "
                         "snat to %s:7920-8159 && "
                         "ip route add default encap bpf xmit obj %s sec lwt_xmit dev wan0 mtu 1460 && "
                         "tc qdisc add dev wan0 clsact && "
                         "tc filter add dev wan0 ingress bpf da obj %s sec tc"
                         % (CE6, s.pub, LWT["ce"], DECAP))
        lab.run(self.br, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 "
                         "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.v6.rp_filter=0 && "
                         "ip -6 addr add 2001:db8:b0::2/64 dev v6 nodad && "
                         "ip -6 addr add %s/128 dev v6 nodad && "
                         "ip -6 route add %s via %s && "
                         "ip addr add 203.0.113.1/24 dev v4 && "
                         "ip route add %s/32 encap bpf xmit obj %s sec lwt_xmit dev v6 mtu 1460 && "
                         "tc qdisc add dev v6 clsact && "
                         "tc filter add dev v6 ingress bpf da obj %s sec tc"
                         % (BR6, s.eup, self.br_next_hop6, s.pub, LWT["br"], DECAP))
        configure_inet(lab, self.inet, mtu=1460)

    def cleanup(self):
        pass


ROUTER = os.path.join(BUILD, "bench", "bpf_out", "bench_xdp_router.bpf.o")


class XdpRouterChain:
    """lan -- ce -- core -- br -- inet routing plain IPv4; ce and br forward
    with xdp_router, the core with the kernel (as in the other chains)."""

    def __init__(self, lab, core=True):
        build_chain(self, lab, core)
        lab.run(self.lan, "ip addr add 192.168.1.10/24 dev eth0 && ip route add default via 192.168.1.1")
        lab.run(self.ce, "sysctl -qw net.ipv4.ip_forward=1 && ip addr add 192.168.1.1/24 dev lan0 && "
                         "ip addr add 10.0.1.2/24 dev wan0 && ip route add default via 10.0.1.1")
        if core:
            lab.run(self.core, "sysctl -qw net.ipv4.ip_forward=1 && ip addr add 10.0.1.1/24 dev c0 && "
                               "ip addr add 10.0.2.1/24 dev c1 && ip route add 192.168.1.0/24 via 10.0.1.2 && "
                               "ip route add 203.0.113.0/24 via 10.0.2.2")
            lab.run(self.br, "sysctl -qw net.ipv4.ip_forward=1 && ip addr add 10.0.2.2/24 dev v6 && "
                             "ip addr add 203.0.113.1/24 dev v4 && ip route add default via 10.0.2.1")
        else:
            lab.run(self.br, "sysctl -qw net.ipv4.ip_forward=1 && ip addr add 10.0.1.1/24 dev v6 && "
                             "ip addr add 203.0.113.1/24 dev v4 && ip route add 192.168.1.0/24 via 10.0.1.2")
        configure_inet(lab, self.inet, mtu=1460)
        for ns, ifs in ((self.ce, ("lan0", "wan0")), (self.br, ("v6", "v4"))):
            for i in ifs:
                lab.run(ns, "ip link set dev %s xdpdrv obj %s sec xdp" % (i, ROUTER))

    def cleanup(self):
        pass


BENCHCTL = os.path.join(BUILD, "bench", "benchctl")


class XdpStaticChain:
    """lan -- ce -- br -- inet (no core) where ce and br only pass frames
    on: bench_fwd rewrites the MACs and redirects to the other side, no
    lookup, no TTL, no headers touched — the most any pair of XDP gateways
    can forward between these hosts here. The hosts know their gateway's
    MAC statically (nothing answers ARP)."""

    def __init__(self, lab):
        build_chain(self, lab, core=False)
        mac = lambda ns, i: json.loads(lab.run(ns, "ip -j link show %s" % i, capture=True))[0]["address"]
        lan, ce_lan, ce_wan = mac(self.lan, "eth0"), mac(self.ce, "lan0"), mac(self.ce, "wan0")
        br_v6, br_v4, inet = mac(self.br, "v6"), mac(self.br, "v4"), mac(self.inet, "eth0")
        lab.run(self.lan, "ip addr add 192.168.1.10/24 dev eth0 && ip route add default via 192.168.1.1 && "
                          "ip neigh add 192.168.1.1 lladdr %s dev eth0 nud permanent" % ce_lan)
        configure_inet(lab, self.inet, mtu=1460)
        lab.run(self.inet, "ip neigh add 203.0.113.1 lladdr %s dev eth0 nud permanent" % br_v4)
        # (namespace, in, out, destination MAC, source MAC)
        hops = ((self.ce, "lan0", "wan0", br_v6, ce_wan), (self.ce, "wan0", "lan0", lan, ce_lan),
                (self.br, "v6", "v4", inet, br_v4), (self.br, "v4", "v6", ce_wan, br_v6))
        for ns, i, out, dmac, smac in hops:
            lab.run(ns, [BENCHCTL, "attach", "bench_fwd", i, "--pin", "%s/static_%s_%s" % (lab.bpffs, ns[-2:], i),
                         "--out", out, "--dmac", dmac, "--smac", smac])

    def cleanup(self):
        pass


class Direct:
    """The end hosts alone: lan and inet on one link, the same addresses,
    MTU and MSS as through the gateways."""

    def __init__(self, lab):
        self.lan, self.inet = lab.ns("lan"), lab.ns("inet")
        lab.link(self.lan, "eth0", self.inet, "eth0")
        lab.run(self.lan, "ip addr add 203.0.113.50/24 dev eth0 && ip link set eth0 mtu 1460")
        configure_inet(lab, self.inet, gateway=None, mtu=1460)

    def cleanup(self):
        pass


def set_sender_offloads(lab, topo, on):
    """"offload": GSO at the senders (segmentation in their own stack, after
    TCP). Not TSO with tx checksum offload: a frame with a partial checksum
    loses that state in mapgw's XDP redirect, and the kernel path stalls on
    such aggregates in lwt-bpf encapsulation (measured: 0.0002 Gbit/s); a
    real link delivers neither."""
    for ns in (topo.lan, topo.inet):
        lab.run(ns, "ethtool -K eth0 %s" % ("gso on" if on else "tso off gso off"))


def iperf(lab, topo, seconds, reverse):
    argv = ["iperf3", "-c", INET[0], "-t", str(seconds), "-J", "-M", "1400"] + (["-R"] if reverse else [])
    out = json.loads(lab.run(topo.lan, argv, capture=True, timeout=seconds + 60))
    if "error" in out:
        raise RuntimeError("iperf3: %s" % out["error"])
    return out["end"]["sum_received"]["bits_per_second"] / 1e9


def build_contenders(labs, core):
    """mapgw, kernel and xdp_router chains (with or without the core
    router) and the direct link, each in its own lab; MTU 1460 at the
    hosts, as MSS clamping and the tunnel leave both paths."""
    lm, lk, lx, ld, ls = labs
    mapgw = CeBrLab(lm, V6PLUS, core=core)
    out = [("mapgw", lm, mapgw), ("kernel", lk, KernelCeBr(lk, core)), ("xdp_router", lx, XdpRouterChain(lx, core))]
    for _, lab, t in out:
        lab.run(t.lan, "ip link set eth0 mtu 1460")
    if ld:
        out.append(("direct", ld, Direct(ld)))
    if ls:
        static = XdpStaticChain(ls)
        ls.run(static.lan, "ip link set eth0 mtu 1460")
        out.append(("xdp_static", ls, static))
    lm.run(mapgw.inet, "ip link set eth0 mtu 1460")
    return out


def run_rounds(contenders, configs, seconds, rounds, results, log):
    for key, offload, reverse in configs:
        for _, lab, topo in contenders:
            set_sender_offloads(lab, topo, offload)
        for r in range(rounds):
            for who, lab, topo in contenders:
                g = iperf(lab, topo, seconds, reverse)
                results.setdefault(key, {}).setdefault(who, []).append(g)
                log("round %d tcp %-20s %-10s %6.2f Gbit/s" % (r + 1, key, who, g))


def compare(seconds, rounds, log=print):
    """Gbit/s per configuration, medians over rounds, and per-round ratios.
    With the core router: wire-sized and sender GSO, both directions.
    Without it ("nocore_"): wire-sized, both directions."""
    results = {}
    configs = [("%s_%s" % ("offload" if o else "wire", "download" if r else "upload"), o, r)
               for o in (False, True) for r in (False, True)]
    nocore = [("nocore_" + k, o, r) for k, o, r in configs if not o]
    for core, wanted, names in ((True, configs, ("mgwtcpm", "mgwtcpk", "mgwtcpx", "mgwtcpd", None)),
                                (False, nocore, ("mgwtcpnm", "mgwtcpnk", "mgwtcpnx", None, "mgwtcpns"))):
        with contextlib.ExitStack() as stack:
            labs = [stack.enter_context(Lab(n)) if n else None for n in names]
            contenders = build_contenders(labs, core)
            stack.callback(contenders[0][2].cleanup)
            for _, lab, t in contenders:
                p = lab.spawn(t.inet, ["iperf3", "-s", "-B", INET[0]], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
                stack.callback(p.terminate)
            time.sleep(0.5)
            run_rounds(contenders, wanted, seconds, rounds, results, log)
    out = {}
    for key, v in results.items():
        def ratio(a, b):
            rs = [x / y for x, y in zip(v.get(a, []), v.get(b, [])) if y > 0]
            return round(statistics.median(rs), 2) if rs else None
        out[key] = {who: round(statistics.median(g), 2) for who, g in v.items()}
        out[key].update({"ratio": ratio("mapgw", "kernel"),
                         "mapgw_vs_xdp_router": ratio("mapgw", "xdp_router"),
                         "xdp_router_vs_kernel": ratio("xdp_router", "kernel")})
        if "xdp_static" in v:
            out[key].update({"mapgw_vs_xdp_static": ratio("mapgw", "xdp_static"),
                             "xdp_static_vs_kernel": ratio("xdp_static", "kernel")})
        if "direct" in v:
            out[key].update({"mapgw_vs_direct": ratio("mapgw", "direct"),
                             "direct_vs_kernel": ratio("direct", "kernel")})
    return out


if __name__ == "__main__":
    print(json.dumps(compare(int(sys.argv[1]) if len(sys.argv) > 1 else 5, 3)))
