// libFuzzer: one control-socket request line through the server's
// dispatch (JSON parsing, the field checks) into the handlers that take
// fields: the BR's whois (endpoint, time, rule history) and a sessions
// filter shaped like the CE's.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/br/rule_history.h"
#include "agent/daemon/control_server.h"
#include "agent/util/json_text.h"

namespace {

mapgw::ControlServer& server() {
  static auto* s = [] {
    auto made = mapgw::ControlServer::listen("/tmp/mapgw-fuzz-control-" + std::to_string(getpid()) + ".sock");
    if (!made) __builtin_trap();
    auto* srv = new mapgw::ControlServer(std::move(*made));
    using Type = mapgw::ControlServer::Field::Type;
    static mapgw::RuleHistory history = *mapgw::RuleHistory::open("");
    srv->add("whois", {{"addr", Type::kString, true}, {"at", Type::kString}}, [](const nlohmann::json& req) {
      auto who = mapgw::Ipv4Endpoint::parse(req["addr"].get<std::string>());
      if (!who) return nlohmann::json{{"error", who.error().message}};
      int64_t at = 0;
      if (req.contains("at")) {
        auto t = mapgw::parse_time_ms(req["at"].get<std::string>());
        if (!t) return nlohmann::json{{"error", t.error().message}};
        at = *t;
      }
      return mapgw::whois(history, *who, at);
    });
    srv->add("sessions", {{"host", Type::kString}, {"proto", Type::kString}}, [](const nlohmann::json& req) {
      if (req.contains("host")) {
        auto a = mapgw::Ipv4Addr::parse(req["host"].get<std::string>());
        if (!a) return nlohmann::json{{"error", a.error().message}};
      }
      return nlohmann::json{{"sessions", nlohmann::json::array()}};
    });
    return srv;
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  (void)mapgw::json_text(server().dispatch(line)).size();
  return 0;
}
