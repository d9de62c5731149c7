// What charon is told for the L2TP/IPsec server (DESIGN.md "IKEv1
// proposals"), as pure functions to VICI messages: one IKEv1 connection
// that any client with the PSK may use, its CHILD_SA protecting only
// UDP/1701 on our side (`dynamic[udp/l2tp]`), no PFS, DPD; transport mode
// where the kernel has ESP (what the Windows, macOS/iOS and Android
// clients propose), tunnel mode host-to-host with the same selectors on
// kernels without it (charon's libipsec, our ESP-less test host).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "vpn/vici/message.h"

namespace mapgw::l2tp {

struct IpsecSettings {
  std::string psk;
  // What the OS clients send: Windows AES-256/SHA-1/modp1024 (and 3DES),
  // Android modp1024, macOS/iOS SHA-2 with modp2048.
  std::vector<std::string> ike_proposals = {"aes256-sha256-modp2048", "aes128-sha256-modp2048",
                                            "aes256-sha1-modp2048",   "aes128-sha1-modp2048",
                                            "aes256-sha1-modp1024",   "aes128-sha1-modp1024",
                                            "3des-sha1-modp1024"};
  std::vector<std::string> esp_proposals = {"aes256gcm16", "aes128gcm16", "aes256-sha256", "aes128-sha256",
                                            "aes256-sha1", "aes128-sha1",  "3des-sha1"};
  std::chrono::seconds dpd{30};
  std::vector<std::string> local_addrs;  // the addresses L2TP listens on
  uint16_t l2tp_port = 1701;
  bool transport = true;  // false: tunnel mode host-to-host (libipsec)
};

inline constexpr const char* kConnName = "l2tp-ipsec";

vici::Message l2tp_conn_message(const IpsecSettings& s);
vici::Message l2tp_psk_message(const IpsecSettings& s);

}  // namespace mapgw::l2tp
