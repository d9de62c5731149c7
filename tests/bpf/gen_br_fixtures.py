#!/usr/bin/python3
"""BR test cases for BPF_PROG_TEST_RUN, built with scapy.

Each case: name, program (xdp_v4 / xdp_v6), input frame, expected verdict,
expected output frame (for forwarded packets), the counter it must bump,
and optional prelude frames run first (fragment trains). Expected frames are
built independently by scapy (checksums included); only the flow label uses
mapgw's documented hash, reimplemented here.

The topology constants must match br_test.cc.
usage: gen_br_fixtures.py OUT.h
"""
import sys

from fixture_lib import cbytes, encap_limit_dstopt, flow_label
from scapy.all import (GRE, ICMP, IP, Dot1Q, IPOption, IPOption_LSRR, TCP, UDP, Ether, ICMPv6PacketTooBig, IPerror, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, TCPerror, UDPerror, raw)

MAC_V4 = "02:00:00:00:04:01"   # BR IPv4 interface
MAC_GW4 = "02:00:00:00:04:02"  # IPv4 next hop
MAC_V6 = "02:00:00:00:06:01"   # BR IPv6 interface
MAC_GW6 = "02:00:00:00:06:02"  # IPv6 next hop
BR6 = "2001:db8:ffff::1"
BR4 = "203.0.113.1"            # ICMPv4 source
HOST = "1.2.3.4"               # somewhere on the IPv4 internet
CE_A = "2001:db8:12:3400:0:c000:212:34"    # 192.0.2.18 PSID 0x34 (RFC 7597 App. A)
CE_B = "2001:db8:12:3500:0:c000:212:35"    # 192.0.2.18 PSID 0x35
CE_LEGACY = "240b:10:abcd:ef00:6a:48ab:cd00:ef00"  # 106.72.171.205 PSID 0xef, draft-03 IID
CE_FULL = "2001:db8:107::c633:6407:0"        # 198.51.100.7, no sharing

XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = 1, 2, 3, 4




def ttl_minus_one(ip):
    p = IP(raw(ip))
    p.ttl -= 1
    del p.chksum
    return IP(raw(p))


def from_v4(ip):
    return Ether(src=MAC_GW4, dst=MAC_V4) / ip


def from_v6(pkt):
    return Ether(src=MAC_GW6, dst=MAC_V6) / pkt


def encapsulated(ip, ce, src=BR6):
    """What the BR must send towards a CE for inner packet @ip (as received)."""
    inner = ttl_minus_one(ip)
    return Ether(src=MAC_V6, dst=MAC_GW6) / IPv6(
        src=src, dst=ce, nh=4, hlim=64, tc=inner.tos, fl=flow_label(inner),
        plen=len(raw(inner))) / inner


def decapsulated(ip):
    return Ether(src=MAC_V4, dst=MAC_GW4) / ttl_minus_one(ip)


