"""A scriptable LAC and PPP client for the L2TP labs, independent of
mapgw's own codec: L2TP headers from scapy's L2TP layer, AVPs from the
scapy layer below (scapy has none), PPP from scapy's PPP layers. It retransmits
its control messages (RFC 2661 §5.8, a fixed 1 s) and answers the LNS's
LCP echo, so it survives loss; and it can be told to misbehave.

    lac = Lac(("2001:db8:1::1", 1701))
    lac.connect()                # SCCRQ / SCCRP / SCCCN
    s = lac.call()               # ICRQ / ICRP / ICCN
    ppp = PppClient(lac, s, "alice", "wonderland", "pap")
    addr = ppp.up()              # LCP, login, IPCP
"""
import hashlib
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's scapy
from scapy.fields import BitField, ShortField, StrLenField  # noqa: E402
from scapy.layers.l2tp import L2TP  # noqa: E402
from scapy.packet import Packet  # noqa: E402

# Message types (RFC 2661 §3.2) and AVP types (§4.4).
SCCRQ, SCCRP, SCCCN, STOPCCN, HELLO, OCRQ, ICRQ, ICRP, ICCN, CDN, WEN, SLI = 1, 2, 3, 4, 6, 7, 10, 11, 12, 14, 15, 16
MESSAGE_TYPE, RESULT_CODE, PROTOCOL_VERSION, FRAMING_CAPS, BEARER_CAPS, FIRMWARE, HOST_NAME, VENDOR_NAME = \
    0, 1, 2, 3, 4, 6, 7, 8
ASSIGNED_TUNNEL, RECEIVE_WINDOW, CHALLENGE, CHALLENGE_RESPONSE = 9, 10, 11, 13
ASSIGNED_SESSION, CALL_SERIAL, BEARER_TYPE, FRAMING_TYPE, TX_SPEED = 14, 15, 18, 19, 24

LCP, PAP, CHAP, IPCP, IPV4, IPV6CP, IPV6 = 0xC021, 0xC023, 0xC223, 0x8021, 0x0021, 0x8057, 0x0057
CONF_REQ, CONF_ACK, CONF_NAK, CONF_REJ, TERM_REQ, TERM_ACK, CODE_REJ, PROT_REJ, ECHO_REQ, ECHO_REP = range(1, 11)


class Avp(Packet):
    """One AVP (RFC 2661 §4.1): M, H, length, vendor, type, value."""
    name = "L2TP AVP"
    fields_desc = [BitField("M", 1, 1), BitField("H", 0, 1), BitField("reserved", 0, 4), BitField("len", None, 10),
                   ShortField("vendor", 0), ShortField("type", 0),
                   StrLenField("value", b"", length_from=lambda p: (p.len or 6) - 6)]

    def post_build(self, pkt, pay):
        if self.len is None:
            n = len(pkt)
            pkt = bytes([pkt[0] & 0xFC | (n >> 8) & 3, n & 0xFF]) + pkt[2:]
        return pkt + pay

    def extract_padding(self, s):
        return b"", s


def data_frame(datagram):
    """The PPP frame in an L2TP data message (RFC 2661 §3.1: length, Ns/Nr
    and offset fields as its flags say)."""
    flags = struct.unpack("!H", datagram[:2])[0]
    off = 6 + (2 if flags & 0x4000 else 0) + (4 if flags & 0x0800 else 0)
    if flags & 0x0200:
        off += 2 + struct.unpack("!H", datagram[off:off + 2])[0]
    return datagram[off:]


def avp(t, value, mandatory=True):
    if isinstance(value, int):
        value = struct.pack("!H", value)
    return Avp(M=int(mandatory), type=t, value=value)


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


def parse_avps(data):
    out = []
    while len(data) >= 6:
        a = Avp(data)
        if a.len < 6 or a.len > len(data):
            break
        out.append(a)
        data = data[a.len:]
    return out


class Message:
    def __init__(self, header, avps):
        self.header, self.avps = header, avps

    @property
    def type(self):
        return struct.unpack("!H", self.avps[0].value)[0] if self.avps else None

    def get(self, t):
        for a in self.avps:
            if a.type == t and a.vendor == 0:
                return a.value
        return None

    def u16(self, t):
        v = self.get(t)
        return struct.unpack("!H", v[:2])[0] if v else None


