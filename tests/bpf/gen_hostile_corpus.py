#!/usr/bin/python3
"""The hostile-packet corpus: frames an attacker or a broken peer sends,
built with scapy, each through the XDP or TC entry it arrives at, with the
verdict and the named counter the data plane must give it. Systematic
where it can be: truncation at every header boundary and inside each
header, lengths that disagree with the frame, bad checksums, every IPv4
option kind, every IPv6 extension header kind, fragments out of order, ICMP
errors quoting garbage, VLAN tags and frames to other MACs.

Expectations come from what the kernel's own input would do and from the
counter table in README.md, not from running mapgw.

usage: gen_hostile_corpus.py ce|br OUT.h   (written in the fixture format
of gen_ce_fixtures.py / gen_br_fixtures.py, as hostile_cases())
"""
import sys

from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Dot1AD, Ether, ICMPv6PacketTooBig, IPOption,
                       IPOption_LSRR, IPOption_RR, IPOption_SSRR, IPOption_Timestamp, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, ARP, raw)

import gen_br_fixtures as brf
import gen_ce_fixtures as cef
from fixture_lib import cbytes

XDP_DROP, XDP_PASS = 1, 2
TC_ACT_OK, TC_ACT_SHOT = 0, 2


def with_bad_checksum(ip):
    p = IP(raw(ip))
    p.chksum ^= 0x5a5a
    return p


def truncations(frame, cuts):
    """(cut, bytes) for each cut length."""
    b = raw(frame)
    return [(n, b[:n]) for n in cuts]


IPV4_OPTIONS = [("nop", IPOption(b"\x01\x01\x01\x01")), ("record_route", IPOption_RR(routers=["0.0.0.0"])),
                ("timestamp", IPOption_Timestamp(flg=0, timestamp=0)),
                ("loose_source_route", IPOption_LSRR(routers=["8.8.4.4"])),
                ("strict_source_route", IPOption_SSRR(routers=["8.8.4.4"])),
                ("router_alert", IPOption(b"\x94\x04\x00\x00"))]

IPV6_EXT_HEADERS = [("hop_by_hop", IPv6ExtHdrHopByHop(), "drop_ipv6_ext_header"),
                    ("routing", IPv6ExtHdrRouting(), "drop_ipv6_ext_header"),
                    ("fragment", IPv6ExtHdrFragment(m=1), "drop_ipv6_fragment"),
                    ("destination_options_other", IPv6ExtHdrDestOpt(options=[]), "drop_ipv6_ext_header")]


