#include "vpn/l2tp/ipsec_gate.h"

#include <net/if.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace mapgw::l2tp {
namespace {

const vici::Message* section(const vici::Message::Entry& e) {
  return e.body.index() == 2 ? std::get<2>(e.body).get() : nullptr;
}

// The CHILD_SAs an IKE SA section lists (@installed: only those
// installed), by unique ID, with their inbound mark (0: none).
std::map<std::string, uint32_t> children_of(const vici::Message& sa, bool installed) {
  std::map<std::string, uint32_t> out;
  const vici::Message* children = sa.sub("child-sas");
  if (!children) return out;
  for (const auto& c : children->entries()) {
    const vici::Message* child = section(c);
    if (!child || (installed && child->value_or("state", "") != "INSTALLED")) continue;
    out[child->value_or("uniqueid", c.name)] =
        static_cast<uint32_t>(std::strtoul(child->value_or("mark-in", "0").c_str(), nullptr, 16));
  }
  return out;
}

}  // namespace

IpsecGate::IpsecGate(IpsecSettings s, bool libipsec, HostDown down)
    : s_(std::move(s)), libipsec_(libipsec), down_(std::move(down)) {}

void IpsecGate::request(const std::string& cmd, vici::Message args) {
  if (!vici_) return;
  vici_->request(cmd, std::move(args), [cmd](Result<vici::Message> r) {
    if (!r) {
      spdlog::warn("l2tp: charon {}: {}", cmd, r.error().message);
    } else if (r->value("success") && !r->yes("success")) {
      const std::string err = r->value_or("errmsg", "failed");
      if (cmd == "terminate" && err.find("no matching SAs") != std::string::npos) return;
      spdlog::warn("l2tp: charon {}: {}", cmd, err);
    }
  });
}

void IpsecGate::charon_up(vici::Client& c) {
  vici_ = &c;
  {
    std::lock_guard<std::mutex> g(mu_);
    ipsec_ifindex_.clear();  // a new charon made a new libipsec TUN
  }
  c.set_event_handler([this](const std::string& name, const vici::Message& m) { on_event(name, m); });
  for (const char* e : {"ike-updown", "child-updown", "list-sa"}) {
    c.subscribe(e, [e](Result<vici::Message> r) {
      if (!r) spdlog::error("l2tp: subscribing to charon's {}: {}", e, r.error().message);
    });
  }
  load();
  vici::Message q;
  q.set("noblock", "yes");
  request("list-sas", std::move(q));
}

void IpsecGate::load() {
  loaded_ = false;
  for (auto& [cmd, m] : l2tp_credential_messages(s_)) request(cmd, std::move(m));
  auto conns = l2tp_conn_messages(s_);
  auto pending = std::make_shared<size_t>(conns.size());
  for (auto& m : conns) {
    const std::string name = m.entries().front().name;
    vici_->request("load-conn", std::move(m), [this, name, pending](Result<vici::Message> r) {
      if (!r || !r->yes("success")) {
        spdlog::error("l2tp: charon refused the IKEv1 connection {}: {}", name,
                      r ? r->value_or("errmsg", "failed") : r.error().message);
        return;
      }
      spdlog::info("l2tp: IKEv1 connection {} loaded ({}, {} mode)", name, conn_auth(name),
                   s_.transport ? "transport" : "tunnel");
      loaded_ = --*pending == 0;
    });
  }
}

void IpsecGate::reload_credentials(const IpsecSettings& s) {
  s_ = s;
  if (!vici_) return;  // charon_up() loads them
  spdlog::info("l2tp: IPsec credentials changed: reloading them into charon (SAs up stay)");
  request("clear-creds", vici::Message());
  // A method no longer configured: its connection goes (its SAs stay up).
  for (const auto& [name, wanted] : {std::pair{kConnName, s_.psk_auth()}, std::pair{kCertConnName, s_.cert_auth()}}) {
    if (wanted) continue;
    vici::Message u;
    u.set("name", name);
    request("unload-conn", std::move(u));
  }
  load();
}

void IpsecGate::charon_down(const std::string& why) {
  vici_ = nullptr;
  loaded_ = false;
  std::set<std::string> keys;
  {
    std::lock_guard<std::mutex> g(mu_);
    keys = keys_;
    for (const auto& [id, sa] : sas_) keys.insert(sa.host);
    sas_.clear();
    protected_.clear();
    keys_.clear();
  }
  for (const auto& k : keys) {
    if (down_) down_(k, "charon: " + why);
  }
}

