"""Real L2TP/IPsec clients against mapgw's LNS, on a kernel with ESP, L2TP
and PPP (Debian 12's stock 6.1 in the guest harness: ctest -L l2tp):
strongSwan's charon (IKEv1 PSK, transport mode, NAT-T), xl2tpd (kernel
L2TP) and pppd 2.4.9, as a Linux user dials in. Logins with each method,
the address and DNS IPCP hands out, traffic through the session, and each
way a session ends — from the client, from the server, from IPsec, from
PPP — taking the other layers with it (seed 004 §7)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from l2tp_lab import (DNS, HERE, LAN6, PSK, USERS, L2tpLab, LinuxClient, PlainCharon, client_strongswan_conf,  # noqa: E402
                      make_pki, server_cert_config, swanctl_text, tcp_transfer, wait_or_dump)


def dump(L, *clients):
    """Every log of the lab, for a failure's message."""
    out = "\n--- l2tp status\n%s\n--- metrics\n%s" % (L.ctl("l2tp", "status"), {k: v for k, v in L.metrics().items() if v})
    out += "\n--- mapgw\n" + L.mapgw_log()[-6000:] + "\n--- server charon (tail)\n" + L.charon_log()[-3000:]
    for c in clients:
        out += "\n--- %s pppd\n%s\n--- %s xl2tpd\n%s" % (c.ns, c.pppd_log()[-3000:], c.ns, c.xl2tpd_log()[-1200:])
        if c.charon:
            out += "\n--- %s charon (tail)\n%s" % (c.ns, c.charon.log()[-2000:])
    return out


def dial_in(L, c, wait=True, others=()):
    """IPsec up (if the client has it), xl2tpd started, the call placed, and
    ppp0's address once up; every log on failure."""
    try:
        if c.charon:
            c.ipsec_up()
        c.start_xl2tpd()
        c.dial()
        return c.wait_up() if wait else None
    except AssertionError as e:
        raise AssertionError(str(e) + dump(L, c, *others))


class ClientCase(unittest.TestCase):
    """A lab self.L whose real clients (self.clients) and PKI (self.pki,
    if any) are stopped and removed after each test."""
    pki = None

    def tearDown(self):
        for c in self.clients:
            c.stop()
        self.L.teardown()
        if self.pki:
            shutil.rmtree(self.pki, ignore_errors=True)

    def new_client(self, link, user, password=None, **kw):
        ns, server, me = link
        c = LinuxClient(self.L, ns, server, me, user, password or USERS[user], **kw)
        self.clients.append(c)
        return c


