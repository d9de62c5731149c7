"""What the L2TP/IPsec labs share: an LNS namespace running mapgw's [l2tp]
server (with its supervised charon), a LAN behind it (10.30.0.1, where
clients' traffic goes), and real clients in their own namespaces: strongSwan's
charon (IKEv1 PSK, transport mode, UDP-encapsulated as behind a NAT),
xl2tpd and pppd — the stack of a Linux user's L2TP/IPsec client. Every
process is started and stopped by PID through the Lab."""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "netns"))
sys.path.insert(0, os.path.join(TESTS, "vpn"))
from lab import Lab, MAPGW, MAPGWCTL, TIME_SCALE, sh, wait_for  # noqa: E402
from plain_charon import PlainCharon, swanctl_text  # noqa: E402

PSK = "l2tp-lab-pre-shared-key"
USERS = {"alice": "wonderland", "bob": "builder", "carol": "secret-carol"}
LAN = "10.30.0.1"
LAN6 = "fd00:30::1"
PREFIX6 = "2001:db8:100::/56"
DNS6 = "fd00:30::53"
LOCAL4 = "10.20.0.1"
DNS = ("10.20.0.53", "10.20.0.54")
POOL = "10.20.0.100-10.20.0.149"
# IKEv1 with certificates: a PKI made by strongSwan's pki.
PKI_SCRIPT = os.path.join(TESTS, "vpn", "make_test_pki.sh")
SERVER_DN = "C=JP, O=mapgw lab, CN=lns.example"
CLIENT_PLUGINS = ("openssl gcm random nonce aes sha1 sha2 md5 hmac gmp x509 pem pkcs1 pubkey kdf "
                  "vici socket-default kernel-netlink")


def wait_or_dump(predicate, timeout, what, dump):
    """wait_for, with @dump() (the lab's logs as they are at the timeout)
    in the failure's message."""
    try:
        wait_for(predicate, timeout=timeout, what=what)
    except AssertionError as e:
        raise AssertionError("%s%s" % (e, dump())) from None


def client_strongswan_conf():
    return ("charon {\n  load = %s\n  port = 500\n  port_nat_t = 4500\n  retransmit_tries = 3\n"
            "  plugins {\n    vici {\n      socket = unix:///var/run/charon.vici\n    }\n  }\n"
            "  filelog {\n    charon {\n      path = /var/run/charon.log\n      default = 1\n      flush_line = yes\n"
            "    }\n  }\n  syslog {\n    daemon {\n      default = -1\n    }\n  }\n}\n" % CLIENT_PLUGINS)


def make_pki(directory):
    """The lab CA, the server's and the clients' certificates and a CRL
    (tests/vpn/make_test_pki.sh lists them) in @directory."""
    subprocess.run([PKI_SCRIPT, directory], check=True, timeout=300)
    return directory


def server_cert_config(pki, crl=True):
    """[l2tp] lines serving certificates of the lab CA (beside the PSK)."""
    out = 'certificate = "%s/server.pem"\ncertificate_key = "%s/server.key"\nca = "%s/ca.pem"\n' % (pki, pki, pki)
    return out + ('crl = "%s/crl.pem"\n' % pki if crl else "")


def revoke(pki, who):
    """A newer CRL of the lab CA that also revokes @who."""
    crl = os.path.join(pki, "crl.pem")
    out = subprocess.run(["pki", "--signcrl", "--cacert", os.path.join(pki, "ca.pem"), "--cakey",
                          os.path.join(pki, "ca.key"), "--lifetime", "30", "--lastcrl", crl, "--reason",
                          "key-compromise", "--cert", os.path.join(pki, who + ".pem"), "--outform", "pem"],
                         capture_output=True, check=True, timeout=60).stdout
    with open(crl, "wb") as f:
        f.write(out)


def client_auth(directory, pki=None, cert=None):
    """A client charon's local/remote auth: the PSK, or certificate @cert
    of @pki (its files put where swanctl --load-all finds them, beside the
    swanctl.conf in @directory) checking that the server is SERVER_DN."""
    if not cert:
        return {"local": {"auth": "psk"}, "remote": {"auth": "psk"}}
    for sub, name in (("x509", cert + ".pem"), ("private", cert + ".key"), ("x509ca", "ca.pem")):
        os.makedirs(os.path.join(directory, sub), mode=0o700, exist_ok=True)
        shutil.copy(os.path.join(pki, name), os.path.join(directory, sub, name))
    return {"local": {"auth": "pubkey", "certs": cert + ".pem"},
            "remote": {"auth": "pubkey", "id": '"%s"' % SERVER_DN}}