void IpsecGate::on_event(const std::string& name, const vici::Message& m) {
  const bool up = m.yes("up");
  for (const auto& e : m.entries()) {
    const vici::Message* ike = section(e);
    if (!ike || !is_l2tp_conn(e.name)) continue;
    const std::string id = ike->value_or("uniqueid", "");
    const std::string host = ike->value_or("remote-host", "");
    if (id.empty() || host.empty()) continue;
    std::string why;
    std::set<std::string> affected;  // IPsec keys that may have lost their last SA
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!up && name != "list-sa" && !sas_.count(id)) {
        // An SA already gone (charon's events for it may follow its IKE
        // SA's own "down") or never seen up: nothing to show, but the
        // paths it names are checked again.
        for (const auto& [child, mark] : children_of(*ike, false)) affected.insert(ipsec_key(host, mark));
        if (name == "ike-updown") affected.insert(host);
        why = name == "ike-updown" ? "IKE SA deleted" : "IPsec SA deleted";
      } else {
        Sa& sa = sas_[id];
        sa.id = id;
        sa.host = host;
        sa.port = static_cast<uint16_t>(std::strtoul(ike->value_or("remote-port", "0").c_str(), nullptr, 10));
        sa.remote_id = ike->value_or("remote-id", "");
        sa.auth = conn_auth(e.name);
        sa.state = ike->value_or("state", "");
        if (name == "list-sa") {
          sa.children = children_of(*ike, true);
          if (sa.since == Clock::time_point{}) sa.since = Clock::now();
        } else if (name == "ike-updown") {
          ++(up ? counters_.ike_up : counters_.ike_down);
          if (up) {
            sa.since = Clock::now();
          } else {
            for (const auto& [child, mark] : sa.children) affected.insert(ipsec_key(host, mark));
            affected.insert(host);
            sas_.erase(id);
            why = "IKE SA deleted";
          }
        } else if (name == "child-updown") {
          ++(up ? counters_.child_up : counters_.child_down);
          for (const auto& [child, mark] : children_of(*ike, up)) {
            if (up) {
              sa.children[child] = mark;
            } else {
              sa.children.erase(child);
              affected.insert(ipsec_key(host, mark));
            }
          }
          if (!up) why = "IPsec SA deleted";
        }
      }
      recount();
    }
    for (const auto& key : affected) changed(key, why);
  }
}

// An IPsec peer that lost its last protected path: its L2TP tunnels go.
void IpsecGate::changed(const std::string& key, const std::string& why) {
  bool still;
  {
    std::lock_guard<std::mutex> g(mu_);
    still = keys_.count(key) > 0;
  }
  if (!still && down_) down_(key, why);
}

void IpsecGate::recount() {
  protected_.clear();
  keys_.clear();
  for (const auto& [id, sa] : sas_) {
    for (const auto& [child, mark] : sa.children) {
      protected_.insert(ipsec_key_bytes(sa.host, mark));
      keys_.insert(ipsec_key(sa.host, mark));
    }
  }
}

std::set<std::string> IpsecGate::protected_keys() const {
  std::lock_guard<std::mutex> g(mu_);
  return keys_;
}

bool IpsecGate::admits(const Endpoint& peer, int ifindex) const {
  // With per-SA marks a datagram without one is plaintext: no key matches.
  const std::string key = peer.ipsec_key_bytes();
  std::lock_guard<std::mutex> g(mu_);
  if (!protected_.count(key)) return false;
  if (!libipsec_) return true;
  auto it = ipsec_ifindex_.find(ifindex);
  if (it == ipsec_ifindex_.end()) {
    char name[IF_NAMESIZE] = {};
    const bool tun = if_indextoname(static_cast<unsigned>(ifindex), name) && std::string(name).rfind("ipsec", 0) == 0;
    it = ipsec_ifindex_.emplace(ifindex, tun).first;
  }
  return it->second;
}

void IpsecGate::end_peer(const std::string& key) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [id, sa] : sas_) {
      bool owns = sa.children.empty() && sa.host == key;  // an IKE SA without CHILD_SAs: by host
      for (const auto& [child, mark] : sa.children) owns |= ipsec_key(sa.host, mark) == key;
      if (owns) ids.push_back(id);
    }
  }
  for (const auto& id : ids) {
    vici::Message t;
    t.set("ike-id", id).set("timeout", "-1");
    ++counters_.deleted_by_us;
    request("terminate", std::move(t));
  }
}

std::vector<IpsecGate::Sa> IpsecGate::sas() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<Sa> out;
  for (const auto& [id, sa] : sas_) out.push_back(sa);
  return out;
}

}  // namespace mapgw::l2tp
