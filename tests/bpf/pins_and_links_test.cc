// What a daemon finds on the BPF file system when it starts: its pin
// directories must be its own (another local user may have made them where
// bpffs is world-writable), and a pinned XDP link whose interface was
// deleted and recreated is replaced, not updated ("Link has been severed").
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "bpf_test_env.h"
#include "loader/pinning.h"
#include "loader/xdp_link.h"
#include "netns_sandbox.h"

namespace mapgw {
namespace {

// A private bpffs, gone with the test.
class Bpffs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::require_root());
    ASSERT_NE(mkdtemp(dir_), nullptr);
    ASSERT_EQ(mount("bpf", dir_, "bpf", 0, nullptr), 0) << std::strerror(errno);
    ASSERT_EQ(chmod(dir_, 01777), 0);  // as the attack run had it
  }
  void TearDown() override {
    umount2(dir_, MNT_DETACH);
    rmdir(dir_);
  }
  char dir_[32] = "/tmp/mapgw-bpffs-XXXXXX";
};

TEST_F(Bpffs, PinDirectoriesAreMadePrivate) {
  auto pins = pin_dir(dir_, "a");
  ASSERT_TRUE(pins.ok()) << pins.error().describe();
  for (std::string d : {std::string(dir_) + "/mapgw", *pins}) {
    struct stat st {};
    ASSERT_EQ(lstat(d.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u) << d;
  }
}

TEST_F(Bpffs, ADirectoryAnotherUserMadeIsRefused) {
  const std::string top = std::string(dir_) + "/mapgw";
  ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
  ASSERT_EQ(chown(top.c_str(), 65534, 65534), 0);  // nobody made it first
  auto pins = pin_dir(dir_, "a");
  ASSERT_FALSE(pins.ok());
  EXPECT_NE(pins.error().message.find("belongs to uid 65534"), std::string::npos) << pins.error().message;
}

TEST_F(Bpffs, AWritableOrLinkedDirectoryIsRefused) {
  const std::string top = std::string(dir_) + "/mapgw";
  ASSERT_EQ(mkdir(top.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((top + "/a").c_str(), 0700), 0);
  ASSERT_EQ(chmod((top + "/a").c_str(), 0777), 0);
  auto writable = pin_dir(dir_, "a");
  ASSERT_FALSE(writable.ok());
  EXPECT_NE(writable.error().message.find("writable by others"), std::string::npos) << writable.error().message;
  // bpffs has no symbolic links; a file where the directory should be
  // stands in for anything that is not a directory.
  ASSERT_EQ(rmdir((top + "/a").c_str()), 0);
  const std::string pinned_map = top + "/a";
  const int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "x", 4, 4, 1, nullptr);
  ASSERT_GE(map, 0);
  ASSERT_EQ(bpf_obj_pin(map, pinned_map.c_str()), 0);
  close(map);
  auto not_dir = pin_dir(dir_, "a");
  ASSERT_FALSE(not_dir.ok());
  EXPECT_NE(not_dir.error().message.find("not a directory"), std::string::npos) << not_dir.error().message;
}

int xdp_pass_program() {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  return bpf_prog_load(BPF_PROG_TYPE_XDP, "t_pass", "GPL", insns, 2, nullptr);
}

// The attack run: SIGKILL, interfaces recreated, restart -> "replacing the
// XDP program on v4: Link has been severed". The pinned link is replaced.
TEST_F(Bpffs, ALinkPinnedForADeletedInterfaceIsReplaced) {
  ASSERT_NO_FATAL_FAILURE(testing::enter_private_netns());
  ASSERT_NO_FATAL_FAILURE(testing::run("ip link add lk0 type veth peer name lk1"));
  const int prog = xdp_pass_program();
  ASSERT_GE(prog, 0) << std::strerror(errno);
  const std::string pin = std::string(dir_) + "/link";
  {
    auto first = XdpLink::attach_pinned(prog, "lk0", XdpMode::kNative, pin);
    ASSERT_TRUE(first.ok()) << first.error().describe();
    first->release();  // the daemon died: the pin keeps it
  }
  ASSERT_NO_FATAL_FAILURE(testing::run("ip link del lk0"));
  ASSERT_NO_FATAL_FAILURE(testing::run("ip link add lk0 type veth peer name lk1"));
  auto again = XdpLink::attach_pinned(prog, "lk0", XdpMode::kNative, pin);
  ASSERT_TRUE(again.ok()) << again.error().describe();
  // And the program is really on the new interface.
  bpf_link_info info{};
  uint32_t len = sizeof info;
  const int link = bpf_obj_get(pin.c_str());
  ASSERT_GE(link, 0);
  ASSERT_EQ(bpf_obj_get_info_by_fd(link, &info, &len), 0);
  EXPECT_EQ(info.xdp.ifindex, if_nametoindex("lk0"));
  close(link);
  again->detach();
  close(prog);
  testing::run("ip link del lk0");
}

}  // namespace
}  // namespace mapgw
