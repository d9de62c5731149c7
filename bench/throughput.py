#!/usr/bin/python3
"""Packet rates: generator -> DUT -> sink, each in its own namespace.

The generator is BPF_PROG_RUN with live frames (benchctl gen) pinned to
CPU 0; the DUT's receive work runs in a threaded-NAPI kthread pinned to
CPU 1; the sink counts tunnelled (or, for the bare forward, IPv4) frames and
drops them. A DUT's rate is what reaches the sink per second of generation:
the generator offers about twice what any DUT here forwards. Every contender
has a topology of its own, built once; rounds run them in turn (A B C ...
A B C ...) because this shared VM drifts, and ratios are taken per round.

Contenders, outbound (IPv4 in, IPv4-in-IPv6 out):
  xdp_forward  bare XDP redirect (the local ceiling)
  xdp_encap    bare XDP redirect with a constant outer IPv6 header pushed:
               the least any encapsulating data plane does (its ceiling)
  ce, br       mapgw (XDP): NAT44 + MAP-E encapsulation; MAP-E encapsulation
  kernel_ce    Linux: forwarding + nftables SNAT into 240 ports + lwt-bpf
               IPv6 encapsulation (`encap bpf xmit`)
  kernel_br    Linux: forwarding + lwt-bpf IPv6 encapsulation
Inbound (IPv4-in-IPv6 in, IPv4 out; the generator on the DUT's IPv6 side):
  xdp_forward_in  bare XDP redirect of the tunnelled frames
  xdp_decap_in bare XDP redirect with the outer IPv6 header popped
  xdp_natdecap_in  the same plus the least reverse NAT44 (one lookup, address
               and port rewritten, TTL): the ceiling of any NAT44 CE inbound
  ce_in        mapgw: tunnel source check, decapsulation, reverse NAT
  br_in        mapgw: RFC 7597 §8.1 source check, decapsulation
  br_spread_in the same with receive spreading over both CPUs (spreading())
  kernel_ce_in Linux: tc-BPF decapsulation (no ip6tnl here), conntrack's
               reverse NAT of the SNAT above, forwarding
  kernel_br_in Linux: tc-BPF decapsulation, forwarding
The inbound CE contenders need NAT state: the sink sends the outbound
packets that make it ("prime") before every measurement.
  ce_1k, ce_10k, ce_1m  mapgw CE holding 1 k / 10 k / 1 M sessions (scale)
  xdp_natencap xdp_encap after the least NAT44 (one lookup per packet in a
               per-flow table): the floor the CE's scale runs are set against
  br_1rule, br_64k   mapgw BR with 1 / 65536 rules (scale)
  ce_new       mapgw CE where every packet is a new flow (new sessions/s)

Used by bench/run_all.py; run alone for a quick look:
  throughput.py [--rounds N] [--packets N]
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
TC_DECAP_OBJ = os.path.join(BUILD, "bench", "bpf_out", "bench_tc_decap.bpf.o")
MAC = {"g0": "02:00:00:00:01:01", "d0": "02:00:00:00:01:02", "d1": "02:00:00:00:02:01",
       "s0": "02:00:00:00:02:02"}
PUB = "106.72.171.205"
# The CE's port set is 15 ranges of 16 ports; nftables SNAT takes one range,
# so the kernel gets 240 contiguous ports (an easier job than the port set).
KERNEL_SNAT_PORTS = "7920-8159"
# Frame offsets (Ethernet + IPv4 + UDP); inbound frames have the IPv6
# header (40 bytes) before the IPv4 one.
SADDR, DADDR, SPORT, DPORT = 26, 30, 34, 36
SPORT_IN, DPORT_IN = SPORT + 40, DPORT + 40
CE6 = "240b:10:abcd:ef00:6a:48ab:cd00:ef00"  # the CE's address (v6plus, legacy IID)
BR6 = "2001:db8:ffff::1"
# Inbound CE flows: inside ports 7920.. (in the port set, so both NATs keep
# them) times remote ports 1000..; ports only, so no checksum changes.
IN_PORTS = 10
IMIX = ((64, 7), (576, 4), (1474, 1))  # frame bytes, share (1474: a 1460-byte IPv4 packet)

CE_CFG = """role = "ce"
instance = "{tag}"
socket = "/run/mapgw/{tag}.sock"
bpffs = "{bpffs}"
state_dir = "{state}"
on_stop = "detach"
metrics = ""
[ce]
wan_interface = "{wan}"
lan_interface = "{lan}"
end_user_prefix = "240b:10:abcd:ef00::/56"
br_address = "2001:db8:ffff::1"
legacy_iid = true
max_sessions = {sessions}
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
ipv4_interface = "{v4if}"
ipv6_interface = "{v6if}"
[[br.domain]]
name = "bench"
br_address = "2001:db8:ffff::1"
rules = [{rules}]
"""

# The BR's rules: the v6plus domain (legacy IID) for the packet-rate runs;
# for the scale runs, 10.0.0.0/8 as one rule or as 65536 /24 rules, so the
# same 10 k CEs (10.x.y.18, PSID 0x34, port 1232) are reached either way.
V6PLUS_RULE = '{ rule = "ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4", legacy_iid = true }'
ONE_RULE = '"ipv6=2001:db8::/32,ipv4=10.0.0.0/8,ea=32"'


def many_rules(n):
    return ",\n".join('"ipv6=2001:db8:%x::/48,ipv4=10.%d.%d.0/24,ea=16"' % (i, i >> 8, i & 255)
                      for i in range(n))


def frame(src, dst, sport, dport, size=64, src_mac=MAC["g0"], dst_mac=MAC["d0"]):
    from scapy.all import IP, UDP, Ether, raw
    pkt = Ether(dst=dst_mac, src=src_mac) / IP(src=src, dst=dst, ttl=64) / UDP(sport=sport, dport=dport,
                                                                                    chksum=0)
    return raw(pkt / (b"x" * (size - len(pkt)))).hex()


def tunnelled(src6, dst6, src, dst, sport, dport, size=64):
    """An inbound frame: the @size-byte outbound frame's IPv4 packet in IPv6."""
    from scapy.all import IP, UDP, Ether, IPv6, raw
    inner = IP(src=src, dst=dst, ttl=64) / UDP(sport=sport, dport=dport, chksum=0)
    inner = inner / (b"x" * (size - 14 - len(inner)))
    pkt = Ether(dst=MAC["d0"], src=MAC["g0"]) / IPv6(src=src6, dst=dst6, hlim=64, nh=4) / inner
    return raw(pkt).hex()


