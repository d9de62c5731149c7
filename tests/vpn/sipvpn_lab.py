"""What the SIP-VPN labs share: the endpoints' [sipvpn] sections, the
server's LAN (its network space), readiness, and traffic through a tunnel
(ping, TCP, a numbered UDP flow) from the client's namespace."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sip", "lab"))
from sip_lab import wait_for  # noqa: E402

sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's scapy, for the capture

CLIENT, SERVER, OTHER = "0311111111", "0422222222", "0333333333"
SERVER_LAN = "10.10.0.1"
SERVER_LAN6 = "fd00:10::1"


# The ESP backend the endpoints must choose on their own (esp_backend =
# "auto"): "kernel" in the QEMU guest run of a Debian kernel; unset: not
# checked (libipsec on this host).
EXPECT_ESP = os.environ.get("MAPGW_EXPECT_ESP", "")


def sipvpn_toml(L, name, server, inner=("ipv4",), ike_timeout=20):
    lines = ["[sipvpn]", 'run_dir = "%s/charon-%s"' % (L.dir, name), "ike_timeout = %d" % ike_timeout]
    if server:
        # A dual-stack network space (TS-1017 §4.1.3.2, Appendix I I-S-3).
        lines += ['pool4 = ["10.10.0.100-10.10.0.150"]', 'pool6 = ["fd00:10::100-fd00:10::1ff"]',
                  'dns4 = ["10.10.0.53"]', 'dns6 = ["fd00:10::53"]', 'subnets = ["10.10.0.0/24", "fd00:10::/64"]']
    else:
        lines.append("inner = [%s]" % ", ".join('"%s"' % f for f in inner))
    return "\n".join(lines) + "\n"


def add_server_lan(L, host="ua-b", lan4=SERVER_LAN, lan6=SERVER_LAN6):
    """A server's network space: a veth pair in its namespace holds
    10.10.0.1 and fd00:10::1."""
    L.lab.run(L.ns[host], "ip link add lan0 type veth peer name lan1 && ip link set lan0 up && "
                          "ip link set lan1 up && ip addr add %s/24 dev lan0 && "
                          "ip addr add %s/64 dev lan0 nodad && "
                          "sysctl -qw net.ipv4.ip_forward=1" % (lan4, lan6))


def wait_ready(L, uas):
    for ua in uas:
        L.wait_registered(ua)
        wait_for(lambda: L.ctl(ua, "vpn", "status")["charon"]["state"] == "up", timeout=20,
                 what="%s charon up" % ua)
        esp = L.ctl(ua, "vpn", "status")["charon"]["esp"]
        assert not EXPECT_ESP or esp == EXPECT_ESP, "%s chose ESP in %s, not %s" % (ua, esp, EXPECT_ESP)


def tunnel_of(L, ua, call=None):
    for t in L.ctl(ua, "vpn", "status")["tunnels"]:
        if call is None or t["call"] == call:
            return t
    return None


def ping_from(L, addr, ns="ua-a"):
    return subprocess.run(["ip", "netns", "exec", L.ns[ns], "ping", "-c", "1", "-W", "1", addr],
                          stdout=subprocess.DEVNULL).returncode == 0


def connect_up(L, ua, *args, timeout=30):
    """`vpn connect` @args at @ua, then its tunnel up; returns the call."""
    r = L.ctl(ua, "vpn", "connect", *args)
    assert "call" in r, r
    wait_for(lambda: (tunnel_of(L, ua, r["call"]) or {}).get("state") == "up", timeout=timeout,
             what="%s tunnel up (%s)" % (ua, tunnel_of(L, ua, r["call"])))
    return r["call"]


def disconnect_down(L, ua, call, timeout=15):
    """`vpn disconnect` (IKE delete, then BYE), then the tunnel down."""
    L.ctl(ua, "vpn", "disconnect", call)
    wait_for(lambda: tunnel_of(L, ua, call)["state"] == "down", timeout=timeout, what="%s tunnel down" % ua)


def numbered_udp_flow(L, addr, seconds, rate):
    """Datagrams numbered 0..n-1 from the client to @addr:9001 at @rate/s;
    returns (sent, distinct numbers received)."""
    recv = L.lab.spawn(L.ns["ua-b"], ["/usr/bin/python3", "-c",
                                      "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                                      "s.bind(('%s',9001));s.settimeout(%d)\nseen=set()\n"
                                      "while True:\n d=s.recv(64)\n if d==b'end': break\n seen.add(int(d))\n"
                                      "print(len(seen),flush=True)" % (addr, seconds + 15)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.5)
    out = subprocess.run(["ip", "netns", "exec", L.ns["ua-a"], "/usr/bin/python3", "-c",
                          "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                          "n=%d;t0=time.monotonic()\n"
                          "for i in range(n):\n"
                          " d=t0+i/%d-time.monotonic()\n"
                          " if d>0: time.sleep(d)\n"
                          " s.sendto(str(i).encode(),('%s',9001))\n"
                          "time.sleep(1)\n"
                          "for _ in range(3): s.sendto(b'end',('%s',9001))\n"
                          "print(n)" % (seconds * rate, rate, addr, addr)],
                         capture_output=True, text=True, timeout=seconds + 20)
    got = recv.communicate(timeout=30)[0]
    return int(out.stdout.strip() or 0), int(got.strip() or 0)


def route_to(L, addr):
    return subprocess.run(["ip", "netns", "exec", L.ns["ua-a"], "ip", "route", "get", addr],
                          capture_output=True, text=True).stdout


def tcp_through(L, addr, size):
    family = "socket.AF_INET6" if ":" in addr else "socket.AF_INET"
    server = L.lab.spawn(L.ns["ua-b"], ["/usr/bin/python3", "-c",
                                        "import socket\ns=socket.socket(" + family + ");s.setsockopt(socket.SOL_SOCKET,"
                                        "socket.SO_REUSEADDR,1);s.bind(('%s',9000));s.listen(1)\nc,_=s.accept()\n"
                                        "n=0\nwhile True:\n d=c.recv(65536)\n if not d: break\n n+=len(d)\n"
                                        "c.sendall(str(n).encode());c.close()" % addr],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    out = subprocess.run(["ip", "netns", "exec", L.ns["ua-a"], "/usr/bin/python3", "-c",
                          "import socket\ns=socket.create_connection(('%s',9000),timeout=20)\n"
                          "s.sendall(b'x'*%d);s.shutdown(socket.SHUT_WR)\nprint(s.recv(100).decode())" % (addr, size)],
                         capture_output=True, text=True, timeout=60)
    L.lab.stop(server)
    return int(out.stdout.strip() or 0)


def ike_delete_and_bye(pcap, client):
    """Times of the client's first IKE INFORMATIONAL request (UDP with the
    non-ESP marker, exchange type 37) and of its first BYE."""
    from scapy.all import IPv6, UDP, rdpcap
    delete_at = bye_at = None
    for p in rdpcap(pcap):
        if IPv6 not in p or UDP not in p or p[IPv6].src != client:
            continue
        payload = bytes(p[UDP].payload)
        if p[UDP].dport == 5060 or p[UDP].sport == 5060:
            if payload.startswith(b"BYE ") and bye_at is None:
                bye_at = float(p.time)
        elif len(payload) > 4 + 28 and payload[:4] == b"\0\0\0\0" and payload[4 + 18] == 37 and delete_at is None:
            delete_at = float(p.time)
    return delete_at, bye_at
