#!/usr/bin/python3
"""SIP-VPN tunnels: set-up time, throughput and how many one server holds,
against charon alone (two plain swanctl charons, the same proposals, the
same ESP backend, forced UDP encapsulation) measured in the same run.

  set-up    INVITE to the first echo reply from the server's LAN through
            the tunnel, median of N calls (our client → kamailio → our
            server); the peer: `swanctl --initiate` to the first reply.
  through   iperf3 TCP, client to the server's LAN, through our tunnel and
            through the peer's.
  held      calls the client places in batches, all kept up, until
            --max-held or a batch fails to come up: tunnels one server
            held, its mapgw and charon memory.

Prints a markdown table and, last, one JSON line.
    bench/sipvpn.py [--calls 20] [--seconds 10] [--max-held 100]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "sip", "lab"))
sys.path.insert(0, os.path.join(ROOT, "tests", "vpn"))
from sip_lab import HOSTS, PSK, USERS, SipLab, wait_for  # noqa: E402
from sipvpn_lab import CLIENT, SERVER, SERVER_LAN, add_server_lan  # noqa: E402
from plain_charon import PlainCharon, psk_connection, psk_secret, swanctl_text  # noqa: E402

PEER_LAN = "10.30.0.1"
IKE = "aes256-sha256-modp2048"
ESP = "aes256-sha256"

# Runs in a namespace: ICMP echo to argv[1] every 10 ms until the first
# reply; prints the monotonic time of that reply (the clock is the host's).
FIRST_REPLY = r"""
import os, socket, struct, sys, time, select
dst, limit = sys.argv[1], time.monotonic() + float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); return ~(t + (t >> 16)) & 0xffff
ident, seq = os.getpid() & 0xffff, 0
print("ready", flush=True)
while time.monotonic() < limit:
    seq += 1
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"mapgw-bench!"
    h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
    try:
        s.sendto(h, (dst, 0))
    except OSError:
        pass
    end = time.monotonic() + 0.01
    while True:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        d = s.recv(2048)
        icmp = d[(d[0] & 15) * 4:]
        if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            print("%.6f" % time.monotonic(), flush=True)
            sys.exit(0)
