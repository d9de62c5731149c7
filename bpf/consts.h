/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Protocol numbers that vmlinux.h does not carry (they are #defines in UAPI
 * headers, not BTF types). Prefixed so they never clash with system headers.
 */
#ifndef MAPGW_CONSTS_H
#define MAPGW_CONSTS_H

#define MAPGW_ETH_P_IP 0x0800
#define MAPGW_ETH_P_IPV6 0x86DD
#define MAPGW_ETH_P_8021Q 0x8100
#define MAPGW_ETH_P_8021AD 0x88A8

#define MAPGW_IPPROTO_ICMP 1
#define MAPGW_IPPROTO_IPIP 4 /* IPv4-in-IPv6 next header */
#define MAPGW_IPPROTO_TCP 6
#define MAPGW_IPPROTO_UDP 17
#define MAPGW_IPPROTO_FRAGMENT 44
#define MAPGW_IPPROTO_ICMPV6 58
#define MAPGW_IPPROTO_DSTOPTS 60

/* IPv6 options (RFC 8200 §4.2, RFC 2473 §4.1.1) */
#define MAPGW_OPT_PAD1 0
#define MAPGW_OPT_PADN 1
#define MAPGW_OPT_TUNNEL_ENCAP_LIMIT 4

#define ETH_ALEN 6

#define MAPGW_AF_INET 2
#define MAPGW_AF_INET6 10

#define MAPGW_ICMPV6_PKT_TOOBIG 2
#define MAPGW_ICMP_DEST_UNREACH 3
#define MAPGW_ICMP_FRAG_NEEDED 4

#define MAPGW_IP_MF 0x2000
#define MAPGW_IP_OFFSET 0x1FFF

#endif /* MAPGW_CONSTS_H */
