// Two or more user agents on an in-memory network: datagrams are queued
// by the sender's sink and delivered by pump(), so a test decides when
// (and whether) each message arrives, and drives time itself.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>

#include "sip/user_agent.h"

namespace mapgw::sip::fake {

struct Packet {
  Endpoint from, to;
  std::string data;
};

class FakeNet;

class FakeSink : public DatagramSink {
 public:
  FakeSink(FakeNet& net, Endpoint self) : net_(net), self_(std::move(self)) {}
  Status send(const Endpoint& to, std::string_view data) override;
  Endpoint local_for(const Endpoint&) const override { return self_; }
  const Endpoint& self() const { return self_; }

 private:
  FakeNet& net_;
  Endpoint self_;
};

class FakeNet {
 public:
  std::deque<Packet> queue;
  std::vector<Packet> log;  // everything ever sent
  std::map<std::string, UserAgent*> hosts;  // by endpoint string
  // Return false to drop a packet.
  std::function<bool(const Packet&)> filter;

  void attach(const Endpoint& e, UserAgent* ua) { hosts[e.str()] = ua; }
  // Delivers until nothing is queued (bounded); returns packets delivered.
  int pump(TimePoint now, int limit = 200) {
    int n = 0;
    while (!queue.empty() && n < limit) {
      Packet p = queue.front();
      queue.pop_front();
      ++n;
      if (filter && !filter(p)) continue;
      auto h = hosts.find(p.to.str());
      if (h != hosts.end()) h->second->receive(p.data, p.from, false, now);
    }
    return n;
  }
  // The first lines of what was sent, for assertions: "INVITE sip:...", "SIP/2.0 200 OK".
  std::vector<std::string> start_lines() const {
    std::vector<std::string> out;
    for (const auto& p : log) out.push_back(p.data.substr(0, p.data.find("\r\n")));
    return out;
  }
  size_t count(const std::string& start) const {
    size_t n = 0;
    for (const auto& l : start_lines()) n += l.rfind(start, 0) == 0;
    return n;
  }
};

inline Status FakeSink::send(const Endpoint& to, std::string_view data) {
  Packet p{self_, to, std::string(data)};
  net_.log.push_back(p);
  net_.queue.push_back(std::move(p));
  return Status::Ok();
}

}  // namespace mapgw::sip::fake
