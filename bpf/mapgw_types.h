/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fixed-width types and the inline marker for headers shared by BPF C and
 * the C++ agent. BPF builds get the types from the committed vmlinux.h; user
 * space gets them from the kernel UAPI headers, so both sides agree on sizes.
 */
#ifndef MAPGW_TYPES_H
#define MAPGW_TYPES_H

#ifdef __bpf__
#include "vmlinux.h"
#else
#include <linux/types.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif
#endif

#define MAPGW_INLINE static inline __attribute__((always_inline))

#endif /* MAPGW_TYPES_H */