class RealClients(ClientCase):
    def setUp(self):
        self.L = L2tpLab("l2c", extra="dpd = 5\n")
        self.links = [self.L.add_client_link() for _ in range(2)]
        self.L.start()
        self.clients = []

    def client(self, user="alice", refuse=(), link=0, password=None, **kw):
        return self.new_client(self.links[link], user, password, refuse=refuse, **kw)

    def dial_in(self, c, wait=True):
        return dial_in(self.L, c, wait)

    def live_tunnels(self):
        return [t for t in self.L.ctl("l2tp", "status")["tunnels"] if t["state"] != "closed"]

    def wait_all_gone(self, c, what):
        wait_or_dump(lambda: not self.L.sessions() and not self.live_tunnels(), 30, "%s: session and tunnel gone" % what,
                     lambda: dump(self.L, c))
        wait_or_dump(lambda: "ESTABLISHED" not in c.sas(), 30, "%s: the client's IKE SA deleted" % what,
                     lambda: dump(self.L, c))

    def test_mschapv2_login_address_dns_traffic_then_client_hangs_up(self):
        c = self.client("alice", refuse=("pap", "chap", "mschap"), ppp_extra="+ipv6\n")
        addr = self.dial_in(c)
        self.assertEqual(addr, "10.20.0.100")
        s = self.L.sessions()
        self.assertEqual(len(s), 1, s)
        self.assertEqual(s[0]["user"], "alice")
        self.assertEqual(s[0]["phase"], "network")
        self.assertEqual(s[0]["layers"], {"ipsec": True, "l2tp": True, "ppp": True})
        log = c.pppd_log()
        self.assertIn("<auth chap MS-v2>", log)
        self.assertIn("CHAP authentication succeeded", log)  # pppd checked our authenticator response too
        # DNS from IPCP (RFC 1877), as pppd's usepeerdns took them.
        self.assertIn("primary   DNS address %s" % DNS[0], log)
        self.assertIn("secondary DNS address %s" % DNS[1], log)
        self.assertTrue(c.ping(), dump(self.L, c))
        self.assertEqual(tcp_transfer(self.L, c.ns, 2_000_000), 2_000_000, dump(self.L, c))
        # IPv6 inside: IPV6CP, our Router Advertisement, the kernel's SLAAC
        # address from the session's /64, and IPv6 through the session.
        wait_or_dump(lambda: c.ppp_address6() is not None, 30, "a SLAAC address on ppp0", lambda: dump(self.L, c))
        self.assertTrue(c.ppp_address6().startswith("2001:db8:100:"), c.ppp_address6())
        self.assertEqual(self.L.sessions()[0]["prefix6"], "2001:db8:100::/64")
        self.assertTrue(c.ping(LAN6), dump(self.L, c))
        self.assertEqual(tcp_transfer(self.L, c.ns, 1_000_000, dst=LAN6), 1_000_000, dump(self.L, c))
        m = self.L.metrics()
        self.assertGreater(m['mapgw_l2tp_bytes_total{direction="from_clients"}'], 3_000_000)
        # The kernel took the client's TCP segments coalesced (tun_gro.h):
        # fewer TUN writes than packets, and not one refused.
        self.assertGreater(m["mapgw_l2tp_tun_coalesced_segments_total"], 0)
        self.assertLess(m["mapgw_l2tp_tun_writes_total"], m['mapgw_l2tp_packets_total{direction="from_clients"}'])
        self.assertEqual(m.get('mapgw_l2tp_drops_total{reason="tun_write_error"}', 0), 0)
        self.assertGreater(m['mapgw_l2tp_packets_total{direction="to_clients"}'], 0)
        self.assertEqual(m["mapgw_l2tp_ipsec_sas"], 1)
        # The route to the client carries its MRU (pppd's default 1500,
        # capped at the TUN's).
        route = self.L.lab.run(self.L.lns, "ip route show 10.20.0.100", capture=True)
        self.assertIn("mtu 1382", route)
        # The client hangs up: PPP, the L2TP tunnel, then we delete the IKE SA.
        c.hang_up()
        self.wait_all_gone(c, "client hang-up")
        self.assertEqual(self.L.lab.run(self.L.lns, "ip route show 10.20.0.100", capture=True).strip(), "")

    def test_chap_md5_and_pap_logins(self):
        chap = self.client("bob", refuse=("pap", "mschap", "mschap-v2"), link=0)
        self.dial_in(chap)
        self.assertIn("<auth chap MD5>", chap.pppd_log())
        self.assertIn("CHAP authentication succeeded", chap.pppd_log())
        self.assertTrue(chap.ping(), dump(self.L, chap))
        pap = self.client("carol", refuse=("chap", "mschap", "mschap-v2"), link=1)
        self.assertEqual(self.dial_in(pap), "10.20.0.101")
        self.assertIn("PAP authentication succeeded", pap.pppd_log())
        self.assertTrue(pap.ping(), dump(self.L, pap))
        users = sorted(s["user"] for s in self.L.sessions())
        self.assertEqual(users, ["bob", "carol"])

    def test_a_wrong_password_is_refused_counted_and_torn_down(self):
        c = self.client("alice", refuse=("pap", "chap", "mschap"), password="not-the-password")
        self.dial_in(c, wait=False)
        wait_or_dump(lambda: self.L.metrics().get('mapgw_ppp_auth_failures_total{method="mschapv2"}', 0) == 1, 30,
                     "the failed login counted", lambda: dump(self.L, c))
        self.assertIn("CHAP authentication failed", c.pppd_log())
        self.wait_all_gone(c, "failed login")

    def test_server_side_disconnect(self):
        c = self.client("alice")
        self.dial_in(c)
        r = self.L.ctl("l2tp", "disconnect", "--user", "alice")
        self.assertEqual(len(r["disconnected"]), 1, r)
        self.wait_all_gone(c, "server disconnect")
        wait_or_dump(lambda: "LCP terminated by peer" in c.pppd_log(), 20, "pppd told by LCP Terminate-Request",
                     lambda: dump(self.L, c))

    def test_deleting_the_ike_sa_ends_the_session(self):
        c = self.client("alice")
        self.dial_in(c)
        c.charon.swanctl("--terminate", "--ike", "l2tp")
        wait_or_dump(lambda: not self.L.sessions() and not self.live_tunnels(), 30,
                     "IKE SA deleted: session and tunnel gone", lambda: dump(self.L, c))
        self.assertEqual(self.L.ctl("l2tp", "status")["ipsec"]["sas"], [])

    def test_pppd_killed_means_cdn_and_the_sa_deleted(self):
        c = self.client("alice")
        self.dial_in(c)
        pid = c.pppd_pid()
        self.assertIsNotNone(pid, dump(self.L, c))
        os.kill(pid, signal.SIGKILL)
        self.wait_all_gone(c, "pppd killed")

    def test_dpd_finds_a_dead_client_and_its_session_goes(self):
        c = self.client("alice")
        self.dial_in(c)
        os.kill(c.charon.proc.pid, signal.SIGKILL)  # no IKE delete: only DPD can tell
        c.charon.proc.wait()
        c.charon = None
        wait_or_dump(lambda: not self.L.sessions() and not self.live_tunnels(), 60,
                     "DPD: session and tunnel gone", lambda: dump(self.L, c))
        self.assertEqual(self.L.ctl("l2tp", "status")["ipsec"]["sas"], [])

    def test_l2tp_without_ipsec_is_refused(self):
        c = self.client("alice", ipsec=False)
        self.dial_in(c, wait=False)
        wait_or_dump(lambda: self.L.metrics().get('mapgw_l2tp_drops_total{reason="not_ipsec"}', 0) >= 2, 30,
                     "plaintext SCCRQs dropped and counted", lambda: dump(self.L, c))
        self.assertEqual(self.L.ctl("l2tp", "status")["tunnels"], [])
        self.assertIsNone(c.ppp_address())

    def test_a_second_login_of_a_user_replaces_the_first(self):
        first = self.client("alice", link=0)
        self.dial_in(first)
        second = self.client("alice", link=1)
        self.dial_in(second)
        wait_or_dump(lambda: [s["peer"].split(":")[0] for s in self.L.sessions()] == [second.me], 30,
                     "only the second session left", lambda: dump(self.L, first, second))
        self.assertIn("LCP terminated by peer", first.pppd_log())
        self.assertEqual(self.L.metrics()["mapgw_l2tp_sessions_replaced_total"], 1)
        self.assertTrue(second.ping(), dump(self.L, second))


