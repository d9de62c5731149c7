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
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import MAPGW, SYS_PYTHON, Lab, LabCase, ctl, require, wait_for  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP  # noqa: E402

BR6 = "2001:db8:ffff::1"
INET = ["203.0.113.2", "203.0.113.3", "203.0.113.4"]

CE_CONFIG = """
role = "ce"
instance = "{instance}"
socket = "{socket}"
[ce]
wan_interface = "wan0"
lan_interface = "lan0"
end_user_prefix = "{eup}"
br_address = "{br6}"
legacy_iid = {legacy}
rules = ["{rule}"]
filtering = "endpoint-independent"
[[ce.static_napt]]
protocol = "tcp"
external_port = {static_port}
internal = "192.168.1.10:8080"
"""

BR_CONFIG = """
role = "br"
instance = "{instance}"
socket = "{socket}"
[br]
ipv4_interface = "v4"
ipv6_interface = "v6"
[[br.domain]]
name = "lab"
br_address = "{br6}"
legacy_iid = {legacy}
rules = ["{rule}"]
"""


class CeLabBase(LabCase):
    # Set by the shape subclasses.
    RULE = EUP = PUB = None
    LEGACY = False
    A = K = PSID = None
    STATIC_PORT = None

    @classmethod
    def in_set(cls, port):
        m = 16 - cls.A - cls.K
        return (port >> (16 - cls.A)) != 0 and ((port >> m) & ((1 << cls.K) - 1)) == cls.PSID

    @classmethod
    def setUpClass(cls):
        require(os.path.exists(MAPGW), "a built mapgw (scripts/build.sh)")
        cls.lab = Lab("mgwce")
        lab = cls.lab
        cls.files = []
        try:
            cls.lan, cls.ce, cls.core = lab.ns("lan"), lab.ns("ce"), lab.ns("core")
            cls.br, cls.inet = lab.ns("br"), lab.ns("inet")
            lab.link(cls.lan, "eth0", cls.ce, "lan0")
            lab.link(cls.ce, "wan0", cls.core, "c0")
            lab.link(cls.core, "c1", cls.br, "v6")
            lab.link(cls.br, "v4", cls.inet, "eth0")
            for ns, ifname in ((cls.lan, "eth0"), (cls.core, "c0"), (cls.core, "c1"), (cls.inet, "eth0")):
                lab.attach_xdp_pass(ns, ifname)
            lab.run(cls.lan, "ip addr add 192.168.1.10/24 dev eth0 && ip addr add 192.168.1.11/24 dev eth0"
                             " && ip route add default via 192.168.1.1")
            lab.run(cls.ce, "ip addr add 192.168.1.1/24 dev lan0 && "
                            "ip -6 addr add 2001:db8:c0::2/64 dev wan0 nodad && "
                            "ip -6 route add default via 2001:db8:c0::1")
            lab.run(cls.core, "sysctl -qw net.ipv6.conf.all.forwarding=1 && "
                              "ip -6 addr add 2001:db8:c0::1/64 dev c0 nodad && "
                              "ip -6 addr add 2001:db8:b0::1/64 dev c1 nodad && "
                              "ip -6 route add %s via 2001:db8:c0::2 && "
                              "ip -6 route add %s/128 via 2001:db8:b0::2" % (cls.EUP, BR6))
            lab.run(cls.br, "ip -6 addr add 2001:db8:b0::2/64 dev v6 nodad && "
                            "ip -6 addr add %s/128 dev v6 nodad && "
                            "ip -6 route add %s via 2001:db8:b0::1 && "
                            "ip addr add 203.0.113.1/24 dev v4" % (BR6, cls.EUP))
            lab.run(cls.inet, " && ".join("ip addr add %s/24 dev eth0" % a for a in INET) +
                    " && ip route add default via 203.0.113.1")
            cls.br_sock = "/run/mapgw/%s-br.sock" % lab.tag
            cls.socket = "/run/mapgw/%s-ce.sock" % lab.tag
            legacy = "true" if cls.LEGACY else "false"
            cls.br_daemon = cls.start_daemon(cls.br, BR_CONFIG.format(
                instance=lab.tag + "-br", socket=cls.br_sock, br6=BR6, legacy=legacy, rule=cls.RULE))
            cls.ce_daemon = cls.start_daemon(cls.ce, CE_CONFIG.format(
                instance=lab.tag + "-ce", socket=cls.socket, br6=BR6, legacy=legacy, rule=cls.RULE,
                eup=cls.EUP, static_port=cls.STATIC_PORT))
            wait_for(lambda: ctl(cls.br_sock, "status")["attached"], timeout=20, what="BR up")
            wait_for(lambda: ctl(cls.socket, "status")["attached"], timeout=20, what="CE up")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_daemon(cls, ns, config):
        cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        cfg.write(config)
        cfg.close()
        log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        cls.files += [cfg.name, log.name]
        return cls.lab.spawn(ns, [MAPGW, "--config", cfg.name], stdout=log, stderr=subprocess.STDOUT)

    @classmethod
    def tearDownClass(cls):
        cls.lab.teardown()
        for f in getattr(cls, "files", []):
            os.unlink(f)

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


class V6plusShape(CeLabBase, unittest.TestCase):
    RULE = "ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4,fmr"
    EUP = "240b:10:abcd:ef00::/56"
    PUB = "106.72.171.205"
    LEGACY = True
    A, K, PSID = 4, 8, 0xEF
    STATIC_PORT = 7935


class RfcShape(CeLabBase, unittest.TestCase):
    RULE = "ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,fmr"
    EUP = "2001:db8:12:3400::/56"
    PUB = "192.0.2.18"
    LEGACY = False
    A, K, PSID = 6, 8, 0x34
    STATIC_PORT = 1235


if __name__ == "__main__":
    unittest.main(verbosity=2)
