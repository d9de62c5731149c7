#!/usr/bin/python3
"""The SIP user agent against real peers (label `sip`): kamailio as the
NGN's registrar and record-routing proxy, sipp scenarios as the far end,
and mapgw instances calling each other, all over IPv6 in namespaces
(sip_lab.py draws the segment). Captures taken at the proxy check the
message shapes of TS-1017 Appendix II."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sip_lab import CERT_FP, HOSTS, PROXY6, PSK, USERS, SipLab, fragment, sdp, wait_for  # noqa: E402

sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's scapy, for the captures

A, B, C = "0311111111", "0422222222", "0333333333"
CLIENT_PSK_FP = None  # set in setUpClass: SHA-1 of PSK as our UAs print it


class SipLabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global CLIENT_PSK_FP
        import hashlib
        digest = hashlib.sha1(PSK.encode()).hexdigest().upper()
        CLIENT_PSK_FP = "SHA-1 " + ":".join(digest[i:i + 2] for i in range(0, 40, 2))
        cls.L = SipLab("siplab")
        try:
            cls.L.start_kamailio()
            L = cls.L
            # A: a password-only VPN client (registers with qop=auth).
            L.start_mapgw("ua-a", L.sip_toml("ua-a", "sip:%s@example.ne.jp" % A, USERS[A]),
                          metrics="%s:9680" % HOSTS["ua-a"][1])
            # B: a VPN server for both auth modes on port 11111, ringing
            # 1.5 s before it answers (so a caller can CANCEL); its
            # registrar challenges without qop.
            L.start_mapgw("ua-b", L.sip_toml("ua-b", "sip:%s@example.ne.jp" % B, USERS[B], roles=("server",),
                                              auth=("password", "psk"), ike_port=11111,
                                              extra="answer_delay_ms = 1500",
                                              listen=["[%s]:5060" % HOSTS["ua-b"][0],
                                                      "%s:5060" % HOSTS["ua-b"][1]]),
                          metrics="%s:9680" % HOSTS["ua-b"][1])
            # C: a PSK-only client, quick to retry its registration.
            L.start_mapgw("ua-c", L.sip_toml("ua-c", "sip:%s@example.ne.jp" % C, USERS[C], auth=("psk",),
                                              extra="register_retry_min = 1\nregister_retry_max = 4"))
            for ua in ("ua-a", "ua-b", "ua-c"):
                L.wait_registered(ua)
        except Exception:
            cls.L.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.L.teardown()

    # --- helpers -----------------------------------------------------------------------
    def sipp_answering(self, port, after="after_ack_wait_bye.xml", session_expires="300;refresher=uas",
                       timeout=60, **fields):
        defaults = {"bye_timeout_ms": "30000", "update_timeout_ms": "60000",
                    "session_expires_refreshed": session_expires}
        defaults.update(fields)
        sc = self.L.scenario("server_answers.xml", after_ack=fragment(after, **defaults),
                             session_expires=session_expires, peer6=HOSTS["peer"][0], ike_auth="a=fingerprint:" + CERT_FP,
                             proxy6=PROXY6)
        p = self.L.sipp(sc, port, uas=True, timeout=timeout)
        time.sleep(0.3)
        return p

    def sipp_calling(self, scenario, port, timeout=30, remote=None, ipv4=False, **fields):
        if "hold_ms" in fields:
            fields["after_ack"] = fragment("uac_sends_bye.xml", hold_ms=fields.pop("hold_ms"))
        sc = self.L.scenario(scenario, **fields)
        return self.L.sipp(sc, port, timeout=timeout, remote=remote, ipv4=ipv4)

    def call(self, ua, uri, role=None):
        args = ["sip", "call", uri] + (["--role", role] if role else [])
        r = self.L.ctl(ua, *args)
        self.assertIn("call", r, r)
        return r["call"]

    def wait_call(self, ua, call_id, state, timeout=10):
        wait_for(lambda: (self.L.call_of(ua, call_id) or {}).get("state") == state, timeout=timeout,
                 what="%s call %s %s" % (ua, call_id, state))
        return self.L.call_of(ua, call_id)

    def last_incoming(self, ua):
        st = self.L.sip_status(ua)
        calls = [c for c in st["calls"] + st["recent"] if c["direction"] == "incoming"]
        return max(calls, key=lambda c: int(c["id"])) if calls else None

    # --- registration ----------------------------------------------------------------------
    def test_registration_with_and_without_qop(self):
        for ua in ("ua-a", "ua-b"):
            reg = self.L.sip_status(ua)["registration"]
            self.assertEqual(reg["state"], "registered", reg)
            self.assertEqual(reg["granted"], 120)
            self.assertEqual(reg["last_status"], 200)
        log = self.L.log_of("ua-a")
        self.assertNotIn("refused", log)

    def test_wrong_password_backs_off_then_reload_recovers(self):
        L = self.L
        cfg = L.daemons["ua-c"][2]
        with open(cfg) as f:
            good = f.read()
        try:
            with open(cfg, "w") as f:
                f.write(good.replace('password = "%s"' % USERS[C], 'password = "wrong"'))
            r = L.ctl("ua-c", "reload")
            self.assertTrue(r.get("reloaded"), r)
            wait_for(lambda: L.sip_status("ua-c")["registration"].get("retry_backoff", 0) >= 2, timeout=15,
                     what="ua-c backing off")
            reg = L.sip_status("ua-c")["registration"]
            self.assertIn("refused", reg.get("last_error", ""))
        finally:
            with open(cfg, "w") as f:
                f.write(good)
            L.ctl("ua-c", "reload")
        L.wait_registered("ua-c", timeout=15)

    # --- forward calls (we are the UAC) ----------------------------------------------------------
    def test_forward_call_we_hang_up(self):
        p, trace = self.sipp_answering(5070)
        cid = self.call("ua-a", "sip:055070@example.ne.jp")
        c = self.wait_call("ua-a", cid, "established")
        # The server's port from its SDP, not 4500 (TS-1017 §4.1.2.2).
        self.assertEqual(c["ike"]["port"], 22222)
        self.assertEqual(c["ike"]["address"], HOSTS["peer"][0])
        self.assertEqual(c["ike"]["local_role"], "client")
        self.assertEqual(c["ike"]["server_certificate"], CERT_FP)
        self.assertEqual(c["session_timer"]["interval"], 300)
        self.assertEqual(c["session_timer"]["refresher"], "peer")
        self.L.ctl("ua-a", "sip", "hangup", cid)
        self.L.wait_sipp(p, trace, timeout=20)
        self.assertEqual(self.wait_call("ua-a", cid, "ended")["end_reason"], "local_hangup")

    def test_forward_call_far_end_hangs_up(self):
        p, trace = self.sipp_answering(5071, after="after_ack_send_bye.xml")
        cid = self.call("ua-a", "sip:055071@example.ne.jp")
        self.L.wait_sipp(p, trace, timeout=20)
        self.assertEqual(self.wait_call("ua-a", cid, "ended")["end_reason"], "remote_bye")

    def test_session_refresh_interval_and_missing_refresh(self):
        """Two calls at once: one where we refresh (UPDATE at 45 s of 90),
        one where the far end should and never does (BYE at 90-30 = 60 s)."""
        cap = self.L.start_capture("refresh")
        p1, t1 = self.sipp_answering(5072, after="after_ack_refresh.xml", session_expires="90;refresher=uac",
                                     timeout=120, update_timeout_ms="70000", bye_timeout_ms="30000")
        p2, t2 = self.sipp_answering(5073, session_expires="90;refresher=uas", timeout=120,
                                     bye_timeout_ms="80000")
        c1 = self.call("ua-a", "sip:055072@example.ne.jp")
        c2 = self.call("ua-a", "sip:055073@example.ne.jp")
        self.wait_call("ua-a", c1, "established")
        self.wait_call("ua-a", c2, "established")
        self.assertEqual(self.L.call_of("ua-a", c1)["session_timer"]["refresher"], "us")
        self.wait_call("ua-a", c2, "ended", timeout=75)
        self.assertEqual(self.L.call_of("ua-a", c2)["end_reason"], "session_expired")
        self.L.ctl("ua-a", "sip", "hangup", c1)
        self.L.wait_sipp(p1, t1, timeout=30)
        self.L.wait_sipp(p2, t2, timeout=30)
        pcap = self.L.stop_capture(cap)
        msgs = sip_messages(pcap)
        ack1 = first(msgs, "ACK", port=5072)
        upd = first(msgs, "UPDATE", port=5072)
        ack2 = first(msgs, "ACK", port=5073)
        bye2 = first(msgs, "BYE", port=5073)
        self.assertAlmostEqual(upd.time - ack1.time, 45, delta=2, msg="refresh at half of 90 s")
        self.assertAlmostEqual(bye2.time - ack2.time, 60, delta=2, msg="BYE at 90 - min(32, 30) s")

    # --- reverse calls (we are the UAS) ------------------------------------------------------------
    def test_incoming_call_answered_by_the_server(self):
        uri = "tel:%s;phone-context=example.ne.jp" % B
        p, trace = self.sipp_calling("client_calls.xml", 5080, request_uri=uri, hold_ms="500",
                                     sdp=sdp("active", port=33333), ike_port="11111",
                                     answer_check="a=fingerprint:%s" % CERT_FP)
        self.L.wait_sipp(p, trace, timeout=20)
        c = self.last_incoming("ua-b")
        self.assertEqual(c["end_reason"], "remote_bye")
        self.assertEqual(c["ike"]["port"], 33333)  # whatever port the offer names
        self.assertEqual(c["ike"]["local_role"], "server")
        self.assertEqual(c["peer"], "sip:055080@example.ne.jp")

    def test_incoming_psk_call(self):
        p, trace = self.sipp_calling("client_calls.xml", 5081, request_uri="sip:%s@example.ne.jp" % B,
                                     hold_ms="200",
                                     sdp=sdp("active", extra="a=psk-fingerprint:%s\n" % CLIENT_PSK_FP),
                                     ike_port="11111", answer_check="a=psk-fingerprint:SHA-1 ")
        self.L.wait_sipp(p, trace, timeout=20)
        c = self.last_incoming("ua-b")
        self.assertEqual(c["ike"]["auth"], "psk")
        self.assertEqual(c["ike"]["peer_psk"], CLIENT_PSK_FP)

    def test_ipv4_peer_calls_directly(self):
        """Outer IPv4 (TS-1017 §3.3.1): a peer without the proxy, over IPv4;
        the answer's c= is IPv4 too."""
        v4 = "%s:5060" % HOSTS["ua-b"][1]
        p, trace = self.sipp_calling("client_calls.xml", 5083, request_uri="sip:%s@%s" % (B, v4), hold_ms="200",
                                     sdp=sdp("active", ipv4=True),
                                     ike_port="11111", answer_check="c=IN IP4 %s" % HOSTS["ua-b"][1],
                                     remote=v4, ipv4=True)
        self.L.wait_sipp(p, trace, timeout=20)
        c = self.last_incoming("ua-b")
        self.assertEqual(c["end_reason"], "remote_bye")
        self.assertEqual(c["ike"]["family"], "ipv4")
        self.assertEqual(c["ike"]["address"], HOSTS["peer"][1])

    def test_cancel_before_answer(self):
        p, trace = self.sipp_calling("client_cancels.xml", 5082, callee=B, sdp=sdp("active"))
        self.L.wait_sipp(p, trace, timeout=20)
        self.assertEqual(self.last_incoming("ua-b")["end_reason"], "cancelled_remote")

    def test_offers_refused_with_488(self):
        fp = "a=fingerprint:%s\n" % CERT_FP
        psk = "a=psk-fingerprint:%s\n" % CLIENT_PSK_FP
        cases = [
            # (callee, offer, reason label, clause)
            (B, sdp("active", medias=2), "media_count", "TS-1017 §4.1.2"),
            (B, sdp("active", port=500, proto="ike-esp"), "ike_esp", "TS-1017 §4.1.2.1"),
            (A, sdp("active"), "role_unsupported", "TS-1017 §4.1.2.4"),  # client-only offered active
            (B, sdp("passive", extra=fp), "role_unsupported", "TS-1017 §4.1.2.4"),  # server-only, passive
            (C, sdp("passive", extra=fp), "password_unsupported", "TS-1017 §4.1.2.5"),  # PSK-only
            (A, sdp("passive", extra=psk), "psk_unsupported", "TS-1017 §4.1.2.6"),  # password-only
        ]
        ua_of = {A: "ua-a", B: "ua-b", C: "ua-c"}
        for i, (callee, offer, reason, clause) in enumerate(cases):
            with self.subTest(reason=reason, callee=callee):
                p, trace = self.sipp_calling("client_refused.xml", 5090 + i, callee=callee, sdp=offer,
                                             code="488", check="Warning: 399 [^ ]+ .%s \\(%s\\)" % (reason, clause))
                self.L.wait_sipp(p, trace, timeout=20)
                self.assertEqual(self.last_incoming(ua_of[callee])["end_reason"], "sdp_rejected_" + reason)

    # --- two mapgw instances ------------------------------------------------------------------------
    def test_two_mapgw_forward_and_reverse(self):
        cap = self.L.start_capture("mapgw-pair")
        cid = self.call("ua-a", "tel:%s;phone-context=example.ne.jp" % B)
        a = self.wait_call("ua-a", cid, "established")
        b = self.last_incoming("ua-b")
        wait_for(lambda: self.last_incoming("ua-b")["state"] == "established", timeout=10, what="B established")
        b = self.last_incoming("ua-b")
        self.assertEqual(a["ike"]["port"], 11111)
        self.assertEqual(a["ike"]["server_certificate"], CERT_FP)
        self.assertEqual(b["ike"]["port"], 4500)
        self.assertEqual(b["ike"]["address"], HOSTS["ua-a"][0])
        self.assertEqual(b["peer"], "sip:%s@example.ne.jp" % A)  # from the proxy's P-Asserted-Identity
        self.L.ctl("ua-a", "sip", "hangup", cid)
        self.wait_call("ua-a", cid, "ended")
        # Reverse connection (TS-1017 §3.2): the server calls the client back.
        rid = self.call("ua-b", "sip:%s@example.ne.jp" % A, role="server")
        r = self.wait_call("ua-b", rid, "established")
        self.assertEqual(r["ike"]["local_role"], "server")
        back = self.last_incoming("ua-a")
        self.assertEqual(back["ike"]["local_role"], "client")
        self.assertEqual(back["ike"]["server_certificate"], CERT_FP)
        self.L.ctl("ua-a", "sip", "hangup", back["id"])
        self.wait_call("ua-b", rid, "ended")
        pcap = self.L.stop_capture(cap)
        msgs = sip_messages(pcap)
        inv = first(msgs, "INVITE", src=HOSTS["ua-a"][0], with_auth=True)
        for h in ("Supported: timer", "Session-Expires: 300", "Allow: INVITE, ACK, BYE, CANCEL, UPDATE",
                  "Content-Type: application/sdp", "Route: <sip:[%s]:5060;lr>" % PROXY6,
                  "Proxy-Authorization: Digest"):
            self.assertIn(h, inv.text, "II.1.1 F1: " + h)
        for line in ("m=application 4500 udp ike-esp-udpencap", "a=ike-setup:active",
                     "c=IN IP6 %s" % HOSTS["ua-a"][0]):
            self.assertIn(line, inv.text, "II.1.1 F1 SDP: " + line)
        ok = first(msgs, "SIP/2.0 200", src=HOSTS["ua-b"][0], cseq="INVITE")
        for h in ("Require: timer", "Session-Expires: 300;refresher=uas", "a=ike-setup:passive",
                  "a=fingerprint:" + CERT_FP, "m=application 11111 udp ike-esp-udpencap",
                  "Record-Route: <sip:[%s];lr" % PROXY6):
            self.assertIn(h, ok.text, "II.1.1 F5: " + h)
        # Record-Route honoured: ACK and BYE go through the proxy with its Route.
        # (CSeq 2: the INVITE that answered the 407; CSeq 1's ACK is the
        # transaction's own, for the 407.)
        for method, cseq in (("ACK", "CSeq: 2 ACK"), ("BYE", "CSeq: 3 BYE")):
            m = first(msgs, method, src=HOSTS["ua-a"][0], contains=cseq)
            self.assertIn("Route: <sip:[%s];lr" % PROXY6, m.text, method)
            self.assertTrue(m.request_line.startswith("%s sip:" % method), m.request_line)

    # --- the dashboard's VPN row, against a real Prometheus (after the calls above) -------------
    def test_zy_dashboard_vpn_row(self):
        query = self.L.start_prometheus(["%s:9680" % HOSTS["ua-a"][1], "%s:9680" % HOSTS["ua-b"][1]])
        # A refused offer now, between two scrapes, so increase() sees it.
        pr, tr = self.sipp_calling("client_refused.xml", 5098, callee=B, sdp=sdp("active", medias=2),
                                   code="488", check="media_count")
        self.L.wait_sipp(pr, tr, timeout=20)
        time.sleep(4)
        by_title = {}
        # The SIP-VPN panels are the sipvpn lab's (tests/vpn): these user
        # agents run no charon.
        for panel in [p for p in self.L.vpn_row_panels("SIP") if not p["title"].startswith("SIP-VPN")]:
            for t in panel["targets"]:
                series = query(t["expr"])
                self.assertTrue(series, "no series for %r (%s)" % (panel["title"], t["expr"]))
                values = [float(s["value"][1]) for s in series]
                self.assertTrue(all(v >= 0 and v == v for v in values), (panel["title"], values))
                by_title.setdefault(panel["title"], []).extend(series)
        states = {(s["metric"]["instance"], s["metric"]["state"]) for s in by_title["SIP registration"]
                  if "state" in s["metric"]}
        self.assertIn(("%s:9680" % HOSTS["ua-b"][1], "registered"), states)
        refused = {s["metric"]["reason"]: float(s["value"][1]) for s in by_title["SIP offers refused (488) by TS-1017 rule"]
                   if s["metric"].get("instance", "").startswith(HOSTS["ua-b"][1])}
        self.assertGreater(refused["media_count"], 0)

    # --- un-registration (last: it stops C) -------------------------------------------------------------
    def test_zz_unregister_on_stop(self):
        self.L.stop_mapgw("ua-c")
        p, trace = self.sipp_calling("client_refused.xml", 5099, callee=C, sdp=sdp("passive"), code="404",
                                     check="SIP/2.0 404")
        self.L.wait_sipp(p, trace, timeout=20)


