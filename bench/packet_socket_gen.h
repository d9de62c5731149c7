// The benchmark's second traffic generator, for kernels that refuse
// BPF_PROG_RUN's live frames (this VM's 6.18 answers EPERM): the same
// frames — the template with its field walks applied per packet, exactly as
// bench_gen does in BPF — sent from user space through an AF_PACKET socket,
// sendmmsg() in batches, the qdisc bypassed, on the caller's (pinned) CPU.
// It offers fewer packets per second than live frames; the report names
// the generator so a rate bounded by it is read as such.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cost_abi.h"
#include "loader/result.h"

namespace mapgw::bench {

struct GenReport {
  uint64_t packets = 0;
  double seconds = 0;
};

// Packet n (counting from @start) gets @fast's step n % fast.count and
// @slow's step n / fast.count % slow.count, as bench_gen does.
Result<GenReport> send_with_packet_socket(const std::string& ifname, const std::vector<uint8_t>& frame,
                                          const field_walk& fast, const field_walk& slow,
                                          uint64_t packets, uint64_t start);

// One walk step written into @frame (big-endian, width 2 or 4; offset 0 = unused).
void apply_walk(std::vector<uint8_t>& frame, const field_walk& w, uint32_t step);

}  // namespace mapgw::bench
