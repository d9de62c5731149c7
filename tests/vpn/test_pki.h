// The lab PKI for C++ tests: tests/vpn/make_test_pki.sh (strongSwan's own
// `pki`) run into a fresh directory under /tmp.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace mapgw::testing {

// The directory with the certificates, or "" when the script failed (is
// strongswan-pki installed? scripts/setup.sh installs it).
inline std::string make_test_pki() {
  char tmpl[] = "/tmp/mapgw-pki-XXXXXX";
  if (!mkdtemp(tmpl)) return "";
  const std::string dir = tmpl;
  const std::string cmd = std::string(MAPGW_SOURCE_DIR) + "/tests/vpn/make_test_pki.sh " + dir;
  return std::system(cmd.c_str()) == 0 ? dir : "";
}

inline void remove_test_pki(const std::string& dir) {
  if (!dir.empty()) std::system(("rm -rf '" + dir + "'").c_str());
}

// A test suite sharing one lab PKI, made once for the suite.
class LabPkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_test_pki();
    ASSERT_FALSE(dir_.empty()) << "tests/vpn/make_test_pki.sh failed (is strongswan-pki installed? scripts/setup.sh)";
  }
  static void TearDownTestSuite() { remove_test_pki(dir_); }
  static inline std::string dir_;
};

}  // namespace mapgw::testing