class L2tpLab:
    """The server side: namespace `lns` with mapgw, and a veth per client."""

    def __init__(self, name, require_ipsec=True, extra="", pool=POOL, local4=LOCAL4):
        self.lab = Lab(name)
        self.dir = self.lab.state_dir
        self.lns = self.lab.ns("lns")
        self.clients = 0
        self.lab.run(self.lns, "ip link add lan0 type veth peer name lan1 && ip link set lan0 up && "
                               "ip link set lan1 up && ip addr add %s/24 dev lan0 && ip addr add %s/64 dev lan0 nodad"
                     % (LAN, LAN6))
        self.users = os.path.join(self.dir, "l2tp-users")
        with open(self.users, "w") as f:
            f.write("".join("%s plain:%s\n" % kv for kv in USERS.items()))
        os.chmod(self.users, 0o600)
        self.socket = os.path.join(self.dir, "mapgw.sock")
        self.listen = []
        self.require_ipsec = require_ipsec
        self.extra = extra
        self.psk = PSK if require_ipsec else None
        self.pool, self.local4 = pool, local4
        self.mapgw = None
        self.nat_of = {}  # client namespace → (its NAT box's namespace, the server address it dials)

    def add_client_link(self):
        """A veth from the LNS to a new client namespace: 192.0.2.<n>/24
        on our side's own subnet per client, and 2001:db8:<n>::/64."""
        self.clients += 1
        n = self.clients
        ns = self.lab.ns("cli%d" % n)
        self.lab.link(self.lns, "c%d" % n, ns, "eth0")
        self.lab.run(self.lns, "ip addr add 192.0.%d.1/24 dev c%d && ip addr add 2001:db8:%d::1/64 dev c%d nodad"
                     % (n + 1, n, n, n))
        self.lab.run(ns, "ip addr add 192.0.%d.2/24 dev eth0 && ip addr add 2001:db8:%d::2/64 dev eth0 nodad && "
                         "ip route add default via 192.0.%d.1" % (n + 1, n, n + 1))
        self.listen += ["192.0.%d.1" % (n + 1), "2001:db8:%d::1" % n]
        return ns, "192.0.%d.1" % (n + 1), "192.0.%d.2" % (n + 1)

    def add_natted_client_link(self, behind=None):
        """A client behind a NAT box, as most remote users are: namespace
        nat<n> (nftables masquerade) on a veth from the LNS (192.0.<n+1>.2,
        our side .1), the client behind it on 172.16.<n>.2/24. @behind: the
        namespace of a client whose NAT box this one shares (one public
        address for both). IPv4 only."""
        self.clients += 1
        n = self.clients
        ns = self.lab.ns("cli%d" % n)
        if behind:
            nat, server = self.nat_of[behind]
        else:
            nat, server = self.lab.ns("nat%d" % n), "192.0.%d.1" % (n + 1)
            self.lab.link(self.lns, "c%d" % n, nat, "wan0")
            self.lab.run(self.lns, "ip addr add %s/24 dev c%d" % (server, n))
            rules = os.path.join(self.dir, "nat%d.nft" % n)
            with open(rules, "w") as f:
                f.write("table ip nat {\n  chain postrouting {\n    type nat hook postrouting priority srcnat;\n"
                        '    oifname "wan0" masquerade\n  }\n}\n')
            self.lab.run(nat, "ip addr add 192.0.%d.2/24 dev wan0 && sysctl -qw net.ipv4.ip_forward=1 && nft -f %s"
                         % (n + 1, rules))
            self.listen.append(server)
        self.lab.link(nat, "lan%d" % n, ns, "eth0")
        self.lab.run(nat, "ip addr add 172.16.%d.1/24 dev lan%d" % (n, n))
        self.lab.run(ns, "ip addr add 172.16.%d.2/24 dev eth0 && ip route add default via 172.16.%d.1" % (n, n))
        self.nat_of[ns] = (nat, server)
        return ns, server, "172.16.%d.2" % n

    def write_config(self):
        """mapgw.toml from the lab's settings (self.extra, self.psk): at
        start, and again before a reload."""
        conf = os.path.join(self.dir, "mapgw.toml")
        with open(conf, "w") as f:
            f.write('role = "none"\ninstance = "%s"\nsocket = "%s"\nlog_level = "debug"\n'
                    'metrics = "127.0.0.1:9464"\n[l2tp]\n' % (self.lab.tag, self.socket))
            f.write("listen = [%s]\n" % ", ".join('"%s"' % a for a in self.listen))
            f.write('users_file = "%s"\npool4 = "%s"\nlocal4 = "%s"\ndns4 = ["%s", "%s"]\n'
                    % (self.users, self.pool, self.local4, DNS[0], DNS[1]))
            f.write('run_dir = "%s/charon"\ncharon_log_level = 2\n' % self.dir)
            f.write('require_ipsec = %s\n' % ("true" if self.require_ipsec else "false"))
            f.write('ipv6 = true\nprefix6 = "%s"\ndns6 = ["%s"]\n' % (PREFIX6, DNS6))
            if self.psk:
                f.write('psk = "%s"\n' % self.psk)
            f.write(self.extra)
        return conf

    def start(self):
        conf = self.write_config()
        self.log = open(os.path.join(self.dir, "mapgw.log"), "w")
        self.mapgw = self.lab.spawn(self.lns, [MAPGW, "-c", conf], stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: "listen" in self.ctl("l2tp", "status"), timeout=20, what="mapgw's l2tp status")
        if self.require_ipsec:
            wait_for(lambda: self.ctl("l2tp", "status")["ipsec"]["connection_loaded"], timeout=30,
                     what="charon up with the IKEv1 connection")

    def ctl(self, *args):
        out = sh(["ip", "netns", "exec", self.lns, MAPGWCTL, "--socket", self.socket] + list(args) + ["--json"],
                 capture=True, check=False)
        return json.loads(out) if out else {}

    def sessions(self):
        return self.ctl("l2tp", "status").get("sessions", [])

    def metrics(self):
        out = self.lab.run(self.lns, "curl -s http://127.0.0.1:9464/metrics", capture=True)
        values = {}
        for line in out.splitlines():
            if line.startswith("mapgw_l2tp") or line.startswith("mapgw_ppp"):
                key, _, value = line.rpartition(" ")
                values[key] = float(value)
        return values

    def mapgw_log(self):
        with open(os.path.join(self.dir, "mapgw.log")) as f:
            return f.read()

    def charon_log(self):
        try:
            with open(os.path.join(self.dir, "charon", "charon.log")) as f:
                return f.read()
        except OSError:
            return ""

    def teardown(self):
        self.lab.teardown()
        if self.mapgw:
            self.log.close()


