#!/usr/bin/python3
"""SIP-VPN against foreign peers (label `sipvpn`): sipp speaking TS-1017's
SIP and a plain charon configured with swanctl, as another vendor's
endpoint would be, on the far side of kamailio; and peers that misbehave.

    our client (ua-a)  →  sipp answering + plain charon responder (peer)
    sipp calling + plain charon initiator (peer)  →  our server (ua-b)
    a server that answers and never speaks IKE, one whose SDP names an
    address nobody has, a client that never starts IKE, a client that
    calls over and over: each costs a named failure and leaves nothing
    behind in charon."""
import hashlib
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sip", "lab"))
from sip_lab import HOSTS, PROXY6, PSK, USERS, SipLab, fragment, sdp, wait_for  # noqa: E402
from sipvpn_lab import (CLIENT, SERVER, SERVER_LAN, add_server_lan, connect_up, ping_from, sipvpn_toml,  # noqa: E402
                        tunnel_of, wait_ready)
from plain_charon import PlainCharon, loaded_connections, psk_connection, psk_secret, swanctl_text  # noqa: E402

FOREIGN_LAN = "10.20.0.1"
PSK_FP = "SHA-1 " + ":".join(hashlib.sha1(PSK.encode()).hexdigest().upper()[i:i + 2] for i in range(0, 40, 2))
IKE_TIMEOUT = 8


def foreign_server_conf(sip_port):
    """A TS-1017 server as swanctl.conf: responder on the NAT-T port its
    SDP announces (22222), PSK, a pool and DNS of its own network."""
    me, client = "05%d@example.ne.jp" % sip_port, "%s@example.ne.jp" % CLIENT
    return swanctl_text({
        "connections": {"ngn": psk_connection(HOSTS["peer"][0], me, client,
                                              {"ngn": {"local_ts": "10.20.0.0/24", "esp_proposals": "aes256-sha256"}},
                                              pools="lan")},
        "pools": {"lan": {"addrs": "10.20.0.100-10.20.0.150", "dns": "10.20.0.53"}},
        "secrets": {"ike-ngn": psk_secret([me, client], PSK)},
    })


def foreign_client_conf(sip_port):
    """A TS-1017 client as swanctl.conf: initiator from 22222 to our
    server's SDP port 11111, asking for a virtual IP, PFS on its rekeys
    (which a TS-1017 server accepts) every 6 s."""
    me, server = "05%d@example.ne.jp" % sip_port, "%s@example.ne.jp" % SERVER
    child = {"ngn": {"remote_ts": "0.0.0.0/0", "esp_proposals": "aes128-sha256-modp2048", "rekey_time": "6s",
                     "life_time": "30s", "rand_time": "0s"}}
    return swanctl_text({
        "connections": {"ngn": psk_connection(HOSTS["peer"][0], me, server, child, remote_addrs=HOSTS["ua-b"][0],
                                              local_port="22222", remote_port="11111", vips="0.0.0.0")},
        "secrets": {"ike-ngn": psk_secret([me, server], PSK)},
    })


class SipVpnInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.L = SipLab("sipvpi")
        try:
            L = cls.L
            L.start_kamailio()
            add_server_lan(L)
            add_server_lan(L, host="peer", lan4=FOREIGN_LAN, lan6="fd00:20::1")
            L.start_mapgw("ua-b", L.sip_toml("ua-b", "sip:%s@example.ne.jp" % SERVER, USERS[SERVER],
                                              roles=("server",), auth=("psk",), ike_port=11111)
                          + sipvpn_toml(L, "b", True, ike_timeout=IKE_TIMEOUT) + "delete_timeout = 10\n")
            L.start_mapgw("ua-a", L.sip_toml("ua-a", "sip:%s@example.ne.jp" % CLIENT, USERS[CLIENT],
                                              auth=("psk",), ike_port=22222)
                          + sipvpn_toml(L, "a", False, ike_timeout=IKE_TIMEOUT))
            wait_ready(L, ("ua-a", "ua-b"))
        except Exception:
            cls.L.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.L.teardown()

    def tunnel(self, ua, call=None):
        return tunnel_of(self.L, ua, call)

    def sipp_answering(self, port, peer6=None):
        """sipp as a foreign server's SIP side: answers with a passive PSK
        endpoint on port 22222, then waits for our BYE."""
        sc = self.L.scenario("server_answers.xml", after_ack=fragment("after_ack_wait_bye.xml", bye_timeout_ms="40000"),
                             session_expires="300;refresher=uas", peer6=peer6 or HOSTS["peer"][0],
                             ike_auth="a=psk-fingerprint:" + PSK_FP, proxy6=PROXY6)
        p = self.L.sipp(sc, port, uas=True, timeout=60)
        time.sleep(0.3)
        return p

    def sipp_calling(self, port, after, calls=1, rate=None):
        """sipp as a foreign client's SIP side, calling our server."""
        sc = self.L.scenario("client_calls.xml", request_uri="sip:%s@example.ne.jp" % SERVER,
                             sdp=sdp("active", port=22222, extra="a=psk-fingerprint:%s\n" % PSK_FP),
                             ike_port="11111", answer_check="a=psk-fingerprint:" + PSK_FP, after_ack=after)
        return self.L.sipp(sc, port, calls=calls, rate=rate, timeout=60)

    def no_connection_left(self, ua, name):
        run_dir = "%s/charon-%s" % (self.L.dir, name)
        wait_for(lambda: not [c for c in loaded_connections(run_dir, self.L.ns[ua], self.L.lab)
                              if c.startswith("sipvpn-")],
                 timeout=10, what="%s's charon holds no SIP-VPN connection" % ua)

    # --- interop -----------------------------------------------------------------------------------
    def test_our_client_with_a_foreign_server(self):
        L = self.L
        pc = PlainCharon(L.lab, L.ns["peer"], os.path.join(L.dir, "pc-server"), 22222, foreign_server_conf(5090))
        try:
            p, trace = self.sipp_answering(5090)
            call = connect_up(L, "ua-a", "sip:055090@example.ne.jp", timeout=20)
            t = self.tunnel("ua-a", call)
            self.assertEqual(t["remote"], "[%s]:22222" % HOSTS["peer"][0])
            self.assertEqual(t["remote_networks"], ["10.20.0.0/24"])
            self.assertTrue(t["virtual_ips"][0].startswith("10.20.0."), t)
            wait_for(lambda: ping_from(L, FOREIGN_LAN), timeout=10, what="ping the foreign server's LAN")
            self.assertEqual(L.ctl("ua-a", "vpn", "status")["received_dns"], ["10.20.0.53"])
            self.assertIn("ESTABLISHED", pc.sas())
            L.ctl("ua-a", "vpn", "disconnect", call)
            L.wait_sipp(p, trace, timeout=20)  # our BYE arrived
            wait_for(lambda: "ESTABLISHED" not in pc.sas(), timeout=10, what="the foreign IKE SA deleted")
            self.assertIn("deleting IKE_SA", pc.log())  # our INFORMATIONAL delete, not a timeout
            self.no_connection_left("ua-a", "a")
        finally:
            pc.stop()

    def test_foreign_client_with_our_server(self):
        L = self.L
        pc = PlainCharon(L.lab, L.ns["peer"], os.path.join(L.dir, "pc-client"), 22222, foreign_client_conf(5091))
        try:
            rekeys = L.ctl("ua-b", "vpn", "status")["counters"]["child_rekeys"]
            hold = 16.0
            p, trace = self.sipp_calling(5091, fragment("uac_sends_bye.xml", hold_ms=str(int(hold * 1000))))
            wait_for(lambda: any(t["state"] == "connecting" for t in L.ctl("ua-b", "vpn", "status")["tunnels"]),
                     timeout=10, what="our server's connection loaded")
            acked = time.monotonic()
            pc.swanctl("--initiate", "--child", "ngn", "--timeout", "10")
            wait_for(lambda: any(t["state"] == "up" for t in L.ctl("ua-b", "vpn", "status")["tunnels"]),
                     timeout=5, what="our server's tunnel up")
            up = [t for t in L.ctl("ua-b", "vpn", "status")["tunnels"] if t["state"] == "up"]
            self.assertEqual(len(up), 1)
            self.assertEqual(up[0]["remote"], "[%s]:22222" % HOSTS["peer"][0])
            self.assertEqual(up[0]["peer"], "sip:055091@example.ne.jp")
            wait_for(lambda: ping_from(L, SERVER_LAN, ns="peer"), timeout=10, what="ping our server's LAN")
            # The foreign client rekeys with PFS: our server takes it.
            wait_for(lambda: L.ctl("ua-b", "vpn", "status")["counters"]["child_rekeys"] > rekeys, timeout=12,
                     what="a CHILD_SA rekey with PFS")
            self.assertTrue(ping_from(L, SERVER_LAN, ns="peer"), "ping after the PFS rekey")
            self.assertIn("parsed CREATE_CHILD_SA response", pc.log())
            self.assertRegex(pc.log(), r"generating CREATE_CHILD_SA request \d+ \[ N\(REKEY_SA\) SA No KE ")
            # TS-1017 §4.2 from the foreign side: IKE delete, then its BYE.
            time.sleep(max(0.0, acked + hold - 3 - time.monotonic()))
            pc.swanctl("--terminate", "--ike", "ngn")
            L.wait_sipp(p, trace, timeout=30)
            call = up[0]["call"]
            wait_for(lambda: self.tunnel("ua-b", call)["state"] == "down", timeout=10, what="server tunnel down")
            self.assertEqual(self.tunnel("ua-b", call)["end_reason"], "remote_bye")
            self.no_connection_left("ua-b", "b")
        finally:
            pc.stop()

    def test_unanswered_delete_still_ends_with_bye(self):
        """TS-1017 §4.2: no answer to our IKE delete (the foreign server's
        charon frozen) → the BYE goes anyway after delete_timeout."""
        L = self.L
        pc = PlainCharon(L.lab, L.ns["peer"], os.path.join(L.dir, "pc-frozen"), 22222, foreign_server_conf(5097))
        try:
            p, trace = self.sipp_answering(5097)
            call = connect_up(L, "ua-a", "sip:055097@example.ne.jp", timeout=20)
            os.kill(pc.proc.pid, signal.SIGSTOP)
            t0 = time.monotonic()
            L.ctl("ua-a", "vpn", "disconnect", call)
            L.wait_sipp(p, trace, timeout=20)  # the BYE came
            waited = time.monotonic() - t0
            self.assertGreaterEqual(waited, 4.5, "the BYE waited for the delete's answer (delete_timeout 5 s)")
            self.assertEqual(L.call_of("ua-a", call)["end_reason"], "local_hangup")
            self.no_connection_left("ua-a", "a")
        finally:
            os.kill(pc.proc.pid, signal.SIGCONT)
            pc.stop()

    # --- hostile and broken peers -----------------------------------------------------------------
    def test_server_that_never_speaks_ike(self):
        """The far end answers the call; nothing answers IKE: the call
        ends after ike_timeout with its BYE, counted, nothing left."""
        L = self.L
        before = L.ctl("ua-a", "vpn", "status")["counters"]["failures"].get("ike_timeout", 0)
        p, trace = self.sipp_answering(5092)
        call = L.ctl("ua-a", "vpn", "connect", "sip:055092@example.ne.jp")["call"]
        L.wait_sipp(p, trace, timeout=IKE_TIMEOUT + 15)  # the BYE came
        self.assertEqual(self.tunnel("ua-a", call)["end_reason"], "ike_timeout")
        self.assertEqual(L.ctl("ua-a", "vpn", "status")["counters"]["failures"]["ike_timeout"], before + 1)
        self.no_connection_left("ua-a", "a")

    def test_sdp_names_an_unreachable_address(self):
        L = self.L
        p, trace = self.sipp_answering(5093, peer6="2001:db8:99::1")
        call = L.ctl("ua-a", "vpn", "connect", "sip:055093@example.ne.jp")["call"]
        L.wait_sipp(p, trace, timeout=IKE_TIMEOUT + 15)
        self.assertEqual(self.tunnel("ua-a", call)["end_reason"], "ike_timeout")
        self.no_connection_left("ua-a", "a")

    def test_client_that_never_starts_ike(self):
        """A caller that completes the SIP call and never initiates IKE:
        our server ends the call after ike_timeout."""
        L = self.L
        p, trace = self.sipp_calling(5094, fragment("after_ack_wait_bye.xml", bye_timeout_ms="30000"))
        L.wait_sipp(p, trace, timeout=IKE_TIMEOUT + 15)
        last = max(L.ctl("ua-b", "vpn", "status")["tunnels"], key=lambda t: int(t["call"]))
        self.assertEqual(last["end_reason"], "ike_timeout")
        self.no_connection_left("ua-b", "b")

    def test_peer_calling_over_and_over(self):
        """20 calls at 4/s, each hung up 50 ms after its ACK (one at a time:
        a call while the last one's tunnel is still set up gets 486): all
        answered, all torn down, no connection left in charon."""
        L = self.L
        p, trace = self.sipp_calling(5095, fragment("uac_sends_bye.xml", hold_ms="50"), calls=20, rate=4)
        L.wait_sipp(p, trace, timeout=40)
        wait_for(lambda: all(t["state"] == "down" for t in L.ctl("ua-b", "vpn", "status")["tunnels"]),
                 timeout=10, what="every tunnel down")
        self.no_connection_left("ua-b", "b")
        self.assertTrue(L.ctl("ua-b", "vpn", "status")["charon"]["state"] == "up")


if __name__ == "__main__":
    unittest.main(verbosity=2)
