#!/usr/bin/python3
"""CE and BR together in a namespace lab, with real traffic.

  lan (192.168.1.10/.11) -- [ce: mapgw] -- core (IPv6) -- [br: mapgw] -- inet (203.0.113.2-.4)

Run twice: with a v6plus-shaped rule (a=4, k=8, 240 ports, legacy IID) and
with the RFC 7597 Appendix A rule (a=6, k=8, 252 ports, RFC IID).
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bpf"))
from lab import SYS_PYTHON, ctl, require  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP  # noqa: E402
from fixture_lib import spread_counts  # noqa: E402

from topology import INET, RFC, V6PLUS, CeBrCase  # noqa: E402


class CeLabBase(CeBrCase):
    SHAPE = None  # set by the subclasses
    LAB_TAG = "mgwce"

    @classmethod
    def in_set(cls, port):
        return cls.SHAPE.in_set(port)

    @classmethod
    def topology_args(cls):
        return (cls.SHAPE,), {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls.topo
        cls.lan, cls.ce, cls.core, cls.br, cls.inet = t.lan, t.ce, t.core, t.br, t.inet
        cls.br_sock = t.br_sock
        s = cls.SHAPE
        cls.PUB, cls.LEGACY, cls.A, cls.K, cls.PSID = s.pub, s.legacy, s.a, s.k, s.psid
        cls.STATIC_PORT = s.static_port

    # ---------------------------------------------------------------------------------------------
    def test_status_shows_the_assigned_address_and_ports(self):
        st = ctl(self.socket, "status")
        self.assertEqual((st["role"], st["ipv4_address"], st["psid"]), ("ce", self.PUB, self.PSID))
        self.assertEqual(st["iid_layout"], "legacy" if self.LEGACY else "rfc7597")
        ports = ctl(self.socket, "ports")
        self.assertEqual(ports["port_count"], (2 ** self.A - 1) * 2 ** (16 - self.A - self.K))
        self.assertTrue(all(self.in_set(lo) and self.in_set(hi) for lo, hi in ports["port_ranges"]))
        static = [p for p in ports["in_use"] if p["static"]]
        self.assertEqual(static, [{"proto": "tcp", "port": self.STATIC_PORT,
                                   "inside": "192.168.1.10:8080", "static": True}])

    def test_plain_ipv4_from_the_wan_never_reaches_the_lan(self):
        """The attack run: an IPv4 frame sent to the CE's WAN MAC was routed
        into the LAN un-NATed. Only tunnel traffic may enter from the WAN;
        the programs stay when the daemon stops with on_stop = "keep"."""
        from scapy.all import Ether
        t = self.topo
        mac = self.lab.run(self.ce, "cat /sys/class/net/wan0/address", capture=True).strip()
        frame = Ether(dst=mac) / IP(src="203.0.113.99", dst="192.168.1.10") / UDP(sport=4444, dport=4444) / b"in"
        instance = self.lab.tag + "-ce"
        for daemon in ("running", "stopped (on_stop = keep)"):
            with self.subTest(daemon=daemon):
                before = sum(self.per_cpu_packets(instance, "drop_wan_plain_ipv4").values())
                sn = self.sniff(self.lan, "eth0", "udp and dst port 4444", 1, timeout=2)
                self.send2(self.core, "c0", frame, frame)
                self.assertEqual(self.sniffed(sn), [], "plain IPv4 from the WAN reached the LAN")
                after = sum(self.per_cpu_packets(instance, "drop_wan_plain_ipv4").values())
                self.assertEqual(after - before, 2)
            if daemon == "running":
                self.assertEqual(self.lab.stop(t.ce_daemon), 0)
        t.ce_daemon = t.start(t.ce, t.ce_cfg, t.ce_sock)

    def test_one_host_cannot_take_every_port_to_one_endpoint(self):
        """The attack run: one LAN host took all the 5-tuples to a remote
        endpoint with one datagram per port, and every other LAN host was
        locked out of it for the UDP timeout. With the default share (85 %
        of the set per host), the others still get through."""
        n = ctl(self.socket, "ports")["port_count"]
        limit = (n * 85 + 99) // 100
        before = self.counters()
        echo = self.traffic_bg(self.inet, "udp-echo", INET[2], 5099, 30)
        self.traffic(self.lan, "udp-fan", "192.168.1.10", 42000, n, INET[2] + ":5099")
        d = self.delta(before, "drop_nat_host_ports", "nat_binding_created", "nat_port_reused")
        # Its share of the UDP ports bound (earlier tests' bindings of this
        # host count too), then only ports bound already (shared by
        # 5-tuple) or a counted refusal.
        held = [p for p in ctl(self.socket, "ports")["in_use"]
                if p["proto"] == "udp" and p["inside"].startswith("192.168.1.10:") and not p["static"]]
        self.assertEqual(len(held), limit, d)
        self.assertGreater(d["drop_nat_host_ports"], 0, d)
        out = self.traffic(self.lan, "udp-ask", "192.168.1.11", 42500, INET[2] + ":5099")
        self.assertIn('"from": "%s:5099"' % INET[2], out, "the other LAN host is locked out")
        print("\nport share: host .10 sent from %d ports to one endpoint: it holds %d of the set "
              "(%d bound now, %d shared, %d refused); host .11 answered"
              % (n, len(held), d["nat_binding_created"], d["nat_port_reused"], d["drop_nat_host_ports"]),
              file=sys.stderr)
        self.lab.stop(echo)

    def test_ping_from_lan(self):
        out = self.lab.run(self.lan, "ping -c 3 -i 0.2 -W 2 203.0.113.2", capture=True)
        self.assertIn("3 received", out)

    def test_udp_both_ways_ports_in_set_and_eim(self):
        echo = [self.traffic_bg(self.inet, "udp-echo", a, 5000, 30) for a in INET[:2]]
        sn = self.sniff(self.inet, "eth0", "udp and dst port 5000 and src host %s" % self.PUB, 2)
        out = self.traffic(self.lan, "udp-ask", "192.168.1.10", 40000, INET[0] + ":5000", INET[1] + ":5000")
        answers = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([a.get("from") for a in answers], [INET[0] + ":5000", INET[1] + ":5000"])
        frames = self.sniffed(sn)
        sports = {f[UDP].sport for f in frames}
        self.assertEqual(len(sports), 1, "one inside socket must show one external port (EIM)")
        self.assertTrue(self.in_set(sports.pop()))
        for p in echo:
            self.lab.stop(p)

    def test_eif_lets_a_third_host_reach_an_open_mapping(self):
        echo = self.traffic_bg(self.inet, "udp-echo", INET[0], 5001, 30)
        sn = self.sniff(self.inet, "eth0", "udp and dst port 5001", 1)
        listener = self.lab.spawn(self.lan, [SYS_PYTHON, os.path.join(os.path.dirname(__file__), "traffic.py"),
                                             "udp-listen", "192.168.1.11", "40001", "8"],
                                  stdout=subprocess.PIPE, text=True)
        # The listener socket first talks to server A (opens the mapping) ...
        self.lab.run(self.lan, [SYS_PYTHON, "-c",
                                "import socket;s=socket.socket(2,2);s.setsockopt(1,2,1);"
                                "s.bind(('192.168.1.11',40001));s.sendto(b'open',('%s',5001))" % INET[0]])
        (f,) = self.sniffed(sn)
        ext = f[UDP].sport
        self.assertTrue(self.in_set(ext))
        # ... then a third host it never talked to sends to the external port.
        self.send3(self.inet, IP(src=INET[2], dst=self.PUB) / UDP(sport=6000, dport=ext) / b"from-third")
        got = json.loads(listener.communicate(timeout=20)[0].split("\n")[-2])
        self.lab.procs.remove(listener)
        self.assertEqual(got.get("data"), "from-third", got)
        self.lab.stop(echo)

    def test_tcp_transfer_and_static_napt(self):
        srv = self.lab.spawn(self.inet, ["iperf3", "-s", "-1", "-p", "5201", "-B", INET[0]],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        res = json.loads(self.lab.run(self.lan, ["iperf3", "-c", INET[0], "-p", "5201", "-t", "2", "-J"],
                                      capture=True, timeout=30))
        self.assertNotIn("error", res, res.get("error"))
        self.assertGreater(res["end"]["sum_received"]["bytes"], 1_000_000)
        self.lab.stop(srv)
        # Inbound through the static NAPT entry to a LAN server.
        srv = self.lab.spawn(self.lan, ["iperf3", "-s", "-1", "-p", "8080", "-B", "192.168.1.10"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        res = json.loads(self.lab.run(self.inet, ["iperf3", "-c", self.PUB, "-p", str(self.STATIC_PORT),
                                                  "-t", "2", "-J"], capture=True, timeout=30))
        self.assertNotIn("error", res, res.get("error"))
        self.assertGreater(res["end"]["sum_received"]["bytes"], 1_000_000)
        self.lab.stop(srv)

    def test_df_set_over_tunnel_mtu_gets_frag_needed(self):
        ans = self.sr1(self.lan, IP(src="192.168.1.10", dst=INET[0], flags="DF") /
                       UDP(sport=40050, dport=9) / (b"d" * 1472))
        self.assertIsNotNone(ans, "no ICMP from the CE")
        self.assertEqual((ans.src, ans[ICMP].type, ans[ICMP].code, ans[ICMP].nexthopmtu),
                         ("192.168.1.1", 3, 4, 1460))

    def test_df_clear_over_tunnel_mtu_arrives_whole(self):
        listener = self.traffic_bg(self.inet, "udp-listen", INET[0], 5003, 10)
        self.lab.run(self.lan, [SYS_PYTHON, "-c", "import socket;s=socket.socket(2,2);"
                                "s.setsockopt(0,10,0);s.sendto(b'z'*1472,('%s',5003))" % INET[0]])
        got = json.loads(listener.communicate(timeout=20)[0].strip().split("\n")[-1])
        self.lab.procs.remove(listener)
        self.assertEqual(len(got.get("data", "")), 1472, got)
        self.assertTrue(self.in_set(int(got["from"].split(":")[1])))

    def test_every_source_port_seen_outside_is_in_the_set(self):
        sn = self.sniff(self.inet, "eth0", "src host %s and (tcp or udp or icmp)" % self.PUB, 400, timeout=8)
        echo = self.traffic_bg(self.inet, "udp-echo", INET[1], 5002, 20)
        for i in range(100):  # 100 sockets from the kernel's ephemeral range
            self.lab.run(self.lan, [SYS_PYTHON, "-c", "import socket;s=socket.socket(2,2);"
                                    "s.sendto(b'x',('%s',5002))" % INET[1]])
        self.lab.run(self.lan, "ping -c 2 -i 0.2 -W 2 %s" % INET[1], check=False)
        frames = self.sniffed(sn)
        self.assertGreater(len(frames), 100)
        bad = [f.summary() for f in frames
               if (UDP in f and not self.in_set(f[UDP].sport)) or (TCP in f and not self.in_set(f[TCP].sport))
               or (ICMP in f and f[ICMP].type == 8 and not self.in_set(f[ICMP].id))]
        self.assertEqual(bad, [])
        self.lab.stop(echo)

    def test_a_thousand_concurrent_tcp_connections(self):
        endpoints = ["%s:%d" % (a, p) for a in INET for p in (7001, 7002)]  # 6 servers
        srv = self.traffic_bg(self.inet, "tcp-echo", 90, *endpoints)
        res = json.loads(self.traffic(self.lan, "tcp-many", 1000, 2, *endpoints, timeout=120))
        print("\n[%s] 1000 concurrent TCP connections through %d ports: %s" %
              (type(self).__name__, ctl(self.socket, "status")["port_count"], res), file=sys.stderr)
        self.assertEqual(res["echo_ok"], 1000, res)
        st = self.counters()
        self.assertGreater(st["nat_port_reused"], 0, "more sessions than ports need 5-tuple reuse")
        sessions = ctl(self.socket, "sessions")["sessions"]
        outside = {(s["outside"], s["remote"]) for s in sessions if s["proto"] == "tcp"}
        self.assertGreaterEqual(len(outside), 1000)
        self.assertTrue(all(self.in_set(int(o.split(":")[1])) for o, _ in outside))
        self.lab.stop(srv)


class Spreading(CeBrCase, unittest.TestCase):
    """[ce] spread_cpus = "all": everything from the BR carries the same outer
    addresses (one RSS queue on a real NIC); each inbound flow is translated
    on the CPU its inner 5-tuple picks."""

    FLOWS = 64

    LAB_TAG = "mgwcesp"

    @classmethod
    def topology_args(cls):
        require(os.cpu_count() >= 2, "two CPUs to spread over")
        return (V6PLUS,), {"ce_keys": 'spread_cpus = "all"'}

    def test_each_inbound_flow_is_translated_on_its_cpu(self):
        t = self.topo
        status = ctl(self.socket, "status")
        cpus = status["spread_cpus"]
        self.assertEqual(cpus, list(range(os.cpu_count())))
        self.assertEqual(status["programs"]["xdp"]["wan0"], "mapgw_ce_wanfan")
        echo = self.traffic_bg(t.inet, "udp-echo", INET[0], 5010, 30)
        counters = self.counters()

        def ask():
            sn = self.sniff(t.lan, "eth0", "udp and src port 5010", self.FLOWS)
            self.send3(t.lan, *[IP(src="192.168.1.10", dst=INET[0]) / UDP(sport=41000 + i, dport=5010) / b"q"
                                for i in range(self.FLOWS)])
            got = sorted(f[UDP].dport for f in self.sniffed(sn))
            self.assertEqual(got, list(range(41000, 41000 + self.FLOWS)), "answers lost or duplicated")
        moved = self.moved_per_cpu(self.lab.tag + "-ce", "ce_in", ask)
        sessions = [s for s in ctl(self.socket, "sessions")["sessions"]
                    if s["remote"] == INET[0] + ":5010"]
        self.assertEqual(len(sessions), self.FLOWS)
        answers = [IP(src=INET[0], dst=V6PLUS.pub) / UDP(sport=5010, dport=int(s["outside"].split(":")[1]))
                   for s in sessions]
        want = spread_counts(answers, cpus)
        self.assertGreater(len(want), 1, "all test flows hash to one CPU")
        self.assertEqual(moved, want)
        d = self.delta(counters, "spread_handoff", "drop_spread_queue_full")
        self.assertGreater(d["spread_handoff"], 0, "nothing crossed CPUs")
        self.assertEqual(d["drop_spread_queue_full"], 0)
        self.lab.stop(echo)


class V6plusShape(CeLabBase, unittest.TestCase):
    SHAPE = V6PLUS


class RfcShape(CeLabBase, unittest.TestCase):
    SHAPE = RFC


if __name__ == "__main__":
    unittest.main(verbosity=2)
