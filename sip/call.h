// The INVITE usage, both as UAC and UAS (RFC 3261 §13–15): the offer/
// answer of RFC 6193 through sdp_ike, CANCEL in both directions, BYE in
// both directions, 2xx retransmission until the ACK (UAS) and the ACK for
// a 2xx (UAC) — libosip2's transactions leave both to us —, forked 2xx
// answers after the first ACKed and released with BYE (RFC 6193 §5.3),
// digest challenges on INVITE, and the RFC 4028 session timer with
// UPDATE (or re-INVITE) refreshes. Time is injected through UaCore::now.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "sip/client_auth.h"
#include "sip/dialog.h"
#include "sip/session_timer.h"

namespace mapgw::sip {

class Call;

// The user agent, told of a call's milestones.
class CallEvents {
 public:
  virtual ~CallEvents() = default;
  // An incoming call passed the SDP rules: refuse it with a status code
  // (403 for a caller not allowed) or let it be answered (0).
  virtual int screen_incoming(const Call&) { return 0; }
  // A UAS is about to send its 2xx: the terms are settled, and the caller
  // may act on them (start IKE) as soon as the 2xx reaches it — before our
  // ACK arrives.
  virtual void call_answering(Call&) {}
  virtual void call_established(Call&) {}
  virtual void call_ended(Call&) {}
};

class Call : public ClientTransactionUser {
 public:
  enum class Direction { kOutgoing, kIncoming };
  enum class State {
    kCalling,      // INVITE sent, nothing back
    kProceeding,   // a provisional came
    kIncoming,     // INVITE received, not answered yet
    kAnswered,     // 2xx sent, waiting for the ACK
    kEstablished,  // the dialog is confirmed
    kTerminating,  // BYE or CANCEL sent
    kEnded,
  };

  // @role: which side of the VPN we take (TS-1017 §3.2: a client calls
  // forward, a server calls back).
  static std::unique_ptr<Call> outgoing(UaCore& core, CallEvents& events, std::string id,
                                        std::string target, VpnRole role);
  static std::unique_ptr<Call> incoming(UaCore& core, CallEvents& events, std::string id,
                                        osip_transaction_t* ist, osip_message_t* invite,
                                        const Endpoint& from);
  ~Call() override;

  // UAC: sends the INVITE.
  Status start();
  // UAS: runs the INVITE through the rules and answers it.
  void answer_invite();
  // Ends the call the way its state allows: CANCEL, BYE or a decline.
  void hangup(const std::string& reason = "local_hangup");

  // Routed here by the user agent.
  void on_request(osip_transaction_t* tr, osip_message_t* request);  // inside the dialog
  void on_ack(osip_message_t* ack);
  void on_cancel(osip_transaction_t* tr, osip_message_t* cancel);
  void on_stray_response(osip_message_t* response, const Endpoint& from);
  void on_timer();
  std::optional<TimePoint> next_deadline() const;

  void on_response(osip_transaction_t* tr, osip_message_t* response) override;
  void on_timeout(osip_transaction_t* tr) override;

  // For routing and status.
  const std::string& id() const { return id_; }
  Direction direction() const { return direction_; }
  State state() const { return state_; }
  const char* state_name() const;
  bool ended() const { return state_ == State::kEnded; }
  const std::string& call_id() const { return call_id_; }
  const std::string& local_tag() const { return local_tag_; }
  const std::string& remote_tag() const { return dialog_ ? dialog_->remote_tag : empty_; }
  const std::string& invite_branch() const { return invite_branch_; }
  const std::string& target() const { return target_; }
  // Who is calling or called: P-Asserted-Identity (the network's word,
  // TS-1017 II.1.1 F3), else From (UAS); the target (UAC).
  const std::string& peer_identity() const { return peer_identity_; }
  const std::string& end_reason() const { return end_reason_; }
  int final_status() const { return final_status_; }
  const std::optional<IkePeer>& ike_peer() const { return ike_peer_; }
  const std::string& local_sdp() const { return local_sdp_; }
  const std::string& remote_sdp() const { return remote_sdp_; }
  const SessionTimerTerms& timer() const { return timer_; }
  std::optional<TimePoint> timer_deadline() const { return timer_at_; }
  SdpReject sdp_reject() const { return sdp_reject_; }

 private:
  Call(UaCore& core, CallEvents& events, std::string id, Direction d);

  Status send_invite(const HeaderList& extra);
  IkeMedia our_media(std::optional<VpnRole> role, std::optional<IkeAuth> auth,
                     const Endpoint& toward) const;
  void on_invite_response(osip_message_t* m);
  void on_invite_2xx(osip_message_t* m);
  void on_refresh_response(osip_message_t* m);
  void send_ack(Dialog& d, uint32_t cseq, const Endpoint* remember);
  void send_bye(Dialog& d, bool owned);
  void send_cancel();
  void respond(osip_transaction_t* tr, const osip_message_t* req, int code,
               const HeaderList& headers = {}, const std::string& body = "");
  void answer_refresh(osip_transaction_t* tr, osip_message_t* req);
  void send_refresh();
  void establish();
  void schedule_timer();  // from now, per the current terms
  void end(const std::string& reason, int status = 0);
  void reject_incoming(int code, const std::string& reason, const HeaderList& headers = {});
  void send_answer();
  void bye_and_end(const std::string& reason);

  UaCore& core_;
  CallEvents& events_;
  std::string id_;
  Direction direction_;
  State state_;
  std::string target_;
  std::string peer_identity_;
  std::string call_id_;
  std::string local_tag_;
  std::string invite_branch_;
  std::optional<Dialog> dialog_;
  ClientAuth auth_;

  // UAC
  osip_transaction_t* invite_tr_ = nullptr;
  MessagePtr invite_copy_;  // for CANCEL
  Endpoint invite_hop_;
  uint32_t invite_cseq_ = 0;
  uint32_t requested_interval_ = 0;
  uint32_t min_se_sent_ = 0;
  bool cancel_pending_ = false;
  bool got_provisional_ = false;
  IkeMedia offer_;
  MessagePtr ack_;  // the ACK for our INVITE's 2xx, resent for its retransmissions
  Endpoint ack_hop_;

  // UAS
  osip_transaction_t* ist_ = nullptr;
  osip_message_t* invite_ = nullptr;  // owned by the IST while it lives
  Endpoint source_;
  MessagePtr ok_copy_;       // our 2xx, retransmitted until the ACK
  uint32_t ok_cseq_ = 0;
  TimePoint ok_next_{}, ok_give_up_{};
  std::chrono::milliseconds ok_interval_{500};
  bool bye_after_ack_ = false;
  std::optional<TimePoint> answer_at_;  // a ringing UAS answers then
  std::string answer_sdp_;
  HeaderList answer_headers_;
  bool peer_allows_update_ = false;

  // Both
  osip_transaction_t* refresh_tr_ = nullptr;
  bool refresh_is_invite_ = false;
  osip_transaction_t* bye_tr_ = nullptr;
  std::optional<IkePeer> ike_peer_;
  std::string local_sdp_, remote_sdp_;
  uint64_t sdp_session_ = 0;
  SessionTimerTerms timer_;
  std::optional<TimePoint> timer_at_;
  std::optional<TimePoint> bye_give_up_;
  std::string end_reason_;
  std::string pending_reason_;  // why, once the BYE or CANCEL completes
  VpnRole outgoing_role_ = VpnRole::kClient;
  int final_status_ = 0;
  SdpReject sdp_reject_ = SdpReject::kNone;
  static const std::string empty_;
};

}  // namespace mapgw::sip
