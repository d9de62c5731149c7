// The NAT log's line format (RFC 6302 fields) and its file handling under
// log rotation: rename, reopen, and a reopen that fails.
#include "agent/ce/nat_log.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

namespace mapgw {
namespace {

namespace fs = std::filesystem;

const Ipv4Addr kOutside = *Ipv4Addr::parse("106.72.171.205");

mapgw_natlog_event binding(uint16_t in_port, uint16_t ext_port) {
  mapgw_natlog_event ev{};
  ev.type = MAPGW_NATLOG_BINDING_CREATE;
  ev.proto = IPPROTO_UDP;
  ev.in_addr = htonl(0xc0a8010a);  // 192.168.1.10
  ev.in_port = htons(in_port);
  ev.ext_port = htons(ext_port);
  return ev;
}

std::vector<nlohmann::json> lines_of(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream f(p);
  for (std::string line; std::getline(f, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::vector<std::string> inside_of(const fs::path& p) {
  std::vector<std::string> out;
  for (const auto& j : lines_of(p)) out.push_back(j["inside"].get<std::string>());
  return out;
}

class NatLogFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("natlog-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(NatLogFormat, SessionLineCarriesRfc6302Fields) {
  mapgw_natlog_event ev = binding(40000, 7920);
  ev.type = MAPGW_NATLOG_SESSION_CREATE;
  ev.rem_addr = htonl(0xcb007107);  // 203.0.113.7
  ev.rem_port = htons(443);
  ev.ts_ns = 1'500'000'000;  // monotonic 1.5 s
  // Monotonic 0 = 2026-11-21T14:00:00Z.
  const int64_t offset = 1'795'269'600'000'000'000LL;
  auto j = nlohmann::json::parse(NatLogWriter::format(ev, kOutside, offset));
  EXPECT_EQ(j["ts"], "2026-11-21T14:00:01.500Z");
  EXPECT_EQ(j["event"], "session_create");
  EXPECT_EQ(j["proto"], "udp");
  EXPECT_EQ(j["inside"], "192.168.1.10:40000");
  EXPECT_EQ(j["outside"], "106.72.171.205:7920");
  EXPECT_EQ(j["remote"], "203.0.113.7:443");
  EXPECT_FALSE(
      nlohmann::json::parse(NatLogWriter::format(binding(1, 2), kOutside, 0)).contains("remote"));
}

TEST_F(NatLogFile, RotationByRenameAndReopenLosesNoLine) {
  const fs::path log = dir_ / "nat.jsonl", rotated = dir_ / "nat.jsonl.1";
  auto w = NatLogWriter::open("file:" + log.string());
  ASSERT_TRUE(w.ok()) << w.error().describe();
  (*w)->write(binding(40001, 7921), kOutside);
  fs::rename(log, rotated);                     // logrotate's rename ...
  (*w)->write(binding(40002, 7922), kOutside);  // ... a line before the signal ...
  ASSERT_TRUE((*w)->reopen().ok());             // ... then SIGHUP
  (*w)->write(binding(40003, 7923), kOutside);

  EXPECT_EQ(inside_of(rotated),
            (std::vector<std::string>{"192.168.1.10:40001", "192.168.1.10:40002"}));
  EXPECT_EQ(inside_of(log), (std::vector<std::string>{"192.168.1.10:40003"}));
  EXPECT_EQ((*w)->written(), 3u);
  EXPECT_EQ((*w)->errors(), 0u);
}

TEST_F(NatLogFile, FailedReopenKeepsWritingTheOldFile) {
  const fs::path sub = dir_ / "logs", log = sub / "nat.jsonl", kept = dir_ / "kept.jsonl";
  fs::create_directories(sub);
  auto w = NatLogWriter::open("file:" + log.string());
  ASSERT_TRUE(w.ok());
  (*w)->write(binding(40001, 7921), kOutside);
  fs::rename(log, kept);
  fs::remove_all(sub);  // the log's directory is gone: the name cannot be opened

  Status st = (*w)->reopen();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().describe().find(log.string()), std::string::npos) << st.error().describe();
  (*w)->write(binding(40002, 7922), kOutside);
  EXPECT_EQ(inside_of(kept),
            (std::vector<std::string>{"192.168.1.10:40001", "192.168.1.10:40002"}));
  EXPECT_EQ((*w)->written(), 2u);
}

TEST_F(NatLogFile, AppendsToAnExistingFile) {
  const fs::path log = dir_ / "nat.jsonl";
  std::ofstream(log) << "{\"inside\":\"earlier\"}\n";
  auto w = NatLogWriter::open("file:" + log.string());
  ASSERT_TRUE(w.ok());
  (*w)->write(binding(40001, 7921), kOutside);
  EXPECT_EQ(inside_of(log), (std::vector<std::string>{"earlier", "192.168.1.10:40001"}));
}

TEST(NatLogOpen, BadDestinationsAreErrors) {
  EXPECT_FALSE(NatLogWriter::open("nat.jsonl").ok());
  EXPECT_FALSE(NatLogWriter::open("file:/nonexistent-dir-mapgw/nat.jsonl").ok());
  auto s = NatLogWriter::open("syslog");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->reopen().ok());
}

// In a directory others can write to, a local user could plant a link that
// redirects root's appends (the attack run: /etc/... through a symlink).
TEST(NatLogOpen, PlantedLinksAndSharedFilesAreRefused) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("natlog-links-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path victim = dir / "victim";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, dir / "sym.jsonl");
  fs::create_hard_link(victim, dir / "hard.jsonl");
  std::ofstream(dir / "shared.jsonl") << "";
  fs::permissions(dir / "shared.jsonl", fs::perms::others_write, fs::perm_options::add);
  for (const char* name : {"sym.jsonl", "hard.jsonl", "shared.jsonl"}) {
    auto w = NatLogWriter::open("file:" + (dir / name).string());
    ASSERT_FALSE(w.ok()) << name;
    EXPECT_NE(w.error().describe().find("NAT log"), std::string::npos) << w.error().describe();
  }
  std::ifstream in(victim);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "precious\n");
  EXPECT_TRUE(NatLogWriter::open("file:" + (dir / "own.jsonl").string()).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mapgw
