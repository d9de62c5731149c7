#!/usr/bin/python3
"""BR in a namespace lab, with real traffic.

  inet (203.0.113.2) --v4-- [br: mapgw] --v6-- ce side (scapy CEs + a TUN CE)

The CE side has no ip6tnl in this kernel: scapy plays several CEs of one
domain, and ce_tunnel.py gives CE A (192.0.2.18, PSID 0x34) a real kernel
stack for ping, TCP (iperf3) and UDP. Captures on both sides check the exact
outer and inner headers; spoofed packets must be dropped and counted.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bpf"))
from fixture_lib import spread_counts  # noqa: E402
from lab import MAPGW, MAPGWCTL, SYS_PYTHON, Lab, LabCase, ctl, require, wait_for  # noqa: E402
from scapy.all import ICMP, IP, UDP, Ether, ICMPv6PacketTooBig, IPv6, raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BR6, BR4, INET = "2001:db8:ffff::1", "203.0.113.1", "203.0.113.2"
CE_A, CE_B = "2001:db8:12:3400:0:c000:212:34", "2001:db8:12:3500:0:c000:212:35"
CE_LEGACY = "240b:10:abcd:ef00:6a:48ab:cd00:ef00"

CONFIG = """
role = "br"
instance = "{instance}"
socket = "{socket}"
xdp_mode = "native"
bpffs = "{bpffs}"
on_stop = "{on_stop}"
state_dir = "{state}"
[br]
ipv4_interface = "v4"
ipv6_interface = "v6"
{spread}[[br.domain]]
name = "rfc"
br_address = "{br6}"
rules = ["ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16"]
[[br.domain]]
name = "v6plus"
br_address = "{br6}"
legacy_iid = true
rules = ["ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4"]
"""


def br_config(lab, socket, on_stop, spread=False):
    """CONFIG for @lab's instance; @spread: receive spreading over every CPU."""
    return CONFIG.format(instance=lab.tag, socket=socket, br6=BR6, bpffs=lab.bpffs, on_stop=on_stop,
                         state=lab.state_dir, spread='spread_cpus = "all"\n' if spread else "")


def build_sides(cls, lab):
    """inet --v4-- br --v6-- ce, as cls.inet, cls.br, cls.ce; the IPv4 side addressed."""
    cls.inet, cls.br, cls.ce = lab.ns("inet"), lab.ns("br"), lab.ns("ce")
    lab.link(cls.inet, "inet0", cls.br, "v4")
    lab.link(cls.br, "v6", cls.ce, "up0")
    lab.attach_xdp_pass(cls.inet, "inet0")
    lab.run(cls.inet, "ip addr add %s/24 dev inet0 && ip route add default via %s" % (INET, BR4))
    lab.run(cls.br, "ip addr add %s/24 dev v4" % BR4)


def start_br(lab, ns, cfg_path, socket, what="mapgw up", log=subprocess.DEVNULL):
    """mapgw with @cfg_path in @ns, returned once its data plane is attached."""
    daemon = lab.spawn(ns, [MAPGW, "--config", cfg_path], stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: ctl(socket, "status")["attached"], timeout=20, what=what)
    return daemon


