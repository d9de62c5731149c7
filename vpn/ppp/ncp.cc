#include "vpn/ppp/ncp.h"

#include <openssl/rand.h>

#include <algorithm>

#include "vpn/bytes.h"

namespace mapgw::ppp {
namespace {

using bytes::be32;

std::optional<uint32_t> rd32(const std::string& b) {
  if (b.size() != 4) return std::nullopt;
  return bytes::rd32(b);
}

}  // namespace

std::vector<Option> Ipcp::our_request() {
  if (!ask_address_ || s_.local == 0) return {};
  return {{ipcp_option::kAddress, be32(s_.local)}};
}

Fsm::Verdict Ipcp::check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) {
  std::vector<Option> naks, rejects;
  for (const auto& o : theirs) {
    const auto v = rd32(o.value);
    switch (o.type) {
      case ipcp_option::kAddress:
        // 0.0.0.0 asks us to choose; any other than the pool's is corrected.
        if (!v) {
          rejects.push_back(o);
        } else if (*v != s_.peer) {
          naks.push_back({o.type, be32(s_.peer)});
        }
        break;
      case ipcp_option::kPrimaryDns:
      case ipcp_option::kSecondaryDns: {
        const uint32_t ours = o.type == ipcp_option::kPrimaryDns ? s_.dns1 : s_.dns2;
        if (!v || ours == 0) {
          rejects.push_back(o);
        } else if (*v != ours) {
          naks.push_back({o.type, be32(ours)});
        }
        break;
      }
      default:
        // VJ compression, WINS (NBNS), anything else: not offered.
        rejects.push_back(o);
    }
  }
  return Fsm::verdict(std::move(naks), std::move(rejects), reply, no_more_naks);
}

bool Ipcp::on_nak(const std::vector<Option>& naked) {
  // The client suggesting another address for us: ours stands (we are
  // the server); asking again lets it Ack or Reject.
  return std::all_of(naked.begin(), naked.end(), [](const Option& o) { return o.type == ipcp_option::kAddress; });
}

bool Ipcp::on_reject(const std::vector<Option>& rejected) {
  for (const auto& o : rejected) {
    if (o.type != ipcp_option::kAddress) return false;
    ask_address_ = false;
  }
  return true;
}

Ipv6cp::Iid Ipv6cp::random_iid() {
  Iid id{};
  while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) {
    RAND_bytes(id.data(), static_cast<int>(id.size()));
  }
  return id;
}

std::vector<Option> Ipv6cp::our_request() { return {{1, std::string(ours_.begin(), ours_.end())}}; }

Fsm::Verdict Ipv6cp::check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) {
  std::vector<Option> naks, rejects;
  for (const auto& o : theirs) {
    if (o.type != 1 || o.value.size() != 8) {
      rejects.push_back(o);
      continue;
    }
    Iid id{};
    std::copy(o.value.begin(), o.value.end(), id.begin());
    const bool zero = std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
    if (zero || id == ours_) {
      const Iid suggestion = random_iid();  // RFC 5072 §4.1: a different, non-zero one
      naks.push_back({1, std::string(suggestion.begin(), suggestion.end())});
    } else {
      peers_ = id;
    }
  }
  return Fsm::verdict(std::move(naks), std::move(rejects), reply, no_more_naks);
}

bool Ipv6cp::on_nak(const std::vector<Option>& naked) {
  for (const auto& o : naked) {
    if (o.type != 1 || o.value.size() != 8) return false;
    std::copy(o.value.begin(), o.value.end(), ours_.begin());
    if (ours_ == peers_ || std::all_of(ours_.begin(), ours_.end(), [](uint8_t b) { return b == 0; })) {
      ours_ = random_iid();
    }
  }
  return true;
}

bool Ipv6cp::on_reject(const std::vector<Option>&) { return false; }  // IPV6CP without identifiers: nothing to agree

}  // namespace mapgw::ppp
