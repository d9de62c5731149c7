#!/usr/bin/python3
"""CE test cases for BPF_PROG_TEST_RUN, built with scapy.

Each case: name, program (lan / wan), filtering mode, input frame, verdict,
the exact counter deltas it must cause (all others must stay put), the
expected output frame (scapy recomputes every checksum independently) and
prelude frames run first. The CE is v6plus-shaped: 106.72.171.205, PSID 0xef,
a=4, k=8 (ports 0x1ef0-0x1eff, 0x2ef0-..., 240 in all), legacy IID.
Topology constants must match ce_test.cc.

usage: gen_ce_fixtures.py OUT.h
"""
import sys

from fixture_lib import cbytes, encap_limit_dstopt, flow_label
from scapy.all import (GRE, ICMP, IP, Dot1Q, IPOption_LSRR, TCP, UDP, Ether, ICMPv6PacketTooBig, IPerror, IPv6,
                       UDPerror, raw)

MAC_LAN, MAC_HOST10, MAC_HOST11 = "02:00:00:00:0a:01", "02:00:00:00:0a:0a", "02:00:00:00:0a:0b"
MAC_WAN, MAC_GW6 = "02:00:00:00:0b:01", "02:00:00:00:0b:02"
CE6 = "240b:10:abcd:ef00:6a:48ab:cd00:ef00"
BR6 = "2001:db8:ffff::1"
PUB = "106.72.171.205"
LAN_GW = "192.168.1.1"
H10, H11 = "192.168.1.10", "192.168.1.11"
PEER_CE6 = "240b:10:102:f400:6a:4801:200:f400"   # 106.72.1.2 PSID 0xf4 via the FMR

XDP_DROP, XDP_PASS, XDP_REDIRECT = 1, 2, 4
EIF, ADF, APDF = 0, 1, 2




def rebuilt(ip, **changes):
    """@ip with fields changed and every checksum recomputed by scapy."""
    p = IP(raw(ip))
    for k, v in changes.items():
        if k in ("sport", "dport"):
            setattr(p.payload, k, v)
        elif k == "id":
            p[ICMP].id = v
        else:
            setattr(p, k, v)
    del p.chksum
    if p.frag == 0 and p.payload.name in ("TCP", "UDP", "ICMP"):
        del p.payload.chksum
    return IP(raw(p))


def lan(ip, mac=MAC_HOST10):
    return Ether(src=mac, dst=MAC_LAN) / ip


def wan(pkt):
    return Ether(src=MAC_GW6, dst=MAC_WAN) / pkt


def tunnel_out(inner, dst=BR6):
    """What the CE sends to the BR for an (already translated) inner packet."""
    return Ether(src=MAC_WAN, dst=MAC_GW6) / IPv6(src=CE6, dst=dst, nh=4, hlim=64, tc=inner.tos,
                                                  fl=flow_label(inner), plen=len(raw(inner))) / inner


def to_lan(inner, mac=MAC_HOST10):
    return Ether(src=MAC_LAN, dst=mac) / inner


def from_br(inner, src=BR6):
    return wan(IPv6(src=src, dst=CE6, nh=4) / inner)


NEW_FLOW = {"nat_session_created": 1, "nat_binding_created": 1, "nat_port_kept": 1}


