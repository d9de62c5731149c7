// A VICI message (strongSwan's Versatile IKE Control Interface, the wire
// format of src/libcharon/plugins/vici/README.md): a tree of sections whose
// entries are key/values, lists of values and sub-sections, in order.
// encode() writes the element stream; decode() reads one and refuses what
// the format forbids (unbalanced sections, nested or unclosed lists, items
// outside a list, lengths past the end) — charon is trusted, but a codec
// that trusts its input is one bug away from reading past it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "loader/result.h"

namespace mapgw::vici {

class Message {
 public:
  using List = std::vector<std::string>;
  struct Entry;

  Message() = default;
  Message(const Message& o);  // a deep copy
  Message& operator=(const Message& o);
  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;

  // Builders: each returns the message for chaining; section() returns the
  // new sub-section.
  Message& set(std::string key, std::string value);
  Message& set_list(std::string key, List values);
  Message& section(std::string name);

  // Readers: null when absent or of another kind.
  const std::string* value(std::string_view key) const;
  const List* list(std::string_view key) const;
  const Message* sub(std::string_view name) const;
  // "yes"/"no" values as charon writes them.
  bool yes(std::string_view key) const;
  std::string value_or(std::string_view key, std::string fallback) const;

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // Fails when a name exceeds 255 bytes or a value 65535 (the format's
  // length fields); never truncates.
  Result<std::string> encode() const;
  static Result<Message> decode(std::string_view bytes);

  // A readable dump for logs and tests: key = value, name { ... }, [a, b].
  std::string str() const;

 private:
  void encode_into(std::string& out) const;
  Status check_sizes() const;
  std::vector<Entry> entries_;
};

struct Message::Entry {
  std::string name;
  std::variant<std::string, List, std::unique_ptr<Message>> body;
};

}  // namespace mapgw::vici
