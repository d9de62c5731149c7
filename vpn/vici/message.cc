#include "vpn/vici/message.h"

namespace mapgw::vici {
namespace {

enum Element : uint8_t {
  kSectionStart = 1,
  kSectionEnd = 2,
  kKeyValue = 3,
  kListStart = 4,
  kListItem = 5,
  kListEnd = 6,
};

// Sizes are checked by encode() before anything is written.
void put_name(std::string& out, const std::string& name) {
  out += static_cast<char>(name.size());
  out += name;
}

void put_value(std::string& out, const std::string& v) {
  out += static_cast<char>(v.size() >> 8);
  out += static_cast<char>(v.size() & 0xff);
  out += v;
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool done() const { return pos_ >= b_.size(); }
  bool byte(uint8_t& v) {
    if (pos_ + 1 > b_.size()) return false;
    v = static_cast<uint8_t>(b_[pos_++]);
    return true;
  }
  bool name(std::string& v) {
    uint8_t n = 0;
    if (!byte(n) || pos_ + n > b_.size()) return false;
    v.assign(b_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool value(std::string& v) {
    if (pos_ + 2 > b_.size()) return false;
    const size_t n = static_cast<uint8_t>(b_[pos_]) << 8 | static_cast<uint8_t>(b_[pos_ + 1]);
    pos_ += 2;
    if (pos_ + n > b_.size()) return false;
    v.assign(b_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

Message::Message(const Message& o) {
  for (const auto& e : o.entries_) {
    if (auto* m = std::get_if<std::unique_ptr<Message>>(&e.body)) {
      entries_.push_back({e.name, std::make_unique<Message>(**m)});
    } else if (auto* v = std::get_if<std::string>(&e.body)) {
      entries_.push_back({e.name, *v});
    } else {
      entries_.push_back({e.name, std::get<List>(e.body)});
    }
  }
}

Message& Message::operator=(const Message& o) {
  if (this != &o) *this = Message(o);
  return *this;
}

Message& Message::set(std::string key, std::string value) {
  entries_.push_back({std::move(key), std::move(value)});
  return *this;
}

Message& Message::set_list(std::string key, List values) {
  entries_.push_back({std::move(key), std::move(values)});
  return *this;
}

Message& Message::section(std::string name) {
  entries_.push_back({std::move(name), std::make_unique<Message>()});
  return *std::get<std::unique_ptr<Message>>(entries_.back().body);
}

const std::string* Message::value(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.name == key) return std::get_if<std::string>(&e.body);
  }
  return nullptr;
}

const Message::List* Message::list(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.name == key) return std::get_if<List>(&e.body);
  }
  return nullptr;
}

const Message* Message::sub(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name != name) continue;
    auto* p = std::get_if<std::unique_ptr<Message>>(&e.body);
    return p ? p->get() : nullptr;
  }
  return nullptr;
}

bool Message::yes(std::string_view key) const {
  const std::string* v = value(key);
  return v && *v == "yes";
}

std::string Message::value_or(std::string_view key, std::string fallback) const {
  const std::string* v = value(key);
  return v ? *v : fallback;
}

void Message::encode_into(std::string& out) const {
  for (const auto& e : entries_) {
    if (auto* v = std::get_if<std::string>(&e.body)) {
      out += static_cast<char>(kKeyValue);
      put_name(out, e.name);
      put_value(out, *v);
    } else if (auto* l = std::get_if<List>(&e.body)) {
      out += static_cast<char>(kListStart);
      put_name(out, e.name);
      for (const auto& item : *l) {
        out += static_cast<char>(kListItem);
        put_value(out, item);
      }
      out += static_cast<char>(kListEnd);
    } else {
      out += static_cast<char>(kSectionStart);
      put_name(out, e.name);
      std::get<std::unique_ptr<Message>>(e.body)->encode_into(out);
      out += static_cast<char>(kSectionEnd);
    }
  }
}

Status Message::check_sizes() const {
  for (const auto& e : entries_) {
    if (e.name.size() > 255) return make_error("VICI name longer than 255 bytes: " + e.name.substr(0, 40));
    if (auto* v = std::get_if<std::string>(&e.body); v && v->size() > 0xffff) {
      return make_error("VICI value of '" + e.name + "' longer than 65535 bytes");
    }
    if (auto* l = std::get_if<List>(&e.body)) {
      for (const auto& item : *l) {
        if (item.size() > 0xffff) return make_error("VICI list item of '" + e.name + "' too long");
      }
    }
    if (auto* m = std::get_if<std::unique_ptr<Message>>(&e.body)) {
      if (Status st = (*m)->check_sizes(); !st) return st;
    }
  }
  return Status::Ok();
}

Result<std::string> Message::encode() const {
  if (Status st = check_sizes(); !st) return st.error();
  std::string out;
  encode_into(out);
  return out;
}

Result<Message> Message::decode(std::string_view bytes) {
  Message root;
  std::vector<Message*> stack{&root};
  List* open_list = nullptr;
  Reader r(bytes);
  while (!r.done()) {
    const size_t at = r.pos();
    uint8_t type = 0;
    r.byte(type);
    std::string name, value;
    auto bad = [&](const char* why) {
      return make_error("VICI message: " + std::string(why) + " at byte " + std::to_string(at));
    };
    if (open_list && type != kListItem && type != kListEnd) return bad("element inside a list");
    switch (type) {
      case kSectionStart:
        if (!r.name(name)) return bad("truncated section name");
        if (stack.size() > 64) return bad("sections nested too deep");
        stack.push_back(&stack.back()->section(std::move(name)));
        break;
      case kSectionEnd:
        if (stack.size() == 1) return bad("section end without a section");
        stack.pop_back();
        break;
      case kKeyValue:
        if (!r.name(name) || !r.value(value)) return bad("truncated key/value");
        stack.back()->set(std::move(name), std::move(value));
        break;
      case kListStart:
        if (!r.name(name)) return bad("truncated list name");
        stack.back()->set_list(std::move(name), {});
        open_list = &std::get<List>(stack.back()->entries_.back().body);
        break;
      case kListItem:
        if (!open_list) return bad("list item outside a list");
        if (!r.value(value)) return bad("truncated list item");
        open_list->push_back(std::move(value));
        break;
      case kListEnd:
        if (!open_list) return bad("list end without a list");
        open_list = nullptr;
        break;
      default:
        return bad("unknown element type");
    }
  }
  if (open_list) return make_error("VICI message: a list is not closed");
  if (stack.size() != 1) return make_error("VICI message: a section is not closed");
  return root;
}

std::string Message::str() const {
  std::string out;
  for (const auto& e : entries_) {
    if (!out.empty()) out += ' ';
    out += e.name;
    if (auto* v = std::get_if<std::string>(&e.body)) {
      out += '=' + *v;
    } else if (auto* l = std::get_if<List>(&e.body)) {
      out += "=[";
      for (size_t i = 0; i < l->size(); ++i) out += (i ? "," : "") + (*l)[i];
      out += ']';
    } else {
      out += " {" + std::get<std::unique_ptr<Message>>(e.body)->str() + "}";
    }
  }
  return out;
}

}  // namespace mapgw::vici
