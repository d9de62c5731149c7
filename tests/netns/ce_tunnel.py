#!/usr/bin/python3
"""A userspace MAP-E CE tunnel endpoint for the lab (the test kernel has no
ip6tnl): packets the kernel routes into TUN device DEV are wrapped in IPv6
(src = CE address, dst = BR) and sent with a raw IPPROTO_IPIP socket;
IPv4-in-IPv6 packets to the CE address are unwrapped into DEV. This lets a
real kernel TCP/UDP stack behind 192.0.2.x talk through the BR. No NAT: the
applications must use ports of the CE's PSID (iperf3 --cport, bind()).

usage: ce_tunnel.py DEV CE_IPV6 BR_IPV6 SECONDS
"""
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def main():
    dev, ce, br, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TUN | IFF_NO_PI))
    raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_IPIP)
    raw.bind((ce, 0))
    print("ready", flush=True)
    deadline = time.time() + seconds
    while time.time() < deadline:
        r, _, _ = select.select([tun, raw], [], [], 0.2)
        if tun in r:
            pkt = os.read(tun, 65535)
            if pkt and pkt[0] >> 4 == 4:
                raw.sendto(pkt, (br, 0))
        if raw in r:
            pkt, src = raw.recvfrom(65535)
            if src[0] == br:  # only what the BR relays, like a real CE
                os.write(tun, pkt)


if __name__ == "__main__":
    main()