def cases():
    c = []

    def add(name, prog, frame, verdict, counter, expect=None, prelude=()):
        c.append((name, prog, raw(frame), verdict, counter, raw(expect) if expect else None,
                  [raw(p) for p in prelude]))

    # --- IPv4 side -> CE -------------------------------------------------------
    ex2 = IP(src=HOST, dst="192.0.2.18", ttl=64, tos=0xB8) / TCP(sport=80, dport=1232, flags="SA") / b"hello"
    add("rfc7597_ex2_tcp_to_ce", "xdp_v4", from_v4(ex2), XDP_REDIRECT, "br_encap",
        encapsulated(ex2, CE_A))
    udp = IP(src=HOST, dst="192.0.2.18") / UDP(sport=53, dport=1236) / (b"x" * 32)
    add("udp_to_neighbour_psid", "xdp_v4", from_v4(udp), XDP_REDIRECT, "br_encap",
        encapsulated(udp, CE_B))
    leg = IP(src=HOST, dst="106.72.171.205") / UDP(sport=123, dport=7920) / b"ntp"
    add("legacy_iid_v6plus_shape", "xdp_v4", from_v4(leg), XDP_REDIRECT, "br_encap",
        encapsulated(leg, CE_LEGACY))
    # IPv4 options: to the kernel, whose input acts on them (or drops a source
    # route); the TC slow path encapsulates what it routes on.
    opt = IP(src=HOST, dst="192.0.2.18", options=[IPOption(b"\x01\x01\x01\x01")]) / \
        UDP(sport=53, dport=1232) / b"opt"
    add("ipv4_options_to_the_kernel", "xdp_v4", from_v4(opt), XDP_PASS, "punt_ipv4_options",
        from_v4(opt))
    lsrr = IP(src=HOST, dst="192.0.2.18", options=[IPOption_LSRR(routers=["198.18.0.9"])]) / \
        UDP(sport=53, dport=1232)
    add("source_route_to_the_kernel", "xdp_v4", from_v4(lsrr), XDP_PASS, "punt_ipv4_options",
        from_v4(lsrr))
    # Frames the kernel would never route: tagged for a VLAN we were not told
    # about, or not sent to our own address. Left to the kernel untouched.
    q = IP(src=HOST, dst="192.0.2.18") / UDP(sport=53, dport=1232)
    tagged = Ether(src=MAC_GW4, dst=MAC_V4) / Dot1Q(vlan=7) / q
    add("vlan_tagged_left_to_the_kernel", "xdp_v4", tagged, XDP_PASS, "pass_vlan_tagged", tagged)
    for name, mac in (("broadcast", "ff:ff:ff:ff:ff:ff"), ("another_host", "02:00:00:00:04:99")):
        f = Ether(src=MAC_GW4, dst=mac) / q
        add("frame_to_%s_left_to_the_kernel" % name, "xdp_v4", f, XDP_PASS, "pass_not_our_mac", f)
    # What the kernel's input drops, dropped here too (hostile sources).
    add("bad_header_checksum_dropped", "xdp_v4",
        from_v4(IP(src=HOST, dst="192.0.2.18", chksum=0x1234) / UDP(sport=53, dport=1232)), XDP_DROP,
        "drop_ipv4_checksum")
    for name, src in (("zero", "0.0.0.0"), ("loopback", "127.0.0.1"), ("multicast", "224.0.0.5"),
                      ("reserved", "240.0.0.1"), ("broadcast", "255.255.255.255")):
        add("martian_source_%s_dropped" % name, "xdp_v4",
            from_v4(IP(src=src, dst="192.0.2.18") / UDP(sport=53, dport=1232)), XDP_DROP,
            "drop_martian_source")
    full = IP(src=HOST, dst="198.51.100.7") / GRE() / b"gre"
    add("unshared_rule_any_protocol", "xdp_v4", from_v4(full), XDP_REDIRECT, "br_encap",
        encapsulated(full, CE_FULL))
    echo = IP(src=HOST, dst="192.0.2.18") / ICMP(type=8, id=1232, seq=7) / b"ping"
    add("icmp_echo_by_identifier", "xdp_v4", from_v4(echo), XDP_REDIRECT, "br_encap",
        encapsulated(echo, CE_A))
    err = IP(src="198.18.0.1", dst="192.0.2.18") / ICMP(type=3, code=3) / IPerror(
        src="192.0.2.18", dst=HOST) / UDPerror(sport=1232, dport=53)
    add("icmp_error_by_embedded_source_port", "xdp_v4", from_v4(err), XDP_REDIRECT, "br_encap",
        encapsulated(err, CE_A))
    add("excluded_port_dropped", "xdp_v4",
        from_v4(IP(src=HOST, dst="192.0.2.18") / UDP(sport=53, dport=1000)), XDP_DROP,
        "drop_excluded_port")
    add("gre_to_shared_address_dropped", "xdp_v4",
        from_v4(IP(src=HOST, dst="192.0.2.18") / GRE()), XDP_DROP, "drop_no_port")
    ttl1 = IP(src=HOST, dst="192.0.2.18", ttl=1) / UDP(sport=53, dport=1232)
    add("ttl_1_punted_for_time_exceeded", "xdp_v4", from_v4(ttl1), XDP_PASS, "punt_ttl",
        from_v4(ttl1))
    big = IP(src=HOST, dst="192.0.2.18", flags="DF") / UDP(sport=53, dport=1232) / (b"b" * 1300)
    add("df_over_mtu_punted", "xdp_v4", from_v4(big), XDP_PASS, "punt_frag_needed", from_v4(big))
    other = IP(src=HOST, dst="8.8.8.8") / UDP(sport=53, dport=1232)
    add("not_mapped_passed", "xdp_v4", from_v4(other), XDP_PASS, "pass_not_mapped", from_v4(other))
    add("truncated_ipv4", "xdp_v4", raw(from_v4(udp))[:14 + 12], XDP_DROP, "drop_malformed_ipv4")
    add("bad_ihl", "xdp_v4", from_v4(IP(src=HOST, dst="192.0.2.18", ihl=3) / UDP()), XDP_DROP,
        "drop_malformed_ipv4")
    trunc_tcp = raw(from_v4(IP(src=HOST, dst="192.0.2.18") / TCP(sport=80, dport=1232)))[:14 + 20 + 2]
    # tot_len still says 40: the length check catches it before the port read
    add("truncated_tcp", "xdp_v4", trunc_tcp, XDP_DROP, "drop_inner_length")
    short_l4 = IP(src=HOST, dst="192.0.2.18", proto=6) / b"\x00\x50"
    add("tcp_header_shorter_than_ports", "xdp_v4", from_v4(short_l4), XDP_DROP, "drop_malformed_l4")

    # Fragments: the first carries the port, the rest follow its PSID.
    payload = UDP(sport=53, dport=1236) / (b"f" * 64)
    frag1 = IP(src=HOST, dst="192.0.2.18", id=0x4242, flags="MF", frag=0, proto=17) / raw(payload)[:32]
    frag2 = IP(src=HOST, dst="192.0.2.18", id=0x4242, flags=0, frag=4, proto=17) / raw(payload)[32:]
    add("first_fragment_by_port", "xdp_v4", from_v4(frag1), XDP_REDIRECT, "br_encap",
        encapsulated(frag1, CE_B))
    add("later_fragment_follows_first", "xdp_v4", from_v4(frag2), XDP_REDIRECT, "br_encap",
        encapsulated(frag2, CE_B), prelude=[from_v4(frag1)])
    orphan = IP(src=HOST, dst="192.0.2.18", id=0x4343, flags=0, frag=4, proto=17) / raw(payload)[32:]
    add("later_fragment_before_first_dropped", "xdp_v4", from_v4(orphan), XDP_DROP,
        "drop_frag_unmatched")

    # --- IPv6 side -> IPv4 ---------------------------------------------------------
    up = IP(src="192.0.2.18", dst=HOST, ttl=64) / TCP(sport=1232, dport=80, flags="S") / b"up"
    add("decap_valid_source", "xdp_v6", from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / up),
        XDP_REDIRECT, "br_decap", decapsulated(up))
    up_opt = IP(src="192.0.2.18", dst=HOST, options=[IPOption(b"\x01\x01\x01\x01")]) / \
        UDP(sport=1232, dport=53) / b"opt"
    add("decap_ipv4_options_to_the_kernel", "xdp_v6", from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / up_opt),
        XDP_PASS, "punt_ipv4_options", from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / up_opt))
    short = IP(src="192.0.2.18", dst=HOST) / UDP(sport=1232, dport=53)
    add("decap_ipv6_payload_length_beyond_the_frame", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6, nh=4, plen=len(raw(short)) + 100) / short), XDP_DROP,
        "drop_malformed_ipv6")
    v6tag = Ether(src=MAC_GW6, dst=MAC_V6) / Dot1Q(vlan=7) / IPv6(src=CE_A, dst=BR6, nh=4) / short
    add("decap_vlan_tagged_left_to_the_kernel", "xdp_v6", v6tag, XDP_PASS, "pass_vlan_tagged", v6tag)
    add("decap_bad_header_checksum_dropped", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / IP(src="192.0.2.18", dst=HOST, chksum=0x1234) /
                UDP(sport=1232, dport=53)), XDP_DROP, "drop_ipv4_checksum")
    add("spoof_wrong_psid", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / IP(src="192.0.2.18", dst=HOST) / UDP(sport=1236, dport=53)),
        XDP_DROP, "drop_wrong_psid")
    add("spoof_excluded_port", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / IP(src="192.0.2.18", dst=HOST) / UDP(sport=53, dport=53)),
        XDP_DROP, "drop_excluded_port")
    add("spoof_other_ipv4", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / IP(src="192.0.2.19", dst=HOST) / UDP(sport=1232, dport=53)),
        XDP_DROP, "drop_addr_outside_rule")
    add("spoof_iid", "xdp_v6",
        from_v6(IPv6(src="2001:db8:12:3400::99", dst=BR6, nh=4) / IP(src="192.0.2.18", dst=HOST) /
                UDP(sport=1232, dport=53)),
        XDP_DROP, "drop_not_ce_address")
    add("source_in_no_rule", "xdp_v6",
        from_v6(IPv6(src="2001:db9::1", dst=BR6, nh=4) / IP(src="192.0.2.18", dst=HOST) / UDP(sport=1232, dport=53)),
        XDP_DROP, "drop_no_rule")
    legacy_up = IP(src="106.72.171.205", dst=HOST) / UDP(sport=7921, dport=123) / b"ntp"
    add("decap_legacy_iid_source", "xdp_v6", from_v6(IPv6(src=CE_LEGACY, dst=BR6, nh=4) / legacy_up),
        XDP_REDIRECT, "br_decap", decapsulated(legacy_up))
    hp = IP(src="192.0.2.18", dst="192.0.2.18") / UDP(sport=1232, dport=1237) / b"hairpin"
    hp_out = ttl_minus_one(hp)
    add("hairpin_ce_to_ce", "xdp_v6", from_v6(IPv6(src=CE_A, dst=BR6, nh=4, hlim=60, fl=5) / hp),
        XDP_REDIRECT, "br_hairpin",
        Ether(src=MAC_V6, dst=MAC_GW6) / IPv6(src=BR6, dst=CE_B, nh=4, hlim=64, fl=5,
                                             plen=len(raw(hp_out))) / hp_out)
    ttl1up = IP(src="192.0.2.18", dst=HOST, ttl=1) / UDP(sport=1232, dport=53)
    add("decap_ttl_1_punted", "xdp_v6", from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / ttl1up), XDP_PASS,
        "punt_ttl", from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / ttl1up))
    add("ipv6_extension_header_dropped", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6) / IPv6ExtHdrDestOpt(nh=4) / up), XDP_DROP,
        "drop_ipv6_ext_header")
    # Linux's ip6tnl (encaplimit 4 by default) puts the Tunnel Encapsulation
    # Limit option before the inner packet: skipped; anything more: dropped.
    add("decap_after_encap_limit_option", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6) / encap_limit_dstopt() / up), XDP_REDIRECT, "br_decap",
        decapsulated(up))
    add("decap_after_encap_limit_option_pad1", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6) / encap_limit_dstopt(limit=0, pad1=True) / up), XDP_REDIRECT,
        "br_decap", decapsulated(up))
    add("encap_limit_with_another_option_dropped", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6) / encap_limit_dstopt(other=0x1e) / up), XDP_DROP,
        "drop_ipv6_ext_header")
    add("encap_limit_spoofed_source_dropped", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6) / encap_limit_dstopt() /
                IP(src="192.0.2.18", dst=HOST) / UDP(sport=1236, dport=53)),
        XDP_DROP, "drop_wrong_psid")
    add("ipv6_fragment_dropped", "xdp_v6",
        from_v6(IPv6(src=CE_A, dst=BR6) / IPv6ExtHdrFragment(nh=4, m=1) / up), XDP_DROP,
        "drop_ipv6_fragment")
    to_br = from_v6(IPv6(src=CE_A, dst=BR6) / UDP(sport=5, dport=22))
    add("other_next_header_to_kernel", "xdp_v6", to_br, XDP_PASS, "pass_local_ipv6", to_br)
    transit = from_v6(IPv6(src=CE_A, dst="2001:db8:ffff::77", nh=4) / up)
    add("not_to_br_address_passed", "xdp_v6", transit, XDP_PASS, "pass_not_br", transit)
    add("inner_longer_than_payload", "xdp_v6",
        raw(from_v6(IPv6(src=CE_A, dst=BR6, nh=4, plen=30) / up))[:14 + 40 + 30], XDP_DROP,
        "drop_inner_length")
    add("truncated_ipv6", "xdp_v6", raw(from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / up))[:14 + 20],
        XDP_DROP, "drop_malformed_ipv6")

    # Inner fragments from a CE: the first is checked by port, later ones by the
    # PSID their first fragment passed with.
    up_payload = UDP(sport=1232, dport=53) / (b"u" * 64)
    uf1 = IP(src="192.0.2.18", dst=HOST, id=0x5151, flags="MF", frag=0, proto=17) / raw(up_payload)[:32]
    uf2 = IP(src="192.0.2.18", dst=HOST, id=0x5151, flags=0, frag=4, proto=17) / raw(up_payload)[32:]
    add("decap_later_fragment_after_first", "xdp_v6", from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / uf2),
        XDP_REDIRECT, "br_decap", decapsulated(uf2),
        prelude=[from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / uf1)])
    add("decap_later_fragment_spoofed_by_other_ce", "xdp_v6",
        from_v6(IPv6(src=CE_B, dst=BR6, nh=4) / uf2), XDP_DROP, "drop_wrong_psid",
        prelude=[from_v6(IPv6(src=CE_A, dst=BR6, nh=4) / uf1)])

    # ICMPv6 Packet Too Big about a packet we encapsulated -> ICMPv4 frag needed.
    sent = IP(src=HOST, dst="192.0.2.18", ttl=63) / TCP(sport=80, dport=1232, flags="A") / (b"d" * 40)
    # The quote is cut short, as a router's is: its header names the whole
    # 1440-byte packet that did not fit.
    ptb = from_v6(IPv6(src="2001:db8:eeee::1", dst=BR6) / ICMPv6PacketTooBig(mtu=1280) /
                  IPv6(src=BR6, dst=CE_A, nh=4, plen=1400) / sent)
    quote = raw(sent)[:20 + 8]
    want = Ether(src=MAC_V4, dst=MAC_GW4) / IP(src=BR4, dst=HOST, tos=0xC0, ttl=64, id=0) / ICMP(
        type=3, code=4, nexthopmtu=1240) / quote
    add("ptb_becomes_frag_needed", "xdp_v6", ptb, XDP_REDIRECT, "br_ptb_translated", want)
    # Anyone on the path can send one: below IPv6's minimum MTU (RFC 8201),
    # or no smaller than the packet it names, it shrinks nothing.
    for name, mtu, plen in (("below_1280", 1000, 1400), ("packet_fits", 1500, 1400)):
        add("ptb_mtu_%s_dropped" % name, "xdp_v6",
            from_v6(IPv6(src="2001:db8:eeee::1", dst=BR6) / ICMPv6PacketTooBig(mtu=mtu) /
                    IPv6(src=BR6, dst=CE_A, nh=4, plen=plen) / sent), XDP_DROP, "drop_ptb_bad_mtu")
    return c



def main():
    out = ["// Generated by gen_br_fixtures.py (scapy). Do not edit.", "#pragma once",
           "#include <cstdint>", "#include <vector>", "namespace br_fixtures {",
           "struct Case { const char* name; const char* program; std::vector<uint8_t> input;",
           "  uint32_t verdict; const char* counter; bool has_output; std::vector<uint8_t> output;",
           "  std::vector<std::vector<uint8_t>> prelude; };",
           "inline const std::vector<Case>& cases() {", "  static const std::vector<Case> all = {"]
    for name, prog, inp, verdict, counter, expect, prelude in cases():
        out.append('    {"%s", "%s", %s, %d, "%s", %s, %s, {%s}},' % (
            name, prog, cbytes(inp), verdict, counter, "true" if expect else "false",
            cbytes(expect or b""), ", ".join(cbytes(p) for p in prelude)))
    out += ["  };", "  return all;", "}", "}  // namespace br_fixtures"]
    with open(sys.argv[1], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