def cases():
    c = []

    def add(name, prog, frame, verdict, counters, expect=None, prelude=(), filtering=EIF):
        c.append((name, prog, filtering, raw(frame), verdict, counters,
                  raw(expect) if expect is not None else None, [raw(p) for p in prelude]))

    # --- outbound: NAT + encapsulation --------------------------------------------
    u = IP(src=H10, dst="8.8.8.8", ttl=64) / UDP(sport=7920, dport=53) / b"query"
    add("udp_out_keeps_port_in_set", "lan", lan(u), XDP_REDIRECT, dict(NEW_FLOW, ce_out=1),
        tunnel_out(rebuilt(u, src=PUB, ttl=63)))
    u0 = IP(src=H10, dst="8.8.8.8") / UDP(sport=7921, dport=53, chksum=0) / b"nocsum"
    out0 = IP(raw(rebuilt(u0, src=PUB, ttl=63)))
    out0[UDP].chksum = 0
    out0 = IP(raw(out0))
    add("udp_zero_checksum_stays_zero", "lan", lan(u0), XDP_REDIRECT, dict(NEW_FLOW, ce_out=1),
        tunnel_out(out0))
    syn = IP(src=H10, dst="203.0.113.5", ttl=64) / TCP(sport=7922, dport=443, flags="S", seq=1000,
                                                       options=[("MSS", 1460), ("SAckOK", b"")])
    syn_out = IP(raw(syn))
    syn_out.src, syn_out.ttl = PUB, 63
    syn_out[TCP].options = [("MSS", 1420), ("SAckOK", b"")]
    del syn_out.chksum, syn_out[TCP].chksum
    add("tcp_syn_out_mss_clamped", "lan", lan(syn), XDP_REDIRECT,
        dict(NEW_FLOW, ce_out=1, nat_mss_clamped=1), tunnel_out(IP(raw(syn_out))))
    echo = IP(src=H10, dst="8.8.8.8") / ICMP(type=8, id=7923, seq=1) / b"ping"
    add("icmp_echo_out_id_kept", "lan", lan(echo), XDP_REDIRECT, dict(NEW_FLOW, ce_out=1),
        tunnel_out(rebuilt(echo, src=PUB, ttl=63)))
    fmr = IP(src=H10, dst="106.72.1.2") / UDP(sport=7924, dport=8000) / b"direct"
    add("fmr_goes_direct_to_peer_ce", "lan", lan(fmr), XDP_REDIRECT, dict(NEW_FLOW, ce_fmr_out=1),
        tunnel_out(rebuilt(fmr, src=PUB, ttl=63), dst=PEER_CE6))
    big = IP(src=H10, dst="8.8.8.8", flags="DF") / UDP(sport=7925, dport=9) / (b"b" * 1440)
    add("df_over_tunnel_mtu_punted", "lan", lan(big), XDP_PASS,
        dict(NEW_FLOW, punt_frag_needed=1), lan(big))
    ttl1 = IP(src=H10, dst="8.8.8.8", ttl=1) / UDP(sport=7926, dport=53)
    add("ttl_1_punted", "lan", lan(ttl1), XDP_PASS, {"punt_ttl": 1}, lan(ttl1))
    local = IP(src=H10, dst=H11) / UDP(sport=1, dport=2)
    add("lan_to_lan_not_mapped", "lan", lan(local), XDP_PASS, {"pass_not_mapped": 1}, lan(local))
    add("gre_cannot_cross", "lan", lan(IP(src=H10, dst="8.8.8.8") / GRE()), XDP_DROP,
        {"drop_nat_protocol": 1})
    add("truncated_ipv4", "lan", raw(lan(u))[:14 + 10], XDP_DROP, {"drop_malformed_ipv4": 1})
    add("truncated_udp", "lan", lan(IP(src=H10, dst="8.8.8.8", proto=17) / b"\x1e\xf0"), XDP_DROP,
        {"drop_malformed_l4": 1})
    # An inside port outside the set is mapped into the set; ce_test.cc checks
    # that case separately (the chosen port depends on the probe start).

    # --- inbound: reverse NAT + decapsulation -------------------------------------
    reply = IP(src="8.8.8.8", dst=PUB, ttl=60) / UDP(sport=53, dport=7920) / b"answer"
    add("udp_reply_in", "wan", from_br(reply), XDP_REDIRECT, {"ce_in": 1},
        to_lan(rebuilt(reply, dst=H10, ttl=59)), prelude=[lan(u)])
    # From a BR built with Linux's ip6tnl: its default encapsulation limit.
    add("udp_reply_in_after_encap_limit_option", "wan",
        wan(IPv6(src=BR6, dst=CE6) / encap_limit_dstopt() / reply), XDP_REDIRECT, {"ce_in": 1},
        to_lan(rebuilt(reply, dst=H10, ttl=59)), prelude=[lan(u)])
    add("encap_limit_with_another_option_dropped", "wan",
        wan(IPv6(src=BR6, dst=CE6) / encap_limit_dstopt(other=0x1e) / reply), XDP_DROP,
        {"drop_ipv6_ext_header": 1}, prelude=[lan(u)])
    synack = IP(src="203.0.113.5", dst=PUB, ttl=60) / TCP(sport=443, dport=7922, flags="SA", seq=5,
                                                          ack=1001, options=[("MSS", 1460)])
    sa_out = IP(raw(synack))
    sa_out.dst, sa_out.ttl = H10, 59
    sa_out[TCP].options = [("MSS", 1420)]
    del sa_out.chksum, sa_out[TCP].chksum
    add("tcp_synack_in_mss_clamped", "wan", from_br(synack), XDP_REDIRECT,
        {"ce_in": 1, "nat_mss_clamped": 1}, to_lan(IP(raw(sa_out))), prelude=[lan(syn)])
    pong = IP(src="8.8.8.8", dst=PUB, ttl=60) / ICMP(type=0, id=7923, seq=1) / b"ping"
    add("icmp_echo_reply_in", "wan", from_br(pong), XDP_REDIRECT, {"ce_in": 1},
        to_lan(rebuilt(pong, dst=H10, ttl=59)), prelude=[lan(echo)])
    # ICMP error about our translated datagram: the quote goes back to inside form.
    sent_out = rebuilt(u, src=PUB, ttl=63)
    sent_in = rebuilt(u, ttl=63)  # what the quote becomes: inside form, TTL as sent
    err = IP(src="8.8.8.8", dst=PUB, ttl=60) / ICMP(type=3, code=3) / raw(sent_out)[:28]
    err_lan = IP(src="8.8.8.8", dst=H10, ttl=59) / ICMP(type=3, code=3) / raw(sent_in)[:28]
    add("icmp_error_in_translates_quote", "wan", from_br(err), XDP_REDIRECT,
        {"ce_in": 1, "ce_icmp_error_in": 1}, to_lan(IP(raw(err_lan))), prelude=[lan(u)])
    # (the quoted header names the whole 1440-byte packet; the quote is cut)
    ptb = wan(IPv6(src="2001:db8:eeee::1", dst=CE6) / ICMPv6PacketTooBig(mtu=1280) /
              IPv6(src=CE6, dst=BR6, nh=4, plen=1400) / sent_out)
    ptb_lan = IP(src=LAN_GW, dst=H10, tos=0xC0, ttl=64, id=0) / ICMP(type=3, code=4, nexthopmtu=1240) / \
        raw(sent_in)[:28]
    add("ptb_becomes_frag_needed_to_inside_host", "wan", ptb, XDP_REDIRECT, {"ce_ptb_translated": 1},
        to_lan(IP(raw(ptb_lan))), prelude=[lan(u)])
    for name, mtu in (("below_1280", 1000), ("packet_fits", 1500)):
        add("ptb_mtu_%s_dropped" % name, "wan",
            wan(IPv6(src="2001:db8:eeee::1", dst=CE6) / ICMPv6PacketTooBig(mtu=mtu) /
                IPv6(src=CE6, dst=BR6, nh=4, plen=1400) / sent_out), XDP_DROP, {"drop_ptb_bad_mtu": 1},
            prelude=[lan(u)])
    # Static NAPT: TCP 7935 -> 192.168.1.10:80 (configured in ce_test.cc).
    web = IP(src="203.0.113.9", dst=PUB, ttl=60) / TCP(sport=5555, dport=7935, flags="S")
    add("static_napt_in", "wan", from_br(web), XDP_REDIRECT, {"ce_in": 1, "nat_session_created": 1},
        to_lan(rebuilt(web, dst=H10, dport=80, ttl=59)))
    # Filtering: inside 192.168.1.10:7927 talked to 8.8.8.8:53 only.
    opened = lan(IP(src=H10, dst="8.8.8.8") / UDP(sport=7927, dport=53))
    other_host = IP(src="9.9.9.9", dst=PUB, ttl=60) / UDP(sport=53, dport=7927) / b"x"
    other_port = IP(src="8.8.8.8", dst=PUB, ttl=60) / UDP(sport=5353, dport=7927) / b"y"
    add("eif_admits_any_remote", "wan", from_br(other_host), XDP_REDIRECT,
        {"ce_in": 1, "nat_session_created": 1}, to_lan(rebuilt(other_host, dst=H10, ttl=59)),
        prelude=[opened], filtering=EIF)
    add("adf_refuses_other_address", "wan", from_br(other_host), XDP_DROP, {"drop_nat_filtered": 1},
        prelude=[opened], filtering=ADF)
    add("adf_admits_same_address_other_port", "wan", from_br(other_port), XDP_REDIRECT,
        {"ce_in": 1, "nat_session_created": 1}, to_lan(rebuilt(other_port, dst=H10, ttl=59)),
        prelude=[opened], filtering=ADF)
    add("apdf_refuses_other_port", "wan", from_br(other_port), XDP_DROP, {"drop_nat_filtered": 1},
        prelude=[opened], filtering=APDF)
    add("not_from_br_or_fmr", "wan", from_br(reply, src="2001:db8:dead::1"), XDP_DROP,
        {"drop_not_from_br": 1}, prelude=[lan(u)])
    add("port_outside_own_set", "wan",
        from_br(IP(src="8.8.8.8", dst=PUB) / UDP(sport=53, dport=80)), XDP_DROP, {"drop_not_own_port": 1})
    add("no_mapping", "wan", from_br(IP(src="8.8.8.8", dst=PUB) / UDP(sport=53, dport=7930)),
        XDP_DROP, {"drop_nat_no_mapping": 1})
    add("not_own_address", "wan", from_br(IP(src="8.8.8.8", dst="106.72.171.206") / UDP(sport=53, dport=7920)),
        XDP_DROP, {"drop_not_own_address": 1})

    # An ICMP error from a LAN host about a packet it got through the NAT: the
    # quote goes out in its outside form.
    got_in = IP(src="8.8.8.8", dst=H10, ttl=59) / UDP(sport=53, dport=7920) / b"answer"
    err_out = IP(src=H10, dst="8.8.8.8", ttl=64) / ICMP(type=3, code=3) / raw(got_in)[:28]
    quote_out = rebuilt(got_in, dst=PUB)
    want_out = IP(src=PUB, dst="8.8.8.8", ttl=63) / ICMP(type=3, code=3) / raw(quote_out)[:28]
    add("icmp_error_out_translates_quote", "lan", lan(err_out), XDP_REDIRECT,
        {"ce_out": 1, "ce_icmp_error_out": 1}, tunnel_out(IP(raw(want_out))), prelude=[lan(u)])
    # Packet filter (ce_test.cc installs: deny tcp 192.168.1.0/24 -> any port 25).
    add("filter_denies_smtp", "lan", lan(IP(src=H10, dst="8.8.8.8") / TCP(sport=7933, dport=25, flags="S")),
        XDP_DROP, {"drop_packet_filter": 1})

    # --- hostile: what the kernel's input would drop, dropped here too -------------------
    add("lan_bad_header_checksum", "lan",
        lan(IP(src=H10, dst="8.8.8.8", chksum=0x1234) / UDP(sport=7934, dport=53)), XDP_DROP,
        {"drop_ipv4_checksum": 1})
    for name, src in (("zero", "0.0.0.0"), ("loopback", "127.0.0.1"), ("multicast", "224.0.0.5"),
                      ("reserved", "240.0.0.1")):
        add("lan_martian_source_%s" % name, "lan",
            lan(IP(src=src, dst="8.8.8.8") / UDP(sport=7934, dport=53)), XDP_DROP,
            {"drop_martian_source": 1})
    lsrr = IP(src=H10, dst="8.8.8.8", options=[IPOption_LSRR(routers=["8.8.4.4"])]) / \
        UDP(sport=7934, dport=53)
    add("lan_source_route_to_the_kernel", "lan", lan(lsrr), XDP_PASS, {"punt_ipv4_options": 1},
        lan(lsrr))
    add("wan_plain_ipv4_never_routed_into_the_lan", "wan",
        wan(IP(src="8.8.8.8", dst=H10) / UDP(sport=53, dport=7920)), XDP_DROP,
        {"drop_wan_plain_ipv4": 1})
    add("wan_bad_inner_checksum", "wan",
        from_br(IP(src="8.8.8.8", dst=PUB, chksum=0x1234) / UDP(sport=53, dport=7920)), XDP_DROP,
        {"drop_ipv4_checksum": 1}, prelude=[lan(u)])
    for name, src in (("zero", "0.0.0.0"), ("loopback", "127.0.0.1")):
        add("wan_martian_source_%s" % name, "wan",
            from_br(IP(src=src, dst=PUB) / UDP(sport=53, dport=7920)), XDP_DROP,
            {"drop_martian_source": 1}, prelude=[lan(u)])
    for name, src in (("lan_host", H11), ("lan_gateway", LAN_GW)):
        add("wan_source_of_the_lan_%s" % name, "wan",
            from_br(IP(src=src, dst=PUB) / UDP(sport=53, dport=7920)), XDP_DROP,
            {"drop_spoofed_source": 1}, prelude=[lan(u)])
    add("wan_own_address_own_port_spoofed", "wan",
        from_br(IP(src=PUB, dst=PUB) / UDP(sport=7921, dport=7920)), XDP_DROP,
        {"drop_spoofed_source": 1}, prelude=[lan(u)])
    # A CE sharing our address (another PSID, port 0x1ff0 is not ours) talks to us.
    sibling = IP(src=PUB, dst=PUB, ttl=60) / UDP(sport=0x1ff0, dport=7920) / b"sib"
    add("wan_sibling_ce_sharing_our_address", "wan", from_br(sibling), XDP_REDIRECT,
        {"ce_in": 1, "nat_session_created": 1}, to_lan(rebuilt(sibling, dst=H10, ttl=59)),
        prelude=[lan(u)])
    in_opt = IP(src="8.8.8.8", dst=PUB, options=[IPOption_LSRR(routers=["8.8.4.4"])]) / \
        UDP(sport=53, dport=7920)
    add("wan_inner_options_to_the_kernel", "wan", from_br(in_opt), XDP_PASS, {"punt_ipv4_options": 1},
        from_br(in_opt), prelude=[lan(u)])

    # Frames the kernel would never route: tagged for a VLAN we were not told
    # about, or not sent to our own address. Left to the kernel untouched.
    q = IP(src=H10, dst="8.8.8.8") / UDP(sport=7934, dport=53)
    tagged = Ether(src=MAC_HOST10, dst=MAC_LAN) / Dot1Q(vlan=5) / q
    add("lan_vlan_tagged_left_to_the_kernel", "lan", tagged, XDP_PASS, {"pass_vlan_tagged": 1}, tagged)
    for name, mac in (("broadcast", "ff:ff:ff:ff:ff:ff"), ("multicast", "01:00:5e:00:00:01"),
                      ("another_host", "02:00:00:00:0a:99")):
        f = Ether(src=MAC_HOST10, dst=mac) / q
        add("lan_frame_to_%s_left_to_the_kernel" % name, "lan", f, XDP_PASS, {"pass_not_our_mac": 1}, f)
    wtag = Ether(src=MAC_GW6, dst=MAC_WAN) / Dot1Q(vlan=5) / IPv6(src=BR6, dst=CE6, nh=4) / reply
    add("wan_vlan_tagged_left_to_the_kernel", "wan", wtag, XDP_PASS, {"pass_vlan_tagged": 1}, wtag,
        prelude=[lan(u)])
    wother = Ether(src=MAC_GW6, dst="02:00:00:00:0b:99") / IPv6(src=BR6, dst=CE6, nh=4) / reply
    add("wan_frame_to_another_host_left_to_the_kernel", "wan", wother, XDP_PASS, {"pass_not_our_mac": 1},
        wother, prelude=[lan(u)])
    add("wan_ipv6_payload_length_beyond_the_frame", "wan",
        wan(IPv6(src=BR6, dst=CE6, nh=4, plen=len(raw(reply)) + 100) / reply), XDP_DROP,
        {"drop_malformed_ipv6": 1}, prelude=[lan(u)])

    # --- hairpin -------------------------------------------------------------------------------
    bound11 = lan(IP(src=H11, dst="8.8.8.8") / UDP(sport=7928, dport=53), mac=MAC_HOST11)
    hp = IP(src=H10, dst=PUB, ttl=64) / UDP(sport=7929, dport=7928) / b"hairpin"
    add("hairpin_to_own_public_address", "lan", lan(hp), XDP_REDIRECT,
        dict(NEW_FLOW, ce_hairpin=1, nat_session_created=2),
        to_lan(rebuilt(hp, src=PUB, dst=H11, ttl=63), mac=MAC_HOST11), prelude=[bound11])

    # --- fragments --------------------------------------------------------------------------------
    data = UDP(sport=7931, dport=53) / (b"f" * 64)
    f1 = IP(src=H10, dst="8.8.8.8", id=0x4242, flags="MF", frag=0, proto=17, ttl=64) / raw(data)[:32]
    f2 = IP(src=H10, dst="8.8.8.8", id=0x4242, flags=0, frag=4, proto=17, ttl=64) / raw(data)[32:]
    f2_out = IP(raw(f2))
    f2_out.src, f2_out.ttl = PUB, 63
    del f2_out.chksum
    add("later_fragment_out_follows", "lan", lan(f2), XDP_REDIRECT, {"ce_out": 1},
        tunnel_out(IP(raw(f2_out))), prelude=[lan(f1)])
    back = UDP(sport=53, dport=7931) / (b"r" * 64)
    g1 = IP(src="8.8.8.8", dst=PUB, id=0x5151, flags="MF", frag=0, proto=17, ttl=60) / raw(back)[:32]
    g2 = IP(src="8.8.8.8", dst=PUB, id=0x5151, flags=0, frag=4, proto=17, ttl=60) / raw(back)[32:]
    g2_lan = IP(raw(g2))
    g2_lan.dst, g2_lan.ttl = H10, 59
    del g2_lan.chksum
    add("later_fragment_in_follows_first", "wan", from_br(g2), XDP_REDIRECT, {"ce_in": 1},
        to_lan(IP(raw(g2_lan))), prelude=[lan(f1), from_br(g1)])
    g3 = IP(src="8.8.8.8", dst=PUB, id=0x6161, flags=0, frag=4, proto=17) / raw(back)[32:]
    add("later_fragment_in_without_first", "wan", from_br(g3), XDP_DROP, {"drop_frag_unmatched": 1})
    return c



def main():
    out = ["// Generated by gen_ce_fixtures.py (scapy). Do not edit.", "#pragma once",
           "#include <cstdint>", "#include <map>", "#include <string>", "#include <vector>",
           "namespace ce_fixtures {",
           "struct Case { const char* name; const char* program; uint8_t filtering;",
           "  std::vector<uint8_t> input; uint32_t verdict; std::map<std::string, uint64_t> counters;",
           "  bool has_output; std::vector<uint8_t> output; std::vector<std::vector<uint8_t>> prelude; };",
           "inline const std::vector<Case>& cases() {", "  static const std::vector<Case> all = {"]
    for name, prog, filt, inp, verdict, counters, expect, prelude in cases():
        cmap = "{" + ", ".join('{"%s", %d}' % kv for kv in sorted(counters.items())) + "}"
        out.append('    {"%s", "%s", %d, %s, %d, %s, %s, %s, {%s}},' % (
            name, prog, filt, cbytes(inp), verdict, cmap, "true" if expect else "false",
            cbytes(expect or b""), ", ".join(cbytes(p) for p in prelude)))
    out += ["  };", "  return all;", "}", "}  // namespace ce_fixtures"]
    with open(sys.argv[1], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
