// `mapgw --check-kernel`: will mapgw run on this kernel? Probes what the
// data plane needs, then loads every BPF program of both roles (with
// receive spreading, so its CPU-map programs too) into this kernel's
// verifier without attaching anything, and prints one row per program:
// instructions the verifier processed, instructions loaded, verification
// time. Exit 0 when every program loaded, 1 otherwise. Needs root.
#pragma once

namespace mapgw {

int check_kernel(bool json);

}  // namespace mapgw