class LinuxClient:
    """A Linux L2TP/IPsec client: charon (IKEv1 with the PSK or a
    certificate, transport mode, UDP-encapsulated), xl2tpd (kernel L2TP)
    and pppd, in namespace @ns."""

    def __init__(self, L, ns, server, me, user, password, refuse=(), ipsec=True, ppp_extra="", pki=None, cert=None,
                 encap=True):
        self.L, self.ns, self.server, self.me = L, ns, server, me
        self.dir = os.path.join(L.dir, ns)
        os.makedirs(self.dir, exist_ok=True)
        self.charon = None
        if ipsec:
            charon_dir = os.path.join(self.dir, "charon")
            # encap: UDP encapsulation as if behind a NAT; False: only when
            # IKE finds one (a real NAT box in the path).
            conn = {"version": "1", "local_addrs": me, "remote_addrs": server, "encap": "yes" if encap else "no",
                    "proposals": "aes256-sha256-modp2048", "dpd_delay": "10s",
                    "children": {"l2tp": {"mode": "transport", "local_ts": "%s[udp/l2tp]" % me,
                                          "remote_ts": "%s[udp/l2tp]" % server, "esp_proposals": "aes256-sha1"}}}
            conn.update(client_auth(charon_dir, pki, cert))
            conf = {"connections": {"l2tp": conn}}
            if not cert:
                conf["secrets"] = {"ike-l2tp": {"secret": '"%s"' % PSK}}
            self.charon = PlainCharon(L.lab, ns, charon_dir, 4500, swanctl_text(conf),
                                      strongswan_conf=client_strongswan_conf())
        self.options = os.path.join(self.dir, "options.l2tp")
        with open(self.options, "w") as f:
            f.write("noauth\nrefuse-eap\nnoccp\nnodefaultroute\nusepeerdns\nipcp-accept-local\n"
                    "ipcp-accept-remote\nlcp-echo-interval 5\nlcp-echo-failure 4\ndebug\n"
                    "logfile %s/pppd.log\nname %s\nuser %s\npassword %s\nlinkname %s\n" %
                    (self.dir, user, user, password, ns))
            f.write("".join("refuse-%s\n" % r for r in refuse))
            f.write(ppp_extra)
        self.control = os.path.join(self.dir, "l2tp-control")
        self.conf = os.path.join(self.dir, "xl2tpd.conf")
        with open(self.conf, "w") as f:
            f.write("[global]\nport = 1701\naccess control = no\nlisten-addr = %s\n"
                    "[lac mapgw]\nlns = %s\npppoptfile = %s\nlength bit = yes\nredial = no\n"
                    % (me, server, self.options))
        self.xl2tpd = None

    def ipsec_up(self):
        self.charon.swanctl("--initiate", "--child", "l2tp", "--timeout", str(int(30 * TIME_SCALE)))

    def start_xl2tpd(self):
        self.L.lab.run(self.ns, "modprobe -q l2tp_ppp; modprobe -q ppp_generic; true")
        self.xlog = open(os.path.join(self.dir, "xl2tpd.log"), "w")
        self.xl2tpd = self.L.lab.spawn(self.ns, ["xl2tpd", "-D", "-c", self.conf, "-p",
                                                 os.path.join(self.dir, "xl2tpd.pid"), "-C", self.control],
                                       stdout=self.xlog, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.control), timeout=10, what="xl2tpd's control pipe")

    def dial(self):
        with open(self.control, "w") as f:
            f.write("c mapgw\n")

    def hang_up(self):
        with open(self.control, "w") as f:
            f.write("d mapgw\n")

    def ppp_address(self):
        """ppp0's IPCP address once the interface is up (pppd sets the
        address first)."""
        link = self.L.lab.run(self.ns, "ip -o link show dev ppp0 2>/dev/null || true", capture=True)
        if ",UP" not in link and "<UP" not in link:
            return None
        out = self.L.lab.run(self.ns, "ip -4 -o addr show dev ppp0 2>/dev/null || true", capture=True)
        for word in out.split():
            if word.startswith("10.20."):
                return word.split("/")[0]
        return None

    def ppp_address6(self):
        """ppp0's global IPv6 address (SLAAC from our RA), once usable."""
        out = self.L.lab.run(self.ns, "ip -6 -o addr show dev ppp0 scope global 2>/dev/null || true", capture=True)
        for line in out.splitlines():
            if "tentative" in line:
                continue
            words = line.split()
            if "inet6" in words:
                return words[words.index("inet6") + 1].split("/")[0]
        return None

    def wait_up(self, timeout=40):
        wait_for(lambda: self.ppp_address() is not None, timeout=timeout,
                 what="ppp0 with an address\n--- pppd\n%s\n--- xl2tpd\n%s" % (self.pppd_log()[-3000:], ""))
        self.L.lab.run(self.ns, "ip route replace 10.30.0.0/24 dev ppp0")
        return self.ppp_address()

    def pppd_log(self):
        try:
            with open(os.path.join(self.dir, "pppd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def xl2tpd_log(self):
        try:
            with open(os.path.join(self.dir, "xl2tpd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def pppd_pid(self):
        try:
            with open("/var/run/ppp-%s.pid" % self.ns) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def ping(self, addr=LAN, count=3):
        return subprocess.run(["ip", "netns", "exec", self.ns, "ping", "-c", str(count), "-W", "2", "-i", "0.3", addr],
                              stdout=subprocess.DEVNULL).returncode == 0

    def sas(self):
        return self.charon.sas() if self.charon else ""

    def stop(self):
        if self.xl2tpd:
            self.L.lab.stop(self.xl2tpd)
            self.xl2tpd = None
            self.xlog.close()
        if self.charon:
            self.charon.stop()
            self.charon = None


def tcp_transfer(L, client_ns, size, dst=LAN):
    """@size bytes over TCP from the client to @dst on the LAN (IPv4 or
    IPv6); returns what the LAN side counted."""
    family = "socket.AF_INET6" if ":" in dst else "socket.AF_INET"
    server = L.lab.spawn(L.lns, ["/usr/bin/python3", "-c",
                                 "import socket\ns=socket.socket(%s);s.setsockopt(socket.SOL_SOCKET,"
                                 "socket.SO_REUSEADDR,1);s.bind(('%s',9000));s.listen(1)\nc,_=s.accept()\n"
                                 "n=0\nwhile True:\n d=c.recv(65536)\n if not d: break\n n+=len(d)\n"
                                 "c.sendall(str(n).encode());c.close()" % (family, dst)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5 * TIME_SCALE)
    out = subprocess.run(["ip", "netns", "exec", client_ns, "/usr/bin/python3", "-c",
                          "import socket\ns=socket.create_connection(('%s',9000),timeout=30)\n"
                          "s.sendall(b'x'*%d);s.shutdown(socket.SHUT_WR)\nprint(s.recv(64).decode())" % (dst, size)],
                         capture_output=True, text=True, timeout=120 * TIME_SCALE)
    L.lab.stop(server)
    return int(out.stdout.strip() or 0)


class LacProcess:
    """lac_driver.py in a client namespace: do(op, **args) -> its answer."""

    def __init__(self, L, ns):
        self.L = L
        self.proc = L.lab.spawn(ns, ["/usr/bin/python3", os.path.join(HERE, "lac_driver.py")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def do(self, op, **args):
        self.proc.stdin.write(json.dumps(dict(op=op, **args)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the LAC driver died: %s" % self.proc.stderr.read()[-3000:])
        return json.loads(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.L.lab.stop(self.proc)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