class BrLab(LabCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require(os.path.exists(MAPGW), "a built mapgw (scripts/build.sh)")
        require(os.path.exists("/dev/net/tun"), "TUN (/dev/net/tun)")
        cls.lab = Lab("mgwbr")
        lab = cls.lab
        try:
            build_sides(cls, lab)
            lab.attach_xdp_pass(cls.ce, "up0")
            lab.run(cls.br, "ip -6 addr add %s/64 dev v6 nodad" % BR6)
            lab.run(cls.br, "ip -6 route add 2001:db8::/32 via 2001:db8:ffff::2 dev v6")
            lab.run(cls.br, "ip -6 route add 240b::/16 via 2001:db8:ffff::2 dev v6")
            lab.run(cls.ce, "ip -6 addr add 2001:db8:ffff::2/64 dev up0 nodad")
            for a in (CE_A, CE_B, CE_LEGACY):
                lab.run(cls.ce, "ip -6 addr add %s/128 dev up0 nodad" % a)
            lab.run(cls.ce, "ip -6 route add default via %s dev up0" % BR6)
            # Without ip6tnl the CE-side kernel would answer our tunnel packets
            # with "parameter problem"; a real CE would not.
            lab.run(cls.ce, "nft add table ip6 lab && nft add chain ip6 lab out "
                            "'{ type filter hook output priority 0; }' && "
                            "nft add rule ip6 lab out icmpv6 type parameter-problem drop")
            # CE A with a kernel stack behind a userspace tunnel.
            cls.tunnel = lab.spawn(cls.ce, [SYS_PYTHON, os.path.join(HERE, "ce_tunnel.py"), "ce0",
                                            CE_A, BR6, "600"], stdout=subprocess.PIPE, text=True)
            assert cls.tunnel.stdout.readline().strip() == "ready"
            lab.run(cls.ce, "ip link set ce0 mtu 1460 up && ip addr add 192.0.2.18/32 dev ce0 && "
                            "ip route add 203.0.113.0/24 dev ce0 src 192.0.2.18")
            # No NAT on this CE: its own connections must come from its port set
            # (PSID 0x34 at a = 6: 1232-1235, 2256-2259, ...).
            lab.run(cls.ce, "sysctl -qw net.ipv4.ip_local_port_range='1232 1235'")
            cls.instance = lab.tag
            cls.socket = "/run/mapgw/%s.sock" % lab.tag
            cls.cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
            cls.cfg.write(br_config(lab, cls.socket, "keep"))
            cls.cfg.close()
            cls.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
            cls.daemon = start_br(lab, cls.br, cls.cfg.name, cls.socket, log=cls.log)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.teardown()
        for f in ("cfg", "log"):
            if hasattr(cls, f):
                os.unlink(getattr(cls, f).name)

    def udp_send(self, ns, dst, port, payload=b"hello", size=None, df=None):
        code = ("import socket;s=socket.socket(2,2);"
                + ("s.setsockopt(0,10,%d);" % (2 if df else 0) if df is not None else "")
                + "s.sendto(%r,(%r,%d))" % (payload if size is None else b"x" * size, dst, port))
        self.lab.run(ns, [SYS_PYTHON, "-c", code])

    # --- IPv4 -> CE --------------------------------------------------------------------
    def test_udp_to_ce_exact_outer_and_inner_headers(self):
        before = self.counters()
        sn = self.sniff(self.ce, "up0", "ip6 and ip6[6] == 4 and dst host %s" % CE_A, 1)
        self.udp_send(self.inet, "192.0.2.18", 1232, b"to-ce")
        (f,) = self.sniffed(sn)
        o = f[IPv6]
        self.assertEqual((o.src, o.dst, o.nh, o.hlim), (BR6, CE_A, 4, 64))
        self.assertNotEqual(o.fl, 0)
        i = o[IP]
        self.assertEqual((i.src, i.dst, i.ttl, i[UDP].dport, bytes(i[UDP].payload)),
                         (INET, "192.0.2.18", 63, 1232, b"to-ce"))
        self.assertEqual(o.plen, i.len)
        d = self.delta(before, "br_encap", "tc_encap")
        self.assertEqual(d["br_encap"] + d["tc_encap"], 1)

    def test_legacy_iid_domain(self):
        sn = self.sniff(self.ce, "up0", "ip6 and ip6[6] == 4 and dst host %s" % CE_LEGACY, 1)
        self.udp_send(self.inet, "106.72.171.205", 7920)
        (f,) = self.sniffed(sn)
        self.assertEqual(f[IPv6].dst, CE_LEGACY)

    def test_port_outside_every_set_dropped(self):
        before = self.counters()
        self.udp_send(self.inet, "192.0.2.18", 80)
        wait_for(lambda: self.delta(before, "drop_excluded_port")["drop_excluded_port"] == 1,
                 what="drop_excluded_port")

    # --- CE -> IPv4 ----------------------------------------------------------------------
    def test_udp_from_ce_decapsulated_exactly(self):
        sn = self.sniff(self.inet, "inet0", "udp and dst port 5000", 1)
        self.send3(self.ce, IPv6(src=CE_A, dst=BR6) / IP(src="192.0.2.18", dst=INET, ttl=64) /
                   UDP(sport=1232, dport=5000) / b"from-ce")
        (f,) = self.sniffed(sn)
        i = f[IP]
        self.assertEqual((i.src, i.dst, i.ttl, i[UDP].sport, bytes(i[UDP].payload)),
                         ("192.0.2.18", INET, 63, 1232, b"from-ce"))

    def test_spoofed_sources_dropped_and_counted(self):
        before = self.counters()
        sn = self.sniff(self.inet, "inet0", "udp and dst port 5001", 10, timeout=2.5)
        bad = [IP(src="192.0.2.18", dst=INET) / UDP(sport=1236, dport=5001)] * 3      # PSID 0x35
        bad += [IP(src="192.0.2.19", dst=INET) / UDP(sport=1232, dport=5001)] * 2     # other IPv4
        bad += [IP(src="192.0.2.18", dst=INET) / UDP(sport=80, dport=5001)]           # A = 0
        self.send3(self.ce, *[IPv6(src=CE_A, dst=BR6) / p for p in bad])
        self.send3(self.ce, IPv6(src="2001:db8:12:3400::bad", dst=BR6) /
                   IP(src="192.0.2.18", dst=INET) / UDP(sport=1232, dport=5001))
        self.assertEqual(self.sniffed(sn), [], "a spoofed packet got through")
        d = self.delta(before, "drop_wrong_psid", "drop_addr_outside_rule", "drop_excluded_port",
                       "drop_not_ce_address")
        self.assertEqual(d, {"drop_wrong_psid": 3, "drop_addr_outside_rule": 2,
                             "drop_excluded_port": 1, "drop_not_ce_address": 1})

    def test_hairpin_ce_to_ce(self):
        before = self.counters()
        sn = self.sniff(self.ce, "up0", "ip6 and ip6[6] == 4 and dst host %s" % CE_B, 1)
        self.send3(self.ce, IPv6(src=CE_A, dst=BR6) / IP(src="192.0.2.18", dst="192.0.2.18", ttl=30) /
                   UDP(sport=1233, dport=1237) / b"hairpin")
        (f,) = self.sniffed(sn)
        self.assertEqual((f[IPv6].src, f[IPv6].dst), (BR6, CE_B))
        self.assertEqual((f[IP].ttl, f[UDP].dport, bytes(f[UDP].payload)), (29, 1237, b"hairpin"))
        self.assertEqual(self.delta(before, "br_hairpin")["br_hairpin"], 1)

    # --- real stacks through the BR ------------------------------------------------------------
    def test_ping_both_ways(self):
        ans = self.sr1(self.inet, IP(src=INET, dst="192.0.2.18") / ICMP(id=1232, seq=1) / b"ping-in")
        self.assertIsNotNone(ans, "no echo reply from the CE")
        self.assertEqual((ans.src, ans[ICMP].type, ans[ICMP].id), ("192.0.2.18", 0, 1232))
        ans = self.sr1(self.ce, IP(src="192.0.2.18", dst=INET) / ICMP(id=2256, seq=1) / b"ping-out")
        self.assertIsNotNone(ans, "no echo reply from the internet host")
        self.assertEqual((ans.src, ans[ICMP].type, ans[ICMP].id), (INET, 0, 2256))

    def test_tcp_transfer_both_directions(self):
        for server_ns, client_ns, server_ip, port, from_ce in (
                (self.inet, self.ce, INET, 5201, True),
                (self.ce, self.inet, "192.0.2.18", 2257, False)):
            srv = self.lab.spawn(server_ns, ["iperf3", "-s", "-1", "-p", str(port), "-B", server_ip],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            argv = ["iperf3", "-c", server_ip, "-p", str(port), "-t", "2", "-J"]
            if from_ce:
                argv += ["-B", "192.0.2.18"]
            out = self.lab.run(client_ns, argv, capture=True, timeout=30)
            res = json.loads(out)
            self.assertNotIn("error", res, res.get("error"))
            got = res["end"]["sum_received"]["bytes"]
            self.assertGreater(got, 1_000_000, "TCP moved only %d bytes" % got)
            self.lab.stop(srv)

    # --- slow path: what XDP hands to the kernel --------------------------------------------------
    def test_df_clear_over_mtu_fragmented_to_same_ce(self):
        before = self.counters()
        sn = self.sniff(self.ce, "up0", "ip6 and ip6[6] == 4 and dst host %s" % CE_A, 2)
        self.udp_send(self.inet, "192.0.2.18", 1232, size=1472, df=False)  # 1500-byte IPv4
        frames = self.sniffed(sn)
        self.assertEqual(len(frames), 2)
        self.assertTrue(all(f[IPv6].dst == CE_A and len(raw(f[IPv6])) <= 1500 for f in frames))
        d = self.delta(before, "punt_frag_needed", "tc_encap")
        self.assertEqual(d, {"punt_frag_needed": 1, "tc_encap": 2})

    def test_df_set_over_mtu_gets_frag_needed_with_tunnel_mtu(self):
        ans = self.sr1(self.inet, IP(src=INET, dst="192.0.2.18", flags="DF") / UDP(sport=5, dport=1232) /
                       (b"d" * 1472))
        self.assertIsNotNone(ans)
        self.assertEqual((ans.src, ans[ICMP].type, ans[ICMP].code, ans[ICMP].nexthopmtu),
                         (BR4, 3, 4, 1460))

    def test_ttl_1_gets_time_exceeded(self):
        ans = self.sr1(self.inet, IP(src=INET, dst="192.0.2.18", ttl=1) / UDP(sport=5, dport=1232))
        self.assertIsNotNone(ans)
        self.assertEqual((ans.src, ans[ICMP].type), (BR4, 11))

    def route_epoch(self):
        return ctl(self.socket, "status")["route_cache"]["epoch"]

    def wait_route_cache_moved(self, since):
        """The agent has heard netlink's news and moved the cache's epoch."""
        wait_for(lambda: self.route_epoch() != since, timeout=5, what="route cache invalidated")

    def test_next_hop_mac_change_is_followed_at_once(self):
        # Well inside the cache's 1 s lifetime: only the agent's invalidation
        # on netlink news can make the new MAC appear this soon.
        new_mac = "02:00:00:00:99:02"
        old_mac = self.lab.run(self.ce, "cat /sys/class/net/up0/address", capture=True).strip()
        self.udp_send(self.inet, "192.0.2.18", 1232, b"warm")  # fill the cache
        epoch = self.route_epoch()
        try:
            self.lab.run(self.ce, "ip link set up0 address %s" % new_mac)
            self.lab.run(self.br, "ip -6 neigh replace 2001:db8:ffff::2 lladdr %s dev v6" % new_mac)
            self.wait_route_cache_moved(epoch)
            sn = self.sniff(self.ce, "up0", "ip6 and ip6[6] == 4 and dst host %s" % CE_A, 1)
            self.udp_send(self.inet, "192.0.2.18", 1232, b"new-mac")
            (f,) = self.sniffed(sn)
            self.assertEqual((f[Ether].dst, bytes(f[UDP].payload)), (new_mac, b"new-mac"))
        finally:
            self.lab.run(self.ce, "ip link set up0 address %s" % old_mac)
            self.lab.run(self.br, "ip -6 neigh del 2001:db8:ffff::2 dev v6", check=False)

    def test_unresolved_neighbour_goes_through_slow_path(self):
        epoch = self.route_epoch()
        self.lab.run(self.br, "ip -6 neigh flush dev v6")
        self.wait_route_cache_moved(epoch)
        before = self.counters()
        sn = self.sniff(self.ce, "up0", "ip6 and ip6[6] == 4 and dst host %s" % CE_A, 1)
        self.udp_send(self.inet, "192.0.2.18", 1232, b"no-neigh")
        (f,) = self.sniffed(sn)
        self.assertEqual(bytes(f[UDP].payload), b"no-neigh")
        d = self.delta(before, "punt_no_neigh", "tc_encap")
        self.assertEqual(d, {"punt_no_neigh": 1, "tc_encap": 1})

    def test_decap_slow_path_unresolved_ipv4_neighbour(self):
        self.lab.run(self.br, "ip neigh flush dev v4")
        before = self.counters()
        sn = self.sniff(self.inet, "inet0", "udp and dst port 5002", 1)
        self.send3(self.ce, IPv6(src=CE_A, dst=BR6) / IP(src="192.0.2.18", dst=INET, ttl=64) /
                   UDP(sport=1232, dport=5002) / b"slow-decap")
        (f,) = self.sniffed(sn)
        self.assertEqual((f[IP].src, f[IP].ttl, bytes(f[UDP].payload)), ("192.0.2.18", 63, b"slow-decap"))
        self.assertEqual(self.delta(before, "punt_no_neigh", "tc_decap"),
                         {"punt_no_neigh": 1, "tc_decap": 1})

    def test_ttl_1_from_ce_gets_time_exceeded_through_the_tunnel(self):
        before = self.counters()
        sn = self.sniff(self.ce, "up0", "ip6 and ip6[6] == 4 and dst host %s" % CE_A, 1)
        self.send3(self.ce, IPv6(src=CE_A, dst=BR6) / IP(src="192.0.2.18", dst=INET, ttl=1) /
                   UDP(sport=1232, dport=5003))
        (f,) = self.sniffed(sn)
        self.assertEqual((f[IPv6].src, f[IP].src, f[IP].dst, f[ICMP].type), (BR6, BR4, "192.0.2.18", 11))
        d = self.delta(before, "punt_ttl", "tc_decap", "tc_encap")
        self.assertEqual(d, {"punt_ttl": 1, "tc_decap": 1, "tc_encap": 1})

    def test_packet_too_big_becomes_frag_needed(self):
        sent = IP(src=INET, dst="192.0.2.18", ttl=63) / UDP(sport=5, dport=1232) / (b"p" * 100)
        sn = self.sniff(self.inet, "inet0", "icmp and icmp[0] == 3", 1)
        # The quote is cut short, as a router's is; its header names the
        # whole 1440-byte packet that did not fit.
        self.send3(self.ce, IPv6(src="2001:db8:ffff::2", dst=BR6) / ICMPv6PacketTooBig(mtu=1300) /
                   IPv6(src=BR6, dst=CE_A, nh=4, plen=1400) / sent)
        (f,) = self.sniffed(sn)
        self.assertEqual((f[IP].src, f[IP].dst, f[ICMP].code, f[ICMP].nexthopmtu),
                         (BR4, INET, 4, 1260))

    # --- operator view -------------------------------------------------------------------------
    def test_mapgwctl_views(self):
        st = ctl(self.socket, "status")
        self.assertEqual((st["role"], st["rule_count"], st["interfaces"]["ipv4"]), ("br", 2, "v4"))
        rules = ctl(self.socket, "rules")["rules"]
        self.assertEqual(sorted(r["ipv4"] for r in rules), ["106.72.0.0/15", "192.0.2.0/24"])
        self.assertTrue([r for r in rules if r["ipv4"] == "106.72.0.0/15"][0]["legacy_iid"])
        self.assertIn("drop_wrong_psid", ctl(self.socket, "stats")["counters"])
        routes = self.lab.run(self.br, "ip route show proto 109", capture=True)
        self.assertIn("192.0.2.0/24 dev mapgw0", routes)


class BrSpreading(LabCase, unittest.TestCase):
    """spread_cpus = "all": one CE's flows (same outer addresses, so one RSS
    queue on a real NIC) are decapsulated on the CPU their inner 5-tuple
    picks, whichever CPU received them."""

    FLOWS = 64

    @classmethod
    def setUpClass(cls):
        require(os.path.exists(MAPGW), "a built mapgw (scripts/build.sh)")
        require(os.cpu_count() >= 2, "two CPUs to spread over")
        cls.lab = Lab("mgwsp")
        lab = cls.lab
        try:
            build_sides(cls, lab)
            lab.run(cls.br, "ip -6 addr add %s/64 dev v6 nodad" % BR6)
            lab.run(cls.br, "ip neigh add %s lladdr $(ip netns exec %s cat /sys/class/net/inet0/address) "
                            "dev v4 nud permanent" % (INET, cls.inet))
            lab.run(cls.ce, "ip -6 addr add 2001:db8:ffff::2/64 dev up0 nodad && "
                            "ip -6 addr add %s/128 dev up0 nodad && "
                            "ip -6 route add default via %s dev up0" % (CE_A, BR6))
            cls.socket = "/run/mapgw/%s.sock" % lab.tag
            cls.cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
            cls.cfg.write(br_config(lab, cls.socket, "detach", spread=True))
            cls.cfg.close()
            cls.daemon = start_br(lab, cls.br, cls.cfg.name, cls.socket)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.teardown()
        if hasattr(cls, "cfg"):
            os.unlink(cls.cfg.name)

    def decapsulated_per_cpu(self, action):
        return self.moved_per_cpu(self.lab.tag, "br_decap", action)

    def test_each_flow_is_decapsulated_on_its_cpu(self):
        status = ctl(self.socket, "status")
        cpus = status["spread_cpus"]
        self.assertEqual(cpus, list(range(os.cpu_count())))
        self.assertEqual(status["programs"]["xdp"]["v6"], "mapgw_br_v6fan")
        # CE A's port set (PSID 0x34, a = 6): A << 10 | 0x34 << 2 | j.
        inner = [IP(src="192.0.2.18", dst=INET, ttl=64) / UDP(sport=a << 10 | 0x34 << 2 | j, dport=5000) / b"s"
                 for a in range(1, 17) for j in range(4)]
        want = spread_counts(inner, cpus)
        self.assertGreater(len(want), 1, "all test flows hash to one CPU")
        counters = self.counters()

        def send():
            sn = self.sniff(self.inet, "inet0", "udp and dst port 5000", self.FLOWS)
            self.send3(self.ce, *[IPv6(src=CE_A, dst=BR6) / p for p in inner])
            got = sorted(f[UDP].sport for f in self.sniffed(sn))
            self.assertEqual(got, sorted(p[UDP].sport for p in inner), "flows lost or duplicated")
        self.assertEqual(self.decapsulated_per_cpu(send), want)
        d = self.delta(counters, "spread_handoff", "drop_spread_queue_full", "br_decap")
        self.assertGreater(d["spread_handoff"], 0, "nothing crossed CPUs")
        self.assertEqual(d["drop_spread_queue_full"], 0)
        self.assertEqual(d["br_decap"], self.FLOWS)

    def test_restarts_keep_forwarding_with_spreading_turned_on_and_off(self):
        """on_stop = "keep": the spreading data plane forwards with no
        daemon; a restart with spreading off swaps the plain program in and
        empties the cpumap; one with it on again brings both back."""
        inner = [IP(src="192.0.2.18", dst=INET, ttl=64) / UDP(sport=a << 10 | 0x34 << 2 | j, dport=5001) / b"r"
                 for a in range(17, 25) for j in range(4)]

        def all_arrive():
            sn = self.sniff(self.inet, "inet0", "udp and dst port 5001", len(inner))
            self.send3(self.ce, *[IPv6(src=CE_A, dst=BR6) / p for p in inner])
            self.assertEqual(sorted(f[UDP].sport for f in self.sniffed(sn)), sorted(p[UDP].sport for p in inner))

        def restart(spread):
            cls = type(self)
            with open(cls.cfg.name, "w") as f:
                f.write(br_config(self.lab, self.socket, "keep", spread))
            self.assertEqual(self.lab.stop(cls.daemon), 0)
            cls.daemon = start_br(self.lab, self.br, cls.cfg.name, self.socket, "mapgw restarted")

        restart(spread=True)  # now with on_stop = "keep"
        self.assertEqual(self.lab.stop(type(self).daemon), 0)
        self.assertEqual(self.decapsulated_per_cpu(all_arrive),  # no daemon
                         spread_counts(inner, list(range(os.cpu_count()))), "no longer spread without the daemon")
        type(self).daemon = start_br(self.lab, self.br, type(self).cfg.name, self.socket, "mapgw adopted")
        restart(spread=False)
        status = ctl(self.socket, "status")
        self.assertEqual(status["spread_cpus"], [])
        self.assertEqual(status["programs"]["xdp"]["v6"], "mapgw_br_v6")
        before = self.counters()
        all_arrive()
        self.assertEqual(self.delta(before, "spread_handoff")["spread_handoff"], 0)
        restart(spread=True)
        self.assertEqual(ctl(self.socket, "status")["programs"]["xdp"]["v6"], "mapgw_br_v6fan")
        before = self.counters()
        all_arrive()
        self.assertGreater(self.delta(before, "spread_handoff")["spread_handoff"], 0)

    def test_mapgwctl_status_shows_it(self):
        out = subprocess.run([MAPGWCTL, "--socket", self.socket, "status"], capture_output=True, text=True,
                             check=True).stdout
        self.assertIn("Spreading     by inner flow over CPUs " + ",".join(map(str, range(os.cpu_count()))), out)


class BrLifecycle(unittest.TestCase):
    def test_sigterm_detaches_and_cleans_up(self):
        with Lab("mgwbl") as lab:
            br, other = lab.ns("br"), lab.ns("peer")
            lab.link(br, "v4", other, "p4")
            lab.link(br, "v6", other, "p6")
            sock = "/run/mapgw/%s.sock" % lab.tag
            with tempfile.NamedTemporaryFile("w", suffix=".toml") as cfg:
                cfg.write(br_config(lab, sock, "detach"))
                cfg.flush()
                d = lab.spawn(br, [MAPGW, "--config", cfg.name],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                wait_for(lambda: ctl(sock, "status")["attached"], timeout=20, what="mapgw up")
                self.assertIn("xdp", lab.run(br, "ip link show v4", capture=True))
                self.assertEqual(lab.stop(d), 0)
            self.assertNotIn("xdp", lab.run(br, "ip link show v4", capture=True))
            self.assertEqual(lab.run(br, "ip route show proto 109", capture=True).strip(), "")
            self.assertNotEqual(lab.run(br, "ip link show mapgw0", check=False), 0)
            self.assertFalse(os.path.exists(sock))
            self.assertEqual(os.listdir(lab.bpffs + "/mapgw"), [], "pins left behind")

    def test_sigterm_with_keep_leaves_forwarding_and_restart_adopts(self):
        with Lab("mgwbk") as lab:
            br, other = lab.ns("br"), lab.ns("peer")
            lab.link(br, "v4", other, "p4")
            lab.link(br, "v6", other, "p6")
            sock = "/run/mapgw/%s.sock" % lab.tag
            with tempfile.NamedTemporaryFile("w", suffix=".toml") as cfg:
                cfg.write(br_config(lab, sock, "keep"))
                cfg.flush()
                d = lab.spawn(br, [MAPGW, "--config", cfg.name], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
                wait_for(lambda: ctl(sock, "status")["attached"], timeout=20, what="mapgw up")
                self.assertEqual(lab.stop(d), 0)
                # No daemon, still forwarding: programs, pins, routes, device stay.
                self.assertIn("xdp", lab.run(br, "ip link show v4", capture=True))
                self.assertIn("192.0.2.0/24 dev mapgw0", lab.run(br, "ip route show proto 109", capture=True))
                pins = sorted(os.listdir(lab.bpffs + "/mapgw/" + lab.tag))
                self.assertIn("mapgw_rules_v4", pins)
                self.assertIn("link_xdp_v4", pins)
                log = tempfile.TemporaryFile("w+")
                d = lab.spawn(br, [MAPGW, "--config", cfg.name], stdout=log, stderr=subprocess.STDOUT)
                try:
                    wait_for(lambda: d.poll() is None and ctl(sock, "status")["attached"], timeout=20,
                             what="mapgw adopted")
                except AssertionError:
                    log.seek(0)
                    raise AssertionError("restart failed; log:\n" + log.read()[-2000:]) from None
                self.assertEqual(ctl(sock, "status")["rule_count"], 2)
                # whois: the rules change by reload, the history keeps both.
                before = ctl(sock, "whois", "192.0.2.18:1232")
                self.assertEqual(before["ce_ipv6_address"], "2001:db8:12:3400:0:c000:212:34")
                t_before = "@%.3f" % time.time()
                time.sleep(0.01)
                with open(cfg.name) as f:
                    text = f.read()
                with open(cfg.name, "w") as f:
                    f.write(text.replace("ipv6=2001:db8::/40", "ipv6=2001:db8:100::/40"))
                self.assertTrue(ctl(sock, "reload")["reloaded"])
                # An invalid configuration is rejected precisely; nothing changes.
                good = open(cfg.name).read()
                with open(cfg.name, "w") as f:
                    f.write(good.replace("ea=16", "ea=99"))
                bad = subprocess.run([MAPGWCTL, "--socket", sock, "reload", "--json"],
                                     capture_output=True, text=True)
                self.assertEqual(bad.returncode, 1)
                self.assertIn("ea=99: the EA-bits length must be 0..48", json.loads(bad.stdout)["error"])
                self.assertEqual(sorted(r["ipv6"] for r in ctl(sock, "rules")["rules"]),
                                 ["2001:db8:100::/40", "240b:10::/31"])
                with open(cfg.name, "w") as f:
                    f.write(good)
                now = ctl(sock, "whois", "192.0.2.18:1232")
                self.assertEqual(now["ce_ipv6_address"], "2001:db8:112:3400:0:c000:212:34")
                self.assertEqual(lab.stop(d), 0)
                d = lab.spawn(br, [MAPGW, "--config", cfg.name], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
                wait_for(lambda: ctl(sock, "status")["attached"], timeout=20, what="mapgw again")
                then = ctl(sock, "whois", "192.0.2.18:1232", "--at", t_before)
                self.assertEqual(then["ce_ipv6_address"], "2001:db8:12:3400:0:c000:212:34",
                                 "the history must survive a restart")
                self.assertEqual(lab.stop(d), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
