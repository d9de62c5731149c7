// The L2TP server's users: a file of one user per line, as
//   name  plain:PASSWORD        any method (CHAP-MD5 needs the password itself)
//   name  nthash:HEX32          MS-CHAPv2 and PAP only: MD4 of the UTF-16LE
//                               password, so the file holds no password
// with '#' comments and blank lines. The file must not be readable by
// group or others (it is refused otherwise). Behind an interface: RADIUS
// is a later backend.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "loader/result.h"

namespace mapgw::ppp {

struct Credential {
  std::string password;  // empty when only the hash is known
  std::string nt_hash;   // 16 bytes, always known
};

class UserDb {
 public:
  virtual ~UserDb() = default;
  virtual std::optional<Credential> find(const std::string& user) const = 0;
};

class FileUserDb : public UserDb {
 public:
  // Reads @path (checking its mode) or @text (for tests, @path naming it in errors).
  static Result<FileUserDb> load(const std::string& path);
  static Result<FileUserDb> parse(const std::string& text, const std::string& origin);
  std::optional<Credential> find(const std::string& user) const override;
  size_t size() const { return users_.size(); }

 private:
  std::map<std::string, Credential> users_;
};

}  // namespace mapgw::ppp
