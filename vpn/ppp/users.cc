#include "vpn/ppp/users.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "vpn/bytes.h"
#include "vpn/ppp/auth_crypto.h"

namespace mapgw::ppp {

Result<FileUserDb> FileUserDb::parse(const std::string& text, const std::string& origin) {
  FileUserDb db;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string where = origin + ":" + std::to_string(n) + ": ";
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string user, secret, extra;
    if (!(words >> user)) continue;
    if (!(words >> secret) || (words >> extra)) return make_error(where + "want 'name plain:PASSWORD' or 'name nthash:HEX'");
    Credential c;
    if (secret.rfind("plain:", 0) == 0) {
      c.password = secret.substr(6);
      if (c.password.empty()) return make_error(where + "empty password for " + user);
      auto h = nt_password_hash(c.password);
      if (!h) return make_error(where + h.error().message);
      c.nt_hash = *h;
    } else if (secret.rfind("nthash:", 0) == 0) {
      auto h = bytes::from_hex(secret.substr(7));
      if (!h || h->size() != 16) return make_error(where + "nthash wants 32 hex digits");
      c.nt_hash = *h;
    } else {
      return make_error(where + "the secret is plain:... or nthash:...");
    }
    if (!db.users_.emplace(user, c).second) return make_error(where + "user " + user + " listed twice");
  }
  return db;
}

Result<FileUserDb> FileUserDb::load(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return make_error("users file " + path, errno);
  if (st.st_mode & 077) {
    return make_error("users file " + path + " is readable by group or others: chmod 600 it");
  }
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  if (!f) return make_error("reading users file " + path);
  return parse(text.str(), path);
}

std::optional<Credential> FileUserDb::find(const std::string& user) const {
  auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mapgw::ppp
