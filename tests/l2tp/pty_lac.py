#!/usr/bin/python3
"""The L2TP side of a client whose PPP is a real pppd, over any outer
path our scapy LAC speaks — IPv6 included, which xl2tpd cannot. pppd runs
this as its `pty` program: stdin/stdout are pppd's serial line (async
HDLC, RFC 1662: 0x7e flags, 0x7d escapes, FCS-16), and each frame goes
through one L2TP session to the LNS and back.

    pppd pty "python3 pty_lac.py 2001:db8:1::1" ...
Logs to stderr (pppd passes it to its log)."""
import os
import select
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lac import Lac  # noqa: E402

FCS_TABLE = []
for b in range(256):
    v = b
    for _ in range(8):
        v = (v >> 1) ^ 0x8408 if v & 1 else v >> 1
    FCS_TABLE.append(v)


def fcs16(data):
    f = 0xFFFF
    for b in data:
        f = (f >> 8) ^ FCS_TABLE[(f ^ b) & 0xFF]
    return f


def hdlc_encode(frame):
    f = fcs16(frame) ^ 0xFFFF
    body = frame + bytes([f & 0xFF, f >> 8])
    out = bytearray(b"\x7e")
    for b in body:
        if b in (0x7E, 0x7D) or b < 0x20:
            out += bytes([0x7D, b ^ 0x20])
        else:
            out.append(b)
    out.append(0x7E)
    return bytes(out)


class HdlcReader:
    def __init__(self):
        self.buf = bytearray()
        self.escaped = False

    def feed(self, data):
        """Complete frames (FCS checked and removed) in @data."""
        frames = []
        for b in data:
            if b == 0x7E:
                if len(self.buf) >= 4 and fcs16(bytes(self.buf)) == 0xF0B8:
                    frames.append(bytes(self.buf[:-2]))
                self.buf.clear()
                self.escaped = False
            elif b == 0x7D:
                self.escaped = True
            else:
                self.buf.append(b ^ 0x20 if self.escaped else b)
                self.escaped = False
        return frames


def main():
    server = sys.argv[1]
    lac = Lac((server, 1701), host_name="pty-lac")
    lac.connect()
    session = lac.call()
    sys.stderr.write("pty_lac: tunnel %d session %d to %s\n" % (lac.peer_tunnel, lac.sessions[session], server))
    out = sys.stdout.buffer
    lac.on_ppp = lambda s, f: (out.write(hdlc_encode(f)), out.flush(), True)[-1]
    for s, f in lac.data:  # anything the LNS sent before we were listening
        out.write(hdlc_encode(f))
    out.flush()
    lac.data.clear()
    reader = HdlcReader()
    stdin = sys.stdin.buffer.raw
    while True:
        r, _, _ = select.select([stdin, lac.sock], [], [], 0.2)
        if stdin in r:
            data = os.read(stdin.fileno(), 65536)
            if not data:
                lac.stop()
                return
            for frame in reader.feed(data):
                lac.send_ppp(session, frame)
        lac.pump(0.001)  # what the LNS sent; our retransmissions
        if any(m.type in (4, 14) for m in lac.controls):  # StopCCN or CDN: the call is over
            return


if __name__ == "__main__":
    main()
