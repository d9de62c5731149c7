"""A plain strongSwan charon configured with swanctl, as a foreign SIP-VPN
peer would run it (the interop tests' far end): its own strongswan.conf
and swanctl.conf, its /var/run bound to a directory of its own (so its pid
file and VICI socket do not meet the supervised charons'), in a namespace
of the lab. Started and stopped by PID through the Lab."""
import os
import subprocess
import time

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "/usr/sbin/swanctl"
PLUGINS = ("openssl gcm random nonce aes sha1 sha2 md5 hmac gmp curve25519 x509 pem pkcs1 pubkey kdf attr "
           "vici socket-default kernel-libipsec kernel-netlink")


class PlainCharon:
    def __init__(self, lab, ns, directory, nat_port, swanctl_conf, strongswan_conf=None):
        self.lab, self.ns, self.dir = lab, ns, directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(os.path.join(directory, "strongswan.conf"), "w") as f:
            f.write(strongswan_conf or "charon {\n  load = %s\n  port = 0\n  port_nat_t = %d\n  retransmit_tries = 3\n"
                    "  plugins {\n    vici {\n      socket = unix:///var/run/charon.vici\n    }\n  }\n"
                    "  filelog {\n    charon {\n      path = /var/run/charon.log\n      default = 1\n      flush_line = yes\n"
                    "    }\n  }\n  syslog {\n    daemon {\n      default = -1\n    }\n  }\n}\n"
                    % (PLUGINS, nat_port))
        self.conf = os.path.join(directory, "swanctl.conf")
        with open(self.conf, "w") as f:
            f.write(swanctl_conf)
        env = dict(os.environ, STRONGSWAN_CONF="/var/run/strongswan.conf")
        self.proc = lab.spawn(ns, ["unshare", "-m", "--propagation", "private", "sh", "-c",
                                   "mount --bind %s /var/run && exec %s" % (directory, CHARON)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              # Its own session, as a daemon (and our supervised
                              # charon) has: the scheduler's autogroup is per session.
                              start_new_session=True)
        deadline = time.monotonic() + 15
        while self.swanctl("--stats", check=False).returncode != 0:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("plain charon did not come up: %s" % self.log()[-3000:])
            time.sleep(0.2)
        self.swanctl("--load-all", "--file", self.conf)

    def swanctl(self, *args, check=True):
        r = subprocess.run(["ip", "netns", "exec", self.ns, SWANCTL] + list(args)
                           + ["--uri", "unix://%s/charon.vici" % self.dir],
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("swanctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def sas(self):
        return self.swanctl("--list-sas", "--raw").stdout

    def log(self):
        try:
            with open(os.path.join(self.dir, "charon.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        self.lab.stop(self.proc)


def swanctl_text(tree, indent=0):
    """swanctl.conf syntax for a tree of dicts (sections) and values
    (strings; lists joined with commas)."""
    out = ""
    pad = "  " * indent
    for key, value in tree.items():
        if isinstance(value, dict):
            out += "%s%s {\n%s%s}\n" % (pad, key, swanctl_text(value, indent + 1), pad)
        else:
            out += "%s%s = %s\n" % (pad, key, ",".join(value) if isinstance(value, (list, tuple)) else value)
    return out


def psk_connection(local_addr, local_id, remote_id, child, **settings):
    """An IKEv2 PSK connection with UDP encapsulation forced, as a TS-1017
    endpoint speaks: @settings at connection level, @child the CHILD_SA."""
    conn = {"version": "2", "local_addrs": local_addr, "encap": "yes"}
    conn.update(settings)
    conn["local"] = {"auth": "psk", "id": local_id}
    conn["remote"] = {"auth": "psk", "id": remote_id}
    conn["children"] = child
    return conn


def psk_secret(ids, secret):
    """A secrets section entry binding @secret to every identity in @ids."""
    entry = {"id-%d" % i: x for i, x in enumerate(ids)}
    entry["secret"] = '"%s"' % secret
    return entry


def loaded_connections(run_dir, ns, lab):
    """The connection names a supervised charon holds (swanctl --list-conns)."""
    r = subprocess.run(["ip", "netns", "exec", ns, SWANCTL, "--list-conns", "--raw", "--uri",
                        "unix://%s/charon.vici" % run_dir], capture_output=True, text=True, timeout=30)
    names = []
    for line in r.stdout.splitlines():
        # --raw: "list-conn event {sipvpn-3 {local_addrs=[...] ...}}", then "list-conns reply {}"
        if line.startswith("list-conn event {"):
            names.append(line.split("{", 1)[1].split("{", 1)[0].strip())
    return names
