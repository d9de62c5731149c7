// The SIP user agent: one registration, many calls, one stack. Routes what
// the stack delivers to the usage it belongs to (RFC 3261 §12.2.2 dialog
// matching, §9.2 CANCEL matching), answers what belongs to none (OPTIONS,
// 481, 405/501), and keeps a flood from one source or too many dialogs from
// costing more than a counter. Time comes in with every call; the daemon
// (or a test) drives it.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/call.h"
#include "sip/registration.h"

namespace mapgw::sip {

// Whoever builds on the calls (the SIP-VPN glue): told when a call's IKE
// terms are settled and when it ends; may refuse an incoming one.
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  virtual int screen_incoming(const Call&) { return 0; }
  // An incoming call's 2xx is about to go (see CallEvents::call_answering).
  virtual void call_answering(const Call&) {}
  virtual void call_established(const Call&) {}
  virtual void call_ended(const Call&) {}
};

class UserAgent : public StackListener, public CallEvents {
 public:
  static constexpr size_t kEndedCallsKept = 16;
  static constexpr std::chrono::seconds kEndedLinger{32};  // 64*T1: late 2xx to our INVITEs still route

  static Result<std::unique_ptr<UserAgent>> create(const UaConfig& cfg, DatagramSink& sink);
  ~UserAgent() override;

  void set_observer(CallObserver* o) { observer_ = o; }
  void start(TimePoint now);
  // Un-registers and ends every call with BYE/CANCEL.
  void stop(TimePoint now);

  void receive(std::string_view data, const Endpoint& from, bool truncated, TimePoint now);
  void on_timer(TimePoint now);
  TimePoint next_deadline(TimePoint now);

  // Places a call; returns its id for status and hangup.
  Result<std::string> call(const std::string& target, VpnRole role, TimePoint now);
  Status hangup(const std::string& id, TimePoint now);

  const Registration* registration() const { return registration_.get(); }
  std::vector<const Call*> calls() const;           // live ones
  std::vector<const Call*> recent_calls() const;    // the last ended ones
  const Call* find_call(const std::string& id) const;
  const UaCounters& counters() const { return counters_; }
  const StackCounters& stack_counters() const { return stack_->counters(); }
  size_t transactions() const { return stack_->transactions(); }
  const UaConfig& config() const { return cfg_; }

  // StackListener
  void on_request(osip_transaction_t* tr, osip_message_t* request, const Endpoint& from) override;
  void on_stray_response(osip_message_t* response, const Endpoint& from) override;
  // CallEvents
  int screen_incoming(const Call& c) override;
  void call_answering(Call& c) override;
  void call_established(Call& c) override;
  void call_ended(Call& c) override;

 private:
  explicit UserAgent(const UaConfig& cfg);
  bool rate_limited(const Endpoint& from, TimePoint now);
  Call* dialog_of(const osip_message_t* request);
  void answer_outside_dialog(osip_transaction_t* tr, osip_message_t* req, int code,
                             const HeaderList& headers = {});
  void reap(TimePoint now);
  Call* add(std::unique_ptr<Call> call);
  size_t live_calls() const { return live_.size(); }

  UaConfig cfg_;
  UaCounters counters_;
  std::unique_ptr<SipStack> stack_;
  std::unique_ptr<UaCore> core_;
  std::unique_ptr<Registration> registration_;
  std::map<std::string, std::unique_ptr<Call>> calls_;  // by our id, live and lingering
  // Every message is matched by Call-ID first: an index, not a scan (a
  // busy server holds thousands of calls lingering after their end).
  std::unordered_multimap<std::string, Call*> by_call_id_;
  std::set<Call*> live_;  // not ended: the only ones with timers
  std::deque<std::pair<TimePoint, std::string>> ended_;  // in the order they ended
  std::vector<std::unique_ptr<Call>> recent_;
  uint64_t next_id_ = 1;
  CallObserver* observer_ = nullptr;
  struct SourceWindow {
    TimePoint start;
    uint32_t count = 0;
  };
  std::unordered_map<std::string, SourceWindow> sources_;
};

}  // namespace mapgw::sip
