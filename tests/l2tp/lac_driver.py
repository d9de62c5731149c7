"""Drives one scapy LAC (lac.py) in a namespace for the lab tests: one JSON
command per line on stdin, one JSON answer per line on stdout. Between
commands it keeps the control connection alive (acknowledgements,
retransmissions) and answers the LNS's LCP echo, unless told to fall
silent. Started with `ip netns exec NS python3 lac_driver.py`."""
import json
import os
import select
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lac import (CDN, ICRQ, LCP, STOPCCN, Lac, PppClient, avp, data_frame, ppp_frame,  # noqa: E402
                 ppp_packet, u32, ASSIGNED_SESSION, CALL_SERIAL)
from scapy.layers.inet import ICMP, IP  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6  # noqa: E402


class Driver:
    def __init__(self):
        self.lac = None
        self.ppp = None
        self.silent = False

    def op_connect(self, server, secret=None, host_name="scapy-lac", retransmit=True, window=4, timeout=10.0):
        self.lac = Lac(tuple(server), secret=secret, host_name=host_name, retransmit=retransmit, window=window)
        rp = self.lac.connect(timeout)
        ok = None
        if secret:
            import hashlib
            ok = rp.get(13) == hashlib.md5(bytes([2]) + secret.encode() + self.lac.challenge).digest()
        return {"tunnel": self.lac.peer_tunnel, "host_name": (rp.get(7) or b"").decode(),
                "vendor": (rp.get(8) or b"").decode(), "window": rp.u16(10), "challenge_response_ok": ok}

    def op_sccrq(self, server, avps_hex=None, secret=None):
        """One SCCRQ, then whatever comes back within a second."""
        self.lac = Lac(tuple(server), secret=secret)
        if avps_hex is None:
            self.lac.send_control(1, self.lac.sccrq_avps(), tunnel=0)
        else:
            self.lac.send_raw(bytes.fromhex(avps_hex))
        self.lac.pump(1.0)
        return self.controls()

    def op_sccrq_extra(self, server, avp_type):
        """An SCCRQ carrying an unknown mandatory AVP."""
        self.lac = Lac(tuple(server))
        self.lac.send_control(1, self.lac.sccrq_avps() + [avp(avp_type, b"\x00\x01")], tunnel=0)
        self.lac.pump(1.5)
        return self.controls()

    def op_sccrq_no_ack(self, server, seconds):
        """An SCCRQ, then silence: how many SCCRPs come (retransmissions)."""
        self.lac = Lac(tuple(server), retransmit=False)
        self.lac.send_control(1, self.lac.sccrq_avps(), tunnel=0)
        copies = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.lac.sock], [], [], 0.2)
            if r:
                self.lac.sock.recv(65535)
                copies += 1
        return {"sccrp_copies": copies}

    def op_flood(self, server, count):
        """@count SCCRQs, each from a new tunnel ID, as fast as possible."""
        self.lac = Lac(tuple(server))
        sent = 0
        for i in range(count):
            self.lac.tunnel_id = (i % 65535) + 1
            self.lac.ns = 0
            self.lac.send_control(1, self.lac.sccrq_avps(), tunnel=0)
            self.lac.unacked.clear()
            sent += 1
        return {"sent": sent}

    def op_repeat_last(self, times):
        """The last control message we sent, @times more (same Ns)."""
        last = max(self.lac.sent_log) if self.lac.sent_log else None
        datagram = self.lac.sent_log[last]
        for _ in range(times):
            self.lac.send_raw(datagram)
        self.lac.pump(0.5)
        return {"sent": times}

    def op_call(self, iccn=True, timeout=10.0):
        if iccn:
            return {"session": self.lac.call(timeout)}
        ours = 0x200
        self.lac.send_control(ICRQ, [avp(ASSIGNED_SESSION, ours), avp(CALL_SERIAL, u32(ours))])
        self.lac.pump(0.5)
        return {"session": ours}

    def op_ppp_up(self, user, password, method="pap", session=None):
        s = session or next(iter(self.lac.sessions))
        self.ppp = PppClient(self.lac, s, user, password, method)
        addr = self.ppp.up()
        return {"address": addr, "dns": self.ppp.dns, "auth": self.ppp.auth}

    def op_ping(self, src, dst, count=3, size=56, timeout=3.0):
        self.ppp.ip_in.clear()
        for i in range(count):
            pkt = IP(src=src, dst=dst) / ICMP(id=0x4242, seq=i) / (b"x" * size)
            self.ppp.send_ip(pkt)
        end = time.monotonic() + timeout
        replies = 0
        while time.monotonic() < end and replies < count:
            self.lac.pump(0.1)
            replies = sum(1 for p in self.ppp.ip_in if IP(p).haslayer(ICMP) and IP(p)[ICMP].type == 0)
        return {"replies": replies}

    def op_ipv6_up(self):
        return {"ra": self.ppp.ipv6_up().hex(), "iid": self.ppp.iid.hex()}

    def op_ping6(self, src, dst, count=3, timeout=3.0):
        self.ppp.ip6_in.clear()
        for i in range(count):
            self.ppp.send_ip6(IPv6(src=src, dst=dst) / ICMPv6EchoRequest(id=0x4242, seq=i, data=b"mapgw" * 10))
        end = time.monotonic() + timeout
        replies = 0
        while time.monotonic() < end and replies < count:
            self.lac.pump(0.05)
            replies = sum(1 for p in self.ppp.ip6_in if IPv6(p).haslayer(ICMPv6EchoReply))
        return {"replies": replies}

    def op_tun_bridge(self, address, route, seconds, idle=2.0):
        """The kernel's own IPv4 through the session: a TUN device here with
        the address IPCP gave, @route through it, and every packet between
        it and the session carried as it is for up to @seconds, until
        @idle seconds pass without one. Control messages are handled as in
        pump(). Answers what it carried."""
        import fcntl
        import subprocess
        tun = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(tun, 0x400454CA, struct.pack("16sH", b"lac0", 0x0001 | 0x1000))  # TUNSETIFF, TUN, NO_PI
        subprocess.run("ip addr add %s/32 dev lac0 && ip link set lac0 mtu 1400 up && "
                       "ip route add %s dev lac0 src %s" % (address, route, address), shell=True, check=True)
        session = self.lac.sessions[self.ppp.session]
        head = struct.pack("!HH", self.lac.peer_tunnel, session)
        poller = select.poll()
        poller.register(tun, select.POLLIN)
        poller.register(self.lac.sock, select.POLLIN)
        sent = got = 0
        end = time.monotonic() + seconds
        last = time.monotonic()
        try:
            while time.monotonic() < end and (not (sent or got) or time.monotonic() - last < idle):
                for fd, _ in poller.poll(100):
                    if fd == tun:
                        ip = os.read(tun, 65535)
                        frame = b"\xff\x03\x00\x21" + ip
                        self.lac.send_raw(struct.pack("!HH", 0x4002, 8 + len(frame)) + head + frame)
                        sent += 1
                    else:
                        datagram = self.lac.sock.recv(65535)
                        flags = struct.unpack("!H", datagram[:2])[0]
                        if flags & 0x8000:
                            self.lac.receive(datagram)
                            continue
                        frame = data_frame(datagram)
                        if frame[:2] == b"\xff\x03":
                            frame = frame[2:]
                        if frame[:1] == b"\x21" or frame[:2] == b"\x00\x21":
                            os.write(tun, frame[1:] if frame[:1] == b"\x21" else frame[2:])
                            got += 1
                        else:
                            self.lac.receive(datagram)  # LCP echo and the like
                    last = time.monotonic()
        finally:
            os.close(tun)
        return {"to_lns": sent, "from_lns": got}

    def op_silence(self):
        self.silent = True
        self.lac.on_ppp = lambda s, f: True
        return {}

    def op_pump(self, seconds):
        self.lac.pump(seconds)
        return self.controls()

    def op_hangup(self):
        self.ppp.hang_up(1.0)
        return self.controls()

    def op_stop(self):
        self.lac.stop()
        return {}

    def op_raw(self, hex, seconds=0.5):
        self.lac.send_raw(bytes.fromhex(hex))
        self.lac.pump(seconds)
        return self.controls()

    def op_lcp_request(self, options_hex, times=1, gap=0.05):
        """Configure-Requests with @options_hex, answered or not."""
        for i in range(times):
            self.lac.send_ppp(next(iter(self.lac.sessions)),
                              ppp_frame(LCP, ppp_packet(1, i & 0xFF, bytes.fromhex(options_hex))))
            self.lac.pump(gap)
        return self.controls()

    def op_controls(self):
        return self.controls()

    def controls(self):
        out = {"controls": [m.type for m in self.lac.controls],
               "results": [list(m.get(1) or b"") for m in self.lac.controls if m.type in (STOPCCN, CDN)],
               "terminated": bool(self.ppp and self.ppp.terminated)}
        return out

    def idle(self):
        if self.lac:
            self.lac.pump(0.05)


def main():
    d = Driver()
    while True:
        r, _, _ = select.select([sys.stdin], [], [], 0.05)
        if not r:
            d.idle()
            continue
        line = sys.stdin.readline()
        if not line:
            return
        cmd = json.loads(line)
        op = cmd.pop("op")
        try:
            answer = getattr(d, "op_" + op)(**cmd)
        except (AssertionError, OSError, struct.error) as e:
            answer = {"error": str(e)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
