// The network control protocols the server runs once the login passed:
// IPCP (RFC 1332, DNS options RFC 1877) hands the client the address the
// pool chose and the DNS servers by Configure-Nak (what Windows, macOS
// and Android ask for with 0.0.0.0), and asks for our own tunnel address;
// IPV6CP (RFC 5072) agrees on interface identifiers (link-locals), a
// clash or a zero answered with a fresh identifier.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "vpn/ppp/fsm.h"

namespace mapgw::ppp {

namespace ipcp_option {
constexpr uint8_t kCompression = 2, kAddress = 3, kPrimaryDns = 129, kPrimaryNbns = 130, kSecondaryDns = 131,
                  kSecondaryNbns = 132;
}

struct IpcpSettings {
  uint32_t local = 0;      // our end of the link (host order); 0: not asked for
  uint32_t peer = 0;       // what the pool gave this client
  uint32_t dns1 = 0, dns2 = 0;  // 0: the option is refused
};

class Ipcp : public Fsm::Protocol {
 public:
  Ipcp(IpcpSettings s, std::function<void(const Packet&)> send, std::function<void(bool up)> changed)
      : s_(s), changed_(std::move(changed)), fsm_("IPCP", {}, *this, std::move(send)) {}
  Fsm& fsm() { return fsm_; }
  const Fsm& fsm() const { return fsm_; }
  const IpcpSettings& settings() const { return s_; }

  std::vector<Option> our_request() override;
  Fsm::Verdict check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) override;
  bool on_nak(const std::vector<Option>& naked) override;
  bool on_reject(const std::vector<Option>& rejected) override;
  void up() override { changed_(true); }
  void down() override { changed_(false); }
  void finished(const std::string&) override { changed_(false); }

 private:
  IpcpSettings s_;
  bool ask_address_ = true;
  std::function<void(bool)> changed_;
  Fsm fsm_;
};

class Ipv6cp : public Fsm::Protocol {
 public:
  using Iid = std::array<uint8_t, 8>;
  Ipv6cp(Iid ours, std::function<void(const Packet&)> send, std::function<void(bool up)> changed)
      : ours_(ours), changed_(std::move(changed)), fsm_("IPV6CP", {}, *this, std::move(send)) {}
  Fsm& fsm() { return fsm_; }
  const Fsm& fsm() const { return fsm_; }
  const Iid& ours() const { return ours_; }
  const Iid& peers() const { return peers_; }

  std::vector<Option> our_request() override;
  Fsm::Verdict check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) override;
  bool on_nak(const std::vector<Option>& naked) override;
  bool on_reject(const std::vector<Option>& rejected) override;
  void up() override { changed_(true); }
  void down() override { changed_(false); }
  void finished(const std::string&) override { changed_(false); }

  static Iid random_iid();

 private:
  Iid ours_{}, peers_{};
  std::function<void(bool)> changed_;
  Fsm fsm_;
};

}  // namespace mapgw::ppp
