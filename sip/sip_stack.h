// libosip2's four transaction state machines (RFC 3261 §17) on our
// transport. Datagrams go in through receive(); requests that start a
// server transaction, ACKs for 2xx and responses that match no client
// transaction come out to the StackListener; each client transaction's
// responses and its timeout go to the ClientTransactionUser that started it.
//
// libosip2's rules kept here (DESIGN.md "SIP layering"): a transaction ends
// through the kill callback, where it is only unlinked — it is freed after
// the event run that killed it; ACK never creates a transaction; the IST
// ends when it sends a 2xx and the ICT when it receives one, so the dialog
// layer above retransmits 2xx and sends the ACK for it (send_stateless).
// libosip2's timers run on its own clock; ours (dialogs, registration) take
// an injected one.
#pragma once

#include <sys/time.h>  // libosip2 headers need timeval and time_t first

#include <osip2/osip.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "sip/endpoint.h"
#include "sip/osip_ptr.h"
#include "sip/udp_transport.h"

namespace mapgw::sip {

class ClientTransactionUser {
 public:
  virtual ~ClientTransactionUser() = default;
  // Every response the transaction passes up (1xx..6xx, first copies only).
  virtual void on_response(osip_transaction_t* tr, osip_message_t* response) = 0;
  // No final response: timer B/F fired or the transport failed.
  virtual void on_timeout(osip_transaction_t* tr) = 0;
};

class StackListener {
 public:
  virtual ~StackListener() = default;
  // A new request. @tr is its server transaction (answer with respond()),
  // null for an ACK (which never has one).
  virtual void on_request(osip_transaction_t* tr, osip_message_t* request, const Endpoint& from) = 0;
  // A response no client transaction wants: a retransmitted or forked 2xx
  // to an INVITE whose ICT has ended.
  virtual void on_stray_response(osip_message_t* response, const Endpoint& from) = 0;
};

struct StackCounters {
  uint64_t rx_messages = 0;
  uint64_t rx_parse_errors = 0;    // libosip2 could not parse it
  uint64_t rx_malformed = 0;       // parsed, but a mandatory header is missing or wrong
  uint64_t rx_oversized = 0;       // larger than a UDP datagram can carry
  uint64_t rx_retransmissions = 0; // requests and responses the transactions absorbed
  uint64_t tx_messages = 0;
  uint64_t tx_retransmissions = 0;
  uint64_t tx_errors = 0;
  uint64_t timeouts = 0;           // client transactions without a final response
};

class SipStack {
 public:
  static Result<std::unique_ptr<SipStack>> create(DatagramSink& sink, StackListener& listener);
  ~SipStack();

  // One datagram from the network (runs the transactions it touches).
  void receive(std::string_view data, const Endpoint& from, bool truncated = false);
  // Starts a client transaction for @request towards @next_hop.
  Result<osip_transaction_t*> send_request(MessagePtr request, const Endpoint& next_hop,
                                           ClientTransactionUser* user);
  // Answers within a server transaction.
  void respond(osip_transaction_t* tr, MessagePtr response);
  // Outside any transaction (ACK for a 2xx, 2xx retransmissions).
  Status send_stateless(osip_message_t* msg, const Endpoint& to);
  // Drops a server transaction unanswered (a request we will not serve):
  // unlinked now, freed after the current event run.
  void discard(osip_transaction_t* tr);
  // @user goes away: its transactions run on, answering to no one.
  void detach(ClientTransactionUser* user);

  // Fires due libosip2 timers and runs every queued event.
  void run();
  // Until libosip2's next timer.
  std::chrono::milliseconds next_timeout();

  const StackCounters& counters() const { return counters_; }
  size_t transactions() const { return next_hops_.size() + sources_.size(); }

 private:
  SipStack(DatagramSink& sink, StackListener& listener) : sink_(sink), listener_(listener) {}
  void install_callbacks();
  void execute();
  bool has_pending_events() const;
  void free_killed();

  static SipStack* of(osip_transaction_t* tr);
  static int on_send(osip_transaction_t* tr, osip_message_t* msg, char* host, int port, int sock);
  static void on_message(int type, osip_transaction_t* tr, osip_message_t* msg);
  static void on_kill(int type, osip_transaction_t* tr);
  static void on_transport_error(int type, osip_transaction_t* tr, int error);

  DatagramSink& sink_;
  StackListener& listener_;
  osip_t* osip_ = nullptr;
  std::map<osip_transaction_t*, ClientTransactionUser*> users_;
  std::map<osip_transaction_t*, Endpoint> next_hops_;  // client transactions
  std::map<osip_transaction_t*, Endpoint> sources_;    // server transactions: where it came from
  std::vector<osip_transaction_t*> killed_;
  bool executing_ = false;
  StackCounters counters_;
};

}  // namespace mapgw::sip
