"""mapgw's LNS in a namespace lab with our own scapy LAC (tests/l2tp/lac.py,
an encoder independent of ours) on this host: logins over IPv6 and IPv4,
traffic both ways, tunnel authentication, loss on the control channel
(nftables numgen), keepalives, and hostile LACs — floods, malformed and
lying AVPs, sessions that never finish, peers that never acknowledge or
never stop negotiating — each counted by name and cleaned up, the
daemon unharmed (ctest -L l2tp)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from l2tp_lab import (DNS6, LAN, LAN6, PSK, L2tpLab, LacProcess, PlainCharon, client_auth, make_pki,  # noqa: E402
                      revoke, server_cert_config, swanctl_text, wait_for, wait_or_dump)
from plain_charon import PLUGINS, loaded_connections  # noqa: E402
from prometheus import start_prometheus, vpn_row_panels  # noqa: E402


def rss_kib(L):
    with open("/proc/%d/status" % L.mapgw.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def libipsec_client(L, ns, directory, me, server, pki=None, cert=None):
    """A strongSwan client on this ESP-less host: libipsec, tunnel mode
    host-to-host with L2TP's selectors, UDP-encapsulated; PSK or
    certificate @cert of @pki. It needs the same bypass of its own route
    into libipsec for IKE as our charon (README "L2TP/IPsec")."""
    conn = {"version": "1", "local_addrs": me, "remote_addrs": server, "encap": "yes",
            "proposals": "aes256-sha256-modp2048",
            "children": {"l2tp": {"mode": "tunnel", "local_ts": "dynamic[udp]", "remote_ts": "dynamic[udp/1701]",
                                  "esp_proposals": "aes256gcm16"}}}
    conn.update(client_auth(directory, pki, cert))
    conf = {"connections": {"l2tp": conn}}
    if not cert:
        conf["secrets"] = {"ike-l2tp": {"secret": '"%s"' % PSK}}
    ss = ("charon {\n  load = %s\n  port = 0\n  port_nat_t = 4500\n  plugins {\n"
          "    vici {\n      socket = unix:///var/run/charon.vici\n    }\n"
          "    kernel-libipsec {\n      allow_peer_ts = yes\n    }\n"
          "    socket-default {\n      fwmark = 0x4d47\n    }\n    kernel-netlink {\n      fwmark = !0x4d47\n    }\n"
          "  }\n  filelog {\n    charon {\n      path = /var/run/charon.log\n      default = 1\n    }\n  }\n}\n"
          % PLUGINS)
    return PlainCharon(L.lab, ns, directory, 4500, swanctl_text(conf), strongswan_conf=ss)


class LabCase(unittest.TestCase):
    require_ipsec = False
    extra = ""

    def setUp(self):
        self.L = L2tpLab("l2l", require_ipsec=self.require_ipsec, extra=self.extra)
        self.ns, self.v4, _ = self.L.add_client_link()
        self.v6 = "2001:db8:1::1"
        self.L.start()
        self.lacs = []

    def tearDown(self):
        for lac in self.lacs:
            lac.stop()
        self.L.teardown()

    def lac(self):
        lac = LacProcess(self.L, self.ns)
        self.lacs.append(lac)
        return lac

    def drops(self, reason):
        return self.L.metrics().get('mapgw_l2tp_drops_total{reason="%s"}' % reason, 0)

    def live_tunnels(self):
        return [t for t in self.L.ctl("l2tp", "status")["tunnels"] if t["state"] != "closed"]

    secret = None
    # How long the LAC waits for each answer: under loss the LNS's back-off
    # (1, 2, 4, 8 s) may need most of 15 s.
    answer_timeout = 10.0

    def dial(self, lac, server=None, user="alice", password="wonderland", method="pap"):
        r = lac.do("connect", server=[server or self.v6, 1701], secret=self.secret, timeout=self.answer_timeout)
        self.assertNotIn("error", r)
        self.assertNotIn("error", lac.do("call", timeout=self.answer_timeout))
        up = lac.do("ppp_up", user=user, password=password, method=method)
        self.assertNotIn("error", up, "%s\n%s" % (self.L.ctl("l2tp", "status"), self.L.mapgw_log()[-3000:]))
        return up


class Protocol(LabCase):
    extra = 'tunnel_secret = "tunnel-secret"\necho_interval = 2\n'
    secret = "tunnel-secret"

    def test_pap_over_ipv6_then_traffic_both_ways(self):
        lac = self.lac()
        r = lac.do("connect", server=[self.v6, 1701], secret="tunnel-secret")
        # Our SCCRP: host name, vendor, receive window 16 (FITELnet's), and
        # the MD5 answer to our challenge (RFC 2661 §4.2).
        self.assertEqual(r["host_name"], "mapgw")
        self.assertEqual(r["window"], 16)
        self.assertTrue(r["challenge_response_ok"])
        lac.do("call")
        up = lac.do("ppp_up", user="alice", password="wonderland", method="pap")
        self.assertEqual(up["address"], "10.20.0.100")
        self.assertEqual(up["dns"], ["10.20.0.53", "10.20.0.54"])
        s = self.L.sessions()
        self.assertEqual([(x["user"], x["phase"], x["address"]) for x in s], [("alice", "network", "10.20.0.100")])
        self.assertEqual(lac.do("ping", src="10.20.0.100", dst=LAN, count=5)["replies"], 5)
        m = self.L.metrics()
        self.assertGreaterEqual(m['mapgw_l2tp_packets_total{direction="from_clients"}'], 5)
        self.assertGreaterEqual(m['mapgw_l2tp_packets_total{direction="to_clients"}'], 5)
        # Another source address from this client: dropped, counted.
        before = self.drops("spoofed_source")
        self.assertEqual(lac.do("ping", src="10.20.0.101", dst=LAN, count=3, timeout=1)["replies"], 0)
        self.assertEqual(self.drops("spoofed_source") - before, 3)
        # The client hangs up: Terminate-Ack, CDN, StopCCN after the last session.
        r = lac.do("hangup")
        r = lac.do("pump", seconds=6)
        self.assertIn(14, r["controls"])  # CDN
        self.assertIn(4, r["controls"])   # StopCCN
        wait_for(lambda: not self.L.sessions(), timeout=5, what="session gone")

    def test_kernel_tcp_through_the_session_both_ways_whole_and_offloaded(self):
        """The client's own kernel TCP (a TUN device in its namespace, its
        packets carried through the session by the LAC) sends 4 MB to the
        LAN while the LAN sends it 4 MB: every byte arrives both ways
        (SHA-256). The server wrote the client's segments to its TUN device
        coalesced (tun_gro.h), which the LNS's kernel took and cut back
        correctly, and read the LAN's as TSO bursts it cut itself
        (tun_gso.h), which the client's kernel took as they were."""
        lac = self.lac()
        up = self.dial(lac)
        size = 4 * 1024 * 1024
        data = "b''.join(hashlib.sha256(b'%%d'%%i).digest() for i in range(%d))" % (size // 32)
        connect = ("end=time.monotonic()+15\n"
                   "while True:\n"
                   " try:\n  s=socket.create_connection(('%s',%d),timeout=5);break\n"
                   " except OSError:\n  time.sleep(0.2)\n  assert time.monotonic()<end\n")
        listen = ("s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                  "s.bind(('%s',%d));s.listen(1);s.settimeout(60)\nc,_=s.accept();c.settimeout(60)\n")
        count = ("h=hashlib.sha256();n=0\n"
                 "while True:\n d=%s.recv(1<<16)\n if not d: break\n h.update(d);n+=len(d)\n")
        py = ["/usr/bin/python3", "-c"]
        spawn = self.L.lab.spawn
        pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Upload: the client sends, the LAN counts and answers.
        lan_in = spawn(self.L.lns, py + ["import hashlib,socket\n" + listen % (LAN, 9100) + count % "c" +
                                         "c.sendall(b'%d %s' % (n,h.hexdigest().encode()));c.close()"], **pipes)
        client_out = spawn(self.ns, py + ["import hashlib,socket,time\ndata=" + data + "\n" + connect % (LAN, 9100) +
                                          "s.settimeout(60);s.sendall(data);s.shutdown(socket.SHUT_WR)\n"
                                          "print(s.recv(200).decode(),hashlib.sha256(data).hexdigest())"], **pipes)
        # Download: the LAN sends, the client counts.
        lan_out = spawn(self.L.lns, py + ["import hashlib,socket\ndata=" + data + "\n" + listen % (LAN, 9101) +
                                          "c.sendall(data);c.close();print(hashlib.sha256(data).hexdigest())"], **pipes)
        client_in = spawn(self.ns, py + ["import hashlib,socket,time\n" + connect % (LAN, 9101) +
                                         "s.settimeout(60)\n" + count % "s" + "print(n,h.hexdigest())"], **pipes)
        before = self.L.metrics()
        carried = lac.do("tun_bridge", address=up["address"], route=LAN + "/32", seconds=90)
        outs = [p.communicate(timeout=30) for p in (client_out, lan_in, lan_out, client_in)]
        self.assertNotIn("error", carried)
        sent_up = outs[0][0].split()
        self.assertEqual(len(sent_up), 3, "upload: %s" % outs[:2])
        self.assertEqual((int(sent_up[0]), sent_up[1]), (size, sent_up[2]), "the upload arrived changed")
        got_down = outs[3][0].split()
        self.assertEqual(len(got_down), 2, "download: %s" % outs[2:])
        self.assertEqual((int(got_down[0]), got_down[1]), (size, outs[2][0].strip()), "the download arrived changed")
        m = self.L.metrics()

        def delta(name):
            return m.get(name, 0) - before.get(name, 0)
        from_client = delta('mapgw_l2tp_packets_total{direction="from_clients"}')
        to_client = delta('mapgw_l2tp_packets_total{direction="to_clients"}')
        writes, coalesced = delta("mapgw_l2tp_tun_writes_total"), delta("mapgw_l2tp_tun_coalesced_segments_total")
        reads, cut = delta("mapgw_l2tp_tun_reads_total"), delta("mapgw_l2tp_tun_cut_segments_total")
        print("\n4 MB each way: from the client %d packets in %d TUN writes (%d coalesced); "
              "to the client %d packets from %d TUN reads (%d cut from bursts)"
              % (from_client, writes, coalesced, to_client, reads, cut))
        self.assertGreater(from_client, size // 1400)
        self.assertGreater(to_client, size // 1400)
        self.assertGreater(coalesced, 0, "no segment was coalesced: the test proved nothing about it")
        self.assertGreater(cut, 0, "no burst was cut: the test proved nothing about it")
        self.assertLess(writes, from_client)
        self.assertLess(reads, to_client)
        for reason in ("tun_write_error", "tun_offload", "exceeds_mru", "send_error"):
            self.assertEqual(self.drops(reason), 0, reason)

    def test_ipv6_inside_the_session(self):
        """IPV6CP, then the Router Advertisement (checked by scapy: the
        client's /64 with L and A, the MTU, RDNSS, a valid checksum), and
        IPv6 through the session from an address SLAAC would form."""
        from scapy.layers.inet6 import (ICMPv6ND_RA, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, ICMPv6NDOptRDNSS,
                                        IPv6)
        lac = self.lac()
        up = self.dial(lac)
        r = lac.do("ipv6_up")
        ra = IPv6(bytes.fromhex(r["ra"]))
        self.assertTrue(ra.haslayer(ICMPv6ND_RA), ra.summary())
        self.assertEqual(ra.hlim, 255)
        self.assertEqual(ra.dst, "ff02::1")
        self.assertTrue(ra.src.startswith("fe80::"))
        pi = ra[ICMPv6NDOptPrefixInfo]
        self.assertEqual((pi.prefix, pi.prefixlen, pi.L, pi.A), ("2001:db8:100::", 64, 1, 1))
        self.assertEqual(ra[ICMPv6NDOptRDNSS].dns, [DNS6])
        self.assertEqual(ra[ICMPv6NDOptMTU].mtu, 1382)
        sent = ra[ICMPv6ND_RA].cksum
        del ra[ICMPv6ND_RA].cksum
        self.assertEqual(IPv6(bytes(ra))[ICMPv6ND_RA].cksum, sent, "the RA's checksum")
        s = self.L.sessions()[0]
        self.assertEqual(s["prefix6"], "2001:db8:100::/64")
        self.assertIn("2001:db8:100::/64 dev l2tp0", self.L.lab.run(self.L.lns, "ip -6 route show", capture=True))
        iid = r["iid"]
        mine = "2001:db8:100::%s:%s:%s:%s" % (iid[0:4], iid[4:8], iid[8:12], iid[12:16])
        self.assertEqual(lac.do("ping6", src=mine, dst=LAN6, count=5)["replies"], 5)
        before = self.drops("spoofed_source")
        self.assertEqual(lac.do("ping6", src="2001:db8:100:1::1", dst=LAN6, count=2, timeout=1)["replies"], 0)
        self.assertEqual(self.drops("spoofed_source") - before, 2)
        self.assertEqual(lac.do("ping", src=up["address"], dst=LAN, count=2)["replies"], 2)  # IPv4 alongside

    def test_chap_md5_over_ipv4(self):
        lac = self.lac()
        r = lac.do("connect", server=[self.v4, 1701], secret="tunnel-secret")
        self.assertTrue(r["challenge_response_ok"])
        lac.do("call")
        up = lac.do("ppp_up", user="bob", password="builder", method="chap")
        self.assertEqual(up["address"], "10.20.0.100")
        self.assertEqual(lac.do("ping", src=up["address"], dst=LAN, count=2)["replies"], 2)

    def test_a_wrong_tunnel_secret_gets_stopccn_not_authorized(self):
        lac = self.lac()
        r = lac.do("connect", server=[self.v6, 1701], secret="not-the-secret")
        self.assertFalse(r.get("challenge_response_ok"))
        r = lac.do("pump", seconds=2)
        self.assertIn(4, r["controls"])
        self.assertEqual(r["results"][-1][:2], [0, 4])  # result 4: not authorized
        wait_for(lambda: not self.live_tunnels(), timeout=5, what="no tunnel left")

    def test_a_silent_client_is_ended_by_lcp_echo(self):
        lac = self.lac()
        self.dial(lac)
        lac.do("silence")
        r = lac.do("pump", seconds=20)
        self.assertIn(14, r["controls"], r)  # CDN once 3 echoes went unanswered (2 s apart)
        wait_for(lambda: not self.L.sessions() and not self.live_tunnels(), timeout=10, what="all gone")


class Dashboard(LabCase):
    def test_the_l2tp_panels_show_a_session_through_a_real_prometheus(self):
        query = start_prometheus(self.L.lab, self.L.lns, self.L.dir, ["127.0.0.1:9464"])
        lac = self.lac()
        up = self.dial(lac)
        self.assertEqual(lac.do("ping", src=up["address"], dst=LAN, count=20, size=1000)["replies"], 20)
        lac.do("raw", hex="c802", seconds=0.1)  # one malformed datagram: a drop to show
        time.sleep(3)
        by_title = {}
        panels = vpn_row_panels("L2TP/IPsec")
        self.assertEqual(len(panels), 3)
        for panel in panels:
            for t in panel["targets"]:
                series = query(t["expr"])
                if "charon" in t["expr"] or "ipsec_sas" in t["expr"]:
                    continue  # no IPsec in this lab: those series exist only with charon
                self.assertTrue(series, "no series for %r (%s)" % (panel["title"], t["expr"]))
                by_title.setdefault(panel["title"], []).extend(series)
        network = [s for s in by_title["L2TP/IPsec tunnels and sessions"] if s["metric"].get("phase") == "network"]
        self.assertEqual([float(s["value"][1]) for s in network], [1.0])
        drops = [s for s in by_title["L2TP/IPsec logins, drops and retransmissions"]
                 if s["metric"].get("reason") == "malformed"]
        self.assertGreater(float(drops[0]["value"][1]), 0)
        traffic = [s for s in by_title["L2TP/IPsec traffic"] if s["metric"].get("direction") == "from_clients"]
        self.assertGreater(max(float(s["value"][1]) for s in traffic), 0)


class Loss(LabCase):
    answer_timeout = 40.0
    def test_the_dial_in_survives_30_percent_control_loss(self):
        # L2TP control messages (T bit: first bit after the UDP header) lost:
        # the LAC's at random, 3 in 10; ours every fourth, starting with the
        # first (the SCCRP), so that our retransmission is certain to be
        # needed (at random, 3 dial-ins sometimes lost only ZLBs of ours).
        self.L.lab.run(self.L.lns, "nft add table inet loss && "
                       "nft 'add chain inet loss in { type filter hook input priority 0; }' && "
                       "nft 'add chain inet loss out { type filter hook output priority 0; }' && "
                       "nft add rule inet loss in udp dport 1701 @th,64,1 1 numgen random mod 10 '<' 3 counter drop && "
                       "nft add rule inet loss out udp sport 1701 @th,64,1 1 numgen inc mod 4 '<' 1 counter drop")
        for i in range(3):
            lac = self.lac()
            up = self.dial(lac, user=["alice", "bob", "carol"][i],
                           password=["wonderland", "builder", "secret-carol"][i])
            self.assertEqual(up["address"], "10.20.0.10%d" % i)
        for chain in ("in", "out"):
            dropped = self.L.lab.run(self.L.lns, "nft list chain inet loss %s" % chain, capture=True)
            self.assertRegex(dropped, r"packets [1-9]", "nothing lost %s" % chain)
        m = self.L.metrics()
        self.assertGreater(m["mapgw_l2tp_retransmissions_total"], 0)
        self.assertEqual(len(self.L.sessions()), 3)


class Hostile(LabCase):
    extra = "new_tunnels_per_second = 50\nmax_tunnels = 100\n"

    def mapgw_alive(self):
        self.assertIsNone(self.L.mapgw.poll(), "mapgw died:\n" + self.L.mapgw_log()[-3000:])
        self.assertIn("listen", self.L.ctl("l2tp", "status"))

    def test_an_sccrq_flood_is_rate_limited_and_memory_stays_bounded(self):
        lac = self.lac()
        base = rss_kib(self.L)
        r = lac.do("flood", server=[self.v6, 1701], count=3000)
        self.assertEqual(r["sent"], 3000)
        time.sleep(1)
        m = self.L.metrics()
        refused = m['mapgw_l2tp_drops_total{reason="tunnel_rate_limit"}'] + \
            m['mapgw_l2tp_drops_total{reason="tunnel_limit"}']
        self.assertGreater(refused, 2000)
        self.assertLessEqual(len(self.live_tunnels()), 100)
        self.assertLess(rss_kib(self.L) - base, 20 * 1024, "RSS grew by more than 20 MiB")
        self.mapgw_alive()

    def test_malformed_and_lying_datagrams_are_counted_never_fatal(self):
        lac = self.lac()
        lac.do("connect", server=[self.v6, 1701])
        before = self.drops("malformed")
        bad = [
            "c802",                                        # a header cut short
            "c80200ff0000000000000000",                    # a length field past the end
            "c80200140000000000000000" "80ff00000000" "0001",  # an AVP longer than the message
            "c80200120000000000000000" "800400000000",     # an AVP shorter than its own header
            "c80300140000000000000000" "800800000000" "0001",  # version 3 (L2TPv3)
            "c80200140000000000000000" "c00800000000" "0001",  # a hidden Message Type (never allowed)
            "880200000000000000000000" "800800000000" "0001",  # control without the L bit
        ]
        for h in bad:
            lac.do("raw", hex=h, seconds=0.05)
        wait_for(lambda: self.drops("malformed") - before == len(bad), timeout=5,
                 what="each malformed datagram counted once")
        self.mapgw_alive()

    def test_an_unknown_mandatory_avp_in_sccrq_is_refused(self):
        lac = self.lac()
        # SCCRQ with the usual AVPs plus mandatory vendor-less type 99.
        r = lac.do("sccrq_extra", server=[self.v6, 1701], avp_type=99)
        self.assertIn(4, r["controls"], r)  # StopCCN (RFC 2661 §4.1: unknown M-bit AVP tears down)
        self.mapgw_alive()

    def test_a_lac_that_retransmits_forever_is_acknowledged_not_obeyed(self):
        lac = self.lac()
        lac.do("connect", server=[self.v6, 1701])
        r = lac.do("call")
        self.assertNotIn("error", r)
        base = rss_kib(self.L)
        r = lac.do("repeat_last", times=2000)  # its ICCN, 2000 more times, same Ns
        self.assertEqual(r["sent"], 2000)
        wait_for(lambda: self.L.metrics().get("mapgw_l2tp_duplicates_total", 0) >= 1900, timeout=10,
                 what="the duplicates counted")
        s = self.L.sessions()
        self.assertEqual(len(s), 1, s)  # one session, not 2001
        self.assertEqual(len(self.live_tunnels()), 1)
        self.assertLess(rss_kib(self.L) - base, 5 * 1024)
        self.mapgw_alive()

    def test_a_session_without_iccn_is_dropped(self):
        lac = self.lac()
        lac.do("connect", server=[self.v6, 1701])
        lac.do("call", iccn=False)
        r = lac.do("pump", seconds=13)
        self.assertIn(14, r["controls"], r)  # CDN after iccn_timeout (10 s)
        self.mapgw_alive()

    def test_a_lac_that_never_acknowledges_is_given_up(self):
        lac = self.lac()
        r = lac.do("sccrq_no_ack", server=[self.v6, 1701], seconds=28)
        self.assertGreaterEqual(r["sccrp_copies"], 5)  # retransmitted with back-off, then given up
        wait_for(lambda: not self.live_tunnels(), timeout=10, what="the tunnel given up")
        self.assertGreaterEqual(self.L.metrics()["mapgw_l2tp_retransmissions_total"], 4)
        self.mapgw_alive()

    def test_ppp_that_never_converges_ends_the_session(self):
        lac = self.lac()
        lac.do("connect", server=[self.v6, 1701])
        lac.do("call")
        # An LCP Configure-Request with an MRU we Nak (below our floor), again and again.
        r = lac.do("lcp_request", options_hex="01040010", times=80, gap=0.05)
        r = lac.do("pump", seconds=10)  # our Terminate-Requests go unanswered first
        self.assertIn(14, r["controls"], r)
        wait_for(lambda: not self.L.sessions(), timeout=10, what="the session ended")
        self.mapgw_alive()


class IpsecRequired(LabCase):
    require_ipsec = True

    def test_plaintext_l2tp_is_dropped_and_counted(self):
        lac = self.lac()
        r = lac.do("sccrq", server=[self.v6, 1701])
        self.assertEqual(r["controls"], [])
        wait_for(lambda: self.drops("not_ipsec") >= 1, timeout=5, what="not_ipsec counted")
        self.assertEqual(self.L.ctl("l2tp", "status")["tunnels"], [])


class TunnelModeFallback(LabCase):
    """No kernel ESP on this host: charon's libipsec in tunnel mode,
    host-to-host with L2TP's selectors, a strongSwan client (libipsec
    too) and our LAC through it. The gate admits its datagrams only
    because they came out of libipsec's TUN."""
    require_ipsec = True

    def test_a_strongswan_client_in_tunnel_mode_dials_in(self):
        charon = libipsec_client(self.L, self.ns, os.path.join(self.L.dir, "client-charon"), "2001:db8:1::2", self.v6)
        try:
            charon.swanctl("--initiate", "--child", "l2tp", "--timeout", "30")
            st = self.L.ctl("l2tp", "status")
            self.assertEqual(st["ipsec"]["mode"], "tunnel")
            wait_for(lambda: [sa["child_sas"] for sa in self.L.ctl("l2tp", "status")["ipsec"]["sas"]] == [1],
                     timeout=10, what="the server sees the CHILD_SA")
            lac = self.lac()
            up = self.dial(lac)
            self.assertEqual(up["address"], "10.20.0.100", self.L.mapgw_log()[-3000:])
            self.assertEqual(lac.do("ping", src=up["address"], dst=LAN, count=3)["replies"], 3)
            self.assertEqual(self.L.sessions()[0]["layers"], {"ipsec": True, "l2tp": True, "ppp": True})
            self.assertEqual(self.drops("not_ipsec"), 0)
            # The client deletes its IKE SA: the session and tunnel go.
            charon.swanctl("--terminate", "--ike", "l2tp")
            wait_or_dump(lambda: not self.L.sessions() and not self.live_tunnels(), 15,
                         "session and tunnel gone with the SA",
                         lambda: "\n%s\n%s\n%s" % (self.L.ctl("l2tp", "status"), self.L.mapgw_log()[-2000:],
                                                    "\n".join(x for x in self.L.charon_log().splitlines()
                                                              if "[IKE]" in x or "[CHD]" in x)[-3000:]))
        finally:
            charon.stop()


class CertificateCase(unittest.TestCase):
    """A lab with three client links, the lab PKI (self.pki) and strongSwan
    clients (libipsec, tunnel mode, on this host) with the PSK or a
    certificate; everything removed after each test."""

    def lab(self, name, extra=""):
        self.pki = make_pki(tempfile.mkdtemp(prefix="mapgw-l2tp-pki-"))
        self.L = L2tpLab(name, require_ipsec=True, extra=extra.replace("PKI", self.pki))
        self.links = [self.L.add_client_link() for _ in range(3)]
        self.L.start()
        self.charons, self.lacs = [], []

    def tearDown(self):
        for x in self.lacs + self.charons:
            x.stop()
        self.L.teardown()
        shutil.rmtree(self.pki, ignore_errors=True)

    def charon(self, link, cert=None):
        ns, server, _ = self.links[link]
        n = link + 1
        c = libipsec_client(self.L, ns, os.path.join(self.L.dir, "charon-%d-%s" % (n, cert or "psk")),
                            "2001:db8:%d::2" % n, "2001:db8:%d::1" % n, self.pki, cert)
        self.charons.append(c)
        return c

    def server_sas(self):
        return self.L.ctl("l2tp", "status")["ipsec"]["sas"]

    def refused(self, link, cert, why):
        c = self.charon(link, cert)
        r = c.swanctl("--initiate", "--child", "l2tp", "--timeout", "20", check=False)
        self.assertNotEqual(r.returncode, 0, "%s was let in" % cert)
        wait_or_dump(lambda: why in self.L.charon_log(), 10, "the server's charon saying why %s was refused" % cert,
                     lambda: self.L.charon_log()[-3000:])
        c.stop()
        self.charons.remove(c)
        self.assertEqual([sa for sa in self.server_sas() if cert in sa["remote_id"]], [])

    def dial(self, link, user, password):
        lac = LacProcess(self.L, self.links[link][0])
        self.lacs.append(lac)
        self.assertNotIn("error", lac.do("connect", server=["2001:db8:%d::1" % (link + 1), 1701], timeout=10))
        self.assertNotIn("error", lac.do("call", timeout=10))
        up = lac.do("ppp_up", user=user, password=password, method="pap")
        self.assertNotIn("error", up, self.L.mapgw_log()[-3000:])
        return lac, up



class Certificates(CertificateCase):
    """IKEv1 with certificates beside the PSK: a client of our CA dials in,
    a revoked one and one of another CA are refused, a PSK client is
    served side by side, and a newer CRL taken by a reload refuses the
    next login without ending the PSK client's session."""

    def setUp(self):
        self.lab("l2k", server_cert_config("PKI"))

    def test_certificates_beside_the_psk_with_revocation_and_reload(self):
        st = self.L.ctl("l2tp", "status")["ipsec"]
        self.assertEqual(st["auth"], ["psk", "certificate"])
        self.assertEqual(st["certificate"]["subject"], "C=JP, O=mapgw lab, CN=lns.example")
        self.assertTrue(st["certificate"]["crl"])
        alice = self.charon(0, "alice")
        alice.swanctl("--initiate", "--child", "l2tp", "--timeout", "30")
        wait_for(lambda: [(sa["auth"], sa["remote_id"], sa["child_sas"]) for sa in self.server_sas()]
                 == [("certificate", "C=JP, O=mapgw lab, CN=alice", 1)], timeout=10,
                 what="alice's certificate SA on the server")
        lac, up = self.dial(0, "alice", "wonderland")
        self.assertEqual(lac.do("ping", src=up["address"], dst=LAN, count=3)["replies"], 3)
        self.assertEqual(self.L.sessions()[0]["layers"], {"ipsec": True, "l2tp": True, "ppp": True})

        self.refused(1, "mallory", "certificate was revoked")
        self.refused(2, "eve", "no issuer certificate found")

        # A PSK client beside the certificate one.
        bob = self.charon(1)
        bob.swanctl("--initiate", "--child", "l2tp", "--timeout", "30")
        wait_for(lambda: sorted(sa["auth"] for sa in self.server_sas()) == ["certificate", "psk"], timeout=10,
                 what="both SAs on the server")
        self.dial(1, "bob", "builder")
        self.assertEqual(len(self.L.sessions()), 2)

        # alice's key is lost: a newer CRL, a reload. Her SA and session
        # end by her own hand; bob's stay through the reload.
        alice.swanctl("--terminate", "--ike", "l2tp")
        wait_for(lambda: len(self.L.sessions()) == 1, timeout=15, what="alice's session gone with her SA")
        revoke(self.pki, "alice")
        self.assertEqual(self.L.ctl("reload").get("reloaded"), True)
        wait_or_dump(lambda: "credentials changed" in self.L.mapgw_log(), 10, "the credentials reloaded",
                     lambda: self.L.mapgw_log()[-2000:])
        r = alice.swanctl("--initiate", "--child", "l2tp", "--timeout", "20", check=False)
        self.assertNotEqual(r.returncode, 0, "alice was let in after her certificate was revoked")
        # Only bob's SA: none of alice's lingers in the status (CI once saw
        # her old one there — a "down" event arriving after her SA had gone
        # made it again; ipsec_gate_test ADownEventForAnSaAlreadyGone...).
        wait_or_dump(lambda: [sa["auth"] for sa in self.server_sas()] == ["psk"], 10, "only bob's SA left",
                     lambda: "%s\n%s" % (self.server_sas(), self.L.mapgw_log()[-2000:]))
        self.assertEqual([s["user"] for s in self.L.sessions()], ["bob"])
        self.assertEqual(self.L.ctl("l2tp", "status")["ipsec"]["auth"], ["psk", "certificate"])


class CredentialsByReload(CertificateCase):
    """A PSK-only server given certificates by a reload, then its PSK taken
    away by another: each reload loads or unloads charon's connections and
    keeps the sessions that are up."""

    def setUp(self):
        self.lab("l2r")

    def reload(self, what, conns):
        self.L.write_config()
        self.assertEqual(self.L.ctl("reload").get("reloaded"), True)
        wait_or_dump(lambda: self.L.ctl("l2tp", "status")["ipsec"]["auth"] == what
                     and self.L.ctl("l2tp", "status")["ipsec"]["connection_loaded"]
                     and sorted(self.conns()) == conns, 10,
                     "charon holding %s" % conns, lambda: "%s\n%s" % (self.conns(), self.L.mapgw_log()[-2000:]))

    def conns(self):
        return loaded_connections(os.path.join(self.L.dir, "charon"), self.L.lns, self.L.lab)

    def test_certificates_added_then_the_psk_removed(self):
        self.assertEqual(self.L.ctl("l2tp", "status")["ipsec"]["auth"], ["psk"])
        self.assertEqual(self.conns(), ["l2tp-ipsec"])
        bob = self.charon(0)
        bob.swanctl("--initiate", "--child", "l2tp", "--timeout", "30")
        self.dial(0, "bob", "builder")
        # No certificate connection yet: alice cannot get in.
        self.assertNotEqual(self.charon(1, "alice").swanctl("--initiate", "--child", "l2tp", "--timeout", "10",
                                                            check=False).returncode, 0)
        self.L.extra = server_cert_config(self.pki)
        self.reload(["psk", "certificate"], ["l2tp-ipsec", "l2tp-ipsec-cert"])
        alice = self.charons[-1]
        alice.swanctl("--initiate", "--child", "l2tp", "--timeout", "30")
        self.dial(1, "alice", "wonderland")
        self.assertEqual(sorted(s["user"] for s in self.L.sessions()), ["alice", "bob"])
        # Certificates only: bob's session stays, a new PSK client is refused.
        self.L.psk = None
        self.reload(["certificate"], ["l2tp-ipsec-cert"])
        self.assertEqual(sorted(s["user"] for s in self.L.sessions()), ["alice", "bob"])
        self.assertNotEqual(self.charon(2).swanctl("--initiate", "--child", "l2tp", "--timeout", "10",
                                                   check=False).returncode, 0)
        self.assertEqual(sorted(sa["auth"] for sa in self.server_sas()), ["certificate", "psk"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
