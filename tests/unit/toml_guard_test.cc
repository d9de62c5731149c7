// The configuration text check in front of toml++ (toml_guard.h), and the
// way a config error with part of a UTF-8 character in it reaches a client.
#include <gtest/gtest.h>

#include <string>

#include "agent/config/config.h"
#include "agent/config/toml_guard.h"
#include "agent/util/json_text.h"

namespace mapgw {
namespace {

TEST(TomlGuard, NonAsciiInStringsAndCommentsIsFine) {
  const std::string text =
      "# 東京 の CE — コメント\n"
      "instance = \"東京-1\"  # 行末コメント\n"
      "a = 'リテラル'\n"
      "b = \"\"\"複数行\n\"エスケープ\\\" と # ではない\"\"\"\n"
      "c = '''複数行\nリテラル'''\n"
      "d = \"# まだ文字列 é\"\n";
  EXPECT_TRUE(check_toml_text(text, "t.toml").ok()) << check_toml_text(text, "t.toml").error().message;
}

TEST(TomlGuard, NonAsciiOutsideStringsIsRefusedWithItsPlace) {
  for (const char* text : {"é = 1\n", "a = 1\nb = 1é\n", "a = [1, ２]\n", "[表]\n", "a = \"s\" é\n"}) {
    auto st = check_toml_text(text, "t.toml");
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_NE(st.error().message.find("beyond ASCII"), std::string::npos) << st.error().message;
  }
  auto st = check_toml_text("a = 1\nb = 1é\n", "t.toml");
  EXPECT_EQ(st.error().message.rfind("t.toml:2:6: ", 0), 0u) << st.error().message;
}

TEST(TomlGuard, InvalidUtf8AnywhereIsRefused) {
  for (const char* text : {"a = \"\xff\"\n", "# \xc3\n", "a = \"\xc0\xaf\"\n", "a = \"\xed\xa0\x80\"\n",
                           "a = \"\xf4\x90\x80\x80\"\n", "a = '\xe3\x81'\n"}) {
    auto st = check_toml_text(text, "t.toml");
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_NE(st.error().message.find("not valid UTF-8"), std::string::npos) << st.error().message;
  }
}

// The attack run's case: the error names a value cut inside "é"; the
// control socket then wrote it as JSON and aborted on the half character.
TEST(TomlGuard, ConfigErrorsAlwaysBecomeJson) {
  const char* text = "role = \"ce\"\n[ce]\nlan_interface = \"l\"\nwan_interface = \"w\"\n"
                     "dhcpv6_hex = \"005e\xc3\xa9\"\n";
  auto c = parse_config(text, "t.toml");
  ASSERT_FALSE(c.ok());
  std::string cut = c.error().message + "\xc3";  // as if cut inside a character
  EXPECT_NO_THROW(json_text(nlohmann::json{{"error", cut}}));
  EXPECT_NE(json_text(nlohmann::json{{"error", cut}}).find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD
}

}  // namespace
}  // namespace mapgw
