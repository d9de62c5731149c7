#!/usr/bin/python3
"""SIP calls per second: how fast one mapgw user agent answers calls
(INVITE/200/ACK/BYE/200 through kamailio, each with the RFC 6193 rules and
a session timer), against sipp's own UAS measured in the same run on the
same path. Each rate runs RATE x SECONDS calls; a rate is sustained when
every call succeeds and the run takes no more than 1.25 x its nominal time.
Prints a markdown table and, last, one JSON line.
    bench/sip_calls.py [--seconds 5] [--rates 50,100,...]"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "sip", "lab"))
from sip_lab import HOSTS, SIPP, USERS, SipLab  # noqa: E402

CALLEE = "0422222222"
SIPP_UAS_PORT = 5070  # reached as 055070 through the proxy


def run_rate(L, service, rate, seconds, port):
    calls = int(rate * seconds)
    scenario = os.path.join(L.dir, "bench_call.xml")
    with open(os.path.join(HERE, "sip", "bench_call.xml")) as f:
        text = f.read().replace("@PEER6@", HOSTS["peer"][0])
    with open(scenario, "w") as f:
        f.write(text)
    p, trace = L.sipp(scenario, port, service=service, calls=calls, rate=rate, timeout=seconds * 4 + 30,
                      extra=["-l", str(max(rate * 2, 50)), "-max_recv_loops", "10000"])
    t0 = time.monotonic()
    rc = p.wait(timeout=seconds * 6 + 60)
    elapsed = time.monotonic() - t0
    if p in L.lab.procs:
        L.lab.procs.remove(p)
    ok = rc == 0 and elapsed <= seconds * 1.25 + 2
    return ok, elapsed, rc


def sustained(L, service, rates, seconds, port):
    best, rows = 0, []
    for r in rates:
        ok, elapsed, rc = run_rate(L, service, r, seconds, port)
        rows.append((r, ok, elapsed, rc))
        print("  %s at %d calls/s: %s (%.1f s, sipp exit %d)" % (service, r, "ok" if ok else "FAILED", elapsed, rc),
              file=sys.stderr)
        if not ok:
            break
        best = r
        time.sleep(1)
    return best, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rates", default="25,50,100,200,300,400,600,800")
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    L = SipLab("sipbench")
    try:
        L.start_kamailio()
        L.start_mapgw("ua-b", L.sip_toml("ua-b", "sip:%s@example.ne.jp" % CALLEE, USERS[CALLEE], roles=("server",),
                                          auth=("password",), extra="max_calls = 10000"))
        L.wait_registered("ua-b")
        uas = L.lab.spawn(L.ns["peer"], [SIPP, "-sn", "uas", "-i", HOSTS["peer"][0], "-p", str(SIPP_UAS_PORT),
                                         "-nostdin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        print("mapgw (UAS through kamailio):", file=sys.stderr)
        ours, our_rows = sustained(L, CALLEE, rates, args.seconds, 5081)
        print("sipp's UAS (the same path):", file=sys.stderr)
        peer, peer_rows = sustained(L, "05%d" % SIPP_UAS_PORT, rates, args.seconds, 5082)
        L.lab.stop(uas)
        st = L.sip_status("ua-b")
        with open("/proc/%d/status" % L.daemons["ua-b"][0].pid) as f:
            rss_kb = int([l for l in f if l.startswith("VmHWM:")][0].split()[1])
        print("| target | sustained calls/s | runs |")
        print("|---|---|---|")
        for name, best, rows in (("mapgw UAS", ours, our_rows), ("sipp UAS (peer)", peer, peer_rows)):
            runs = ", ".join("%d:%s" % (r, "ok" if ok else "fail") for r, ok, _, _ in rows)
            print("| %s | %d | %s |" % (name, best, runs))
        ratio = ours / peer if peer else 0
        print("\nmapgw / sipp UAS = %.2f (highest rate tried %d; %d-s runs); mapgw peak RSS %.1f MiB"
              % (ratio, rates[-1], args.seconds, rss_kb / 1024))
        print(json.dumps({"mapgw_calls_per_s": ours, "sipp_uas_calls_per_s": peer, "ratio": round(ratio, 3),
                          "seconds": args.seconds, "max_rate_tried": rates[-1],
                          "registration": st["registration"]["state"], "mapgw_peak_rss_kib": rss_kb}))
    finally:
        L.teardown()


if __name__ == "__main__":
    main()