sys.exit(1)
"""


def first_reply(L, ns, addr, start, timeout=30):
    """Starts the prober, runs start(), returns seconds from start() to the first reply."""
    p = subprocess.Popen(["ip", "netns", "exec", L.ns[ns], "/usr/bin/python3", "-c", FIRST_REPLY, addr,
                          str(timeout)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    start()
    out, _ = p.communicate(timeout=timeout + 5)
    if p.returncode != 0:
        raise AssertionError("no reply from %s within %d s" % (addr, timeout))
    return float(out.strip()) - t0


def plain_conf(role):
    """The peer: the same IKE/ESP settings as our endpoints, charon alone."""
    ids = ["server@peer", "client@peer"]
    if role == "server":
        conn = psk_connection(HOSTS["ua-c"][0], ids[0], ids[1],
                              {"bench": {"local_ts": "10.30.0.0/24", "esp_proposals": ESP}}, pools="lan", proposals=IKE)
    else:
        # As ours: the client speaks to the NAT-T port from the first packet,
        # and the ports are the SDP ports of our lab (11111, 22222).
        conn = psk_connection(HOSTS["peer"][0], ids[1], ids[0], {"bench": {"remote_ts": "0.0.0.0/0", "esp_proposals": ESP}},
                              remote_addrs=HOSTS["ua-c"][0], remote_port="11111", vips="0.0.0.0", proposals=IKE)
    return swanctl_text({"connections": {"bench": conn}, "pools": {"lan": {"addrs": "10.30.0.100-10.30.0.250"}},
                         "secrets": {"ike-bench": psk_secret(ids, PSK)}})


def iperf(L, client_ns, server_ns, addr, seconds):
    srv = L.lab.spawn(L.ns[server_ns], ["iperf3", "-s", "-1", "-B", addr], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    out = subprocess.run(["ip", "netns", "exec", L.ns[client_ns], "iperf3", "-c", addr, "-t", str(seconds), "-J"],
                         capture_output=True, text=True, timeout=seconds + 30)
    L.lab.stop(srv)
    return json.loads(out.stdout)["end"]["sum_received"]["bits_per_second"] / 1e6


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([line for line in f if line.startswith("VmRSS:")][0].split()[1])


def client_address(i):
    # Behind one router (the peer), as real clients are: on the server's
    # link, thousands of neighbours would overflow its neighbour table.
    return "2001:db8:7::%x" % (i + 1)


def many_clients_conf(n):
    """One plain charon standing in for @n VPN clients: one connection
    each, from its own address and with its own identity (07xxxxxxxx)."""
    server = "%s@example.ne.jp" % SERVER
    ids = ["07%08d@example.ne.jp" % i for i in range(n)]
    conns = {"c%d" % i: psk_connection(client_address(i), ids[i], server,
                                       {"c%d" % i: {"remote_ts": "10.10.0.0/24", "esp_proposals": ESP}},
                                       remote_addrs=HOSTS["ua-b"][0], local_port="22222", remote_port="11111",
                                       vips="0.0.0.0", proposals=IKE)
             for i in range(n)}
    return swanctl_text({"connections": conns, "secrets": {"ike-all": psk_secret(ids + [server], PSK)}})


def hold_many(L, n, rate=15, in_flight=16):
    """@n distinct clients (sipp for their calls, one plain charon for
    their IKE) call the server; each initiates IKE once its call is
    answered. Returns (tunnels up at the server, seconds to build)."""
    import hashlib
    with open(os.path.join(L.dir, "client-addrs"), "w") as f:
        f.write("".join("address add %s/128 dev lo\n" % client_address(i) for i in range(n)))
    L.lab.run(L.ns["peer"], ["ip", "-batch", os.path.join(L.dir, "client-addrs")])
    L.lab.run(L.ns["ua-b"], "ip -6 route add 2001:db8:7::/64 via %s" % HOSTS["peer"][0])
    clients = PlainCharon(L.lab, L.ns["peer"], os.path.join(L.dir, "many-clients"), 22222, many_clients_conf(n))
    digest = hashlib.sha1(PSK.encode()).hexdigest().upper()
    csv = os.path.join(L.dir, "clients.csv")
    with open(csv, "w") as f:
        f.write("SEQUENTIAL\n" + "".join("07%08d;%s;\n" % (i, client_address(i)) for i in range(n)))
    with open(os.path.join(HERE, "sip", "vpn_client_holds.xml")) as f:
        text = (f.read().replace("@CALLEE@", SERVER).replace("@HOLD_MS@", "600000")
                .replace("@PSK_FP@", "SHA-1 " + ":".join(digest[i:i + 2] for i in range(0, 40, 2))))
    scenario = os.path.join(L.dir, "vpn_client_holds.xml")
    with open(scenario, "w") as f:
        f.write(text)
    t0 = time.monotonic()
    sipp, _ = L.sipp(scenario, 5096, calls=n, rate=rate, timeout=900, extra=["-inf", csv, "-l", str(n)])
    started, pending = set(), []
    deadline = time.monotonic() + 60 + n * 3.0 / rate
    up = 0
    while time.monotonic() < deadline:
        tunnels = L.ctl("ua-b", "vpn", "status")["tunnels"]
        up = sum(1 for t in tunnels if t["state"] == "up")
        if up >= n:
            break
        pending = [p for p in pending if p.poll() is None]
        for t in tunnels:
            peer = t["peer"]  # sip:07xxxxxxxx@example.ne.jp
            # A bounded number of initiations at a time: the one charon
            # standing in for all clients shares the two cores with the server.
            if t["state"] == "connecting" and peer not in started and len(pending) < in_flight:
                started.add(peer)
                i = int(peer.split(":")[1].split("@")[0][2:])
                pending.append(subprocess.Popen(
                    ["ip", "netns", "exec", L.ns["peer"], "swanctl", "--initiate", "--child", "c%d" % i,
                     "--timeout", "30", "--uri", "unix://%s/charon.vici" % clients.dir],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.05)
    built = time.monotonic() - t0
    for p in pending:
        p.wait(timeout=60)
    print("  %d of %d tunnels up at the server after %.1f s" % (up, n, built), file=sys.stderr)
    L.lab.stop(sipp)
    return up, built


def tunnels_up(L, ua):
    return sum(1 for t in L.ctl(ua, "vpn", "status")["tunnels"] if t["state"] == "up")


URI = "sip:%s@example.ne.jp" % SERVER


def measure_setup(L, args, cli, result):
    """INVITE to the first reply through the tunnel, ours; initiate to the
    first reply, charon alone."""
    ours = []
    for _ in range(args.calls):
        box = {}
        ours.append(first_reply(L, "ua-a", SERVER_LAN, lambda: box.update(L.ctl("ua-a", "vpn", "connect", URI))))
        L.ctl("ua-a", "vpn", "disconnect", box["call"])
        wait_for(lambda: tunnels_up(L, "ua-b") == 0 and tunnels_up(L, "ua-a") == 0, timeout=15, what="tunnel down")
    peer = []
    for _ in range(args.calls):
        peer.append(first_reply(L, "peer", PEER_LAN,
                                lambda: cli.swanctl("--initiate", "--child", "bench", "--timeout", "20")))
        cli.swanctl("--terminate", "--ike", "bench", "--timeout", "10")
        time.sleep(0.2)
    result["calls"] = args.calls
    result["setup_ms_median"] = round(statistics.median(ours) * 1000, 1)
    result["setup_ms_max"] = round(max(ours) * 1000, 1)
    result["peer_setup_ms_median"] = round(statistics.median(peer) * 1000, 1)
    result["setup_ratio"] = round(statistics.median(ours) / statistics.median(peer), 2)
    print("set-up: ours median %.0f ms (max %.0f), charon alone %.0f ms"
          % (result["setup_ms_median"], result["setup_ms_max"], result["peer_setup_ms_median"]), file=sys.stderr)


def measure_throughput(L, args, cli, result):
    """Ours and the peer's in turn, the median of --rounds each."""
    ours, peer = [], []
    for _ in range(args.rounds):
        call = L.ctl("ua-a", "vpn", "connect", URI)["call"]
        wait_for(lambda: tunnels_up(L, "ua-a") == 1, timeout=30, what="tunnel up")
        ours.append(iperf(L, "ua-a", "ua-b", SERVER_LAN, args.seconds))
        L.ctl("ua-a", "vpn", "disconnect", call)
        wait_for(lambda: tunnels_up(L, "ua-a") == 0, timeout=15, what="tunnel down")
        cli.swanctl("--initiate", "--child", "bench", "--timeout", "20")
        peer.append(iperf(L, "peer", "ua-c", PEER_LAN, args.seconds))
        cli.swanctl("--terminate", "--ike", "bench", "--timeout", "10")
    result["seconds"], result["rounds"] = args.seconds, args.rounds
    result["mbps"] = round(statistics.median(ours), 1)
    result["peer_mbps"] = round(statistics.median(peer), 1)
    result["mbps_runs"] = [round(x) for x in ours]
    result["peer_mbps_runs"] = [round(x) for x in peer]
    result["throughput_ratio"] = round(result["mbps"] / result["peer_mbps"], 2)
    print("iperf3: ours %s Mbit/s, charon alone %s Mbit/s" % (result["mbps_runs"], result["peer_mbps_runs"]),
          file=sys.stderr)


