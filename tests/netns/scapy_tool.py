#!/usr/bin/python3
"""scapy inside a lab namespace (run with `ip netns exec NS`).

  scapy_tool.py sniff IFACE BPF_FILTER COUNT TIMEOUT
      prints "ready" once capturing, then one hex frame per line, then "done"
  scapy_tool.py send3 HEX [HEX...]     send IPv4/IPv6 packets at layer 3
  scapy_tool.py send2 IFACE HEX [HEX...]  send Ethernet frames as they are
  scapy_tool.py sr1 HEX TIMEOUT        send one L3 packet, print the answer's hex
"""
import os
import sys
import time

from scapy.all import IP, AsyncSniffer, IPv6, conf, raw, send, sendp, sr1

conf.verb = 0


def l3(hexstr):
    b = bytes.fromhex(hexstr)
    return IPv6(b) if b[0] >> 4 == 6 else IP(b)


def main():
    cmd = sys.argv[1]
    if cmd == "sniff":
        iface, flt, count, timeout = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        sn = AsyncSniffer(iface=iface, filter=flt, count=count, timeout=timeout, store=True)
        sn.start()
        time.sleep(0.3 * float(os.environ.get("MAPGW_TIME_SCALE", "1")))  # capture running
        print("ready", flush=True)
        sn.join()
        for p in sn.results or []:
            print(raw(p).hex(), flush=True)
        print("done", flush=True)
    elif cmd == "send3":
        for h in sys.argv[2:]:
            send(l3(h))
    elif cmd == "send2":
        for h in sys.argv[3:]:
            sendp(bytes.fromhex(h), iface=sys.argv[2])
    elif cmd == "sr1":
        ans = sr1(l3(sys.argv[2]), timeout=float(sys.argv[3]))
        print(raw(ans).hex() if ans else "none", flush=True)


if __name__ == "__main__":
    main()