class Lac:
    """The control connection of one LAC, over a UDP socket of its own."""

    def __init__(self, server, bind=None, tunnel_id=None, host_name="scapy-lac", secret=None, window=4,
                 retransmit=True):
        self.server = server
        family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(bind or (("::" if family == socket.AF_INET6 else "0.0.0.0"), 0))
        self.poller = select.poll()
        self.poller.register(self.sock, select.POLLIN)
        self.tunnel_id = tunnel_id or int.from_bytes(os.urandom(2), "big") | 1
        self.host_name, self.secret, self.window = host_name, secret, window
        self.retransmit = retransmit
        self.peer_tunnel = 0
        self.ns = self.nr = 0
        self.unacked = {}   # ns -> (datagram, sent at)
        self.sent_log = {}  # ns -> every control datagram sent
        self.controls = []  # every control message received, in order
        self.data = []      # (session, PPP frame) not yet consumed
        self.sessions = {}  # our session ID -> the LNS's
        self.on_ppp = None  # callback(session, frame) -> True when consumed

    # --- wire -------------------------------------------------------------
    def send_raw(self, datagram):
        self.sock.sendto(bytes(datagram), self.server)

    def send_control(self, msg_type, avps, session=0, tunnel=None):
        hdr = L2TP(hdr="control+length+sequence", tunnel_id=self.peer_tunnel if tunnel is None else tunnel,
                   session_id=session, ns=self.ns, nr=self.nr)
        datagram = bytes(hdr / b"".join(bytes(a) for a in [avp(MESSAGE_TYPE, msg_type)] + list(avps)))
        self.unacked[self.ns] = [datagram, time.monotonic()]
        self.sent_log[self.ns] = datagram
        self.ns = (self.ns + 1) & 0xFFFF
        self.send_raw(datagram)

    def send_zlb(self):
        self.send_raw(L2TP(hdr="control+length+sequence", tunnel_id=self.peer_tunnel, session_id=0, ns=self.ns,
                           nr=self.nr))

    def send_ppp(self, session, frame):
        self.send_raw(L2TP(hdr="length", tunnel_id=self.peer_tunnel, session_id=self.sessions[session]) / frame)

    def pump(self, seconds=0.2):
        """Receives for up to @seconds: acknowledges, retransmits, queues."""
        until = time.monotonic() + seconds
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            # poll, not select: the hold bench has thousands of sockets (FD_SETSIZE is 1024).
            if self.poller.poll(int(min(left, 0.2) * 1000)):
                self.receive(self.sock.recv(65535))
            if self.retransmit:
                now = time.monotonic()
                for entry in self.unacked.values():
                    if now - entry[1] > 1.0:
                        entry[1] = now
                        self.send_raw(entry[0])

    def receive(self, datagram):
        flags = struct.unpack("!H", datagram[:2])[0]
        if not flags & 0x8000:  # data
            h = L2TP(datagram)
            session = next((ours for ours, theirs in self.sessions.items() if ours == h.session_id), h.session_id)
            frame = data_frame(datagram)
            if not (self.on_ppp and self.on_ppp(session, frame)):
                self.data.append((session, frame))
            return
        h = L2TP(datagram)
        # Their Nr acknowledges ours.
        for n in list(self.unacked):
            if ((h.nr - n - 1) & 0xFFFF) < 0x8000:
                del self.unacked[n]
        avps = parse_avps(bytes(datagram[12:]))
        if not avps:
            return  # a ZLB
        if h.ns != self.nr:
            self.send_zlb()  # a duplicate or out of order: acknowledge what we have
            return
        self.nr = (self.nr + 1) & 0xFFFF
        m = Message(h, avps)
        self.controls.append(m)
        if m.type == HELLO:
            self.send_zlb()
        elif m.type in (STOPCCN, CDN, ICRP):
            self.send_zlb() if m.type != ICRP else None

    def wait(self, msg_type, timeout=10.0, session=None):
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            for m in self.controls:
                if m.type == msg_type and (session is None or m.header.session_id == session):
                    self.controls.remove(m)
                    return m
            self.pump(0.01)
        raise AssertionError("no message type %d within %.0f s (got %s)" %
                             (msg_type, timeout, [m.type for m in self.controls]))

    # --- the control connection ----------------------------------------------
    def sccrq_avps(self):
        avps = [avp(PROTOCOL_VERSION, b"\x01\x00"), avp(HOST_NAME, self.host_name.encode()),
                avp(FRAMING_CAPS, u32(3)), avp(ASSIGNED_TUNNEL, self.tunnel_id), avp(RECEIVE_WINDOW, self.window),
                avp(VENDOR_NAME, b"scapy-lac", mandatory=False)]
        if self.secret:
            self.challenge = os.urandom(16)
            avps.append(avp(CHALLENGE, self.challenge))
        return avps

    def connect(self, timeout=10.0):
        self.send_control(SCCRQ, self.sccrq_avps(), tunnel=0)
        rp = self.wait(SCCRP, timeout)
        self.peer_tunnel = rp.u16(ASSIGNED_TUNNEL)
        avps = []
        if self.secret:
            challenge = rp.get(CHALLENGE)
            avps.append(avp(CHALLENGE_RESPONSE, hashlib.md5(bytes([SCCCN]) + self.secret.encode() + challenge).digest()))
        self.send_control(SCCCN, avps)
        self.pump(0.01)
        return rp

    def call(self, timeout=10.0):
        ours = len(self.sessions) + 0x100
        self.send_control(ICRQ, [avp(ASSIGNED_SESSION, ours), avp(CALL_SERIAL, u32(ours))])
        rp = self.wait(ICRP, timeout)
        self.sessions[ours] = rp.u16(ASSIGNED_SESSION)
        self.send_control(ICCN, [avp(TX_SPEED, u32(100000000)), avp(FRAMING_TYPE, u32(1))],
                          session=self.sessions[ours])
        self.pump(0.01)
        return ours

    def stop(self):
        self.send_control(STOPCCN, [avp(ASSIGNED_TUNNEL, self.tunnel_id), avp(RESULT_CODE, u16(1))])
        self.pump(0.5)

    def close(self):
        self.sock.close()