def print_table(args, r):
    print("| measure | mapgw SIP-VPN | charon alone (peer) | ratio |")
    print("|---|---|---|---|")
    if "setup_ms_median" in r:
        print("| set-up, INVITE → first reply, median of %d | %.0f ms | %.0f ms | %.2f |"
              % (r["calls"], r["setup_ms_median"], r["peer_setup_ms_median"], r["setup_ratio"]))
    if "mbps" in r:
        print("| iperf3 TCP through the tunnel, median of %d × %d s | %.0f Mbit/s | %.0f Mbit/s | %.2f |"
              % (r["rounds"], r["seconds"], r["mbps"], r["peer_mbps"], r["throughput_ratio"]))
    if "held" in r:
        print("| tunnels one server held (tried %d) | %d | — | — |" % (r["max_held_tried"], r["held"]))
        print("\nserver with %d tunnels (built in %.0f s): mapgw RSS %.1f MiB, its charon %.1f MiB"
              % (r["held"], r["held_seconds_to_build"], r["server_mapgw_rss_kib"] / 1024,
                 r["server_charon_rss_kib"] / 1024))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--max-held", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--phases", default="setup,throughput,held")
    args = ap.parse_args()
    L = SipLab("sipvpb")
    result = {}
    try:
        L.start_kamailio()
        add_server_lan(L)
        add_server_lan(L, host="ua-c", lan4=PEER_LAN, lan6="fd00:30::1")
        tun = ('ike_proposals = ["%s"]\nesp_proposals = ["%s"]\nike_timeout = 60\n' % (IKE, ESP))
        L.start_mapgw("ua-b", L.sip_toml("ua-b", "sip:%s@example.ne.jp" % SERVER, USERS[SERVER], roles=("server",),
                                          auth=("psk",), ike_port=11111, extra="max_calls = 5000\nsession_expires = 1800")
                      + '[sipvpn]\nrun_dir = "%s/charon-b"\npool4 = ["10.10.64.1-10.10.127.254"]\n'
                        'subnets = ["10.10.0.0/24"]\n%s' % (L.dir, tun))
        L.start_mapgw("ua-a", L.sip_toml("ua-a", "sip:%s@example.ne.jp" % CLIENT, USERS[CLIENT], auth=("psk",),
                                          ike_port=22222, extra="max_calls = 2000")
                      + '[sipvpn]\nrun_dir = "%s/charon-a"\n%s' % (L.dir, tun))
        for ua in ("ua-a", "ua-b"):
            L.wait_registered(ua)
            wait_for(lambda: L.ctl(ua, "vpn", "status")["charon"]["state"] == "up", timeout=20, what="charon")

        phases = args.phases.split(",")
        peers = None
        if "setup" in phases or "throughput" in phases:
            peers = (PlainCharon(L.lab, L.ns["ua-c"], os.path.join(L.dir, "peer-server"), 11111, plain_conf("server")),
                     PlainCharon(L.lab, L.ns["peer"], os.path.join(L.dir, "peer-client"), 22222, plain_conf("client")))
        if "setup" in phases:
            measure_setup(L, args, peers[1], result)
        if "throughput" in phases:
            measure_throughput(L, args, peers[1], result)
        if peers:
            for p in peers:
                p.stop()
        if "held" in phases:
            held, t_held = hold_many(L, args.max_held)
            st = L.ctl("ua-b", "vpn", "status")
            result["held"] = held
            result["max_held_tried"] = args.max_held
            result["held_seconds_to_build"] = round(t_held, 1)
            result["server_mapgw_rss_kib"] = rss_kib(L.daemons["ua-b"][0].pid)
            result["server_charon_rss_kib"] = rss_kib(st["charon"]["pid"])
        print_table(args, result)
        print(json.dumps(result))
    finally:
        L.teardown()


if __name__ == "__main__":
    main()