def ce_cases():
    c = []

    def add(name, entry, frame, verdict, counters, same_out=False, prelude=()):
        f = raw(frame)
        c.append((name, entry, cef.EIF, f, verdict, counters, f if same_out else None,
                  [raw(p) for p in prelude]))

    out = cef.IP(src=cef.H10, dst="8.8.8.8") / UDP(sport=7940, dport=53) / b"hostile"
    base = cef.lan(out)
    opened = cef.lan(cef.IP(src=cef.H10, dst="8.8.8.8") / UDP(sport=7941, dport=53))
    back = IP(src="8.8.8.8", dst=cef.PUB) / UDP(sport=53, dport=7941) / b"reply"

    # --- LAN side, XDP -----------------------------------------------------------------
    for n, b in truncations(base, range(14, 14 + 20)):  # Ethernet only, then inside the IPv4 header
        add("lan_cut_at_%d" % n, "lan", b, XDP_DROP, {"drop_malformed_ipv4": 1})
    for n, b in truncations(base, [14 + 20, 14 + 24, 14 + 27]):  # IPv4 whole, UDP not
        add("lan_cut_at_%d" % n, "lan", b, XDP_DROP, {"drop_inner_length": 1})
    add("lan_tot_len_beyond_frame", "lan", cef.lan(IP(raw(out)[:2] + b"\x05\xdc" + raw(out)[4:])), XDP_DROP,
        {"drop_inner_length": 1})
    add("lan_tot_len_below_header", "lan", cef.lan(cef.rebuilt(out, len=12)), XDP_DROP,
        {"drop_inner_length": 1})
    add("lan_ihl_4", "lan", cef.lan(IP(src=cef.H10, dst="8.8.8.8", ihl=4) / UDP()), XDP_DROP,
        {"drop_malformed_ipv4": 1})
    add("lan_version_6_in_ipv4_ethertype", "lan",
        Ether(src=cef.MAC_HOST10, dst=cef.MAC_LAN, type=0x0800) / IPv6(src="2001:db8::1", dst="2001:db8::2"),
        XDP_DROP, {"drop_malformed_ipv4": 1})
    add("lan_bad_checksum", "lan", cef.lan(with_bad_checksum(out)), XDP_DROP, {"drop_ipv4_checksum": 1})
    for name, opt in IPV4_OPTIONS:
        add("lan_option_%s_to_the_kernel" % name, "lan",
            cef.lan(IP(src=cef.H10, dst="8.8.8.8", options=[opt]) / UDP(sport=7940, dport=53)), XDP_PASS,
            {"punt_ipv4_options": 1}, same_out=True)
    add("lan_udp_header_cut", "lan", cef.lan(IP(src=cef.H10, dst="8.8.8.8", proto=17) / b"\x1f\x04\x00"),
        XDP_DROP, {"drop_malformed_l4": 1})
    add("lan_tcp_header_cut", "lan", cef.lan(IP(src=cef.H10, dst="8.8.8.8", proto=6) / b"\x1f\x04\x00\x50"),
        XDP_DROP, {"drop_malformed_l4": 1})
    add("lan_later_fragment_before_first", "lan",
        cef.lan(IP(src=cef.H10, dst="8.8.8.8", id=0x7777, frag=8, proto=17) / (b"z" * 16)), XDP_DROP,
        {"drop_frag_unmatched": 1})
    add("lan_icmp_error_quote_cut", "lan",
        cef.lan(IP(src=cef.H10, dst="8.8.8.8") / ICMP(type=3, code=3) / b"\x45\x00\x00"), XDP_DROP,
        {"drop_malformed_l4": 1})
    add("lan_icmp_error_quoting_no_session", "lan",
        cef.lan(IP(src=cef.H10, dst="8.8.8.8") / ICMP(type=3, code=3) /
                raw(IP(src="8.8.8.8", dst=cef.H10) / UDP(sport=53, dport=9999))[:28]), XDP_DROP,
        {"drop_nat_no_mapping": 1})
    add("lan_icmp_error_quoting_gre", "lan",
        cef.lan(IP(src=cef.H10, dst="8.8.8.8") / ICMP(type=3, code=3) /
                raw(IP(src="8.8.8.8", dst=cef.H10, proto=47) / (b"\x00" * 8))), XDP_DROP,
        {"drop_nat_protocol": 1})
    for name, tag in (("802_1q", Dot1Q(vlan=9)), ("802_1ad_qinq", Dot1AD(vlan=9) / Dot1Q(vlan=10))):
        add("lan_vlan_%s_to_the_kernel" % name, "lan",
            Ether(src=cef.MAC_HOST10, dst=cef.MAC_LAN) / tag / out, XDP_PASS, {"pass_vlan_tagged": 1},
            same_out=True)
    add("lan_arp_to_the_kernel", "lan", Ether(src=cef.MAC_HOST10, dst="ff:ff:ff:ff:ff:ff") / ARP(),
        XDP_PASS, {"pass_not_our_mac": 1}, same_out=True)
    add("lan_arp_unicast_to_the_kernel", "lan", Ether(src=cef.MAC_HOST10, dst=cef.MAC_LAN) / ARP(),
        XDP_PASS, {"rx_non_ip": 1}, same_out=True)
    add("lan_frame_to_another_host", "lan", Ether(src=cef.MAC_HOST10, dst="02:00:00:00:0a:77") / out,
        XDP_PASS, {"pass_not_our_mac": 1}, same_out=True)
    add("lan_martian_source", "lan", cef.lan(IP(src="127.0.0.1", dst="8.8.8.8") / UDP(sport=7940, dport=53)),
        XDP_DROP, {"drop_martian_source": 1})

    # --- WAN side, XDP -----------------------------------------------------------------
    tun = cef.from_br(back)
    for n, b in truncations(tun, [14, 14 + 20, 14 + 39]):
        add("wan_cut_at_%d" % n, "wan", b, XDP_DROP, {"drop_malformed_ipv6": 1})
    for n, b in truncations(tun, [14 + 40 + 10, 14 + 40 + 24]):
        add("wan_cut_at_%d" % n, "wan", b, XDP_DROP, {"drop_malformed_ipv6": 1}, prelude=[opened])
    add("wan_payload_length_zero", "wan", cef.wan(IPv6(src=cef.BR6, dst=cef.CE6, nh=4, plen=0) / back),
        XDP_DROP, {"drop_malformed_ipv6": 1}, prelude=[opened])
    add("wan_inner_tot_len_beyond_payload", "wan",
        cef.wan(IPv6(src=cef.BR6, dst=cef.CE6, nh=4) / IP(raw(back)[:2] + b"\x00\x40" + raw(back)[4:])),
        XDP_DROP, {"drop_inner_length": 1}, prelude=[opened])
    add("wan_inner_ipv4_cut", "wan", cef.wan(IPv6(src=cef.BR6, dst=cef.CE6, nh=4) / raw(back)[:12]),
        XDP_DROP, {"drop_malformed_ipv4": 1}, prelude=[opened])
    for name, ext, counter in IPV6_EXT_HEADERS:
        add("wan_ext_header_%s" % name, "wan",
            cef.wan(IPv6(src=cef.BR6, dst=cef.CE6) / ext / back), XDP_DROP, {counter: 1}, prelude=[opened])
    add("wan_inner_bad_checksum", "wan", cef.from_br(with_bad_checksum(back)), XDP_DROP,
        {"drop_ipv4_checksum": 1}, prelude=[opened])
    for name, opt in IPV4_OPTIONS:
        add("wan_inner_option_%s_to_the_kernel" % name, "wan",
            cef.from_br(IP(src="8.8.8.8", dst=cef.PUB, options=[opt]) / UDP(sport=53, dport=7941)), XDP_PASS,
            {"punt_ipv4_options": 1}, same_out=True, prelude=[opened])
    for name, src in (("zero", "0.1.2.3"), ("loopback", "127.0.0.1"), ("multicast", "239.1.1.1"),
                      ("broadcast", "255.255.255.255")):
        add("wan_inner_martian_%s" % name, "wan",
            cef.from_br(IP(src=src, dst=cef.PUB) / UDP(sport=53, dport=7941)), XDP_DROP,
            {"drop_martian_source": 1}, prelude=[opened])
    add("wan_inner_source_of_the_lan", "wan",
        cef.from_br(IP(src=cef.H10, dst=cef.PUB) / UDP(sport=53, dport=7941)), XDP_DROP,
        {"drop_spoofed_source": 1}, prelude=[opened])
    add("wan_inner_later_fragment_without_first", "wan",
        cef.from_br(IP(src="8.8.8.8", dst=cef.PUB, id=0x7878, frag=8, proto=17) / (b"z" * 16)), XDP_DROP,
        {"drop_frag_unmatched": 1})
    add("wan_icmp_error_quote_cut", "wan",
        cef.from_br(IP(src="8.8.8.8", dst=cef.PUB) / ICMP(type=3, code=3) / b"\x45\x00"), XDP_DROP,
        {"drop_malformed_l4": 1}, prelude=[opened])
    add("wan_icmp_error_quoting_no_session", "wan",
        cef.from_br(IP(src="8.8.8.8", dst=cef.PUB) / ICMP(type=3, code=3) /
                    raw(IP(src=cef.PUB, dst="9.9.9.9") / UDP(sport=7941, dport=53))[:28]), XDP_DROP,
        {"drop_nat_no_mapping": 1}, prelude=[opened])
    add("wan_icmp_error_quoting_another_address", "wan",
        cef.from_br(IP(src="8.8.8.8", dst=cef.PUB) / ICMP(type=3, code=3) /
                    raw(IP(src="106.72.171.206", dst="8.8.8.8") / UDP(sport=7941, dport=53))[:28]), XDP_DROP,
        {"drop_not_own_address": 1}, prelude=[opened])
    sent = IP(src=cef.PUB, dst="8.8.8.8") / UDP(sport=7941, dport=53)
    add("wan_ptb_quote_cut_inside_ipv4", "wan",
        cef.wan(IPv6(src="2001:db8:eeee::1", dst=cef.CE6) / ICMPv6PacketTooBig(mtu=1280) /
                raw(IPv6(src=cef.CE6, dst=cef.BR6, nh=4, plen=1400) / sent)[:40 + 12]), XDP_DROP,
        {"drop_icmp_unmatched": 1}, prelude=[opened])
    add("wan_ptb_quote_not_a_tunnel_packet", "wan",
        cef.wan(IPv6(src="2001:db8:eeee::1", dst=cef.CE6) / ICMPv6PacketTooBig(mtu=1280) /
                IPv6(src=cef.CE6, dst=cef.BR6, nh=17, plen=1400) / UDP()), XDP_PASS, {"pass_local_ipv6": 1},
        same_out=True)
    add("wan_not_from_br", "wan", cef.from_br(back, src="2001:db8:bad::1"), XDP_DROP,
        {"drop_not_from_br": 1}, prelude=[opened])
    add("wan_plain_ipv4", "wan", cef.wan(back), XDP_DROP, {"drop_wan_plain_ipv4": 1})
    add("wan_plain_ipv4_broadcast_frame", "wan",
        Ether(src=cef.MAC_GW6, dst="ff:ff:ff:ff:ff:ff") / back, XDP_PASS, {"pass_not_our_mac": 1}, same_out=True)
    add("wan_vlan_tagged_tunnel", "wan", Ether(src=cef.MAC_GW6, dst=cef.MAC_WAN) / Dot1Q(vlan=3) /
        IPv6(src=cef.BR6, dst=cef.CE6, nh=4) / back, XDP_PASS, {"pass_vlan_tagged": 1}, same_out=True,
        prelude=[opened])

    # --- WAN side, TC slow path (what XDP passes, and what arrives without XDP) ----------
    add("tc_wan_plain_ipv4", "tc_wan", cef.wan(back), TC_ACT_SHOT, {"drop_wan_plain_ipv4": 1})
    add("tc_wan_payload_length_beyond_frame", "tc_wan",
        cef.wan(IPv6(src=cef.BR6, dst=cef.CE6, nh=4, plen=len(raw(back)) + 64) / back), TC_ACT_SHOT,
        {"drop_malformed_ipv6": 1}, prelude=[opened])
    add("tc_wan_inner_martian", "tc_wan", cef.from_br(IP(src="127.0.0.1", dst=cef.PUB) / UDP(sport=53, dport=7941)),
        TC_ACT_SHOT, {"drop_martian_source": 1}, prelude=[opened])
    add("tc_wan_inner_ipv4_cut", "tc_wan", cef.wan(IPv6(src=cef.BR6, dst=cef.CE6, nh=4) / raw(back)[:12]),
        TC_ACT_SHOT, {"drop_malformed_ipv4": 1}, prelude=[opened])
    add("tc_wan_vlan_tagged", "tc_wan", Ether(src=cef.MAC_GW6, dst=cef.MAC_WAN) / Dot1Q(vlan=3) /
        IPv6(src=cef.BR6, dst=cef.CE6, nh=4) / back, TC_ACT_OK, {}, prelude=[opened])
    add("tc_wan_frame_to_another_host", "tc_wan",
        Ether(src=cef.MAC_GW6, dst="02:00:00:00:0b:77") / IPv6(src=cef.BR6, dst=cef.CE6, nh=4) / back,
        TC_ACT_OK, {}, prelude=[opened])
    return c


