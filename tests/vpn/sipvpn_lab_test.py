#!/usr/bin/python3
"""SIP-VPN end to end (label `sipvpn`): kamailio as the NGN, two mapgw
endpoints — a VPN server and a VPN client — each supervising its own
charon, in namespaces (tests/sip/lab/sip_lab.py draws the segment; the
server also has a LAN, 10.10.0.0/24, its network space). A call becomes a
tunnel: ping and TCP through it, and the disconnect in TS-1017's order."""
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sip", "lab"))
from sip_lab import HOSTS, PSK, USERS, SipLab, wait_for  # noqa: E402
from sipvpn_lab import (CLIENT, OTHER, SERVER, SERVER_LAN, SERVER_LAN6, add_server_lan, connect_up,  # noqa: E402
                        disconnect_down, ike_delete_and_bye, numbered_udp_flow, ping_from, route_to, sipvpn_toml, tcp_through, tunnel_of, wait_ready)

class SipVpnPsk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.L = SipLab("sipvpn")
        try:
            L = cls.L
            L.start_kamailio()
            # The server's LAN: a veth pair inside its namespace holds 10.10.0.1.
            add_server_lan(L)
            L.start_mapgw("ua-b", L.sip_toml("ua-b", "sip:%s@example.ne.jp" % SERVER, USERS[SERVER],
                                              roles=("server",), auth=("psk",), ike_port=11111)
                          + sipvpn_toml(L, "b", True), metrics="%s:9680" % HOSTS["ua-b"][1])
            L.start_mapgw("ua-a", L.sip_toml("ua-a", "sip:%s@example.ne.jp" % CLIENT, USERS[CLIENT],
                                              auth=("psk",), ike_port=22222)
                          + sipvpn_toml(L, "a", False, inner=("ipv4", "ipv6"))
                          # Short CHILD_SA lifetime: a rekey 18-20 s after set-up.
                          + "child_rekey = 20\n", metrics="%s:9680" % HOSTS["ua-a"][1])
            # C: a client whose PSK is not the server's.
            L.start_mapgw("ua-c", L.sip_toml("ua-c", "sip:%s@example.ne.jp" % OTHER, USERS[OTHER], auth=("psk",))
                          .replace('psk = "%s"' % PSK, 'psk = "not-the-server-key"')
                          + sipvpn_toml(L, "c", False))
            wait_ready(L, ("ua-a", "ua-b", "ua-c"))
        except Exception:
            cls.L.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.L.teardown()

    def tunnel(self, ua, call=None):
        return tunnel_of(self.L, ua, call)

    def test_forward_psk_call_carries_traffic_and_ends_in_order(self):
        L = self.L
        cap = L.start_capture("sipvpn")
        # The capture is on the proxy's bridge: both SIP and the IKE/ESP
        # between the endpoints cross it.
        L.lab.stop(cap[0])
        cap = (L.lab.spawn(L.ns["proxy"], ["tcpdump", "-i", "br0", "--immediate-mode", "-U", "-s", "0", "-w",
                                           cap[1], "udp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
               cap[1])
        time.sleep(0.5)
        t0 = time.monotonic()
        call = connect_up(L, "ua-a", "tel:%s;phone-context=example.ne.jp" % SERVER)
        a = self.tunnel("ua-a", call)
        self.assertEqual(a["role"], "client")
        self.assertEqual(a["auth"], "psk")
        self.assertEqual(a["remote"], "[%s]:11111" % HOSTS["ua-b"][0])  # the server's SDP port
        vip4 = [v for v in a["virtual_ips"] if v.startswith("10.10.0.")]
        vip6 = [v for v in a["virtual_ips"] if v.startswith("fd00:10::")]
        self.assertEqual((len(vip4), len(vip6)), (1, 1), a)  # inner IPv4 and IPv6 (I-C-3)
        self.assertEqual(sorted(a["remote_networks"]), ["10.10.0.0/24", "fd00:10::/64"], a)
        wait_for(lambda: ping_from(L, SERVER_LAN), timeout=10, what="ping through the tunnel")
        setup = time.monotonic() - t0
        self.assertTrue(ping_from(L, SERVER_LAN6), "ping6 through the tunnel")
        # The client routes the server's networks into the tunnel, and only them.
        self.assertIn("220", route_to(L, SERVER_LAN))
        self.assertIn("220", route_to(L, SERVER_LAN6))
        self.assertNotIn("220", route_to(L, "198.51.100.1"))
        # The DNS servers the server handed out are recorded.
        self.assertEqual(sorted(L.ctl("ua-a", "vpn", "status")["received_dns"]), ["10.10.0.53", "fd00:10::53"])
        with open("/etc/resolv.conf") as f:
            self.assertNotIn("10.10.0.53", f.read(), "charon wrote to the host's resolver")
        b = [t for t in L.ctl("ua-b", "vpn", "status")["tunnels"] if t["state"] == "up"]
        self.assertEqual(len(b), 1)
        self.assertEqual(b[0]["role"], "server")
        self.assertEqual(b[0]["remote"], "[%s]:22222" % HOSTS["ua-a"][0])
        # TCP through the tunnel, both families: 2 MB echoed by a listener
        # on the server's LAN; the tunnel's byte counters saw it.
        self.assertEqual(tcp_through(L, SERVER_LAN, 2 * 1024 * 1024), 2 * 1024 * 1024)
        self.assertEqual(tcp_through(L, SERVER_LAN6, 1024 * 1024), 1024 * 1024)
        wait_for(lambda: self.tunnel("ua-a", call)["bytes_out"] >= 3 * 1024 * 1024, timeout=6,
                 what="bytes counted (%s)" % self.tunnel("ua-a", call))
        self.assertGreater(self.tunnel("ua-a", call)["packets_in"], 0)
        # Disconnect: IKE delete first, then BYE (TS-1017 §4.2).
        disconnect_down(L, "ua-a", call)
        wait_for(lambda: L.call_of("ua-a", call)["state"] == "ended", timeout=10, what="call ended")
        self.assertEqual(L.call_of("ua-a", call)["end_reason"], "local_hangup")
        wait_for(lambda: all(t["state"] == "down" for t in L.ctl("ua-b", "vpn", "status")["tunnels"]),
                 timeout=10, what="server tunnel down")
        time.sleep(0.5)
        pcap = L.stop_capture(cap)
        delete_at, bye_at = ike_delete_and_bye(pcap, HOSTS["ua-a"][0])
        self.assertIsNotNone(delete_at, "no IKE INFORMATIONAL from the client")
        self.assertIsNotNone(bye_at, "no BYE from the client")
        self.assertLess(delete_at, bye_at, "TS-1017 §4.2: the IKE delete goes before the BYE")
        print("\ntunnel set-up (INVITE to first ping reply): %.2f s" % setup, file=sys.stderr)


    def test_child_sa_rekey_loses_nothing(self):
        """A CHILD_SA rekey (CREATE_CHILD_SA, PFS off: TS-1017 §4.3) in the
        middle of a numbered UDP flow: every datagram arrives."""
        L = self.L
        call = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        spi = self.tunnel("ua-a", call)["spi_out"]
        rekeys = L.ctl("ua-a", "vpn", "status")["counters"]["child_rekeys"]
        sent, got = numbered_udp_flow(L, SERVER_LAN, seconds=26, rate=200)
        t = self.tunnel("ua-a", call)
        self.assertEqual(t["last_rekey"]["kind"], "child", t)
        self.assertGreater(L.ctl("ua-a", "vpn", "status")["counters"]["child_rekeys"], rekeys)
        self.assertNotEqual(t["spi_out"], spi, "a new CHILD_SA carries the flow")
        self.assertEqual(sent, 26 * 200)
        self.assertEqual(got, sent, "datagrams lost across the rekey")
        print("\nrekey under a numbered UDP flow: %d sent, %d received" % (sent, got), file=sys.stderr)
        disconnect_down(L, "ua-a", call)

    def test_second_tunnel_with_the_same_peer_is_refused(self):
        """charon tells IKE SAs apart by address and identity: a second call
        from a peer whose tunnel is up gets 486 and leaves the first alone."""
        L = self.L
        first = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        before = L.ctl("ua-b", "vpn", "status")["counters"]["refused_duplicates"]
        second = L.ctl("ua-a", "vpn", "connect", "sip:%s@example.ne.jp" % SERVER)["call"]
        wait_for(lambda: (L.call_of("ua-a", second) or {}).get("state") == "ended", timeout=10, what="refused")
        self.assertEqual(L.call_of("ua-a", second)["end_reason"], "rejected_486")
        self.assertEqual(L.ctl("ua-b", "vpn", "status")["counters"]["refused_duplicates"], before + 1)
        self.assertEqual(self.tunnel("ua-a", first)["state"], "up")
        self.assertTrue(ping_from(L, SERVER_LAN), "the first tunnel still carries traffic")
        disconnect_down(L, "ua-a", first)

    def test_reverse_psk_call(self):
        """The server calls the client back (TS-1017 §3.2); the client is
        still the IKE initiator."""
        L = self.L
        call = connect_up(L, "ua-b", "sip:%s@example.ne.jp" % CLIENT, "--role", "server")
        self.assertEqual(self.tunnel("ua-b", call)["direction"], "outgoing")
        self.assertEqual(self.tunnel("ua-b", call)["role"], "server")
        wait_for(lambda: ping_from(L, SERVER_LAN), timeout=10, what="ping through the reverse tunnel")
        disconnect_down(L, "ua-b", call)

    def test_call_back_before_the_last_calls_bye_arrives(self):
        """The client hangs up (IKE delete, then BYE) and the server calls
        it back before that BYE has reached it. The old IKE SA is gone, so
        the new call is no duplicate: it must get its tunnel. (CI once
        refused it as duplicate_peer: the server's old connection was still
        loaded while it waited for the BYE.) Here the BYE is held back by
        nftables in the client's namespace, which makes the window certain."""
        L = self.L
        call = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        server_call = next(t["call"] for t in L.ctl("ua-b", "vpn", "status")["tunnels"] if t["state"] == "up")
        # A UDP datagram to the proxy whose payload starts "BYE ".
        L.lab.run(L.ns["ua-a"], "nft add table inet holdbye && "
                                "nft add chain inet holdbye out '{ type filter hook output priority 0; }' && "
                                "nft add rule inet holdbye out udp dport 5060 @ih,0,32 0x42594520 counter drop")
        try:
            L.ctl("ua-a", "vpn", "disconnect", call)
            wait_for(lambda: tunnel_of(L, "ua-b", server_call)["state"] == "closing", timeout=10,
                     what="server saw the IKE delete (%s)" % tunnel_of(L, "ua-b", server_call))
            back = connect_up(L, "ua-b", "sip:%s@example.ne.jp" % CLIENT, "--role", "server")
            held = L.lab.run(L.ns["ua-a"], "nft list chain inet holdbye out", capture=True)
            self.assertNotIn("packets 0 ", held, "the BYE was not held back: the test proved nothing")
        finally:
            L.lab.run(L.ns["ua-a"], "nft delete table inet holdbye")
        wait_for(lambda: ping_from(L, SERVER_LAN), timeout=10, what="ping through the call back")
        # The old call ends (its BYE retransmitted, or the server's own after
        # delete_timeout) without touching the new tunnel.
        wait_for(lambda: tunnel_of(L, "ua-b", server_call)["state"] == "down", timeout=40, what="old call down")
        self.assertEqual(tunnel_of(L, "ua-b", back)["state"], "up")
        self.assertTrue(ping_from(L, SERVER_LAN), "the call back still carries traffic")
        disconnect_down(L, "ua-b", back)

    def test_unknown_psk_is_refused_with_488(self):
        L = self.L
        r = L.ctl("ua-c", "vpn", "connect", "sip:%s@example.ne.jp" % SERVER)
        call = r["call"]
        wait_for(lambda: (L.call_of("ua-c", call) or {}).get("state") == "ended", timeout=10, what="call refused")
        self.assertEqual(L.call_of("ua-c", call)["end_reason"], "rejected_488")
        last = max((c for c in L.sip_status("ua-b")["recent"] + L.sip_status("ua-b")["calls"]
                    if c["direction"] == "incoming"), key=lambda c: int(c["id"]))
        self.assertEqual(last["end_reason"], "sdp_rejected_unknown_psk")

    def test_zy_dashboard_sipvpn_panels(self):
        L = self.L
        query = L.start_prometheus(["%s:9680" % HOSTS["ua-a"][1], "%s:9680" % HOSTS["ua-b"][1]])
        call = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        time.sleep(3)
        by_title = {}
        for panel in L.vpn_row_panels("SIP-VPN"):
            for t in panel["targets"]:
                series = query(t["expr"])
                self.assertTrue(series, "no series for %r (%s)" % (panel["title"], t["expr"]))
                by_title.setdefault(panel["title"], []).extend(series)
        up = [s for s in by_title["SIP-VPN tunnels"] if s["metric"].get("state") == "up"]
        self.assertGreaterEqual(sum(float(s["value"][1]) for s in up), 2)  # both ends
        charon = [s for s in by_title["SIP-VPN tunnels"] if "state" not in s["metric"]
                  and float(s["value"][1]) == 1]
        self.assertTrue(charon, "charon up on both ends")
        disconnect_down(L, "ua-a", call)

    def test_zz_charon_killed_mid_call(self):
        """charon dies under a call: the call ends (counted), charon comes
        back, and the next call works."""
        L = self.L
        call = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        pid = L.ctl("ua-a", "vpn", "status")["charon"]["pid"]
        os.kill(pid, 9)
        wait_for(lambda: (L.call_of("ua-a", call) or {}).get("state") == "ended", timeout=15, what="call ended")
        st = L.ctl("ua-a", "vpn", "status")
        self.assertEqual(st["counters"]["failures"].get("charon_down"), 1, st)
        wait_for(lambda: L.ctl("ua-a", "vpn", "status")["charon"]["state"] == "up", timeout=20, what="charon back")
        self.assertEqual(L.ctl("ua-a", "vpn", "status")["charon"]["restarts"], 1)
        # The server notices through its side of IKE (DPD) or the BYE: its tunnel goes too.
        wait_for(lambda: all(t["state"] == "down" for t in L.ctl("ua-b", "vpn", "status")["tunnels"]),
                 timeout=20, what="server tunnel down")
        call = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        wait_for(lambda: ping_from(L, SERVER_LAN), timeout=10, what="ping after the restart")
        L.ctl("ua-a", "vpn", "disconnect", call)


class SipVpnPassword(unittest.TestCase):
    """Password mode (TS-1017 §3.4.1): EAP-MD5 for the client's user, the
    server's self-signed certificate checked against the SDP's a=fingerprint."""

    @classmethod
    def setUpClass(cls):
        cls.L = SipLab("sipvpw")
        try:
            L = cls.L
            L.start_kamailio()
            add_server_lan(L)
            users = '\neap_users = [{ user = "alice", password = "wonderland" }]\n'
            # B: a server whose SDP names the certificate it made on first start.
            L.start_mapgw("ua-b", L.sip_toml("ua-b", "sip:%s@example.ne.jp" % SERVER, USERS[SERVER],
                                              roles=("server",), ike_port=11111, cert_fp=None)
                          + sipvpn_toml(L, "b", True) + users
                          + 'certificate = "%s/b.crt"\ncertificate_key = "%s/b.key"\n' % (L.dir, L.dir))
            # C: a server whose SDP names another certificate than the one
            # its charon presents (a second server certificate).
            L.start_mapgw("ua-c", L.sip_toml("ua-c", "sip:%s@example.ne.jp" % OTHER, USERS[OTHER],
                                              roles=("server",))
                          + sipvpn_toml(L, "c", True) + users)
            cls.client_cfg = (L.sip_toml("ua-a", "sip:%s@example.ne.jp" % CLIENT, USERS[CLIENT], ike_port=22222)
                              + sipvpn_toml(L, "a", False) + 'eap_user = "alice"\neap_password = "wonderland"\n')
            L.start_mapgw("ua-a", cls.client_cfg)
            wait_ready(L, ("ua-a", "ua-b", "ua-c"))
        except Exception:
            cls.L.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.L.teardown()

    def tunnel(self, ua, call):
        return tunnel_of(self.L, ua, call)

    def test_forward_password_call_checks_the_certificate(self):
        L = self.L
        created = os.path.join(L.dir, "b.key")
        self.assertTrue(os.path.exists(created), "the server made its certificate on first start")
        self.assertEqual(os.stat(created).st_mode & 0o777, 0o600)
        call = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        self.assertEqual(self.tunnel("ua-a", call)["auth"], "password")
        wait_for(lambda: ping_from(L, SERVER_LAN), timeout=10, what="ping through the password tunnel")
        # The second call finds the certificate already verified: one try.
        disconnect_down(L, "ua-a", call)
        second = connect_up(L, "ua-a", "sip:%s@example.ne.jp" % SERVER)
        L.ctl("ua-a", "vpn", "disconnect", second)

    def test_reverse_password_call(self):
        """The server calls the client back (TS-1017 §3.2) in password mode:
        the client still initiates and still checks the certificate."""
        L = self.L
        call = connect_up(L, "ua-b", "sip:%s@example.ne.jp" % CLIENT, "--role", "server", timeout=40)
        t = self.tunnel("ua-b", call)
        self.assertEqual((t["direction"], t["role"], t["auth"]), ("outgoing", "server", "password"))
        wait_for(lambda: ping_from(L, SERVER_LAN), timeout=10, what="ping through the reverse password tunnel")
        disconnect_down(L, "ua-b", call)

    def test_certificate_not_the_sdps_is_refused(self):
        L = self.L
        r = L.ctl("ua-a", "vpn", "connect", "sip:%s@example.ne.jp" % OTHER)
        call = r["call"]
        wait_for(lambda: (L.call_of("ua-a", call) or {}).get("state") == "ended", timeout=40, what="call ended")
        self.assertEqual(self.tunnel("ua-a", call)["end_reason"], "certificate_mismatch")

    def test_zz_wrong_password_ends_the_call_with_its_reason(self):
        L = self.L
        cfg = L.daemons["ua-a"][2]
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace('eap_password = "wonderland"', 'eap_password = "queen"'))
        self.assertTrue(L.ctl("ua-a", "reload").get("reloaded"))
        L.wait_registered("ua-a", timeout=15)
        wait_for(lambda: L.ctl("ua-a", "vpn", "status")["charon"]["state"] == "up", timeout=20, what="charon up")
        r = L.ctl("ua-a", "vpn", "connect", "sip:%s@example.ne.jp" % SERVER)
        call = r["call"]
        wait_for(lambda: (L.call_of("ua-a", call) or {}).get("state") == "ended", timeout=40, what="call ended")
        self.assertEqual(self.tunnel("ua-a", call)["end_reason"], "ike_auth_failed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
