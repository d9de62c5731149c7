// libbpf prints through a callback; this routes it into our log so users
// see one stream with one format, verifier logs included, and so libbpf's
// debug chatter stays out of the way unless asked for.
#pragma once

namespace mapgw {

// Idempotent. verbose = also pass libbpf's debug messages.
void route_libbpf_logs(bool verbose = false);

}  // namespace mapgw