class RealPppOverIpv6(unittest.TestCase):
    """IPv6 outside: xl2tpd speaks IPv4 only, so the L2TP side is our scapy
    LAC (tests/l2tp/pty_lac.py) as pppd's `pty` program; PPP is a real
    pppd 2.4.9 (async HDLC), IPsec a real charon (IKEv1 PSK, transport mode
    over IPv6) — everything of a client but its L2TP."""

    def setUp(self):
        self.L = L2tpLab("l2v6")
        self.ns, _, _ = self.L.add_client_link()
        self.L.start()
        self.charon = self.pppd = None

    def tearDown(self):
        if self.pppd:
            self.L.lab.stop(self.pppd)
        if self.charon:
            self.charon.stop()
        self.L.teardown()

    def test_mschapv2_over_ipv6_ipsec_with_ipv4_and_ipv6_inside(self):
        me, server = "2001:db8:1::2", "2001:db8:1::1"
        d = os.path.join(self.L.dir, "v6client")
        conf = {"connections": {"l2tp": {
            "version": "1", "local_addrs": me, "remote_addrs": server, "encap": "yes",
            "proposals": "aes256-sha256-modp2048", "local": {"auth": "psk"}, "remote": {"auth": "psk"},
            "children": {"l2tp": {"mode": "transport", "local_ts": "dynamic[udp]", "remote_ts": "dynamic[udp/1701]",
                                  "esp_proposals": "aes256-sha1"}}}},
            "secrets": {"ike-l2tp": {"secret": '"%s"' % PSK}}}
        self.charon = PlainCharon(self.L.lab, self.ns, os.path.join(d, "charon"), 4500, swanctl_text(conf),
                                  strongswan_conf=client_strongswan_conf())
        self.charon.swanctl("--initiate", "--child", "l2tp", "--timeout", "50")
        self.L.lab.run(self.ns, "modprobe -q ppp_async; modprobe -q ppp_generic; true")
        log = os.path.join(d, "pppd.log")
        self.pppd = self.L.lab.spawn(self.ns, [
            "pppd", "pty", "/usr/bin/python3 %s %s" % (os.path.join(HERE, "pty_lac.py"), server), "nodetach",
            "local", "nocrtscts", "noauth", "refuse-eap", "refuse-pap", "refuse-chap", "refuse-mschap", "noccp",
            "nodefaultroute", "usepeerdns", "+ipv6", "user", "alice", "password", USERS["alice"], "linkname", "v6client",
            "lcp-echo-interval", "5", "lcp-echo-failure", "4", "debug", "logfile", log],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def logs():
            try:
                with open(log) as f:
                    text = f.read()[-3000:]
            except OSError:
                text = ""
            return "\n--- pppd\n%s\n--- mapgw\n%s\n--- client charon\n%s" % (
                text, self.L.mapgw_log()[-3000:], self.charon.log()[-2000:])

        client = LinuxClient.__new__(LinuxClient)  # only its address helpers, for ppp0 in this namespace
        client.L, client.ns = self.L, self.ns
        wait_or_dump(lambda: client.ppp_address() is not None, 60, "ppp0 up over IPv6", logs)
        s = self.L.sessions()
        self.assertEqual(len(s), 1, s)
        self.assertTrue(s[0]["peer"].startswith("[2001:db8:1::2]:"), s)
        self.assertEqual(s[0]["layers"], {"ipsec": True, "l2tp": True, "ppp": True})
        self.L.lab.run(self.ns, "ip route replace 10.30.0.0/24 dev ppp0")
        self.assertTrue(LinuxClient.ping(client), logs())
        wait_or_dump(lambda: client.ppp_address6() is not None, 30, "a SLAAC address on ppp0", logs)
        self.assertTrue(LinuxClient.ping(client, LAN6), logs())
        # pppd ends (LCP Terminate): the tunnel, then the IKE SA, go.
        self.L.lab.stop(self.pppd)
        self.pppd = None
        wait_or_dump(lambda: not self.L.sessions() and not [t for t in self.L.ctl("l2tp", "status")["tunnels"]
                                                              if t["state"] != "closed"], 30, "all gone", logs)
        wait_or_dump(lambda: "ESTABLISHED" not in self.charon.sas(), 30, "the client's IKE SA deleted", logs)


class CertificatesBehindNat(ClientCase):
    """IKEv1 with certificates (the lab CA, made by strongSwan's pki) and a
    real NAT box in the path (nftables masquerade): the client's charon
    finds the NAT itself and floats to UDP/4500 (nothing forced), ESP in
    transport mode through NAT-T, xl2tpd and pppd inside; a revoked
    certificate is refused. The server serves the PSK beside it."""

    def setUp(self):
        self.pki = make_pki(tempfile.mkdtemp(prefix="mapgw-l2tp-pki-"))
        self.L = L2tpLab("l2nat", extra="dpd = 5\n" + server_cert_config(self.pki))
        self.natted = self.L.add_natted_client_link()
        self.direct = self.L.add_client_link()
        self.L.start()
        self.clients = []

    def client(self, link, user, cert, **kw):
        return self.new_client(link, user, pki=self.pki, cert=cert, **kw)

    def test_a_certificate_client_behind_a_nat_and_a_revoked_one(self):
        c = self.client(self.natted, "alice", "alice", refuse=("pap", "chap", "mschap"), encap=False)
        self.assertEqual(dial_in(self.L, c), "10.20.0.100")
        nat_address = "192.0.2.2"
        sas = self.L.ctl("l2tp", "status")["ipsec"]["sas"]
        self.assertEqual([(sa["auth"], sa["remote_id"], sa["host"], sa["child_sas"]) for sa in sas],
                         [("certificate", "C=JP, O=mapgw lab, CN=alice", nat_address, 1)], dump(self.L, c))
        self.assertIn("nat-local=yes", c.sas())  # the client's charon found the NAT by itself
        s = self.L.sessions()
        self.assertEqual([(x["user"], x["layers"]) for x in s], [("alice", {"ipsec": True, "l2tp": True, "ppp": True})])
        self.assertTrue(s[0]["peer"].startswith(nat_address + ":"), s)
        self.assertTrue(c.ping(), dump(self.L, c))
        self.assertEqual(tcp_transfer(self.L, c.ns, 500_000), 500_000, dump(self.L, c))

        mallory = self.client(self.direct, "bob", "mallory")
        with self.assertRaises(AssertionError):
            mallory.ipsec_up()
        wait_or_dump(lambda: "certificate was revoked" in self.L.charon_log(), 30, "the revocation in charon's log",
                     lambda: self.L.charon_log()[-3000:])
        self.assertEqual(len(self.L.ctl("l2tp", "status")["ipsec"]["sas"]), 1)

        c.hang_up()
        wait_or_dump(lambda: not self.L.sessions() and "ESTABLISHED" not in c.sas(), 60,
                     "session, tunnel and IKE SA gone", lambda: dump(self.L, c))


class ClientsBehindOneNat(ClientCase):
    """Two real clients behind the same NAT box: one public address, and
    L2TP from 1701 inside ESP for both — identical to the server but for
    the IPsec SA each came through. Each CHILD_SA marks what it decrypts
    and replies leave with that mark (vpn/l2tp/endpoint.h); one client
    hanging up takes only its own session, tunnel and IKE SA."""

    def setUp(self):
        self.L = L2tpLab("l2nat2", extra="dpd = 5\n")
        self.first = self.L.add_natted_client_link()
        self.second = self.L.add_natted_client_link(behind=self.first[0])
        self.L.start()
        self.clients = []

    def client(self, link, user):
        return self.new_client(link, user, refuse=("pap", "chap", "mschap"), encap=False)

    def test_two_clients_behind_one_nat_address_each_on_their_own_sa(self):
        self.assertTrue(self.L.ctl("l2tp", "status")["ipsec"]["sa_marks"])
        alice, bob = self.client(self.first, "alice"), self.client(self.second, "bob")
        self.assertEqual(dial_in(self.L, alice, others=[bob]), "10.20.0.100")
        self.assertEqual(dial_in(self.L, bob, others=[alice]), "10.20.0.101")
        sas = self.L.ctl("l2tp", "status")["ipsec"]["sas"]
        self.assertEqual([sa["host"] for sa in sas], ["192.0.2.2", "192.0.2.2"], dump(self.L, alice, bob))
        self.assertEqual(len({sa["port"] for sa in sas}), 2, sas)
        peers = sorted(s["peer"] for s in self.L.sessions())
        self.assertEqual(len(peers), 2)
        self.assertTrue(all(p.startswith("192.0.2.2:1701#") for p in peers), peers)  # one address, two SA marks
        self.assertNotEqual(peers[0], peers[1])
        for c in (alice, bob):
            self.assertTrue(c.ping(), dump(self.L, alice, bob))
            self.assertEqual(tcp_transfer(self.L, c.ns, 300_000), 300_000, dump(self.L, alice, bob))
        self.assertEqual(self.L.metrics().get('mapgw_l2tp_drops_total{reason="wrong_peer"}', 0), 0)
        # alice hangs up: her session, tunnel and IKE SA go; bob's stay.
        alice.hang_up()
        wait_or_dump(lambda: [s["user"] for s in self.L.sessions()] == ["bob"] and "ESTABLISHED" not in alice.sas(),
                     60, "alice's session and SA gone, bob's kept", lambda: dump(self.L, alice, bob))
        self.assertEqual(len(self.L.ctl("l2tp", "status")["ipsec"]["sas"]), 1)
        self.assertIn("ESTABLISHED", bob.sas())
        self.assertTrue(bob.ping(), dump(self.L, bob))
        bob.hang_up()
        wait_or_dump(lambda: not self.L.sessions() and "ESTABLISHED" not in bob.sas(), 60, "all gone",
                     lambda: dump(self.L, bob))


if __name__ == "__main__":
    unittest.main(verbosity=2)
