"""Namespace lab harness shared by every netns test and the demo.

A Lab owns a set of network namespaces with unique names, the veth links
between them and every process it starts in them. Teardown always runs
(context manager, atexit, SIGTERM/SIGINT) and removes exactly what this lab
created: its processes by PID, its namespaces by name. Nothing here uses
pkill or killall.
"""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MAPGW_BUILD_DIR", os.path.join(REPO, "build"))
MAPGW = os.path.join(BUILD, "agent", "mapgw")
MAPGWCTL = os.path.join(BUILD, "agent", "mapgwctl")
CLASSIFY_OBJ = os.path.join(BUILD, "bpf", "bpf_out", "mapgw_classify.bpf.o")
SYS_PYTHON = "/usr/bin/python3"  # Debian's scapy lives under the system python
# Waits stretch by this factor where the machine is slower than this VM: the
# kernel-matrix guests (software emulation) set it (tests/guest/). It only
# lengthens what a passing test may wait for, never what it checks.
TIME_SCALE = float(os.environ.get("MAPGW_TIME_SCALE", "1"))


def sh(cmd, check=True, capture=False, timeout=60):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), text=True, timeout=timeout * TIME_SCALE,
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (r.returncode, cmd, r.stderr))
    return r.stdout if capture else r.returncode


def require(condition, what):
    """Feature probe: a missing feature fails the test loudly, never skips it."""
    if not condition:
        raise RuntimeError("this machine lacks %s; scripts/setup.sh should provide it" % what)


class Lab:
    _live = []

    def __init__(self, name):
        require(os.geteuid() == 0, "root (namespaces need it)")
        self.tag = "%s%d" % (name, os.getpid() % 100000)
        self.namespaces = []
        self.procs = []
        # A BPF file system of this lab's own for mapgw's pins: under /run,
        # which `ip netns exec` does not remount, and gone at teardown.
        self.bpffs = "/run/mapgw-lab/%s" % self.tag
        os.makedirs(self.bpffs, exist_ok=True)
        sh(["mount", "-t", "bpf", "bpf", self.bpffs])
        self.state_dir = tempfile.mkdtemp(prefix="mapgw-lab-state-")
        Lab._live.append(self)

    # --- lifecycle ---------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.teardown()

    def teardown(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
        self.procs = []
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.namespaces = []
        if self.bpffs and os.path.ismount(self.bpffs):
            subprocess.run(["umount", self.bpffs], stderr=subprocess.DEVNULL)
        if self.bpffs and os.path.isdir(self.bpffs):
            os.rmdir(self.bpffs)
        self.bpffs = None
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        self.state_dir = None
        if self in Lab._live:
            Lab._live.remove(self)

    # --- topology ----------------------------------------------------------------
    def ns(self, role):
        name = "%s-%s" % (self.tag, role)
        sh(["ip", "netns", "add", name])
        self.namespaces.append(name)
        self.run(name, "ip link set lo up")
        # `ip netns exec` remounts /sys: give each namespace a bpffs of its own.
        return name

    def link(self, ns_a, if_a, ns_b, if_b):
        sh(["ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b,
            "netns", ns_b])
        for ns, ifname in ((ns_a, if_a), (ns_b, if_b)):
            self.run(ns, "ip link set %s up" % ifname)
            # XDP-redirected TCP must not arrive with partial checksums.
            self.run(ns, "ethtool -K %s tx off" % ifname)

    def attach_xdp_pass(self, ns, ifname):
        """XDP_REDIRECT into a veth needs an XDP program on the receiving peer."""
        self.run(ns, "ip link set dev %s xdpdrv obj %s sec xdp" % (ifname, CLASSIFY_OBJ))

    # --- running things ------------------------------------------------------------
    def run(self, ns, cmd, check=True, capture=False, timeout=60):
        full = ["ip", "netns", "exec", ns] + (["sh", "-c", cmd] if isinstance(cmd, str) else cmd)
        return sh(full, check=check, capture=capture, timeout=timeout)

    def spawn(self, ns, argv, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10):
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=timeout)
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode


def _teardown_all(*_):
    for lab in list(Lab._live):
        lab.teardown()


