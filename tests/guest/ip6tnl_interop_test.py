#!/usr/bin/python3
"""Interop with Linux's own IPv4-in-IPv6 tunnel, ip6tnl, which Linux-built
MAP-E CEs and BRs use. Runs inside the kernel-matrix guests only: this VM's
kernel has no ip6tnl (SPEC.md §7), and the test says so instead of skipping.

  BrFacesIp6tnlCe  a CE made of an ip6tnl device (no NAT: its sockets use
                   the port set) against our BR
  CeFacesIp6tnlBr  our CE against a BR made of an ip6tnl device

Each both with the kernel's default, `encaplimit 4` (a Destination Options
header with the Tunnel Encapsulation Limit option before the inner packet,
RFC 2473 §4.1.1), and with `encaplimit none`; UDP both ways, and nothing
counted as drop_ipv6_ext_header.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "netns"))
from lab import MAPGW, SYS_PYTHON, Lab, LabCase, ctl, require  # noqa: E402
from scapy.all import IP, UDP, IPv6  # noqa: E402

import br_lab_test as brl  # noqa: E402
from topology import INET, RFC, CeBrCase  # noqa: E402

INET_HOST = brl.INET

def require_ip6tnl():
    r = subprocess.run(["modprobe", "ip6_tunnel"], capture_output=True, text=True)
    require(r.returncode == 0, "ip6tnl (CONFIG_IPV6_TUNNEL; run inside the kernel-matrix guest: "
                               "tests/guest/kernel_matrix.sh)")


class BrFacesIp6tnlCe(LabCase, unittest.TestCase):
    CE_V4 = "192.0.2.18"  # PSID 0x34 of the RFC rule: ports 1232-1235, 2256-2259, ...

    @classmethod
    def setUpClass(cls):
        require(os.path.exists(MAPGW), "a built mapgw (scripts/build.sh)")
        require_ip6tnl()
        cls.lab = Lab("mgwt6")
        lab = cls.lab
        try:
            brl.build_sides(cls, lab)
            lab.attach_xdp_pass(cls.ce, "up0")
            lab.run(cls.br, "ip -6 addr add %s/64 dev v6 nodad" % brl.BR6)
            lab.run(cls.br, "ip -6 route add 2001:db8::/32 via 2001:db8:ffff::2 dev v6")
            lab.run(cls.ce, "ip -6 addr add 2001:db8:ffff::2/64 dev up0 nodad && "
                            "ip -6 addr add %s/128 dev up0 nodad && "
                            "ip -6 route add default via %s dev up0" % (brl.CE_A, brl.BR6))
            lab.run(cls.ce, "sysctl -qw net.ipv4.ip_local_port_range='1232 1235'")
            cls.socket = "/run/mapgw/%s.sock" % lab.tag
            cls.cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
            cls.cfg.write(brl.br_config(lab, cls.socket, "detach"))
            cls.cfg.close()
            cls.daemon = brl.start_br(lab, cls.br, cls.cfg.name, cls.socket)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.teardown()
        if hasattr(cls, "cfg"):
            os.unlink(cls.cfg.name)

    def tunnel(self, limit):
        self.lab.run(self.ce, "ip link del mape 2>/dev/null; "
                              "ip -6 tunnel add mape mode ipip6 local %s remote %s encaplimit %s && "
                              "ip link set mape up && ip addr add %s/32 dev mape && "
                              "ip route replace %s/32 dev mape src %s"
                     % (brl.CE_A, brl.BR6, limit, self.CE_V4, INET_HOST, self.CE_V4))

    def udp_send(self, ns, dst, port, payload):
        self.lab.run(ns, [SYS_PYTHON, "-c", "import socket;s=socket.socket(2,2);"
                          "s.sendto(%r,(%r,%d))" % (payload, dst, port)])

    def check_both_ways(self, limit):
        self.tunnel(limit)
        before = self.counters()
        sn = self.sniff(self.inet, "inet0", "udp and dst port 5000", 1)
        self.udp_send(self.ce, INET_HOST, 5000, b"ce-out")
        (f,) = self.sniffed(sn)
        self.assertEqual((f[IP].src, bytes(f[UDP].payload)), (self.CE_V4, b"ce-out"))
        self.assertIn(f[UDP].sport, range(1232, 1236))
        # Decapsulated once, by XDP or (the first packet, its IPv4
        # neighbour not yet resolved) by the TC slow path.
        d = self.delta(before, "br_decap", "tc_decap", "drop_ipv6_ext_header")
        self.assertEqual((d["br_decap"] + d["tc_decap"], d["drop_ipv6_ext_header"]), (1, 0), d)
        # Back: our BR's plain outer header, which ip6tnl takes either way.
        # (The CE's kernel answers it with a port unreachable: not counted.)
        sn = self.sniff(self.ce, "up0", "ip6 proto 4 and dst host %s" % brl.CE_A, 1)
        self.udp_send(self.inet, self.CE_V4, 1233, b"ce-in")
        (f,) = self.sniffed(sn)
        self.assertEqual((f[IPv6].nh, f[IP].dst, f[UDP].dport, bytes(f[UDP].payload)),
                         (4, self.CE_V4, 1233, b"ce-in"))

    def test_default_encaplimit(self):
        self.check_both_ways("4")

    def test_encaplimit_none(self):
        self.check_both_ways("none")


class CeFacesIp6tnlBr(CeBrCase, unittest.TestCase):
    """The CE-BR lab with the RFC shape; the BR daemon is stopped and an
    ip6tnl device to the CE's MAP address takes its place."""

    LAB_TAG = "mgwt4"

    @classmethod
    def topology_args(cls):
        # Detached on stop: the BR's XDP must not stay in front of ip6tnl.
        return (RFC,), {"br_extra": 'on_stop = "detach"'}

    @classmethod
    def setUpClass(cls):
        require_ip6tnl()
        super().setUpClass()
        t = cls.topo
        cls.lan, cls.ce, cls.br, cls.inet = t.lan, t.ce, t.br, t.inet
        st = ctl(cls.socket, "status")
        cls.ce6, cls.pub = st["ce_ipv6_address"], st["ipv4_address"]
        t.br_daemon.terminate()
        t.br_daemon.wait(timeout=30)
        cls.lab.run(cls.br, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 "
                            "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0")

    def tunnel(self, limit):
        self.lab.run(self.br, "ip link del mapbr 2>/dev/null; "
                              "ip -6 tunnel add mapbr mode ipip6 local %s remote %s encaplimit %s && "
                              "ip link set mapbr up && ip route replace %s/32 dev mapbr"
                     % (brl.BR6, self.ce6, limit, self.pub))

    def check_both_ways(self, limit):
        self.tunnel(limit)
        echo = self.traffic_bg(self.inet, "udp-echo", INET[0], 5000, 30)
        before = self.counters()
        out = self.traffic(self.lan, "udp-ask", "192.168.1.10", 40000, INET[0] + ":5000")
        self.lab.stop(echo)
        answers = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([a.get("from") for a in answers], [INET[0] + ":5000"])
        self.assertEqual(self.delta(before, "ce_in", "drop_ipv6_ext_header"),
                         {"ce_in": 1, "drop_ipv6_ext_header": 0})

    def test_default_encaplimit(self):
        self.check_both_ways("4")

    def test_encaplimit_none(self):
        self.check_both_ways("none")


if __name__ == "__main__":
    unittest.main(verbosity=2)
