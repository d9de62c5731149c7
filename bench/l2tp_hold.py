#!/usr/bin/python3
"""Runs in a client namespace for bench/l2tp.py's `held` phase: scapy LACs
(tests/l2tp/lac.py), each its own tunnel and session with a PAP login,
dialled one after another until @count or the first that fails; prints one
JSON line per 100 and a last one, then keeps them until stdin closes."""
import json
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "l2tp"))
from lac import Lac, PppClient  # noqa: E402


def main():
    server, count = sys.argv[1], int(sys.argv[2])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per LAC
    lacs, failed = [], None
    t0 = time.monotonic()
    for i in range(count):
        try:
            lac = Lac((server, 1701), tunnel_id=i + 1)
            lac.connect()
            s = lac.call()
            addr = PppClient(lac, s, "user%d" % i, "pw%d" % i, "pap").up()
            if not addr:
                raise AssertionError("login refused")
            lac.on_ppp = lambda s, f: True  # the LNS's echoes are off in this bench
            lacs.append(lac)
        except (AssertionError, OSError) as e:
            failed = "%d: %s" % (i, e)
            break
        if (i + 1) % 100 == 0:
            print(json.dumps({"up": i + 1, "seconds": round(time.monotonic() - t0, 1)}), flush=True)
    print(json.dumps({"up": len(lacs), "seconds": round(time.monotonic() - t0, 1), "failed": failed, "done": True}),
          flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
