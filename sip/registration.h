// The client registration usage (RFC 3261 §10.2): REGISTER our Contact
// for the AOR at the registrar, answer digest challenges, refresh before
// the granted expiry, retry with doubling back-off after a failure, and
// remove the binding (Expires: 0) on a clean stop. Time is injected.
#pragma once

#include <optional>
#include <string>

#include "sip/client_auth.h"
#include "sip/ua_core.h"

namespace mapgw::sip {

class Registration : public ClientTransactionUser {
 public:
  enum class State { kIdle, kRegistering, kRegistered, kRetryWait, kUnregistering, kStopped };

  explicit Registration(UaCore& core);
  ~Registration() override;

  void start(TimePoint now);
  // Un-registers (one REGISTER with Expires: 0, not retried).
  void stop(TimePoint now);
  void on_timer(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  State state() const { return state_; }
  const char* state_name() const;
  uint32_t granted_expires() const { return granted_; }
  std::optional<TimePoint> expires_at() const { return expires_at_; }
  const std::string& last_error() const { return last_error_; }
  int last_status() const { return last_status_; }
  std::chrono::seconds current_backoff() const { return backoff_; }

  void on_response(osip_transaction_t* tr, osip_message_t* response) override;
  void on_timeout(osip_transaction_t* tr) override;

 private:
  void send(uint32_t expires, const HeaderList& auth, TimePoint now);
  void fail(const std::string& why, TimePoint now);

  UaCore& core_;
  ClientAuth auth_;
  State state_ = State::kIdle;
  std::string call_id_;
  std::string from_tag_;
  uint32_t cseq_ = 0;
  uint32_t requested_ = 0;
  uint32_t granted_ = 0;
  std::string contact_uri_;
  osip_transaction_t* pending_ = nullptr;
  std::optional<TimePoint> refresh_at_, retry_at_, expires_at_;
  std::chrono::seconds backoff_{0};
  std::string last_error_;
  int last_status_ = 0;
};

}  // namespace mapgw::sip
