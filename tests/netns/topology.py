"""The CE + BR lab topology, shared by the CE lab tests, the operability
tests and the demo (scripts/demo.sh):

  lan (192.168.1.10/.11) -- [ce: mapgw] -- core (IPv6) -- [br: mapgw] -- inet (203.0.113.2-.4)
"""
import os
import subprocess
import tempfile

from lab import MAPGW, Lab, LabCase, ctl, require, wait_for

BR6 = "2001:db8:ffff::1"
INET = ["203.0.113.2", "203.0.113.3", "203.0.113.4"]


class Shape:
    """A MAP rule shape and what it gives the CE."""

    def __init__(self, name, rule, eup, pub, legacy, a, k, psid, static_port):
        self.name, self.rule, self.eup, self.pub, self.legacy = name, rule, eup, pub, legacy
        self.a, self.k, self.psid, self.static_port = a, k, psid, static_port

    def in_set(self, port):
        m = 16 - self.a - self.k
        return (port >> (16 - self.a)) != 0 and ((port >> m) & ((1 << self.k) - 1)) == self.psid


V6PLUS = Shape("v6plus", "ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4,fmr",
               "240b:10:abcd:ef00::/56", "106.72.171.205", True, 4, 8, 0xEF, 7935)
RFC = Shape("rfc", "ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,fmr",
            "2001:db8:12:3400::/56", "192.0.2.18", False, 6, 8, 0x34, 1235)

CE_CONFIG = """
role = "ce"
instance = "{instance}"
socket = "{socket}"
bpffs = "{bpffs}"
state_dir = "{state}"
{extra_top}
[ce]
wan_interface = "wan0"
lan_interface = "lan0"
end_user_prefix = "{eup}"
br_address = "{br6}"
legacy_iid = {legacy}
rules = ["{rule}"]
filtering = "endpoint-independent"
{ce_keys}
[[ce.static_napt]]
protocol = "tcp"
external_port = {static_port}
internal = "192.168.1.10:8080"
{ce_tables}
"""

BR_CONFIG = """
role = "br"
instance = "{instance}"
socket = "{socket}"
bpffs = "{bpffs}"
state_dir = "{state}"
{extra_top}
[br]
ipv4_interface = "v4"
ipv6_interface = "v6"
[[br.domain]]
name = "lab"
br_address = "{br6}"
legacy_iid = {legacy}
rules = ["{rule}"]
"""


def build_chain(t, lab, core=True):
    """The five namespaces and their links, as attributes of @t. XDP_PASS on
    the ends that are not a gateway: redirected frames need an XDP program
    on the receiving veth. core=False: no core router, the CE's WAN and the
    BR's IPv6 side share one link (for benchmarks, where a kernel router
    would take CPU from the gateways it sits between)."""
    t.lan, t.ce, t.br, t.inet = lab.ns("lan"), lab.ns("ce"), lab.ns("br"), lab.ns("inet")
    t.core = lab.ns("core") if core else None
    lab.link(t.lan, "eth0", t.ce, "lan0")
    if core:
        lab.link(t.ce, "wan0", t.core, "c0")
        lab.link(t.core, "c1", t.br, "v6")
    else:
        lab.link(t.ce, "wan0", t.br, "v6")
    lab.link(t.br, "v4", t.inet, "eth0")
    ends = [(t.lan, "eth0"), (t.inet, "eth0")] + ([(t.core, "c0"), (t.core, "c1")] if core else [])
    for ns, ifname in ends:
        lab.attach_xdp_pass(ns, ifname)
    # The BR's next hop towards the CEs: the core, or the CE itself.
    t.br_next_hop6 = "2001:db8:b0::1" if core else "2001:db8:c0::2"


def configure_core(lab, t, eup):
    """The IPv6 core router between CE and BR: routes the End-user prefix
    @eup to the CE and the BR address to the BR. Without a core the BR
    holds the core's address on the CE's link (the CE's next hop)."""
    if t.core is None:
        lab.run(t.br, "ip -6 addr add 2001:db8:c0::1/64 dev v6 nodad")
        return
    lab.run(t.core, "sysctl -qw net.ipv6.conf.all.forwarding=1 && "
                    "ip -6 addr add 2001:db8:c0::1/64 dev c0 nodad && "
                    "ip -6 addr add 2001:db8:b0::1/64 dev c1 nodad && "
                    "ip -6 route add %s via 2001:db8:c0::2 && "
                    "ip -6 route add %s/128 via 2001:db8:b0::2" % (eup, BR6))


def configure_inet(lab, ns, gateway="203.0.113.1", mtu=None):
    """The Internet host: the INET addresses, a default route via @gateway
    (None: none), and @mtu if given."""
    cmd = " && ".join("ip addr add %s/24 dev eth0" % a for a in INET)
    if gateway:
        cmd += " && ip route add default via %s" % gateway
    if mtu:
        cmd += " && ip link set eth0 mtu %d" % mtu
    lab.run(ns, cmd)


