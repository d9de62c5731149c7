// Result<T>: a value or an Error carrying a message and, where a syscall
// failed, its errno. Used on every path that handles untrusted input or the
// kernel, so failures travel as values instead of exceptions (DESIGN.md).
// It lives in the lowest C++ layer (loader/) so every layer above — agent,
// sip, vpn — shares it without loader/ reaching upwards.
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace mapgw {

struct Error {
  std::string message;
  int err = 0;  // errno when a system call failed, else 0

  // "context: strerror(err)" when err is set, otherwise just the message.
  std::string describe() const {
    if (err == 0) return message;
    return message + ": " + std::strerror(err);
  }
};

inline Error make_error(std::string message, int err = 0) { return Error{std::move(message), err}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace mapgw
