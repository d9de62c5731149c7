// The server's PPP logins against a scripted client: PAP, CHAP-MD5 and
// MS-CHAPv2 with right and wrong passwords, users known by password or by
// NT hash only, a silent client; and the users file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "vpn/ppp/auth_crypto.h"
#include "vpn/ppp/authenticator.h"

namespace mapgw::ppp {
namespace {

using Clock = Authenticator::Clock;
using std::chrono::seconds;

const char* kUsers =
    "# users of the lab\n"
    "alice plain:wonderland\n"
    "bob   nthash:44EBBA8D5312B8D611474411F56989AE   # clientPass\n"
    "\n";

struct Login {
  FileUserDb db = *FileUserDb::parse(kUsers, "users");
  Clock::time_point now{};
  std::vector<Packet> got;
  std::string ok_user, failed_why;
  std::unique_ptr<Authenticator> a;
  explicit Login(AuthMethod m) {
    Authenticator::Hooks h;
    h.send = [this](uint16_t, const Packet& p) { got.push_back(p); };
    h.success = [this](const std::string& u) { ok_user = u; };
    h.failure = [this](const std::string&, const std::string& why) { failed_why = why; };
    a = std::make_unique<Authenticator>(m, db, AuthSettings{}, h);
    a->start(now);
  }
  std::string challenge() const { return got.front().data.substr(1, static_cast<uint8_t>(got.front().data[0])); }
  void pap(const std::string& user, const std::string& pw) {
    Packet p;
    p.code = 1;
    p.id = 1;
    p.data = std::string(1, static_cast<char>(user.size())) + user + std::string(1, static_cast<char>(pw.size())) + pw;
    a->receive(proto::kPap, encode_packet(p), now);
  }
  void chap(const std::string& value, const std::string& name) {
    Packet p;
    p.code = 2;
    p.id = got.back().id;
    p.data = std::string(1, static_cast<char>(value.size())) + value + name;
    a->receive(proto::kChap, encode_packet(p), now);
  }
  void mschap(const std::string& name, const std::string& pw) {
    const std::string peer(16, '\x42');
    auto nt = nt_response(challenge(), peer, name.substr(name.rfind('\\') + 1), pw);
    ASSERT_TRUE(nt.ok());
    chap(peer + std::string(8, '\0') + *nt + std::string(1, '\0'), name);
  }
};

TEST(PppAuth, PapByPasswordAndByHash) {
  Login l(AuthMethod::kPap);
  EXPECT_TRUE(l.got.empty());  // PAP: the client speaks first
  l.pap("alice", "wonderland");
  EXPECT_EQ(l.ok_user, "alice");
  EXPECT_EQ(l.got.back().code, 2);  // Authenticate-Ack
  Login h(AuthMethod::kPap);
  h.pap("bob", "clientPass");  // only the NT hash is stored
  EXPECT_EQ(h.ok_user, "bob");
  Login w(AuthMethod::kPap);
  w.pap("alice", "queen");
  EXPECT_EQ(w.got.back().code, 3);  // Authenticate-Nak
  EXPECT_EQ(w.failed_why, "wrong password (PAP)");
  EXPECT_EQ(w.a->state(), Authenticator::State::kFailed);
  Login u(AuthMethod::kPap);
  u.pap("mallory", "x");
  EXPECT_EQ(u.failed_why, "unknown user (PAP)");
}

TEST(PppAuth, ChapMd5) {
  Login l(AuthMethod::kChapMd5);
  ASSERT_EQ(l.got.size(), 1u);
  EXPECT_EQ(l.got[0].code, 1);  // Challenge
  EXPECT_EQ(l.challenge().size(), 16u);
  l.chap(chap_md5_response(l.got[0].id, "wonderland", l.challenge()), "alice");
  EXPECT_EQ(l.got.back().code, 3);  // Success
  EXPECT_EQ(l.ok_user, "alice");
  Login w(AuthMethod::kChapMd5);
  w.chap(chap_md5_response(w.got[0].id, "queen", w.challenge()), "alice");
  EXPECT_EQ(w.got.back().code, 4);
  Login h(AuthMethod::kChapMd5);  // a hash-only user cannot do CHAP-MD5
  h.chap(chap_md5_response(h.got[0].id, "clientPass", h.challenge()), "bob");
  EXPECT_NE(h.failed_why.find("needs the password"), std::string::npos);
}

TEST(PppAuth, MsChapV2ProvesBothSides) {
  Login l(AuthMethod::kMsChapV2);
  l.mschap("WORKGROUP\\bob", "clientPass");  // Windows sends its domain
  ASSERT_EQ(l.got.back().code, 3);
  EXPECT_EQ(l.ok_user, "bob");
  const std::string msg = l.got.back().data;
  auto nt = nt_response(l.challenge(), std::string(16, '\x42'), "bob", "clientPass");
  auto proof = authenticator_response("clientPass", *nt, std::string(16, '\x42'), l.challenge(), "bob");
  EXPECT_EQ(msg.substr(0, 42), *proof);  // "S=<40 hex>" first, as Windows requires
  Login w(AuthMethod::kMsChapV2);
  w.mschap("alice", "queen");
  ASSERT_EQ(w.got.back().code, 4);
  EXPECT_EQ(w.got.back().data.substr(0, 10), "E=691 R=0 ");
  EXPECT_EQ(w.failed_why, "wrong password (MS-CHAPv2)");
  Login bad(AuthMethod::kMsChapV2);
  bad.chap("short", "alice");
  EXPECT_EQ(bad.failed_why, "malformed MS-CHAPv2 response");
}

TEST(PppAuth, ASilentClientFails) {
  Login c(AuthMethod::kChapMd5);
  for (int i = 0; i < 40; ++i) {
    c.now += seconds(1);
    c.a->on_timer(c.now);
  }
  EXPECT_EQ(c.got.size(), 10u);  // the challenge, repeated every 3 s, 10 in all
  EXPECT_EQ(c.failed_why, "no authentication from the client");
  Login p(AuthMethod::kPap);
  p.now += seconds(31);
  p.a->on_timer(p.now);
  EXPECT_EQ(p.a->state(), Authenticator::State::kFailed);
  // An answer to an old challenge (another identifier) is not taken.
  Login o(AuthMethod::kChapMd5);
  const std::string first = o.challenge();
  o.now += seconds(3);
  o.a->on_timer(o.now);
  Packet late;
  late.code = 2;
  late.id = o.got[0].id;
  const std::string v = chap_md5_response(o.got[0].id, "wonderland", first);
  late.data = std::string(1, 16) + v + "alice";
  o.a->receive(proto::kChap, encode_packet(late), o.now);
  EXPECT_EQ(o.a->state(), Authenticator::State::kWaiting);
}

TEST(PppUsers, FileFormatAndMode) {
  auto db = FileUserDb::parse(kUsers, "users");
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(db->size(), 2u);
  EXPECT_EQ(db->find("alice")->password, "wonderland");
  EXPECT_TRUE(db->find("bob")->password.empty());
  EXPECT_FALSE(db->find("carol"));
  EXPECT_FALSE(FileUserDb::parse("alice wonderland\n", "u").ok());         // no scheme
  EXPECT_FALSE(FileUserDb::parse("alice nthash:1234\n", "u").ok());        // short hash
  EXPECT_FALSE(FileUserDb::parse("a plain:x\na plain:y\n", "u").ok());     // twice
  EXPECT_FALSE(FileUserDb::parse("a plain:x extra\n", "u").ok());
  const std::string path = ::testing::TempDir() + "/mapgw-users";
  {
    std::ofstream f(path);
    f << kUsers;
  }
  chmod(path.c_str(), 0644);
  auto open = FileUserDb::load(path);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos);
  chmod(path.c_str(), 0600);
  EXPECT_TRUE(FileUserDb::load(path).ok());
}

}  // namespace
}  // namespace mapgw::ppp