class CeBrLab:
    """Builds the namespaces and links, writes the configs, starts both daemons."""

    def __init__(self, lab, shape, ce_extra="", br_extra="", monitoring=False, auto_prefix=False,
                 ce_tables="", core=True, ce_keys=""):
        """monitoring: a "mon" namespace on a management network (10.99.1.0/30
        to the CE, 10.99.2.0/30 to the BR); both daemons serve metrics there."""
        self.lab, self.shape = lab, shape
        self.files = []
        build_chain(self, lab, core)
        lab.run(self.lan, "ip addr add 192.168.1.10/24 dev eth0 && ip addr add 192.168.1.11/24 dev eth0"
                          " && ip route add default via 192.168.1.1")
        lab.run(self.ce, "ip addr add 192.168.1.1/24 dev lan0 && "
                         "ip -6 addr add 2001:db8:c0::2/64 dev wan0 nodad && "
                         "ip -6 route add default via 2001:db8:c0::1")
        configure_core(lab, self, shape.eup)
        lab.run(self.br, "ip -6 addr add 2001:db8:b0::2/64 dev v6 nodad && "
                         "ip -6 addr add %s/128 dev v6 nodad && "
                         "ip -6 route add %s via %s && "
                         "ip addr add 203.0.113.1/24 dev v4" % (BR6, shape.eup, self.br_next_hop6))
        configure_inet(lab, self.inet)
        eup = shape.eup
        if auto_prefix:
            # As after an RA: a /64 of the End-user prefix on the WAN, and
            # the CE learns its prefix from there.
            lab.run(self.ce, "ip -6 addr add %s1/64 dev wan0 nodad" % shape.eup.split("/")[0])
            eup = "auto"
        if monitoring:
            self.mon = lab.ns("mon")
            lab.link(self.mon, "m0", self.ce, "mgmt0")
            lab.link(self.mon, "m1", self.br, "mgmt0")
            lab.run(self.mon, "ip addr add 10.99.1.1/30 dev m0 && ip addr add 10.99.2.1/30 dev m1")
            lab.run(self.ce, "ip addr add 10.99.1.2/30 dev mgmt0")
            lab.run(self.br, "ip addr add 10.99.2.2/30 dev mgmt0")
            ce_extra += '\nmetrics = "10.99.1.2:9680"'
            br_extra += '\nmetrics = "10.99.2.2:9680"'
            self.ce_metrics, self.br_metrics = "10.99.1.2:9680", "10.99.2.2:9680"
        self.br_sock = "/run/mapgw/%s-br.sock" % lab.tag
        self.ce_sock = "/run/mapgw/%s-ce.sock" % lab.tag
        legacy = "true" if shape.legacy else "false"
        self.br_cfg = self._write(BR_CONFIG.format(instance=lab.tag + "-br", socket=self.br_sock,
                                                   br6=BR6, legacy=legacy, rule=shape.rule,
                                                   extra_top=br_extra, bpffs=lab.bpffs,
                                                   state=lab.state_dir))
        self.ce_cfg = self._write(CE_CONFIG.format(instance=lab.tag + "-ce", socket=self.ce_sock,
                                                   br6=BR6, legacy=legacy, rule=shape.rule,
                                                   eup=eup, static_port=shape.static_port,
                                                   extra_top=ce_extra, ce_tables=ce_tables, ce_keys=ce_keys,
                                                   bpffs=lab.bpffs,
                                                   state=lab.state_dir))
        self.br_daemon = self.start(self.br, self.br_cfg, self.br_sock)
        self.ce_daemon = self.start(self.ce, self.ce_cfg, self.ce_sock)

    def _write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        f.write(text)
        f.close()
        self.files.append(f.name)
        return f.name

    def start(self, ns, cfg, sock):
        log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.files.append(log.name)
        p = self.lab.spawn(ns, [MAPGW, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
        p.log_path = log.name
        try:
            wait_for(lambda: p.poll() is None and ctl(sock, "status")["attached"], timeout=20,
                     what="mapgw up in " + ns)
        except AssertionError as e:
            with open(log.name) as f:
                raise AssertionError("%s; its log:\n%s" % (e, f.read()[-2000:])) from None
        return p

    def cleanup(self):
        for f in self.files:
            if os.path.exists(f):
                os.unlink(f)


class CeBrCase(LabCase):
    """unittest base: one CeBrLab for the whole class, in a Lab tagged LAB_TAG,
    built with topology_args(); cls.topo, cls.lab, cls.socket (the CE's)."""

    LAB_TAG = "mgwcb"

    @classmethod
    def topology_args(cls):
        """CeBrLab's arguments after the lab (cls.lab exists already)."""
        return (V6PLUS,), {}

    @classmethod
    def setUpClass(cls):
        require(os.path.exists(MAPGW), "a built mapgw (scripts/build.sh)")
        cls.lab = Lab(cls.LAB_TAG)
        try:
            args, kw = cls.topology_args()
            cls.topo = CeBrLab(cls.lab, *args, **kw)
        except Exception:
            cls.lab.teardown()
            raise
        cls.socket = cls.topo.ce_sock

    @classmethod
    def tearDownClass(cls):
        cls.lab.teardown()
        cls.topo.cleanup()
