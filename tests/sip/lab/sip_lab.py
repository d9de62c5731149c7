"""The SIP lab: kamailio as the NGN's proxy and registrar, our mapgw user
agents and sipp peers, each in a namespace of its own on one IPv6/IPv4
segment (a bridge in the proxy's namespace). Everything is started by PID
and torn down by the Lab (tests/netns/lab.py).

    proxy  2001:db8:5::1   192.0.2.1    kamailio (kamailio.cfg)
    ua-a   2001:db8:5::11  192.0.2.11   mapgw, 0311111111 (qop=auth)
    ua-b   2001:db8:5::12  192.0.2.12   mapgw, 0422222222 (no qop)
    ua-c   2001:db8:5::13  192.0.2.13   mapgw, 0333333333 (qop=auth)
    peer   2001:db8:5::22  192.0.2.22   sipp; numbers 05<port> reach it
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "netns"))
from lab import MAPGW, MAPGWCTL, REPO, SYS_PYTHON, TIME_SCALE, Lab, require, sh, wait_for  # noqa: E402,F401
from prometheus import start_prometheus, vpn_row_panels  # noqa: E402

KAMAILIO = "/usr/sbin/kamailio"
SIPP = "/usr/bin/sipp"
TCPDUMP = "/usr/bin/tcpdump"

PROXY6, PROXY4 = "2001:db8:5::1", "192.0.2.1"
HOSTS = {
    "ua-a": ("2001:db8:5::11", "192.0.2.11"),
    "ua-b": ("2001:db8:5::12", "192.0.2.12"),
    "ua-c": ("2001:db8:5::13", "192.0.2.13"),
    "peer": ("2001:db8:5::22", "192.0.2.22"),
}
USERS = {"0311111111": "secret-a", "0422222222": "secret-b", "0333333333": "secret-c"}
CERT_FP = "SHA-1 52:B6:5D:FA:BF:8A:8A:DB:7B:78:49:21:2C:AB:86:71:DC:9D:1C:65"
PSK = "sip-vpn-lab-psk"


def sdp(setup, port=4500, extra="", medias=1, proto="ike-esp-udpencap", ipv4=False):
    """The peer's offer: TS-1017 II.1.1 F1's shape (IPv4 outer with @ipv4)."""
    kind, addr = ("IP4", HOSTS["peer"][1]) if ipv4 else ("IP6", HOSTS["peer"][0])
    m = "m=application %d udp %s\nb=AS:1000\na=ike-setup:%s\n%s" % (port, proto, setup, extra)
    return "v=0\no=- 1 1 IN %s %s\ns=-\nc=IN %s %s\nt=0 0\n%s" % (kind, addr, kind, addr, m * medias)


def fragment(name, **fields):
    """A piece of a sipp scenario (scenarios/<name>) with its @FIELDS@ filled."""
    with open(os.path.join(HERE, "scenarios", name)) as f:
        text = f.read()
    for k, v in fields.items():
        text = text.replace("@%s@" % k.upper(), v)
    return text


class SipLab:
    def __init__(self, name):
        for path, what in ((KAMAILIO, "kamailio (Debian package kamailio)"),
                           (SIPP, "sipp (Debian package sip-tester)"),
                           (TCPDUMP, "tcpdump"), (MAPGW, "a built mapgw")):
            require(os.path.exists(path), what)
        self.lab = Lab(name)
        self.dir = tempfile.mkdtemp(prefix="mapgw-sip-lab-")
        self.ns = {"proxy": self.lab.ns("proxy")}
        proxy = self.ns["proxy"]
        self.lab.run(proxy, "ip link add br0 type bridge && ip link set br0 up")
        self.lab.run(proxy, "ip -6 addr add %s/64 dev br0 nodad && ip addr add %s/24 dev br0" % (PROXY6, PROXY4))
        for role, (v6, v4) in HOSTS.items():
            ns = self.ns[role] = self.lab.ns(role)
            port = "p-" + role
            self.lab.link(ns, "eth0", proxy, port)
            self.lab.run(proxy, "ip link set %s master br0" % port)
            self.lab.run(ns, "ip -6 addr add %s/64 dev eth0 nodad && ip addr add %s/24 dev eth0" % (v6, v4))
        self.daemons = {}
        self.kamailio = None

    # --- the proxy ------------------------------------------------------------
    def start_kamailio(self):
        with open(os.path.join(HERE, "kamailio.cfg")) as f:
            cfg = f.read()
        pw = "\n".join('\tif ($au == "%s") $var(pw) = "%s";' % (u, p) for u, p in USERS.items())
        cfg = (cfg.replace("@PROXY6@", PROXY6).replace("@PROXY4@", PROXY4)
               .replace("@PEER6@", HOSTS["peer"][0]).replace("@PASSWORDS@", pw))
        path = os.path.join(self.dir, "kamailio.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        run_dir = os.path.join(self.dir, "kamailio-run")
        os.makedirs(run_dir, exist_ok=True)
        sh([KAMAILIO, "-c", "-f", path], timeout=30)  # the config parses
        self.kamailio_log = open(os.path.join(self.dir, "kamailio.log"), "w")
        self.kamailio = self.lab.spawn(self.ns["proxy"], [KAMAILIO, "-f", path, "-DD", "-E", "-m", "64",
                                                          "-M", "8", "-Y", run_dir],
                                       stdout=self.kamailio_log, stderr=subprocess.STDOUT)
        wait_for(lambda: "5060" in self.lab.run(self.ns["proxy"], "ss -uln", capture=True),
                 timeout=15, what="kamailio listening")

    # --- our user agents -----------------------------------------------------------
    def sip_toml(self, role, aor, password, roles=("client",), auth=("password",), registrar=True,
                 ike_port=4500, extra="", ike_extra="", listen=None, cert_fp=CERT_FP):
        v6, _ = HOSTS[role]
        lines = [
            "[sip]",
            'aor = "%s"' % aor,
            'password = "%s"' % password,
            'registrar = "%s"' % ("sip:example.ne.jp" if registrar else ""),
            'outbound_proxy = "[%s]:5060"' % PROXY6,
            "listen = %s" % json.dumps(listen or ["[%s]:5060" % v6]),
            "register_expires = 120",
            extra,
            "[sip.ike]",
            "port = %d" % ike_port,
            "roles = %s" % json.dumps(list(roles)),
            "auth = %s" % json.dumps(list(auth)),
        ]
        if "server" in roles and cert_fp:
            lines.append('certificate_fingerprint = "%s"' % cert_fp)
        if "psk" in auth:
            lines.append('psk = "%s"' % PSK)
        lines.append(ike_extra)
        return "\n".join(lines) + "\n"

    def start_mapgw(self, role, sip_toml, instance=None, metrics=""):
        instance = instance or role.replace("-", "")
        sock = os.path.join(self.dir, instance + ".sock")
        cfg = os.path.join(self.dir, instance + ".toml")
        with open(cfg, "w") as f:
            f.write('role = "none"\ninstance = "%s"\nsocket = "%s"\nmetrics = "%s"\nlog_level = "debug"\n'
                    'bpffs = ""\nstate_dir = "%s"\n%s' % (instance, sock, metrics, self.dir, sip_toml))
        sh([MAPGW, "--check-config", cfg], timeout=30)
        with open(os.path.join(self.dir, instance + ".log"), "w") as log:
            p = self.lab.spawn(self.ns[role], [MAPGW, "-c", cfg], stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(sock), timeout=10, what="mapgw %s control socket" % instance)
        self.daemons[role] = (p, sock, cfg, log.name)
        return sock

    def stop_mapgw(self, role):
        p, sock, cfg, log = self.daemons.pop(role)
        return self.lab.stop(p)

    def log_of(self, role):
        with open(self.daemons[role][3]) as f:
            return f.read()

    def ctl(self, role, *args):
        sock = self.daemons[role][1]
        r = subprocess.run([MAPGWCTL, "--socket", sock] + list(args) + ["--json"], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        return json.loads(r.stdout or r.stderr or "{}")

    def sip_status(self, role):
        return self.ctl(role, "sip", "status")

    def wait_registered(self, role, timeout=10):
        wait_for(lambda: self.sip_status(role)["registration"]["state"] == "registered",
                 timeout=timeout, what="%s registered" % role)

    def call_of(self, role, call_id):
        st = self.sip_status(role)
        for c in st["calls"] + st["recent"]:
            if c["id"] == call_id:
                return c
        return None

    # --- sipp ----------------------------------------------------------------------
    def scenario(self, name, **fields):
        with open(os.path.join(HERE, "scenarios", name)) as f:
            text = f.read()
        # Fragments first: their own @FIELDS@ are filled with the rest.
        for k, v in sorted(fields.items(), key=lambda kv: kv[0] != "after_ack"):
            text = text.replace("@%s@" % k.upper(), v)
        leftover = re.findall(r"@[A-Z_]+@", text)
        assert not leftover, "unfilled %s in %s" % (leftover, name)
        path = os.path.join(self.dir, "%s-%d.xml" % (name, time.monotonic_ns()))
        with open(path, "w") as f:
            f.write(text)
        return path

    def sipp(self, scenario, port, service=None, uas=False, calls=1, rate=None, timeout=60,
             extra=(), remote=None, ipv4=False):
        """Starts sipp in the peer namespace (its IPv4 address with @ipv4);
        it sends to @remote ("host:port"), by default the proxy. Returns
        (Popen, trace path)."""
        v6 = HOSTS["peer"][1 if ipv4 else 0]
        trace = os.path.join(self.dir, "sipp-%d-%d" % (port, time.monotonic_ns()))
        argv = [SIPP, "-sf", scenario, "-i", v6, "-p", str(port), "-m", str(calls), "-nostdin",
                "-timeout", "%ds" % int(timeout * TIME_SCALE), "-timeout_error",
                "-trace_msg", "-message_file", trace + ".msg", "-trace_err", "-error_file", trace + ".err"]
        if rate:
            argv += ["-r", str(rate)]
        if service:
            argv += ["-s", service]
        if not uas:
            argv += [remote or "[%s]:5060" % PROXY6]
        argv += list(extra)
        p = self.lab.spawn(self.ns["peer"], argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return p, trace

    def wait_sipp(self, proc, trace, timeout=90):
        try:
            rc = proc.wait(timeout=timeout * TIME_SCALE)
        finally:
            if proc in self.lab.procs:
                self.lab.procs.remove(proc)
        if rc != 0:
            details = ""
            for ext in (".err", ".msg"):
                if os.path.exists(trace + ext):
                    with open(trace + ext) as f:
                        details += "\n--- sipp %s ---\n%s" % (ext, f.read()[-6000:])
            raise AssertionError("sipp exited %d%s" % (rc, details))

    # --- Prometheus --------------------------------------------------------------
    def start_prometheus(self, targets):
        """A real Prometheus in the proxy's namespace scraping @targets
        ("addr:port") every second; returns query(expr) -> result list."""
        return start_prometheus(self.lab, self.ns["proxy"], self.dir, targets)

    def vpn_row_panels(self, prefix):
        return vpn_row_panels(prefix)

    # --- captures --------------------------------------------------------------------
    def start_capture(self, name):
        path = os.path.join(self.dir, name + ".pcap")
        # --immediate-mode: without it libpcap hands packets over a ring
        # block at a time, and the block still open when tcpdump is stopped
        # (the last messages of a call) never reaches the file.
        p = self.lab.spawn(self.ns["proxy"], [TCPDUMP, "-i", "br0", "--immediate-mode", "-U", "-s", "0", "-w", path,
                                                    "udp port 5060"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        return p, path

    def stop_capture(self, cap):
        p, path = cap
        time.sleep(0.3)
        self.lab.stop(p)
        return path

    def teardown(self):
        self.lab.teardown()
        if getattr(self, "kamailio_log", None):
            self.kamailio_log.close()