def br_cases():
    c = []

    def add(name, entry, frame, verdict, counter, same_out=False, prelude=()):
        f = raw(frame)
        c.append((name, entry, f, verdict, counter, f if same_out else None, [raw(p) for p in prelude]))

    down = IP(src=brf.HOST, dst="192.0.2.18") / UDP(sport=53, dport=1232) / b"hostile"
    base = brf.from_v4(down)

    # --- IPv4 side, XDP ----------------------------------------------------------------
    for n, b in truncations(base, range(14, 14 + 20)):
        add("v4_cut_at_%d" % n, "xdp_v4", b, XDP_DROP, "drop_malformed_ipv4")
    for n, b in truncations(base, [14 + 20, 14 + 24, 14 + 27]):
        add("v4_cut_at_%d" % n, "xdp_v4", b, XDP_DROP, "drop_inner_length")
    add("v4_tot_len_below_header", "xdp_v4", brf.from_v4(cef.rebuilt(down, len=12)), XDP_DROP,
        "drop_inner_length")
    add("v4_bad_checksum", "xdp_v4", brf.from_v4(with_bad_checksum(down)), XDP_DROP, "drop_ipv4_checksum")
    for name, opt in IPV4_OPTIONS:
        f = brf.from_v4(IP(src=brf.HOST, dst="192.0.2.18", options=[opt]) / UDP(sport=53, dport=1232))
        add("v4_option_%s_to_the_kernel" % name, "xdp_v4", f, XDP_PASS, "punt_ipv4_options", same_out=True)
    for name, src in (("zero", "0.0.0.0"), ("loopback", "127.0.0.2"), ("multicast", "224.0.0.1"),
                      ("reserved", "250.1.1.1")):
        add("v4_martian_%s" % name, "xdp_v4",
            brf.from_v4(IP(src=src, dst="192.0.2.18") / UDP(sport=53, dport=1232)), XDP_DROP, "drop_martian_source")
    add("v4_later_fragment_before_first", "xdp_v4",
        brf.from_v4(IP(src=brf.HOST, dst="192.0.2.18", id=0x6262, frag=8, proto=17) / (b"z" * 16)), XDP_DROP,
        "drop_frag_unmatched")
    add("v4_icmp_error_quote_cut", "xdp_v4",
        brf.from_v4(IP(src="198.18.0.1", dst="192.0.2.18") / ICMP(type=3, code=3) / b"\x45\x00"), XDP_DROP,
        "drop_malformed_l4")
    for name, tag in (("802_1q", Dot1Q(vlan=9)), ("802_1ad_qinq", Dot1AD(vlan=9) / Dot1Q(vlan=10))):
        add("v4_vlan_%s_to_the_kernel" % name, "xdp_v4", Ether(src=brf.MAC_GW4, dst=brf.MAC_V4) / tag / down,
            XDP_PASS, "pass_vlan_tagged", same_out=True)
    add("v4_multicast_frame", "xdp_v4", Ether(src=brf.MAC_GW4, dst="01:00:5e:01:02:03") / down, XDP_PASS,
        "pass_not_our_mac", same_out=True)

    # --- IPv6 side, XDP ----------------------------------------------------------------
    up = IP(src="192.0.2.18", dst=brf.HOST) / UDP(sport=1232, dport=53) / b"hostile"
    tun = brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) / up)
    for n, b in truncations(tun, [14, 14 + 20, 14 + 39]):
        add("v6_cut_at_%d" % n, "xdp_v6", b, XDP_DROP, "drop_malformed_ipv6")
    for n, b in truncations(tun, [14 + 40 + 10, 14 + 40 + 24]):
        add("v6_cut_at_%d" % n, "xdp_v6", b, XDP_DROP, "drop_malformed_ipv6")
    add("v6_payload_length_zero", "xdp_v6", brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4, plen=0) / up),
        XDP_DROP, "drop_malformed_ipv6")
    add("v6_inner_tot_len_beyond_payload", "xdp_v6",
        brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) / IP(raw(up)[:2] + b"\x00\x50" + raw(up)[4:])),
        XDP_DROP, "drop_inner_length")
    for name, ext, counter in IPV6_EXT_HEADERS:
        add("v6_ext_header_%s" % name, "xdp_v6", brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6) / ext / up),
            XDP_DROP, counter)
    add("v6_inner_bad_checksum", "xdp_v6", brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) /
                                                        with_bad_checksum(up)), XDP_DROP, "drop_ipv4_checksum")
    for name, opt in IPV4_OPTIONS:
        f = brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) /
                        IP(src="192.0.2.18", dst=brf.HOST, options=[opt]) / UDP(sport=1232, dport=53))
        add("v6_inner_option_%s_to_the_kernel" % name, "xdp_v6", f, XDP_PASS, "punt_ipv4_options",
            same_out=True)
    add("v6_inner_source_not_the_ces", "xdp_v6", brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) /
                                                            IP(src="127.0.0.1", dst=brf.HOST) /
                                                            UDP(sport=1232, dport=53)),
        XDP_DROP, "drop_martian_source")
    add("v6_ptb_below_1280", "xdp_v6",
        brf.from_v6(IPv6(src="2001:db8:eeee::1", dst=brf.BR6) / ICMPv6PacketTooBig(mtu=68) /
                    IPv6(src=brf.BR6, dst=brf.CE_A, nh=4, plen=1400) / down), XDP_DROP, "drop_ptb_bad_mtu")
    add("v6_ptb_quote_cut_inside_ipv4", "xdp_v6",
        brf.from_v6(IPv6(src="2001:db8:eeee::1", dst=brf.BR6) / ICMPv6PacketTooBig(mtu=1280) /
                    raw(IPv6(src=brf.BR6, dst=brf.CE_A, nh=4, plen=1400) / down)[:40 + 10]), XDP_DROP,
        "drop_icmp_unmatched")
    add("v6_vlan_tagged", "xdp_v6", Ether(src=brf.MAC_GW6, dst=brf.MAC_V6) / Dot1Q(vlan=4) /
        IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) / up, XDP_PASS, "pass_vlan_tagged", same_out=True)
    add("v6_frame_to_another_host", "xdp_v6", Ether(src=brf.MAC_GW6, dst="02:00:00:00:06:77") /
        IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) / up, XDP_PASS, "pass_not_our_mac", same_out=True)

    # --- IPv6 side, TC slow path --------------------------------------------------------
    add("tc_v6_payload_length_beyond_frame", "tc_v6",
        brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4, plen=len(raw(up)) + 64) / up), TC_ACT_SHOT,
        "drop_malformed_ipv6")
    add("tc_v6_inner_ipv4_cut", "tc_v6", brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) / raw(up)[:12]),
        TC_ACT_SHOT, "drop_malformed_ipv4")
    add("tc_v6_spoofed_psid", "tc_v6", brf.from_v6(IPv6(src=brf.CE_A, dst=brf.BR6, nh=4) /
                                                  IP(src="192.0.2.18", dst=brf.HOST) / UDP(sport=1236, dport=53)),
        TC_ACT_SHOT, "drop_wrong_psid")
    return c


