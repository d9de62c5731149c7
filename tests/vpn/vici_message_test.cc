// The VICI codec against the encoding example of strongSwan's VICI
// documentation (src/libcharon/plugins/vici/README.md), byte for byte, and
// every malformed stream refused.
#include <gtest/gtest.h>

#include "vpn/vici/packet.h"

namespace mapgw::vici {
namespace {

// README.md "Encoding example".
const unsigned char kReadmeExample[] = {
    3, 4, 'k', 'e', 'y', '1', 0, 6, 'v', 'a', 'l', 'u', 'e', '1',
    1, 8, 's', 'e', 'c', 't', 'i', 'o', 'n', '1',
    1, 11, 's', 'u', 'b', '-', 's', 'e', 'c', 't', 'i', 'o', 'n',
    3, 4, 'k', 'e', 'y', '2', 0, 6, 'v', 'a', 'l', 'u', 'e', '2',
    2,
    4, 5, 'l', 'i', 's', 't', '1',
    5, 0, 5, 'i', 't', 'e', 'm', '1',
    5, 0, 5, 'i', 't', 'e', 'm', '2',
    6,
    2,
};
const std::string kExample(reinterpret_cast<const char*>(kReadmeExample), sizeof kReadmeExample);

TEST(ViciMessage, EncodesTheReadmeExampleByteForByte) {
  Message m;
  m.set("key1", "value1");
  Message& s1 = m.section("section1");
  s1.section("sub-section").set("key2", "value2");
  s1.set_list("list1", {"item1", "item2"});
  EXPECT_EQ(m.encode().value(), kExample);
}

TEST(ViciMessage, DecodesTheReadmeExample) {
  auto m = Message::decode(kExample);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*m->value("key1"), "value1");
  const Message* s1 = m->sub("section1");
  ASSERT_TRUE(s1);
  EXPECT_EQ(*s1->sub("sub-section")->value("key2"), "value2");
  EXPECT_EQ(*s1->list("list1"), (Message::List{"item1", "item2"}));
  EXPECT_EQ(m->str(), "key1=value1 section1 {sub-section {key2=value2} list1=[item1,item2]}");
  EXPECT_EQ(m->value("section1"), nullptr);  // a section is not a value
}

struct Bad {
  const char* what;
  std::string bytes;
};
class ViciRefuses : public testing::TestWithParam<Bad> {};
TEST_P(ViciRefuses, MalformedStreams) { EXPECT_FALSE(Message::decode(GetParam().bytes).ok()) << GetParam().what; }
INSTANTIATE_TEST_SUITE_P(
    Readme, ViciRefuses,
    testing::Values(Bad{"unclosed section", std::string("\x01\x01s", 3)},
                    Bad{"section end at the root", std::string("\x02", 1)},
                    Bad{"value past the end", std::string("\x03\x01k\x00\x09" "abc", 7)},
                    Bad{"name past the end", std::string("\x03\x09k", 3)},
                    Bad{"item outside a list", std::string("\x05\x00\x01x", 4)},
                    Bad{"list end without a list", std::string("\x06", 1)},
                    Bad{"unclosed list", std::string("\x04\x01l\x05\x00\x01x", 7)},
                    Bad{"key/value inside a list", std::string("\x04\x01l\x03\x01k\x00\x00\x06", 9)},
                    Bad{"nested list", std::string("\x04\x01l\x04\x01m\x06\x06", 8)},
                    Bad{"unknown element", std::string("\x09", 1)}),
    [](const testing::TestParamInfo<Bad>& i) {
      std::string n = i.param.what;
      for (char& c : n) if (c == ' ' || c == '/') c = '_';
      return n;
    });

TEST(ViciMessage, RefusesToTruncateOnEncode) {
  Message m;
  m.set(std::string(256, 'k'), "v");
  EXPECT_FALSE(m.encode().ok());
  Message v;
  v.set("k", std::string(70000, 'v'));
  EXPECT_FALSE(v.encode().ok());
}

TEST(ViciPacket, FramesAndReadsBackInAnyPieces) {
  Packet p{PacketType::kCmdRequest, "load-conn", Message()};
  p.message.section("conn").set("version", "2");
  const std::string wire = frame(p).value();
  // 4-byte length, type 0, name length 9, "load-conn", then the message.
  EXPECT_EQ(static_cast<uint8_t>(wire[3]), wire.size() - 4);
  EXPECT_EQ(wire[4], 0);
  EXPECT_EQ(wire.substr(5, 10), std::string("\x09load-conn", 10));
  PacketReader r;
  for (char c : wire + wire) {  // two packets, one byte at a time
    r.feed(std::string_view(&c, 1));
  }
  for (int i = 0; i < 2; ++i) {
    auto got = r.next();
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->name, "load-conn");
    EXPECT_EQ(*(*got)->message.sub("conn")->value("version"), "2");
  }
  EXPECT_FALSE(r.next()->has_value());
  // A response has no name.
  Packet resp{PacketType::kCmdResponse, "", Message()};
  resp.message.set("success", "yes");
  r.feed(frame(resp).value());
  auto got = r.next();
  EXPECT_TRUE((*got)->message.yes("success"));
}

TEST(ViciPacket, RefusesBadSegments) {
  PacketReader big;
  big.feed(std::string("\x00\x08\x00\x01", 4));  // 512 KiB + 1
  EXPECT_FALSE(big.next().ok());
  PacketReader type;
  type.feed(std::string("\x00\x00\x00\x01\x09", 5));
  EXPECT_FALSE(type.next().ok());
  PacketReader name;
  name.feed(std::string("\x00\x00\x00\x03\x07\x09x", 7));  // event, name length 9 of 1
  EXPECT_FALSE(name.next().ok());
}

}  // namespace
}  // namespace mapgw::vici
