#!/usr/bin/python3
"""Operability in the CE + BR lab: a real Prometheus scrapes both daemons,
and every PromQL expression of dashboards/mapgw.json must return at least
one series with plausible values while traffic runs."""
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import MAPGW, REPO, SYS_PYTHON, TRAFFIC, Lab, LabCase, ctl, require, wait_for  # noqa: E402
from topology import INET, V6PLUS, CeBrCase, CeBrLab  # noqa: E402

DASHBOARD = os.path.join(REPO, "dashboards", "mapgw.json")
SIP_BESIDE_CE = """
[sip]
aor = "sip:0311111111@example.ne.jp"
listen = ["[2001:db8:c0::2]:5060"]
"""
PROMETHEUS = "/usr/bin/prometheus"


def dashboard_exprs():
    with open(DASHBOARD) as f:
        d = json.load(f)
    out = []
    for p in d["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    return out


class MetricsAndDashboard(LabCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require(os.path.exists(MAPGW), "a built mapgw")
        require(os.path.exists(PROMETHEUS), "the prometheus server (Debian package prometheus)")
        cls.lab = Lab("mgwops")
        try:
            # The SIP user agent beside the CE role, on the WAN (no registrar).
            cls.topo = CeBrLab(cls.lab, V6PLUS, monitoring=True, ce_tables=SIP_BESIDE_CE)
            cls.socket = cls.topo.ce_sock
            cls.promdir = tempfile.mkdtemp(prefix="mapgw-prom-")
            cfg = os.path.join(cls.promdir, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        "scrape_configs:\n  - job_name: mapgw\n    static_configs:\n"
                        "      - targets: ['%s', '%s']\n" % (cls.topo.ce_metrics, cls.topo.br_metrics))
            cls.prom = cls.lab.spawn(cls.topo.mon, [PROMETHEUS, "--config.file=" + cfg,
                                                   "--storage.tsdb.path=" + os.path.join(cls.promdir, "data"),
                                                   "--web.listen-address=127.0.0.1:9090"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(lambda: cls.query("up")["result"], timeout=30, what="prometheus up")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.teardown()
        if hasattr(cls, "topo"):
            cls.topo.cleanup()
        if hasattr(cls, "promdir"):
            subprocess.run(["rm", "-rf", cls.promdir])

    @classmethod
    def query(cls, expr):
        url = "http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote(expr)
        out = cls.lab.run(cls.topo.mon, [SYS_PYTHON, "-c",
                                        "import urllib.request,sys;sys.stdout.write(urllib.request.urlopen(%r, timeout=5).read().decode())" % url],
                          capture=True)
        reply = json.loads(out)
        assert reply["status"] == "success", reply
        return reply["data"]

    def test_every_dashboard_expression_returns_plausible_series(self):
        t = self.topo
        # Both targets scraped and up.
        wait_for(lambda: len([r for r in self.query("up")["result"] if r["value"][1] == "1"]) == 2,
                 timeout=30, what="both mapgw targets up")
        srv = self.lab.spawn(t.inet, ["iperf3", "-s", "-1", "-B", INET[0]], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.lab.run(t.lan, ["iperf3", "-c", INET[0], "-t", "6", "-b", "20M"], capture=True, timeout=60)
        self.lab.run(t.lan, "ping -c 3 -i 0.2 %s" % INET[1], check=False)
        self.lab.run(t.lan, [SYS_PYTHON, TRAFFIC, "udp-ask", "192.168.1.10", "40000", INET[2] + ":9"],
                     check=False, capture=True)
        time.sleep(4)  # a few more scrapes
        checked = []
        for title, expr in dashboard_exprs():
            data = self.query(expr)
            series = data["result"]
            self.assertGreater(len(series), 0, "no series for %r (%s)" % (title, expr))
            values = [float(s["value"][1]) for s in series]
            self.assertTrue(all(math.isfinite(v) and v >= 0 for v in values),
                            "implausible values for %r: %s" % (title, values))
            checked.append((title, expr, len(series), max(values)))
        by_title = {}
        for title, _, _, mx in checked:
            by_title[title] = max(by_title.get(title, 0), mx)
        self.assertGreater(by_title["Throughput (forwarded bits/s)"], 1e6)
        self.assertGreater(by_title["NAT sessions by protocol"], 0)
        self.assertGreater(by_title["Port-set use"], 0)
        self.assertLessEqual(by_title["Port-set use"], 1)
        self.assertEqual(by_title["MAP rules"], 1)
        print("\n%d dashboard expressions checked against Prometheus:" % len(checked), file=sys.stderr)
        for title, expr, n, mx in checked:
            print("  %-45s %3d series, max %.3g" % (title[:45], n, mx), file=sys.stderr)
        self.lab.stop(srv)

    def test_sip_beside_the_ce_role(self):
        """One daemon, a MAP role and the SIP service: both answer."""
        t = self.topo
        st = ctl(self.socket, "status")
        self.assertEqual(st["role"], "ce")
        self.assertEqual(st["sip"]["state"], "off")  # no registrar configured
        sip = ctl(self.socket, "sip", "status")
        self.assertEqual(sip["listen"], ["[2001:db8:c0::2]:5060"])
        options = ("OPTIONS sip:0311111111@[2001:db8:c0::2] SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP [2001:db8:c0::1]:5070;branch=z9hG4bKops1\r\n"
                   "From: <sip:ops@example.ne.jp>;tag=1\r\nTo: <sip:0311111111@example.ne.jp>\r\n"
                   "Call-ID: ops-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        script = ("import socket,sys\ns=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
                  "s.bind(('2001:db8:c0::1',5070)); s.settimeout(5)\n"
                  "s.sendto(sys.stdin.buffer.read(),('2001:db8:c0::2',5060))\n"
                  "print(s.recv(65535).decode().split('\\r\\n')[0])\n")
        r = subprocess.run(["ip", "netns", "exec", t.core, SYS_PYTHON, "-c", script], input=options.encode(),
                           capture_output=True, timeout=20)
        self.assertEqual(r.stdout.decode().strip(), "SIP/2.0 200 OK", r.stderr.decode())

    def test_metric_names_follow_conventions(self):
        names = self.query('group by (__name__) ({__name__=~"mapgw_.*"})')["result"]
        names = {r["metric"]["__name__"] for r in names}
        self.assertIn("mapgw_datapath_packets_total", names)
        for n in names:
            self.assertTrue(n.startswith("mapgw_"), n)
        counters = {r["metric"]["counter"] for r in self.query("mapgw_datapath_packets_total")["result"]}
        self.assertIn("drop_nat_exhausted", counters)
        self.assertIn("br_encap", counters)


def renumber(lab, t):
    """The NGN renumbers the CE: the new /56 is routed to it, the /64 on its
    WAN changes (240b:10:abcd:ef00 -> ee00: PSID 0xEF -> 0xEE)."""
    new_eup = "240b:10:abcd:ee00::/56"
    lab.run(t.core, "ip -6 route add %s via 2001:db8:c0::2" % new_eup)
    lab.run(t.br, "ip -6 route add %s via 2001:db8:b0::1" % new_eup)
    lab.run(t.ce, "ip -6 addr add 240b:10:abcd:ee00::1/64 dev wan0 nodad && "
                  "ip -6 addr del 240b:10:abcd:ef00::1/64 dev wan0")


class LiveEndUserPrefix(CeBrCase, unittest.TestCase):
    """The CE follows a new End-user prefix on its WAN interface (book §6.2:
    the NGN can renumber) without a restart."""

    LAB_TAG = "mgwpfx"

    @classmethod
    def topology_args(cls):
        return (V6PLUS,), {"auto_prefix": True}

    def test_prefix_change_under_traffic(self):
        t, lab = self.topo, self.lab
        st = ctl(t.ce_sock, "status")
        self.assertEqual((st["end_user_prefix"], st["psid"]), ("240b:10:abcd:ef00::/64", 0xEF))
        echo = self.traffic_bg(t.inet, "udp-echo", INET[1], 5005, 60)
        sink = self.traffic_bg(t.inet, "udp-sink", INET[2], 6001, 14)
        udp = lab.spawn(t.lan, [SYS_PYTHON, TRAFFIC, "udp-seq", "192.168.1.10", "41001",
                                INET[2] + ":6001", "100", "10"], stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        self.assertGreater(ctl(t.ce_sock, "status")["sessions"], 0)
        renumber(lab, t)
        wait_for(lambda: ctl(t.ce_sock, "status")["psid"] == 0xEE, timeout=10, what="new PSID")
        st = ctl(t.ce_sock, "status")
        self.assertEqual(st["end_user_prefix"], "240b:10:abcd:ee00::/64")
        self.assertEqual(st["ce_ipv6_address"], "240b:10:abcd:ee00:6a:48ab:cd00:ee00")
        self.assertEqual(st["prefix_changes"], 1)
        self.assertGreater(st["sessions_flushed"], 0)
        # Traffic goes on, from ports of the new set.
        sn = self.sniff(t.inet, "eth0", "udp and dst port 5005", 1)
        out = self.traffic(t.lan, "udp-ask", "192.168.1.10", 40005, INET[1] + ":5005")
        self.assertIn('"from": "%s:5005"' % INET[1], out)
        (f,) = self.sniffed(sn)
        port = f["UDP"].sport
        self.assertEqual((port >> 4) & 0xFF, 0xEE, "source port %d is not of the new PSID" % port)
        udp.communicate(timeout=30)
        lab.procs.remove(udp)
        got = json.loads(sink.communicate(timeout=30)[0].strip().split("\n")[-1])
        lab.procs.remove(sink)
        self.assertGreater(got["max_seq"], 900, "the UDP flow did not continue after the change: %s" % got)
        print("\nprefix change: %d datagrams of 1000 arrived across it (missing: %s)" %
              (got["unique"], got["missing"][:10]), file=sys.stderr)
        lab.stop(echo)


class EndUserPrefixChangedWhileStopped(CeBrCase, unittest.TestCase):
    """The attack run: a CE restarted with another End-user prefix over its
    pinned maps adopted the old sessions, whose ports lie outside the new
    set (every such flow black-holed while it stayed active). The start
    path must flush them, as the live path does."""

    LAB_TAG = "mgwpfs"

    @classmethod
    def topology_args(cls):
        return (V6PLUS,), {"auto_prefix": True}

    def test_adopted_sessions_of_another_mapping_are_flushed(self):
        t, lab = self.topo, self.lab
        for port in range(41010, 41014):
            self.traffic(t.lan, "udp-seq", "192.168.1.10", port, INET[2] + ":6002", 10, 0.2)
        self.assertGreaterEqual(len(ctl(t.ce_sock, "sessions")["sessions"]), 4)
        self.assertEqual(lab.stop(t.ce_daemon), 0)  # on_stop = "keep": the sessions stay pinned
        renumber(lab, t)
        # The static NAPT port belongs to the old set: the operator drops it.
        with open(t.ce_cfg) as f:
            text = f.read()
        with open(t.ce_cfg, "w") as f:
            f.write(re.sub(r"\[\[ce\.static_napt\]\]\n(?:\w+ = .*\n){3}", "", text))
        t.ce_daemon = t.start(t.ce, t.ce_cfg, t.ce_sock)
        st = ctl(t.ce_sock, "status")
        self.assertEqual(st["psid"], 0xEE)
        self.assertGreaterEqual(st["sessions_flushed"], 4)
        for s in ctl(t.ce_sock, "sessions")["sessions"]:
            port = int(s["outside"].rsplit(":", 1)[1])
            self.assertEqual((port >> 4) & 0xFF, 0xEE, "adopted session %s outside the new set" % s)


class NatLogToFile(CeBrCase, unittest.TestCase):
    """The NAT log (book §5.3.2, RFC 6302 fields) written as JSON lines."""

    LAB_TAG = "mgwlog"

    @classmethod
    def topology_args(cls):
        cls.logdir = os.path.join(cls.lab.state_dir, "natlog")
        os.makedirs(cls.logdir)
        cls.logfile = os.path.join(cls.logdir, "nat.jsonl")
        return (V6PLUS,), {"ce_tables": '[ce.nat_log]\nenabled = true\nsessions = true\n'
                                         'destination = "file:%s"\n' % cls.logfile}

    def test_bindings_and_sessions_are_logged(self):
        t = self.topo
        echo = self.traffic_bg(t.inet, "udp-echo", INET[1], 5006, 20)
        self.traffic(t.lan, "udp-ask", "192.168.1.11", 40006, INET[1] + ":5006")
        wait_for(lambda: os.path.getsize(self.logfile) > 0, timeout=5, what="NAT log lines")
        time.sleep(0.5)
        with open(self.logfile) as f:
            lines = [json.loads(l) for l in f]
        mine = [l for l in lines if l["inside"] == "192.168.1.11:40006"]
        events = {l["event"] for l in mine}
        self.assertEqual(events, {"binding_create", "session_create"}, mine)
        for l in mine:
            self.assertEqual(l["proto"], "udp")
            self.assertTrue(l["outside"].startswith(V6PLUS.pub + ":"))
            self.assertTrue(V6PLUS.in_set(int(l["outside"].split(":")[1])))
            self.assertRegex(l["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual([l["remote"] for l in mine if l["event"] == "session_create"], [INET[1] + ":5006"])
        self.assertEqual(self.counters()["natlog_lost"], 0)
        self.lab.stop(echo)

    def test_reopen_failure_is_a_warning_and_logging_goes_on(self):
        """The log's directory renamed away: the reload still applies, says
        why the log could not be reopened, and lines go on into the old file."""
        t = self.topo
        echo = self.traffic_bg(t.inet, "udp-echo", INET[1], 5008, 20)
        moved = self.logdir + ".moved"
        os.rename(self.logdir, moved)
        try:
            reply = ctl(self.socket, "reload")
            self.assertTrue(reply.get("reloaded"), reply)
            self.assertEqual(len(reply.get("warnings", [])), 1, reply)
            self.assertIn(self.logfile, reply["warnings"][0])
            self.traffic(t.lan, "udp-ask", "192.168.1.11", 40109, INET[1] + ":5008")
            old_file = os.path.join(moved, "nat.jsonl")
            wait_for(lambda: self.logged(old_file, "192.168.1.11:40109"), timeout=5, what="line in the old file")
        finally:
            os.rename(moved, self.logdir)
        self.assertNotIn("warnings", ctl(self.socket, "reload"))
        self.lab.stop(echo)

    def test_rotation_with_logrotate(self):
        """The shipped examples/mapgw-natlog.logrotate, run by the real
        logrotate (path and postrotate pointed at this lab): the file is
        renamed, mapgw gets SIGHUP and opens the name again; bindings before
        are in the rotated file, bindings after in the new one."""
        require(shutil.which("logrotate"), "logrotate")
        t = self.topo
        echo = self.traffic_bg(t.inet, "udp-echo", INET[1], 5007, 20)
        self.traffic(t.lan, "udp-ask", "192.168.1.11", 40107, INET[1] + ":5007")
        wait_for(lambda: self.logged(self.logfile, "192.168.1.11:40107"), timeout=5, what="line before rotation")
        with open(os.path.join(REPO, "examples", "mapgw-natlog.logrotate")) as f:
            conf = f.read()
        pid = ctl(self.socket, "status")["pid"]
        reload_cmd = "systemctl reload 'mapgw@*.service' >/dev/null 2>&1 || true"
        self.assertIn(reload_cmd, conf)
        self.assertIn("/var/log/mapgw/nat.jsonl {", conf)
        conf = conf.replace(reload_cmd, "kill -HUP %d" % pid).replace("/var/log/mapgw/nat.jsonl", self.logfile)
        conf_path = os.path.join(self.lab.state_dir, "natlog.logrotate")
        with open(conf_path, "w") as f:
            f.write(conf)
        subprocess.run(["logrotate", "--force", "--state", conf_path + ".state", conf_path], check=True)
        rotated = [p for p in glob.glob(self.logfile + "-*") if not p.endswith(".gz")]
        self.assertEqual(len(rotated), 1, rotated)  # dateext, first rotation not yet compressed
        # The signal was sent before logrotate returned; two control requests
        # later its handling (one epoll batch at most) is done.
        for _ in range(2):
            ctl(self.socket, "status")
        self.traffic(t.lan, "udp-ask", "192.168.1.11", 40108, INET[1] + ":5007")
        wait_for(lambda: self.logged(self.logfile, "192.168.1.11:40108"), timeout=5, what="line after rotation")
        self.assertTrue(self.logged(rotated[0], "192.168.1.11:40107"))
        self.assertFalse(self.logged(rotated[0], "192.168.1.11:40108"))
        self.assertFalse(self.logged(self.logfile, "192.168.1.11:40107"))
        self.assertEqual(self.counters()["natlog_lost"], 0)
        self.lab.stop(echo)

    @staticmethod
    def logged(path, inside):
        """A binding_create line for @inside in the file at @path."""
        try:
            with open(path) as f:
                return any(l.get("inside") == inside and l["event"] == "binding_create"
                           for l in map(json.loads, f))
        except FileNotFoundError:
            return False


class RestartsAndReloadsUnderTraffic(CeBrCase, unittest.TestCase):
    """5 restarts of each daemon and 5 reloads of each, with numbered UDP at a
    fixed rate and a long TCP transfer running: no UDP datagram of the
    established flow may be lost, and the TCP connection must not reset."""

    ROUNDS = 5

    LAB_TAG = "mgwlife"

    def restart(self, which):
        t = self.topo
        old = t.ce_daemon if which == "ce" else t.br_daemon
        self.assertEqual(self.lab.stop(old), 0)
        if which == "ce":
            t.ce_daemon = t.start(t.ce, t.ce_cfg, t.ce_sock)
        else:
            t.br_daemon = t.start(t.br, t.br_cfg, t.br_sock)

    def test_no_loss_across_restarts_and_reloads(self):
        t, lab = self.topo, self.lab
        rate, seconds = 200, 40
        sink = self.traffic_bg(t.inet, "udp-sink", INET[2], 6000, seconds + 15)
        srv = lab.spawn(t.inet, ["iperf3", "-s", "-1", "-B", INET[0]], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        # Establish the measured flow first (its NAT session, every neighbour
        # on the path) and see it answered: the requirement is about
        # established flows, and all of their datagrams count.
        for _ in range(3):
            if '"from"' in self.traffic(t.lan, "udp-ask", "192.168.1.10", 41000, INET[2] + ":6000"):
                break
        else:
            self.fail("the UDP flow to %s:6000 is not answered before the restarts" % INET[2])
        tcp = lab.spawn(t.lan, ["iperf3", "-c", INET[0], "-t", str(seconds + 5), "-b", "10M", "-J"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        udp = lab.spawn(t.lan, [SYS_PYTHON, TRAFFIC, "udp-seq", "192.168.1.10", "41000",
                                INET[2] + ":6000", str(rate), str(seconds)], stdout=subprocess.PIPE,
                        text=True)
        time.sleep(3)  # the flows are established before the first restart
        before = ctl(t.ce_sock, "status")["sessions"]
        for _ in range(self.ROUNDS):
            self.restart("ce")
            time.sleep(1)
            self.restart("br")
            time.sleep(1)
            for sock in (t.ce_sock, t.br_sock):
                self.assertTrue(ctl(sock, "reload").get("reloaded"))
            time.sleep(1)
        self.assertGreaterEqual(ctl(t.ce_sock, "status")["sessions"], before,
                                "NAT sessions were lost across restarts")
        sent = json.loads(udp.communicate(timeout=seconds + 30)[0])["sent"]
        lab.procs.remove(udp)
        got = json.loads(sink.communicate(timeout=seconds + 30)[0].strip().split("\n")[-1])
        lab.procs.remove(sink)
        out = tcp.communicate(timeout=seconds + 60)[0]
        lab.procs.remove(tcp)
        res = json.loads(out)
        lost = sent - got["unique"]
        print("\n%d CE + %d BR restarts, %d reloads each: UDP sent %d, received %d, lost %d; "
              "TCP %.1f MB, %s" % (self.ROUNDS, self.ROUNDS, self.ROUNDS, sent, got["unique"], lost,
                                   res.get("end", {}).get("sum_received", {}).get("bytes", 0) / 1e6,
                                   res.get("error", "no error")), file=sys.stderr)
        if lost:  # name where they went: every drop and punt has a counter
            for who, sock in (("CE", t.ce_sock), ("BR", t.br_sock)):
                c = ctl(sock, "stats")["counters"]
                print("%s: %s" % (who, {k: v["packets"] for k, v in c.items()
                                        if v["packets"] and not k.startswith("rx_")}), file=sys.stderr)
        self.assertEqual(lost, 0, "lost datagrams: %s" % got["missing"])
        self.assertNotIn("error", res, "TCP transfer failed: %s" % res.get("error"))
        self.assertGreater(res["end"]["sum_received"]["bytes"], 10_000_000)
        lab.stop(srv)


if __name__ == "__main__":
    unittest.main(verbosity=2)
