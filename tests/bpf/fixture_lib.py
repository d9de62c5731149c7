"""What the BR and CE fixture generators share: mapgw's flow label,
reimplemented here so expected frames do not come from the code under test."""
import struct

from scapy.all import raw


M64 = (1 << 64) - 1


def flow_label(ip):
    """mapgw's label: the inner 5-tuple as two 64-bit words read on a
    little-endian CPU, as the BPF program loads them (source then destination
    address; source port, destination port, then the protocol tagged with
    3 << 16 in the upper half), each times its own odd constant, summed, the
    high half xored into the low half, times a third constant, the high 32
    bits; 20 bits, never 0."""
    b = raw(ip)
    ihl = (b[0] & 0x0F) * 4
    le32 = lambda x: struct.unpack("<I", x)[0]
    le16 = lambda x: struct.unpack("<H", x)[0]
    later_fragment = struct.unpack(">H", b[6:8])[0] & 0x1FFF
    ports = 0
    if not later_fragment and b[9] in (6, 17) and len(b) >= ihl + 4:
        ports = (le16(b[ihl + 2:ihl + 4]) << 16) | le16(b[ihl:ihl + 2])
    elif not later_fragment and b[9] == 1 and len(b) >= ihl + 8:
        ports = le16(b[ihl + 4:ihl + 6])
    addrs = le32(b[16:20]) << 32 | le32(b[12:16])
    l4 = (b[9] | 3 << 16) << 32 | ports
    return flow_hash(addrs, l4) & 0xFFFFF or 1


def flow_hash(addrs, l4):
    """mapgw's flow hash of two 64-bit words: each times its own odd
    constant, summed, the high half xored into the low half, times a third
    constant, the high 32 bits."""
    h = (addrs * 0x9E3779B97F4A7C15 + l4 * 0xC2B2AE3D27D4EB4F) & M64
    h ^= h >> 32
    h = (h * 0x165667B19E3779F9) & M64
    return h >> 32


def spread_index(ip, cpus):
    """Which of @cpus spread CPUs receive spreading gives the inner IPv4
    packet @ip: addresses, protocol and, for unfragmented TCP/UDP without
    options, both ports, hashed; the hash's top bits times the CPU count."""
    b = raw(ip)
    le32 = lambda x: struct.unpack("<I", x)[0]
    le16 = lambda x: struct.unpack("<H", x)[0]
    fragment = struct.unpack(">H", b[6:8])[0] & 0x3FFF
    ports = 0
    if b[0] == 0x45 and not fragment and b[9] in (6, 17) and len(b) >= 24:
        ports = (le16(b[22:24]) << 16) | le16(b[20:22])
    addrs = le32(b[16:20]) << 32 | le32(b[12:16])
    return (flow_hash(addrs, b[9] << 32 | ports) * cpus) >> 32


def cbytes(b):
    return "{" + ", ".join("0x%02x" % x for x in b) + "}"


def spread_counts(packets, cpus):
    """How many of the inner IPv4 @packets each of the spread @cpus gets."""
    counts = {}
    for p in packets:
        cpu = cpus[spread_index(p, len(cpus))]
        counts[cpu] = counts.get(cpu, 0) + 1
    return counts


def encap_limit_dstopt(nh=4, limit=4, other=None, pad1=False):
    """The Destination Options header Linux's ip6tnl puts after the outer
    IPv6 header by default (encaplimit 4): the Tunnel Encapsulation Limit
    option (RFC 2473 §4.1.1, type 4, length 1) and a 3-byte PadN, 8 bytes.
    @pad1: three Pad1 instead of the PadN; @other: an option of that type
    (1 byte of data) instead."""
    from scapy.all import IPv6ExtHdrDestOpt
    from scapy.layers.inet6 import HBHOptUnknown, Pad1, PadN
    if other is not None:
        tail = [HBHOptUnknown(otype=other, optlen=1, optdata=b"\x00")]
    elif pad1:
        tail = [Pad1(), Pad1(), Pad1()]
    else:
        tail = [PadN(optlen=1, optdata=b"\x00")]
    return IPv6ExtHdrDestOpt(nh=nh, autopad=0, options=[
        HBHOptUnknown(otype=4, optlen=1, optdata=bytes([limit]))] + tail)