# --- captures ---------------------------------------------------------------------------------
class Msg:
    def __init__(self, t, src, dst, sport, dport, text):
        self.time, self.src, self.dst, self.sport, self.dport, self.text = t, src, dst, sport, dport, text
        self.request_line = text.split("\r\n", 1)[0]


def sip_messages(pcap):
    from scapy.all import IPv6, UDP, rdpcap
    out = []
    for pkt in rdpcap(pcap):
        if IPv6 in pkt and UDP in pkt:
            out.append(Msg(float(pkt.time), pkt[IPv6].src, pkt[IPv6].dst, pkt[UDP].sport, pkt[UDP].dport,
                           bytes(pkt[UDP].payload).decode("utf-8", "replace")))
    return out


def first(msgs, start, src=None, port=None, cseq=None, with_auth=False, contains=None):
    for m in msgs:
        if not m.request_line.startswith(start):
            continue
        if src and m.src != src:
            continue
        if port and port not in (m.sport, m.dport):
            continue
        if cseq and not any(l.startswith("CSeq:") and l.endswith(" " + cseq) for l in m.text.split("\r\n")):
            continue
        if with_auth and "Proxy-Authorization" not in m.text:
            continue
        if contains and contains not in m.text:
            continue
        return m
    seen = "\n".join("%.3f %s:%d > %s:%d %s" % (m.time, m.src, m.sport, m.dst, m.dport, m.request_line)
                     for m in msgs)
    raise AssertionError("no %s%s%s in the capture:\n%s" % (start, " from " + src if src else "",
                                                            " on port %s" % port if port else "", seen))


if __name__ == "__main__":
    unittest.main(verbosity=2)