atexit.register(_teardown_all)
for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, lambda s, f: (_teardown_all(), os._exit(128 + s)))


def wait_for(predicate, timeout=10.0, interval=0.1, what="condition"):
    timeout *= TIME_SCALE
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the thing being waited for may not exist yet
            pass
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def ctl(socket_path, *args):
    out = sh([MAPGWCTL, "--socket", socket_path] + list(args) + ["--json"], capture=True)
    return json.loads(out)


TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scapy_tool.py")


def _counter_indexes():
    """Counter label -> index in the per-CPU counter map, from the list in bpf/mapgw_abi.h."""
    with open(os.path.join(REPO, "bpf", "mapgw_abi.h")) as f:
        return {label: int(n) for n, label in re.findall(r'X\(\w+, (\d+), "(\w+)"\)', f.read())}


COUNTER_INDEX = _counter_indexes()
TRAFFIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "traffic.py")


class LabCase:
    """unittest mixin: captures and counters in a lab. Needs cls.lab and cls.socket."""

    def counters(self, socket_path=None):
        return {k: v["packets"]
                for k, v in ctl(socket_path or self.socket, "stats")["counters"].items()}

    def delta(self, before, *names, socket_path=None):
        after = self.counters(socket_path)
        return {n: after[n] - before[n] for n in names}

    def moved_per_cpu(self, instance, label, action):
        """Counter @label's packets on each CPU that @action() added."""
        before = self.per_cpu_packets(instance, label)
        action()
        after = self.per_cpu_packets(instance, label)
        return {cpu: after[cpu] - before[cpu] for cpu in after if after[cpu] != before[cpu]}

    def per_cpu_packets(self, instance, label):
        """Counter @label's packets on each CPU, from @instance's pinned
        per-CPU counter map (raw struct mapgw_counter_val: packets first)."""
        index = COUNTER_INDEX[label]
        path = "%s/mapgw/%s/mapgw_counters" % (self.lab.bpffs, instance)
        out = json.loads(subprocess.run(["bpftool", "-j", "map", "lookup", "pinned", path, "key"]
                                        + [str(b) for b in index.to_bytes(4, "little")],
                                        check=True, capture_output=True, text=True).stdout)
        return {v["cpu"]: int.from_bytes(bytes(int(b, 16) for b in v["value"][:8]), "little")
                for v in out["values"]}

    def sniff(self, ns, iface, flt, count, timeout=4.0):
        p = self.lab.spawn(ns, [SYS_PYTHON, TOOL, "sniff", iface, flt, str(count),
                                str(timeout * TIME_SCALE)],
                           stdout=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline().strip(), "ready")
        return p

    def sniffed(self, p):
        from scapy.all import Ether
        out, _ = p.communicate(timeout=60)
        self.lab.procs.remove(p)
        lines = out.split()
        self.assertEqual(lines[-1], "done")
        return [Ether(bytes.fromhex(h)) for h in lines[:-1]]

    def send3(self, ns, *pkts):
        from scapy.all import raw
        self.lab.run(ns, [SYS_PYTHON, TOOL, "send3"] + [raw(p).hex() for p in pkts])

    def send2(self, ns, iface, *frames):
        from scapy.all import raw
        self.lab.run(ns, [SYS_PYTHON, TOOL, "send2", iface] + [raw(f).hex() for f in frames])

    # Packets are built in the root namespace: give every IP() an explicit
    # source, or scapy fills in this machine's own address.
    def sr1(self, ns, pkt, timeout=3):
        from scapy.all import IP, raw
        out = self.lab.run(ns, [SYS_PYTHON, TOOL, "sr1", raw(pkt).hex(), str(timeout * TIME_SCALE)],
                           capture=True).strip()
        return None if out == "none" else IP(bytes.fromhex(out))

    def traffic(self, ns, *args, timeout=120):
        return self.lab.run(ns, [SYS_PYTHON, TRAFFIC] + [str(a) for a in args], capture=True,
                            timeout=timeout)

    def traffic_bg(self, ns, *args):
        p = self.lab.spawn(ns, [SYS_PYTHON, TRAFFIC] + [str(a) for a in args],
                           stdout=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline().strip(), "ready")
        return p