def main():
    role, path = sys.argv[1], sys.argv[2]
    out = ["// Generated by gen_hostile_corpus.py (scapy). Do not edit.", "#pragma once",
           '#include "%s_fixtures.h"' % role, "namespace %s_fixtures {" % role,
           "inline const std::vector<Case>& hostile_cases() {", "  static const std::vector<Case> all = {"]
    if role == "ce":
        for name, entry, filt, inp, verdict, counters, expect, prelude in ce_cases():
            cmap = "{" + ", ".join('{"%s", %d}' % kv for kv in sorted(counters.items())) + "}"
            out.append('    {"hostile_%s", "%s", %d, %s, %d, %s, %s, %s, {%s}},' % (
                name, entry, filt, cbytes(inp), verdict, cmap, "true" if expect else "false",
                cbytes(expect or b""), ", ".join(cbytes(p) for p in prelude)))
    else:
        for name, entry, inp, verdict, counter, expect, prelude in br_cases():
            out.append('    {"hostile_%s", "%s", %s, %d, "%s", %s, %s, {%s}},' % (
                name, entry, cbytes(inp), verdict, counter, "true" if expect else "false",
                cbytes(expect or b""), ", ".join(cbytes(p) for p in prelude)))
    out += ["  };", "  return all;", "}", "}  // namespace %s_fixtures" % role]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
