"""What the BR and CE fixture generators share: mapgw's flow label,
reimplemented here so expected frames do not come from the code under test."""
import struct

from scapy.all import raw


def mix32(h):
    """murmur3 fmix32."""
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def flow_label(ip):
    """mapgw's label: each word of the inner 5-tuple (network-order words read
    on a little-endian CPU, as the BPF program loads them; destination port in
    the upper half of the ports word; the protocol tagged with 3 << 16), its
    high half xored into its low half, times its own odd constant, summed,
    then murmur3 fmix32; 20 bits, never 0."""
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
    words = (le32(b[12:16]), le32(b[16:20]), ports, b[9] | 3 << 16)
    mults = (0x9E3779B1, 0x85EBCA6B, 0xC2B2AE35, 0x27D4EB2F)
    folded = (w ^ (w >> 16) for w in words)
    h = mix32(sum(w * m for w, m in zip(folded, mults)) & 0xFFFFFFFF) & 0xFFFFF
    return h or 1


def cbytes(b):
    return "{" + ", ".join("0x%02x" % x for x in b) + "}"
