#!/usr/bin/python3
"""The main job: mapgw at work in a namespace lab.

  LAN host -- CE (mapgw) -- IPv6 core -- BR (mapgw) -- IPv4 internet host

Builds the lab, runs traffic (ping, UDP, TCP), prints what an operator
looks at: the CE's IPv4 address and port ranges (as a home gateway's status
page shows them), live counters, a sample of NAT sessions and the metrics
URL. `--once` prints one round and exits; otherwise the traffic keeps
running and the counters refresh until --seconds pass or Ctrl-C. The lab is
always torn down.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import MAPGWCTL, SYS_PYTHON, TRAFFIC, Lab, ctl  # noqa: E402
from topology import INET, RFC, V6PLUS, CeBrLab  # noqa: E402


def show(title, text):
    print("\n== %s\n%s" % (title, text.rstrip()), flush=True)


def mapgwctl(sock, *args):
    return subprocess.run([MAPGWCTL, "--socket", sock] + list(args), capture_output=True, text=True,
                          timeout=30).stdout


def counters(sock):
    return {k: v["packets"] for k, v in ctl(sock, "stats")["counters"].items() if v["packets"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--once", action="store_true", help="one round of traffic and output, then exit")
    ap.add_argument("--seconds", type=int, default=120, help="how long to keep running (default 120)")
    ap.add_argument("--shape", choices=("v6plus", "rfc"), default="v6plus")
    args = ap.parse_args()
    shape = V6PLUS if args.shape == "v6plus" else RFC

    with Lab("mgwdemo") as lab:
        print("building the lab: LAN host - CE - IPv6 core - BR - IPv4 internet host ...", flush=True)
        topo = CeBrLab(lab, shape)
        try:
            show("CE status (mapgwctl status)", mapgwctl(topo.ce_sock, "status"))
            show("CE port set (mapgwctl ports)", mapgwctl(topo.ce_sock, "ports"))
            lab.run(topo.lan, "ping -c 1 -W 3 %s" % INET[0], check=False)  # resolve neighbours
            show("ping from the LAN host to %s" % INET[0],
                 lab.run(topo.lan, "ping -c 3 -i 0.2 -W 2 %s | tail -2" % INET[0], capture=True, check=False))
            echo = []
            for a in INET[1:]:
                echo.append(lab.spawn(topo.inet, [SYS_PYTHON, TRAFFIC, "udp-echo", a, "5000", str(args.seconds + 30)],
                                      stdout=subprocess.PIPE, text=True))
                echo[-1].stdout.readline()
            show("UDP from one LAN socket to two servers: the servers see one external port (EIM)",
                 lab.run(topo.lan, [SYS_PYTHON, TRAFFIC, "udp-ask", "192.168.1.10", "40000",
                                    INET[1] + ":5000", INET[2] + ":5000"], capture=True))
            show("the CE's sessions for that socket",
                 mapgwctl(topo.ce_sock, "sessions", "--host", "192.168.1.10", "--proto", "udp"))
            srv = lab.spawn(topo.inet, ["iperf3", "-s", "-B", INET[0]], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            res = json.loads(lab.run(topo.lan, ["iperf3", "-c", INET[0], "-t", "2", "-J"], capture=True,
                                     timeout=60))
            show("TCP through CE and BR (iperf3, 2 s)", "%.0f Mbit/s received" %
                 (res["end"]["sum_received"]["bits_per_second"] / 1e6))
            show("NAT sessions (sample, mapgwctl sessions)", "\n".join(
                mapgwctl(topo.ce_sock, "sessions").splitlines()[:12]))
            show("CE counters (mapgwctl stats)", mapgwctl(topo.ce_sock, "stats"))
            show("BR counters (mapgwctl stats)", mapgwctl(topo.br_sock, "stats"))
            st = ctl(topo.ce_sock, "status")
            if st.get("metrics_url"):
                show("Metrics", "CE %s  BR %s  (inside the lab namespaces)" %
                     (st["metrics_url"], ctl(topo.br_sock, "status").get("metrics_url")))
            if not args.once:
                bg = lab.spawn(topo.lan, ["iperf3", "-c", INET[0], "-t", str(args.seconds), "-b", "50M"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                print("\nlive counters every 2 s for %d s (Ctrl-C to stop early)" % args.seconds, flush=True)
                end = time.time() + args.seconds
                try:
                    while time.time() < end and bg.poll() is None:
                        c = counters(topo.ce_sock)
                        print("  ce_out %-10d ce_in %-10d sessions %-6d drops %d" % (
                            c.get("ce_out", 0), c.get("ce_in", 0), ctl(topo.ce_sock, "status")["sessions"],
                            sum(v for k, v in c.items() if k.startswith("drop_"))), flush=True)
                        time.sleep(2)
                except KeyboardInterrupt:
                    pass
            lab.stop(srv)
            for p in echo:
                lab.stop(p)
        finally:
            topo.cleanup()
    print("\nlab torn down", flush=True)


if __name__ == "__main__":
    main()
