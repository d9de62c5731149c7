#include "sip/sip_stack.h"

#include <osipparser2/osip_parser.h>

#include <cstring>

namespace mapgw::sip {
namespace {

bool has_mandatory_headers(const osip_message_t* m) {
  // RFC 3261 §8.1.1: without these nothing can be answered or matched.
  return m->call_id && m->cseq && m->cseq->method && m->cseq->number && m->from && m->to &&
         osip_list_size(&m->vias) > 0;
}

}  // namespace

Result<std::unique_ptr<SipStack>> SipStack::create(DatagramSink& sink, StackListener& listener) {
  // Debian's libosip2 traces every parse error to stderr: a peer sending
  // garbage would write our log for us. The counters say it instead.
  for (int level = 0; level < END_TRACE_LEVEL; ++level) {
    osip_trace_disable_level(static_cast<osip_trace_level_t>(level));
  }
  std::unique_ptr<SipStack> s(new SipStack(sink, listener));
  if (osip_init(&s->osip_) != 0) return make_error("libosip2 initialisation failed");
  osip_set_application_context(s->osip_, s.get());
  s->install_callbacks();
  return s;
}

SipStack::~SipStack() {
  if (!osip_) return;
  // Every transaction left: unlink and free (osip_release does not).
  std::vector<osip_transaction_t*> all;
  for (auto& [tr, hop] : next_hops_) all.push_back(tr);
  for (auto& [tr, from] : sources_) all.push_back(tr);
  for (auto* tr : all) osip_remove_transaction(osip_, tr);
  for (auto* tr : all) osip_transaction_free2(tr);
  free_killed();
  osip_release(osip_);
}

SipStack* SipStack::of(osip_transaction_t* tr) {
  return static_cast<SipStack*>(osip_get_application_context(static_cast<osip_t*>(tr->config)));
}

void SipStack::install_callbacks() {
  osip_set_cb_send_message(osip_, &SipStack::on_send);
  for (int t = 0; t < OSIP_MESSAGE_CALLBACK_COUNT; ++t) {
    osip_set_message_callback(osip_, t, &SipStack::on_message);
  }
  for (int t = 0; t < OSIP_KILL_CALLBACK_COUNT; ++t) {
    osip_set_kill_transaction_callback(osip_, t, &SipStack::on_kill);
  }
  for (int t = 0; t < OSIP_TRANSPORT_ERROR_CALLBACK_COUNT; ++t) {
    osip_set_transport_error_callback(osip_, t, &SipStack::on_transport_error);
  }
}

int SipStack::on_send(osip_transaction_t* tr, osip_message_t* msg, char* host, int port, int) {
  SipStack* self = of(tr);
  Endpoint to;
  if (auto hop = self->next_hops_.find(tr); hop != self->next_hops_.end()) {
    to = hop->second;
  } else if (auto e = Endpoint::parse(host ? host : "", static_cast<uint16_t>(port)); e) {
    to = *e;  // a response: the top Via's received/rport (RFC 3261 §18.2.2, RFC 3581)
  } else if (auto src = self->sources_.find(tr); src != self->sources_.end()) {
    to = src->second;
  } else {
    ++self->counters_.tx_errors;
    return -1;
  }
  return self->send_stateless(msg, to) ? 0 : -1;
}

Status SipStack::send_stateless(osip_message_t* msg, const Endpoint& to) {
  char* text = nullptr;
  size_t len = 0;
  if (osip_message_to_str(msg, &text, &len) != 0 || !text) {
    ++counters_.tx_errors;
    return make_error("libosip2 could not serialise a message");
  }
  const std::string wire = take_osip_string(text);
  Status st = sink_.send(to, std::string_view(wire.data(), len));
  if (!st) {
    ++counters_.tx_errors;
    return st;
  }
  ++counters_.tx_messages;
  return Status::Ok();
}

void SipStack::on_message(int type, osip_transaction_t* tr, osip_message_t* msg) {
  SipStack* self = of(tr);
  switch (type) {
    case OSIP_ICT_INVITE_SENT_AGAIN:
    case OSIP_ICT_ACK_SENT_AGAIN:
    case OSIP_IST_STATUS_2XX_SENT_AGAIN:
    case OSIP_IST_STATUS_3456XX_SENT_AGAIN:
    case OSIP_NICT_REQUEST_SENT_AGAIN:
    case OSIP_NIST_STATUS_2XX_SENT_AGAIN:
    case OSIP_NIST_STATUS_3456XX_SENT_AGAIN:
      ++self->counters_.tx_retransmissions;
      return;
    case OSIP_ICT_STATUS_2XX_RECEIVED_AGAIN:
    case OSIP_ICT_STATUS_3456XX_RECEIVED_AGAIN:
    case OSIP_IST_INVITE_RECEIVED_AGAIN:
    case OSIP_IST_ACK_RECEIVED_AGAIN:
    case OSIP_NICT_STATUS_2XX_RECEIVED_AGAIN:
    case OSIP_NICT_STATUS_3456XX_RECEIVED_AGAIN:
    case OSIP_NIST_REQUEST_RECEIVED_AGAIN:
      ++self->counters_.rx_retransmissions;
      return;
    case OSIP_ICT_STATUS_1XX_RECEIVED:
    case OSIP_ICT_STATUS_2XX_RECEIVED:
    case OSIP_ICT_STATUS_3XX_RECEIVED:
    case OSIP_ICT_STATUS_4XX_RECEIVED:
    case OSIP_ICT_STATUS_5XX_RECEIVED:
    case OSIP_ICT_STATUS_6XX_RECEIVED:
    case OSIP_NICT_STATUS_1XX_RECEIVED:
    case OSIP_NICT_STATUS_2XX_RECEIVED:
    case OSIP_NICT_STATUS_3XX_RECEIVED:
    case OSIP_NICT_STATUS_4XX_RECEIVED:
    case OSIP_NICT_STATUS_5XX_RECEIVED:
    case OSIP_NICT_STATUS_6XX_RECEIVED:
      if (auto u = self->users_.find(tr); u != self->users_.end() && u->second) {
        u->second->on_response(tr, msg);
      }
      return;
    case OSIP_ICT_STATUS_TIMEOUT:
    case OSIP_NICT_STATUS_TIMEOUT:
      ++self->counters_.timeouts;
      if (auto u = self->users_.find(tr); u != self->users_.end() && u->second) {
        u->second->on_timeout(tr);
      }
      return;
    case OSIP_IST_INVITE_RECEIVED:
    case OSIP_NIST_REGISTER_RECEIVED:
    case OSIP_NIST_BYE_RECEIVED:
    case OSIP_NIST_OPTIONS_RECEIVED:
    case OSIP_NIST_INFO_RECEIVED:
    case OSIP_NIST_CANCEL_RECEIVED:
    case OSIP_NIST_NOTIFY_RECEIVED:
    case OSIP_NIST_SUBSCRIBE_RECEIVED:
    case OSIP_NIST_UNKNOWN_REQUEST_RECEIVED: {
      const auto src = self->sources_.find(tr);
      self->listener_.on_request(tr, msg, src != self->sources_.end() ? src->second : Endpoint());
      return;
    }
    default:
      return;  // sent notifications, ACK for a non-2xx (the IST absorbs it)
  }
}

void SipStack::on_kill(int, osip_transaction_t* tr) {
  SipStack* self = of(tr);
  // Unlinked now, freed after the event run (it is still executing).
  osip_remove_transaction(self->osip_, tr);
  self->users_.erase(tr);
  self->next_hops_.erase(tr);
  self->sources_.erase(tr);
  self->killed_.push_back(tr);
}

void SipStack::on_transport_error(int type, osip_transaction_t* tr, int) {
  SipStack* self = of(tr);
  if (type != OSIP_ICT_TRANSPORT_ERROR && type != OSIP_NICT_TRANSPORT_ERROR) return;
  if (auto u = self->users_.find(tr); u != self->users_.end() && u->second) {
    auto* user = u->second;
    u->second = nullptr;  // one ending per transaction
    user->on_timeout(tr);
  }
}

void SipStack::free_killed() {
  auto killed = std::move(killed_);
  killed_.clear();
  for (auto* tr : killed) osip_transaction_free2(tr);
}

void SipStack::receive(std::string_view data, const Endpoint& from, bool truncated) {
  ++counters_.rx_messages;
  if (truncated) {
    ++counters_.rx_oversized;
    return;
  }
  osip_event_t* evt = osip_parse(data.data(), data.size());
  if (!evt || !evt->sip) {
    ++counters_.rx_parse_errors;
    if (evt) osip_event_free(evt);
    return;
  }
  if (!has_mandatory_headers(evt->sip) ||
      (MSG_IS_REQUEST(evt->sip) && (!evt->sip->sip_method || !evt->sip->req_uri ||
                                    strcmp(evt->sip->sip_method, evt->sip->cseq->method) != 0))) {
    ++counters_.rx_malformed;
    osip_event_free(evt);
    return;
  }
  if (MSG_IS_REQUEST(evt->sip)) {
    // received= and rport= on the top Via: responses go back where the
    // request came from (RFC 3261 §18.2.1, RFC 3581 §4).
    osip_message_fix_last_via_header(evt->sip, from.address().c_str(), from.port());
  }
  if (osip_find_transaction_and_add_event(osip_, evt) == OSIP_SUCCESS) {
    execute();
    return;
  }
  if (MSG_IS_RESPONSE(evt->sip)) {
    listener_.on_stray_response(evt->sip, from);
    osip_event_free(evt);
    execute();
    return;
  }
  if (MSG_IS_ACK(evt->sip)) {
    listener_.on_request(nullptr, evt->sip, from);
    osip_event_free(evt);
    execute();
    return;
  }
  osip_transaction_t* tr = osip_create_transaction(osip_, evt);
  if (!tr) {
    ++counters_.rx_malformed;
    osip_event_free(evt);
    return;
  }
  sources_[tr] = from;
  osip_transaction_add_event(tr, evt);
  execute();
}

Result<osip_transaction_t*> SipStack::send_request(MessagePtr request, const Endpoint& next_hop,
                                                   ClientTransactionUser* user) {
  const bool invite = MSG_IS_INVITE(request.get());
  osip_transaction_t* tr = nullptr;
  if (osip_transaction_init(&tr, invite ? ICT : NICT, osip_, request.get()) != 0) {
    return make_error("libosip2 refused to start a transaction");
  }
  next_hops_[tr] = next_hop;
  users_[tr] = user;
  osip_transaction_add_event(tr, osip_new_outgoing_sipmessage(request.release()));
  execute();
  return tr;
}

void SipStack::respond(osip_transaction_t* tr, MessagePtr response) {
  osip_transaction_add_event(tr, osip_new_outgoing_sipmessage(response.release()));
  execute();
}

void SipStack::discard(osip_transaction_t* tr) {
  if (!tr || !sources_.count(tr)) return;
  on_kill(0, tr);
}

void SipStack::detach(ClientTransactionUser* user) {
  for (auto& [tr, u] : users_) {
    if (u == user) u = nullptr;
  }
}

bool SipStack::has_pending_events() const {
  for (const osip_list_t* list : {&osip_->osip_ict_transactions, &osip_->osip_ist_transactions,
                                  &osip_->osip_nict_transactions, &osip_->osip_nist_transactions}) {
    // An iterator: osip_list_get(i) walks from the head, which made this
    // quadratic with thousands of transactions in their wait states.
    osip_list_iterator_t it;
    for (auto* tr = static_cast<osip_transaction_t*>(osip_list_get_first(const_cast<osip_list_t*>(list), &it));
         osip_list_iterator_has_elem(it); tr = static_cast<osip_transaction_t*>(osip_list_get_next(&it))) {
      if (osip_fifo_size(tr->transactionff) > 0) return true;
    }
  }
  return false;
}

void SipStack::execute() {
  // Called again from inside a callback (an answer to the request being
  // delivered): the event waits in its transaction's queue, and the run
  // below picks it up once the callback has returned and the transaction
  // is in its next state. Running it here would feed it to the old state.
  if (executing_) return;
  executing_ = true;
  for (int round = 0; round < 16; ++round) {
    osip_ict_execute(osip_);
    osip_ist_execute(osip_);
    osip_nict_execute(osip_);
    osip_nist_execute(osip_);
    if (!has_pending_events()) break;
  }
  executing_ = false;
  free_killed();
}

void SipStack::run() {
  osip_timers_ict_execute(osip_);
  osip_timers_ist_execute(osip_);
  osip_timers_nict_execute(osip_);
  osip_timers_nist_execute(osip_);
  execute();
}

std::chrono::milliseconds SipStack::next_timeout() {
  timeval tv{};
  osip_timers_gettimeout(osip_, &tv);
  return std::chrono::milliseconds(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

}  // namespace mapgw::sip
