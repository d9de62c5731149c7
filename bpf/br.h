/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BR-only decisions on top of the shared MAP-domain ones.
 */
#ifndef MAPGW_BR_H
#define MAPGW_BR_H

#include "br_maps.h"
#include "map_domain.h"

static __always_inline bool br_is_own_address(const struct in6_addr *addr)
{
	return bpf_map_lookup_elem(&mapgw_br_addrs, addr) != NULL;
}

#endif /* MAPGW_BR_H */