def ppp_frame(protocol, payload):
    return b"\xff\x03" + struct.pack("!H", protocol) + payload


def ppp_packet(code, ident, data):
    return struct.pack("!BBH", code, ident, 4 + len(data)) + data


def options(data):
    out = []
    while len(data) >= 2 and data[1] >= 2:
        out.append((data[0], data[2:data[1]]))
        data = data[data[1]:]
    return out


def option(t, v):
    return bytes([t, 2 + len(v)]) + v


class PppClient:
    """The PPP side of one session: LCP, PAP or CHAP-MD5, IPCP; answers
    the LNS's echo and requests once up."""

    def __init__(self, lac, session, user, password, method="pap"):
        self.lac, self.session, self.user, self.password, self.method = lac, session, user, password, method
        self.magic = os.urandom(4)
        self.id = 0
        self.address = None
        self.dns = []
        self.lcp_open = self.lcp_acked = self.lcp_ours = False
        self.auth = None  # "ok" / "failed"
        self.ipcp_ours = self.ipcp_theirs = False
        self.terminated = False
        self.ip_in = []   # IPv4 packets from the LNS
        self.ip6_in = []  # IPv6 packets from the LNS
        self.iid = os.urandom(8)
        self.ipv6cp_ours = self.ipv6cp_theirs = False
        self.echo_replies = 0
        self.frames = 0
        lac.on_ppp = self.frame
        # What the LNS sent before we were attached (its first LCP request
        # follows the ICCN at once).
        for session_frame in [x for x in lac.data if x[0] == session]:
            lac.data.remove(session_frame)
            self.frame(*session_frame)

    def next_id(self):
        self.id = (self.id + 1) & 0xFF
        return self.id

    def send(self, protocol, code, ident, data):
        self.lac.send_ppp(self.session, ppp_frame(protocol, ppp_packet(code, ident, data)))

    def frame(self, session, f):
        if session != self.session:
            return False
        self.frames += 1
        if f[:2] == b"\xff\x03":
            f = f[2:]
        protocol = f[0] if f[0] & 1 else struct.unpack("!H", f[:2])[0]
        body = f[1:] if f[0] & 1 else f[2:]
        if protocol == IPV4:
            self.ip_in.append(body)
            return True
        if protocol == IPV6:
            self.ip6_in.append(body)
            return True
        if len(body) < 4:
            return True
        code, ident, length = struct.unpack("!BBH", body[:4])
        data = body[4:length]
        if protocol == LCP:
            self.lcp(code, ident, data)
        elif protocol == PAP and code in (2, 3):
            self.auth = "ok" if code == 2 else "failed"
        elif protocol == CHAP and code == 1:
            size = data[0]
            challenge = data[1:1 + size]
            response = hashlib.md5(bytes([ident]) + self.password.encode() + challenge).digest()
            self.send(CHAP, 2, ident, bytes([16]) + response + self.user.encode())
        elif protocol == CHAP and code in (3, 4):
            self.auth = "ok" if code == 3 else "failed"
        elif protocol == IPCP:
            self.ipcp(code, ident, data)
        elif protocol == IPV6CP:
            if code == CONF_REQ:
                self.send(IPV6CP, CONF_ACK, ident, data)
                self.ipv6cp_theirs = True
            elif code == CONF_ACK:
                self.ipv6cp_ours = True
        return True

    def lcp(self, code, ident, data):
        if code == CONF_REQ:
            opts = options(data)
            want = {"pap": b"\xc0\x23", "chap": b"\xc2\x23\x05"}[self.method]
            bad = [(t, v) for t, v in opts if t == 3 and v != want]
            if bad:
                self.send(LCP, CONF_NAK, ident, option(3, want))
            else:
                self.send(LCP, CONF_ACK, ident, data)
                self.lcp_acked = True
        elif code == CONF_ACK:
            self.lcp_ours = True
        elif code == ECHO_REQ:
            self.send(LCP, ECHO_REP, ident, self.magic + data[4:])
        elif code == ECHO_REP:
            self.echo_replies += 1
        elif code == TERM_REQ:
            self.terminated = True
            self.send(LCP, TERM_ACK, ident, b"")
        self.lcp_open = self.lcp_acked and self.lcp_ours

    def ipcp(self, code, ident, data):
        if code == CONF_REQ:
            self.send(IPCP, CONF_ACK, ident, data)
            self.ipcp_theirs = True
        elif code == CONF_NAK:
            for t, v in options(data):
                if t == 3:
                    self.address = socket.inet_ntoa(v)
                elif t in (129, 131):
                    self.dns.append(socket.inet_ntoa(v))
            self.request_ipcp()
        elif code == CONF_ACK:
            self.ipcp_ours = True

    def request_ipcp(self):
        addr = socket.inet_aton(self.address or "0.0.0.0")
        dns = [socket.inet_aton(d) for d in (self.dns + ["0.0.0.0", "0.0.0.0"])[:2]]
        self.send(IPCP, CONF_REQ, self.next_id(), option(3, addr) + option(129, dns[0]) + option(131, dns[1]))

    def until(self, predicate, timeout, what, resend=None):
        end = time.monotonic() + timeout
        last = 0.0
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError("PPP: no %s within %.0f s (LCP: we acked theirs %s, ours acked %s; "
                                     "%d frames from the LNS; unacknowledged controls %s; controls seen %s)"
                                     % (what, timeout, self.lcp_acked, self.lcp_ours, self.frames,
                                        sorted(self.lac.unacked), [m.type for m in self.lac.controls]))
            if resend and time.monotonic() - last > 1.0:
                resend()
                last = time.monotonic()
            self.lac.pump(0.01)

    def up(self, timeout=15.0):
        self.until(lambda: self.lcp_open, timeout, "LCP open",
                   resend=lambda: self.send(LCP, CONF_REQ, self.next_id(), option(5, self.magic)))
        if self.method == "pap":
            body = bytes([len(self.user)]) + self.user.encode() + bytes([len(self.password)]) + self.password.encode()
            self.until(lambda: self.auth, timeout, "PAP answer", resend=lambda: self.send(PAP, 1, self.next_id(), body))
        else:
            self.until(lambda: self.auth, timeout, "CHAP answer")
        if self.auth != "ok":
            return None
        self.until(lambda: self.ipcp_ours and self.ipcp_theirs, timeout, "IPCP open", resend=self.request_ipcp)
        return self.address

    def ipv6_up(self, timeout=10.0):
        """IPV6CP with our interface identifier; returns the first IPv6
        packet the LNS sent (its Router Advertisement)."""
        self.until(lambda: self.ipv6cp_ours and self.ipv6cp_theirs, timeout, "IPV6CP open",
                   resend=lambda: self.send(IPV6CP, CONF_REQ, self.next_id(), option(1, self.iid)))
        self.until(lambda: self.ip6_in, timeout, "a Router Advertisement")
        return self.ip6_in[0]

    def send_ip6(self, packet):
        self.lac.send_ppp(self.session, ppp_frame(IPV6, bytes(packet)))

    def send_ip(self, packet):
        self.lac.send_ppp(self.session, ppp_frame(IPV4, bytes(packet)))

    def hang_up(self, timeout=5.0):
        self.send(LCP, TERM_REQ, self.next_id(), b"")
        self.lac.pump(timeout)
