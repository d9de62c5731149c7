#!/usr/bin/python3
"""L2TP/IPsec server: set-up time, throughput through one session, and how
many sessions one server holds.

  setup       a real client (xl2tpd with kernel L2TP + pppd, MS-CHAPv2)
              dials in, `c` written to xl2tpd's control pipe → ppp0 up with
              its IPCP address, median of N dial-ins; against the same
              client dialling xl2tpd + pppd as the LNS (the kernel's L2TP
              and PPP data path), in the same guest.
  throughput  iperf3 TCP from that client to the LNS's LAN through the
              session, and back (-R): mapgw's user-space data path against
              xl2tpd + pppd's kernel path, taking turns.
  held        scapy LACs on this host, each its own tunnel and session,
              dialled one after another: sessions one server held, its RSS.

setup and throughput run in a QEMU guest on Debian 12's stock kernel (this
host has no L2TP or PPP: tests/guest/README.md); IPsec is off in both (the
same charon would sit in front of either LNS). Software emulation makes
absolute numbers slow; the ratios compare like with like.
Prints a markdown table and, last, one JSON line.
    bench/l2tp.py [--dials 20] [--seconds 10] [--rounds 3] [--max-held 1000]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "l2tp"))
from l2tp_lab import LAN, USERS, L2tpLab, LinuxClient, wait_for  # noqa: E402

GUEST = os.uname().nodename == "mapgw-guest"


def xl2tpd_lns(L, server_addr):
    """xl2tpd + pppd as the LNS in L's lns namespace (the peer)."""
    d = os.path.join(L.dir, "xl2tpd-lns")
    os.makedirs(d, exist_ok=True)
    # pppd reads /etc/ppp/chap-secrets: only the guest's throw-away overlay is written.
    assert GUEST, "the xl2tpd LNS peer runs in the guest only"
    with open("/etc/ppp/chap-secrets", "w") as f:
        f.write("".join('%s * "%s" *\n' % (u, p) for u, p in USERS.items()))
    with open(os.path.join(d, "options"), "w") as f:
        f.write("require-mschap-v2\nrefuse-pap\nrefuse-chap\nrefuse-mschap\nrefuse-eap\nname mapgw-peer\n"
                "ms-dns 10.20.0.53\nnoccp\nnodefaultroute\nmtu 1382\nmru 1382\nlcp-echo-interval 10\n"
                "lcp-echo-failure 3\nlogfile %s/pppd.log\n" % d)
    with open(os.path.join(d, "xl2tpd.conf"), "w") as f:
        f.write("[global]\nport = 1701\nlisten-addr = %s\naccess control = no\n"
                "[lns default]\nip range = 10.20.0.100-10.20.0.149\nlocal ip = 10.20.0.1\n"
                "require authentication = yes\nname = mapgw-peer\npppoptfile = %s/options\nlength bit = yes\n"
                % (server_addr, d))
    L.lab.run(L.lns, "modprobe -q l2tp_ppp; modprobe -q ppp_generic; sysctl -qw net.ipv4.ip_forward=1; true")
    return L.lab.spawn(L.lns, ["xl2tpd", "-D", "-c", os.path.join(d, "xl2tpd.conf"), "-p", os.path.join(d, "pid"),
                               "-C", os.path.join(d, "control")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lab(peer):
    """A lab whose LNS is mapgw (peer False) or xl2tpd + pppd (peer True)."""
    L = L2tpLab("l2b", require_ipsec=False, extra="echo_interval = 30\n")
    ns, server, me = L.add_client_link()
    if peer:
        L.peer = xl2tpd_lns(L, server)
        time.sleep(1)
    else:
        L.start()
    c = LinuxClient(L, ns, server, me, "alice", USERS["alice"], refuse=("pap", "chap", "mschap"), ipsec=False)
    c.start_xl2tpd()
    return L, c


def ppp_gone(c):
    out = c.L.lab.run(c.ns, "ip -o link show dev ppp0 2>/dev/null || true", capture=True)
    return not out.strip()


def dial_times(peer, dials):
    L, c = lab(peer)
    times = []
    try:
        for _ in range(dials):
            t0 = time.monotonic()
            c.dial()
            wait_for(lambda: c.ppp_address() is not None, timeout=60, interval=0.01, what="ppp0 up")
            times.append(time.monotonic() - t0)
            c.hang_up()
            wait_for(lambda: ppp_gone(c), timeout=60, interval=0.05, what="ppp0 gone")
            time.sleep(1.0)  # the tunnel's StopCCN exchange settles
    finally:
        c.stop()
        L.teardown()
    return times


def throughput(peer, seconds, rounds):
    """Mbit/s received, client to LAN (upload) and LAN to client (-R), in
    turns, @rounds of each."""
    L, c = lab(peer)
    up, down = [], []
    try:
        c.dial()
        c.wait_up(timeout=60)
        srv = L.lab.spawn(L.lns, ["iperf3", "-s", "-B", LAN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        for _ in range(rounds):
            for reverse, out in ((False, up), (True, down)):
                r = L.lab.run(c.ns, ["iperf3", "-c", LAN, "-t", str(seconds), "-J"] + (["-R"] if reverse else []),
                              capture=True, timeout=seconds + 60)
                out.append(json.loads(r)["end"]["sum_received"]["bits_per_second"] / 1e6)
        L.lab.stop(srv)
    finally:
        c.stop()
        L.teardown()
    return up, down


def held(max_held):
    users = "".join("user%d plain:pw%d\n" % (i, i) for i in range(max_held))
    # A pool big enough for every session; no keepalives during the count.
    L = L2tpLab("l2h", require_ipsec=False, pool="10.20.0.2-10.20.255.250", local4="10.21.0.1",
                extra="echo_interval = 600\nhello_interval = 600\nmax_tunnels = 65535\nmax_sessions = 65535\n"
                      "new_tunnels_per_second = 1000\n")
    try:
        ns, _, _ = L.add_client_link()
        with open(L.users, "a") as f:
            f.write(users)
        L.start()
        rss0 = rss_kib(L.mapgw.pid)
        p = L.lab.spawn(ns, ["/usr/bin/python3", os.path.join(HERE, "l2tp_hold.py"), "2001:db8:1::1", str(max_held)],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        last = {}
        for line in p.stdout:
            last = json.loads(line)
            if last.get("done"):
                break
        if not last.get("done"):
            raise SystemExit("the LACs' process ended early: %s" % last)
        sessions = [s for s in L.sessions() if s["phase"] == "network"]
        rss = rss_kib(L.mapgw.pid)
        p.stdin.close()
        L.lab.stop(p)
        return {"up": last.get("up", 0), "seconds": last.get("seconds"), "failed": last.get("failed"),
                "network_phase": len(sessions), "rss_kib_before": rss0, "rss_kib": rss}
    finally:
        L.teardown()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def in_guest(args):
    res = {}
    if "setup" in args.phases:
        res["setup_mapgw"] = dial_times(False, args.dials)
        res["setup_peer"] = dial_times(True, args.dials)
    if "throughput" in args.phases:
        for key in ("mbps_mapgw", "mbps_peer", "mbps_down_mapgw", "mbps_down_peer"):
            res[key] = []
        for _ in range(args.rounds):  # taking turns
            for peer, name in ((False, "mapgw"), (True, "peer")):
                up, down = throughput(peer, args.seconds, 1)
                res["mbps_" + name] += up
                res["mbps_down_" + name] += down
    print("GUEST-RESULT " + json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dials", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-held", type=int, default=1000)
    ap.add_argument("--phases", default="setup,throughput,held")
    ap.add_argument("--in-guest", action="store_true")
    args = ap.parse_args()
    if args.in_guest:
        return in_guest(args)
    res = {}
    guest_phases = [p for p in args.phases.split(",") if p in ("setup", "throughput")]
    if guest_phases:
        build = os.environ.get("MAPGW_BUILD_DIR", os.path.join(ROOT, "build"))
        out = subprocess.run([os.path.join(ROOT, "scripts", "guest-run.sh"), "-k", "6.1", "-t", "3000", "-C", build,
                              "-e", "MAPGW_BUILD_DIR=" + build, "--", "/usr/bin/python3", os.path.abspath(__file__),
                              "--in-guest", "--phases", ",".join(guest_phases), "--dials", str(args.dials),
                              "--seconds", str(args.seconds), "--rounds", str(args.rounds)],
                             capture_output=True, text=True, timeout=3300)
        lines = [x for x in out.stdout.splitlines() if x.startswith("GUEST-RESULT ")]
        if not lines:
            sys.exit("the guest run gave no result (status %d):\n%s" % (out.returncode, out.stdout[-4000:]))
        res.update(json.loads(lines[-1][len("GUEST-RESULT "):]))
    if "held" in args.phases:
        res["held"] = held(args.max_held)
    print("| measure | mapgw | xl2tpd + pppd (kernel) | ratio |\n|---|---|---|---|")
    if "setup_mapgw" in res:
        a, b = statistics.median(res["setup_mapgw"]), statistics.median(res["setup_peer"])
        print("| dial-in, `c` to ppp0 up (MS-CHAPv2, IPCP), median of %d | %.0f ms (max %.0f) | %.0f ms (max %.0f) | %.2f |"
              % (len(res["setup_mapgw"]), a * 1e3, max(res["setup_mapgw"]) * 1e3, b * 1e3,
                 max(res["setup_peer"]) * 1e3, a / b))
    for key, what in (("mbps_", "client → LAN"), ("mbps_down_", "LAN → client")):
        if key + "mapgw" in res:
            a, b = statistics.median(res[key + "mapgw"]), statistics.median(res[key + "peer"])
            print("| iperf3 TCP %s through one session, median of %d × %d s | %.0f Mbit/s | %.0f Mbit/s | %.2f |"
                  % (what, len(res[key + "mapgw"]), args.seconds, a, b, a / b))
    if "held" in res:
        h = res["held"]
        print("| sessions held (scapy LACs on this host, one tunnel each) | %d in %s s (%d in the network phase), "
              "RSS %d → %d KiB | — | — |" % (h["up"], h["seconds"], h["network_phase"], h["rss_kib_before"], h["rss_kib"]))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