def walk(offset, width, base, count, stride=1):
    """benchctl's --walk: OFFSETS:WIDTH:BASE:STRIDE:COUNT (big-endian field)."""
    return "%s:%d:%d:%d:%d" % (offset, width, base, stride, count)


def port_walks(offset, base):
    """@flows flows: the port at @offset counts up from @base."""
    return lambda flows: [walk(offset, 2, base, flows)]


def ipv4_int(a):
    b = [int(x) for x in a.split(".")]
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


class Contender:
    """One generator -> DUT -> sink topology."""

    def __init__(self, lab, name, index):
        self.lab, self.name = lab, name
        self.gen, self.dut, self.sink = (lab.ns("%s%d" % (r, index)) for r in ("g", "d", "s"))
        lab.link(self.gen, "g0", self.dut, "d0")
        lab.link(self.dut, "d1", self.sink, "s0")
        for ns, i in ((self.gen, "g0"), (self.dut, "d0"), (self.dut, "d1"), (self.sink, "s0")):
            lab.run(ns, "ip link set %s address %s" % (i, MAC[i]))
        self.pin = "%s/%s" % (lab.bpffs, name)
        lab.run(self.sink, [BENCHCTL, "attach", "bench_sink", "s0", "--pin", self.pin + "_sink"])
        self.socket = None
        self.prime = None

    def dut_run(self, cmd):
        self.lab.run(self.dut, cmd)

    def pin_napi(self, ns, ifname, cpu):
        """Run @ifname's receive work in its own kthread on @cpu."""
        self.lab.run(ns, "echo 1 > /sys/class/net/%s/threaded" % ifname)
        out = sh("ps -eo pid,comm", capture=True)
        for line in out.splitlines():
            pid, _, comm = line.strip().partition(" ")
            if comm.strip().startswith("napi/%s-" % ifname):
                # Every topology has its own d0: pin every such thread.
                sh(["taskset", "-pc", str(cpu), pid], capture=True)

    def pin_dut_napi(self):
        """The DUT's receive work on CPU 1, the generator on CPU 0. (The sink
        runs where the DUT sends from; a sink on CPU 0 starves the generator.)"""
        self.pin_napi(self.dut, "d0", 1)

    def start_mapgw(self, cfg, **fields):
        tag = self.lab.tag + self.name.replace("_", "")
        f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        f.write(cfg.format(tag=tag, bpffs=self.lab.bpffs, state=self.lab.state_dir, **fields))
        f.close()
        self.lab.spawn(self.dut, [MAPGW, "--config", f.name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.socket = "/run/mapgw/%s.sock" % tag
        wait_for(lambda: ctl(self.socket, "status")["attached"], timeout=120, what=self.name + " up")
        os.unlink(f.name)

    def counter(self, name):
        return ctl(self.socket, "stats")["counters"][name]["packets"]

    def sink_count(self):
        return int(sh([BENCHCTL, "count", self.pin + "_sink_count"], capture=True))

    def generate(self, ns, ifname, hexframe, packets, walks, start=0):
        """benchctl gen on @ifname in @ns (CPU 0); returns its JSON report.
        The generator it used (live frames, or the packet socket where the
        kernel refuses them) goes into GENERATORS for the report."""
        argv = [BENCHCTL, "gen", ifname, "--template", hexframe, "--packets", str(packets), "--cpu", "0",
                "--start", str(start)]
        for w in walks:
            argv += ["--walk", w]
        out = json.loads(self.lab.run(ns, argv, capture=True, timeout=600))
        GENERATORS.add(out["generator"])
        return out

    def send(self, packets, hexframe=None, walks=(), start=0):
        """Offer @packets; returns (delivered, seconds of generation)."""
        before = self.sink_count()
        out = self.generate(self.gen, "g0", hexframe or self.frame, packets, walks, start)
        time.sleep(0.2)  # let the DUT drain
        return self.sink_count() - before, out["seconds"]

    def attach_wan_sink(self):
        """Inbound topologies: what the DUT sends back towards the
        generator (the priming packets, encapsulated) is dropped at g0."""
        self.lab.run(self.gen, [BENCHCTL, "attach", "bench_sink", "g0", "--pin", self.pin + "_gsink"])

    def send_from_sink(self, hexframe, walks, packets):
        """The inbound CE contenders' outbound packets, from the LAN side."""
        self.generate(self.sink, "s0", hexframe, packets, walks)
        time.sleep(0.1)

    def ready(self, flows):
        """Whatever state the next measurement of @flows needs: NAT
        mappings for the inbound CE contenders (sent twice: the first pass
        makes them, the second finds them)."""
        if self.prime:
            for _ in range(2):
                self.prime(flows)

    def send_flows(self, packets, flows, hexframe=None):
        """@packets of the frame (or @hexframe) over @flows flows, with the
        state they need ready; returns (delivered, seconds of generation)."""
        self.ready(flows)
        return self.send(packets, hexframe=hexframe, walks=self.flow_walks(flows))

    def pps(self, packets, **kw):
        delivered, seconds = self.send(packets, **kw)
        return delivered / seconds


def ce_addressing(c, wan="d1", lan="d0"):
    """LAN 192.168.1.0/24, the WAN with the next hop's neighbour entry (the
    sink outbound, the generator inbound)."""
    peer = MAC["s0"] if wan == "d1" else MAC["g0"]
    c.dut_run("ip addr add 192.168.1.1/24 dev {lan} && ip -6 addr add 2001:db8:c0::2/64 dev {wan} nodad && "
              "ip -6 neigh add 2001:db8:c0::1 lladdr {peer} dev {wan} nud permanent && "
              "ip -6 route add default via 2001:db8:c0::1".format(lan=lan, wan=wan, peer=peer))
    if lan == "d1":
        c.dut_run("ip neigh add 192.168.1.10 lladdr %s dev d1 nud permanent" % MAC["s0"])


def br_addressing(c, v4="d0", v6="d1"):
    """The IPv4 side; the BR address and the CEs' routes on the IPv6 side."""
    peer = MAC["s0"] if v6 == "d1" else MAC["g0"]
    c.dut_run("ip addr add 203.0.113.1/24 dev {v4} && ip -6 addr add 2001:db8:b0::2/64 dev {v6} nodad && "
              "ip -6 addr add {br}/128 dev {v6} nodad && "
              "ip -6 neigh add 2001:db8:b0::1 lladdr {peer} dev {v6} nud permanent && "
              "ip -6 route add 240b::/16 via 2001:db8:b0::1 && "
              "ip -6 route add 2001:db8::/32 via 2001:db8:b0::1".format(v4=v4, v6=v6, br=BR6, peer=peer))
    if v4 == "d1":
        c.dut_run("ip neigh add 203.0.113.2 lladdr %s dev d1 nud permanent" % MAC["s0"])


def kernel_forwarding(c, *ifnames):
    """The kernel forwards what XDP passes up (bench_pass lets a veth take
    XDP_TX frames from its peer)."""
    for i in ifnames or ("d0",):
        c.dut_run([BENCHCTL, "attach", "bench_pass", i, "--pin", "%s_pass_%s" % (c.pin, i)])
    c.dut_run("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 "
              "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0")


def kernel_snat(c, wan):
    """nftables SNAT into 240 ports, lwt-bpf encapsulation to the BR."""
    c.dut_run("ip -6 addr add %s/128 dev %s nodad && "
              "nft add table ip nat && "
              "nft add chain ip nat post '{ type nat hook postrouting priority 100; }' && "
              "nft add rule ip nat post ip saddr 192.168.1.0/24 meta l4proto udp snat to %s:%s && "
              "ip route add default encap bpf xmit obj %s sec lwt_xmit dev %s"
              % (CE6, wan, PUB, KERNEL_SNAT_PORTS, LWT_OBJ["ce"], wan))


def tc_decap(c, ifname):
    c.dut_run("tc qdisc add dev %s clsact && tc filter add dev %s ingress bpf direct-action obj %s sec tc"
              % (ifname, ifname, TC_DECAP_OBJ))


def bare_xdp(c, prog):
    """A bench program from d0 to d1, MACs as a router would write them."""
    c.dut_run([BENCHCTL, "attach", prog, "d0", "--pin", c.pin + "_fwd", "--out", "d1",
               "--dmac", MAC["s0"], "--smac", MAC["d1"]])


def build(lab, name, index):
    c = Contender(lab, name, index)
    if name.endswith("_in"):
        build_inbound(c, name)
        c.pin_dut_napi()
        return c
    ce_frame = lambda size=64: frame("192.168.1.10", "203.0.113.2", 20000, 53, size)
    br_frame = lambda size=64: frame("203.0.113.2", PUB, 53, 7920, size)
    if name in BARE_OUTBOUND:
        bare_xdp(c, BARE_OUTBOUND[name])
        c.make_frame, c.flow_walks = ce_frame, port_walks(SPORT, 20000)
    elif name in ("ce", "ce_1k", "ce_10k", "ce_1m", "ce_new"):
        ce_addressing(c)
        c.start_mapgw(CE_CFG, wan="d1", lan="d0",
                      sessions={"ce_1m": 1_250_000, "ce_new": 2_500_000}.get(name, 65536))
        c.make_frame, c.flow_walks = ce_frame, port_walks(SPORT, 20000)
    elif name == "kernel_ce":
        ce_addressing(c)
        kernel_forwarding(c)
        kernel_snat(c, "d1")
        c.make_frame, c.flow_walks = ce_frame, port_walks(SPORT, 20000)
    elif name == "br":
        br_addressing(c)
        c.start_mapgw(BR_CFG, rules=V6PLUS_RULE, v4if="d0", v6if="d1")
        c.make_frame, c.flow_walks = br_frame, port_walks(DPORT, 7920)
    elif name == "kernel_br":
        br_addressing(c)
        kernel_forwarding(c)
        c.dut_run("ip route add 106.72.0.0/15 encap bpf xmit obj %s sec lwt_xmit dev d1" % LWT_OBJ["br"])
        c.make_frame, c.flow_walks = br_frame, port_walks(DPORT, 7920)
    elif name in ("br_1rule", "br_64k"):
        br_addressing(c)
        c.start_mapgw(BR_CFG, rules=ONE_RULE if name == "br_1rule" else many_rules(65536), v4if="d0", v6if="d1")
        c.make_frame = lambda size=64: frame("203.0.113.2", "10.0.0.18", 53, 1232, size)
    else:
        raise ValueError(name)
    c.frame = c.make_frame()
    c.pin_dut_napi()
    return c


BARE_OUTBOUND = {"xdp_forward": "bench_fwd", "xdp_encap": "bench_encap", "xdp_natencap": "bench_natencap"}
BARE_INBOUND = {"xdp_forward_in": "bench_fwd", "xdp_decap_in": "bench_decap", "xdp_natdecap_in": "bench_natdecap"}


def build_inbound(c, name):
    """The DUT's IPv6 side is d0 (the generator's), its IPv4 side d1."""
    ce_in = lambda size=64: tunnelled(BR6, CE6, "8.0.0.1", PUB, 1000, 7920, size)
    if name in BARE_INBOUND:
        bare_xdp(c, BARE_INBOUND[name])
        c.make_frame = ce_in
    elif name == "ce_in":
        ce_addressing(c, wan="d0", lan="d1")
        c.start_mapgw(CE_CFG, wan="d0", lan="d1", sessions=65536)
        c.make_frame = ce_in
    elif name == "kernel_ce_in":
        ce_addressing(c, wan="d0", lan="d1")
        kernel_forwarding(c, "d0", "d1")
        kernel_snat(c, "d0")
        tc_decap(c, "d0")
        c.make_frame = ce_in
    elif name in ("br_in", "br_spread_in"):
        br_addressing(c, v4="d1", v6="d0")
        cfg = BR_CFG if name == "br_in" else BR_CFG.replace("[br]\n", '[br]\nspread_cpus = "all"\n')
        c.start_mapgw(cfg, rules=V6PLUS_RULE, v4if="d1", v6if="d0")
        c.make_frame = lambda size=64: tunnelled(CE6, BR6, PUB, "203.0.113.2", 7920, 1000, size)
    elif name == "kernel_br_in":
        br_addressing(c, v4="d1", v6="d0")
        kernel_forwarding(c, "d0")
        tc_decap(c, "d0")
        c.make_frame = lambda size=64: tunnelled(CE6, BR6, PUB, "203.0.113.2", 7920, 1000, size)
    else:
        raise ValueError(name)
    c.frame = c.make_frame()
    if name.startswith("br") or name.startswith("kernel_br"):
        c.flow_walks = port_walks(DPORT_IN, 1000)
    else:
        # Inside port (our external port) fastest, remote port slower.
        c.flow_walks = lambda flows: [walk(DPORT_IN, 2, 7920, min(flows, IN_PORTS)),
                                      walk(SPORT_IN, 2, 1000, max(1, flows // IN_PORTS))]
    if name in ("ce_in", "kernel_ce_in"):
        c.attach_wan_sink()
        c.prime = lambda flows: c.send_from_sink(
            frame("192.168.1.10", "8.0.0.1", 7920, 1000, src_mac=MAC["s0"], dst_mac=MAC["d1"]),
            [walk(SPORT, 2, 7920, min(flows, IN_PORTS)), walk(DPORT, 2, 1000, max(1, flows // IN_PORTS))],
            min(flows, IN_PORTS) * max(1, flows // IN_PORTS))


def per_round_ratio(a, b):
    ratios = [x / y for x, y in zip(a, b) if y > 0]
    return round(statistics.median(ratios), 3) if ratios else None


def summary(values):
    return {"median_mpps": round(statistics.median(values) / 1e6, 3),
            "min_mpps": round(min(values) / 1e6, 3), "max_mpps": round(max(values) / 1e6, 3)}


DIRECTIONS = {"out": ["xdp_forward", "xdp_encap", "ce", "br", "kernel_ce", "kernel_br"],
              "in": ["xdp_forward_in", "xdp_decap_in", "xdp_natdecap_in", "ce_in", "br_in", "kernel_ce_in",
                     "kernel_br_in"]}
BARE_TUNNEL = {"out": "xdp_encap", "in": "xdp_decap_in"}  # by direction
GENERATORS = set()  # benchctl gen's generators used in this run (its "generator" field)


def interleaved_rates(cs, rounds, packets, flows_list, log, delivered=None):
    """Each contender of @cs in turn, @rounds times per flow count after a
    warm-up: {"<name>_f<flows>": [packets per second of each round]}. With
    @delivered, the share of the offered packets that arrived goes there
    per round under the same keys."""
    results = {}
    for flows in flows_list:
        for c in cs.values():  # warm-up: NAT sessions, neighbours, caches
            c.send_flows(200_000, flows)
        for r in range(rounds):
            for n, c in cs.items():
                d, secs = c.send_flows(packets, flows)
                results.setdefault("%s_f%d" % (n, flows), []).append(d / secs)
                if delivered is not None:
                    delivered.setdefault("%s_f%d" % (n, flows), []).append(d / packets)
                log("round %d %4d flows %-14s %6.3f Mpps (%.0f %% of %.2f offered)" % (
                    r + 1, flows, n, d / secs / 1e6, 100.0 * d / packets, packets / secs / 1e6))
    return results


def packet_rates(lab, rounds, packets, direction="out", flows_list=(1, 200), log=print):
    """The main comparison in one @direction: 64-byte frames (inbound: the
    same packets in their 40-byte IPv6 header) and an IMIX-like mix, every
    contender per round."""
    names = DIRECTIONS[direction]
    sfx = "_in" if direction == "in" else ""
    cs = {n: build(lab, n, (30 if sfx else 0) + i) for i, n in enumerate(names)}
    # Rates are the DUT's only while it drops some of what the generator
    # offers: the share delivered is kept per round to show it.
    shares = {}
    results = interleaved_rates(cs, rounds, packets, flows_list, log, shares)
    # IMIX-like: the sizes in turn, 7:4:1, 200 flows; one rate per round.
    for r in range(rounds):
        for n in names:
            delivered = seconds = offered = 0
            for size, share in IMIX:
                offered += packets * share // 12
                d, secs = cs[n].send_flows(packets * share // 12, 200, hexframe=cs[n].make_frame(size))
                delivered += d
                seconds += secs
            results.setdefault("%s_imix" % n, []).append(delivered / seconds)
            shares.setdefault("%s_imix" % n, []).append(delivered / offered)
            log("round %d imix       %-14s %6.3f Mpps (%.0f %% of the offered)" % (
                r + 1, n, delivered / seconds / 1e6, 100.0 * delivered / offered))
    out = {k: summary(v) for k, v in results.items()}
    out["delivered_share"] = {k: round(statistics.median(v), 3) for k, v in shares.items()}
    for tag in ["f%d" % f for f in flows_list] + ["imix"]:
        rate = lambda n: results["%s%s_%s" % (n, sfx, tag)]
        for who in ("ce", "br"):
            kernel = "kernel_" + who
            out.setdefault("%s%s_vs_kernel" % (who, sfx), {})[tag] = per_round_ratio(rate(who), rate(kernel))
            out.setdefault("%s%s_vs_xdp_forward" % (who, sfx), {})[tag] = \
                per_round_ratio(rate(who), rate("xdp_forward"))
            # The most any XDP data plane could show against this kernel
            # path here: bare forward itself, which does nothing else; and
            # bare encapsulation (decapsulation), which any tunnel endpoint
            # does at least.
            out.setdefault("xdp_forward%s_vs_%s" % (sfx, kernel), {})[tag] = \
                per_round_ratio(rate("xdp_forward"), rate(kernel))
            bare = BARE_TUNNEL[direction]
            out.setdefault("%s_vs_%s" % (bare, kernel), {})[tag] = \
                per_round_ratio(results["%s_%s" % (bare, tag)], rate(kernel))
            out.setdefault("%s%s_vs_%s" % (who, sfx, bare.replace("_in", "")), {})[tag] = \
                per_round_ratio(rate(who), results["%s_%s" % (bare, tag)])
        if direction == "in":
            # The NAT44 CE's own ceiling: decapsulation plus the least
            # reverse NAT, against the kernel; and the CE against it.
            nat = results["xdp_natdecap_in_%s" % tag]
            out.setdefault("xdp_natdecap_in_vs_kernel_ce", {})[tag] = per_round_ratio(nat, rate("kernel_ce"))
            out.setdefault("ce_in_vs_xdp_natdecap", {})[tag] = per_round_ratio(rate("ce"), nat)
    return out


def spreading(lab, rounds, packets, log=print):
    """The BR's inbound with and without receive spreading (spread_cpus =
    "all"), one CE, 1 and 200 flows, rounds interleaved. On this 2-CPU
    machine the CPU spreading adds is the generator's (CPU 0), so this shows
    what the hop costs and what a busy second CPU gives, not what idle cores
    would."""
    cs = {n: build(lab, n, 60 + i) for i, n in enumerate(["br_in", "br_spread_in"])}
    results = interleaved_rates(cs, rounds, packets, (1, 200), log)
    out = {k: summary(v) for k, v in results.items()}
    for flows in (1, 200):
        out["spread_vs_off_f%d" % flows] = per_round_ratio(results["br_spread_in_f%d" % flows],
                                                           results["br_in_f%d" % flows])
    handoff = cs["br_spread_in"].counter("spread_handoff")
    out["handoffs"] = handoff
    out["queue_full_drops"] = cs["br_spread_in"].counter("drop_spread_queue_full")
    if not handoff:
        raise RuntimeError("spreading on, yet no packet was handed to another CPU")
    return out


def scale(lab, rounds, packets, log=print):
    """1 k vs 1 M sessions (CE) and 1 vs 65536 rules (BR), 10 k active flows;
    and 1 M uniformly active flows. The least NAT44 + encapsulation
    (xdp_natencap) walks the CE's 1 k and 10 k flows too: what 10 k active
    flows cost any data plane with a lookup per packet on this machine."""
    cs = {n: build(lab, n, 10 + i) for i, n in
          enumerate(["ce_1k", "ce_10k", "ce_1m", "br_1rule", "br_64k", "xdp_natencap"])}
    # CE sessions: one inside endpoint to remotes 8.0.x.y (slow walk) port
    # 1000 + i (fast walk), made by a first pass of the generator.
    ce_sessions = lambda ports, hosts: [walk(DPORT, 2, 1000, ports), walk(DADDR, 4, ipv4_int("8.0.0.0"), hosts)]
    for name, (ports, hosts) in (("ce_1k", (10, 100)), ("ce_10k", (100, 100)), ("ce_1m", (1000, 1000))):
        c = cs[name]
        made = c.counter("nat_session_created")
        for _ in range(40):  # the DUT drops what it cannot take: offer until all exist
            c.send(ports * hosts * 2, walks=ce_sessions(ports, hosts))
            if c.counter("nat_session_created") - made >= ports * hosts:
                break
        log("%s: %d sessions" % (name, c.counter("nat_session_created") - made))
    # BR: CE i of the 10 k is 10.(6i >> 8).(6i & 255).18 in both rule sets.
    br_walk = [walk(DADDR + 1, 2, 0, 10_000, stride=6)]
    runs = {"ce_1k": ce_sessions(10, 100), "ce_10k": ce_sessions(100, 100), "ce_1m_10k": ce_sessions(100, 100),
            "ce_1m_1m": ce_sessions(1000, 1000), "br_1rule": br_walk, "br_64k": br_walk,
            "floor_1k": ce_sessions(10, 100), "floor_10k": ce_sessions(100, 100)}
    who = {"ce_1m_10k": "ce_1m", "ce_1m_1m": "ce_1m", "floor_1k": "xdp_natencap", "floor_10k": "xdp_natencap"}
    results = {}
    for r in range(rounds):
        # Every other round backwards: no run always follows the same one
        # (the 1 M-session CE's agent sweeps now and then, and a run's place
        # in a round moved its rate by a few percent in probes).
        for run in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            walks = runs[run]
            v = cs[who.get(run, run)].pps(packets, walks=walks)
            results.setdefault(run, []).append(v)
            log("round %d scale %-10s %6.3f Mpps" % (r + 1, run, v / 1e6))
    out = {k: summary(v) for k, v in results.items()}
    out["ce_1m_vs_1k"] = per_round_ratio(results["ce_1m_10k"], results["ce_1k"])
    # The table's size alone: 10 k active flows in a 10 k and a 1 M table.
    out["ce_1m_vs_10k"] = per_round_ratio(results["ce_1m_10k"], results["ce_10k"])
    # The other factor of ce_1m_vs_1k: 10 k active flows against 1 k, each
    # table holding only its active flows.
    out["ce_10k_vs_1k"] = per_round_ratio(results["ce_10k"], results["ce_1k"])
    # The same step for the least lookup-driven CE: the machine's share.
    out["floor_10k_vs_1k"] = per_round_ratio(results["floor_10k"], results["floor_1k"])
    # mapgw's step against the floor's, round by round: below 1, what mapgw
    # loses to ten times the active flows beyond what any per-flow lookup does.
    out["ce_10k_vs_1k_over_floor"] = per_round_ratio(
        [c / f for c, f in zip(results["ce_10k"], results["floor_10k"])],
        [c / f for c, f in zip(results["ce_1k"], results["floor_1k"])])
    out["ce_1m_uniform_vs_1k"] = per_round_ratio(results["ce_1m_1m"], results["ce_1k"])
    out["br_64k_vs_1rule"] = per_round_ratio(results["br_64k"], results["br_1rule"])
    return out


def new_flows(lab, rounds, log=print):
    """Every packet a flow never seen: sessions created per second, checked
    against the CE's own counter."""
    c = build(lab, "ce_new", 20)
    rates = []
    start = 0
    for r in range(rounds):
        made = c.counter("nat_session_created")
        # 60000 remote ports x 1000 remotes: a never-repeating walk.
        walks = [walk(DPORT, 2, 1000, 60000), walk(DADDR, 4, ipv4_int("9.0.0.0"), 1000)]
        delivered, seconds = c.send(400_000, walks=walks, start=start)
        start += 400_000
        created = c.counter("nat_session_created") - made
        if abs(created - delivered) > delivered * 0.01 + 10:
            raise RuntimeError("new flows: %d delivered but %d sessions made" % (delivered, created))
        rates.append(created / seconds)
        log("round %d new flows %8.0f /s" % (r + 1, created / seconds))
    return {"new_sessions_per_s": {"median": round(statistics.median(rates)), "min": round(min(rates)),
                                   "max": round(max(rates))}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--packets", type=int, default=4_000_000)
    ap.add_argument("--part", choices=["rates", "rates_in", "scale", "new_flows", "spread"], default="rates")
    args = ap.parse_args()
    with Lab("mgwbench") as lab:
        if args.part in ("rates", "rates_in"):
            out = packet_rates(lab, args.rounds, args.packets, "in" if args.part == "rates_in" else "out")
        elif args.part == "scale":
            out = scale(lab, args.rounds, args.packets)
        elif args.part == "spread":
            out = spreading(lab, args.rounds, args.packets)
        else:
            out = new_flows(lab, args.rounds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
