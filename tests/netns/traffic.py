#!/usr/bin/python3
"""Small traffic tools for the labs (run inside a namespace).

  traffic.py udp-echo ADDR PORT SECONDS
      echo every datagram back; prints "ready"
  traffic.py udp-ask BIND_ADDR BIND_PORT DST:PORT [DST:PORT ...]
      from one socket, send to each destination and print each answer's
      source and payload as JSON lines (timeout 3 s per destination)
  traffic.py udp-listen ADDR PORT SECONDS
      print the first datagram received as JSON, or {"timeout": true}
  traffic.py udp-seq BIND_ADDR BIND_PORT DST:PORT RATE SECONDS
      send numbered datagrams at RATE per second; print {"sent": n}
  traffic.py udp-sink ADDR PORT SECONDS
      count distinct sequence numbers; prints "ready", then a JSON summary;
      answers udp-ask's datagrams ("ask:...") without counting them, so a
      flow can be set up and proven before its numbered datagrams start
  traffic.py tcp-echo SECONDS ADDR:PORT [ADDR:PORT ...]
      accept connections and echo lines; prints "ready"
  traffic.py tcp-many COUNT HOLD_SECONDS DST:PORT [DST:PORT ...]
      open COUNT connections spread over the destinations, all at once, keep
      them open HOLD_SECONDS, check an echo on each, print a JSON summary
"""
import asyncio
import json
import socket
import sys
import time


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def udp_echo(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(0.2)
    print("ready", flush=True)
    end = time.time() + seconds
    while time.time() < end:
        try:
            data, peer = s.recvfrom(65535)
            s.sendto(data, peer)
        except socket.timeout:
            pass


def udp_ask(bind_addr, bind_port, dests):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind_addr, bind_port))
    s.settimeout(3)
    for d in dests:
        s.sendto(b"ask:" + d.encode(), hostport(d))
        try:
            data, peer = s.recvfrom(65535)
            print(json.dumps({"dest": d, "from": "%s:%d" % peer, "data": data.decode()}), flush=True)
        except socket.timeout:
            print(json.dumps({"dest": d, "timeout": True}), flush=True)


def udp_listen(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(seconds)
    print("ready", flush=True)
    try:
        data, peer = s.recvfrom(65535)
        print(json.dumps({"from": "%s:%d" % peer, "data": data.decode()}), flush=True)
    except socket.timeout:
        print(json.dumps({"timeout": True}), flush=True)


def udp_fan(bind_addr, first_port, count, dst):
    """One datagram from each of @count source ports: one 5-tuple per port
    to a single remote endpoint (what takes a whole port set with it)."""
    target = hostport(dst)
    for port in range(first_port, first_port + count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((bind_addr, port))
        s.sendto(b"fan", target)
        s.close()
    print(json.dumps({"sent": count}), flush=True)


def udp_seq(bind_addr, bind_port, dst, rate, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind_addr, bind_port))
    target = hostport(dst)
    n = int(rate * seconds)
    start = time.time()
    for i in range(n):
        s.sendto(i.to_bytes(8, "big") + b"x" * 56, target)
        delay = start + (i + 1) / rate - time.time()
        if delay > 0:
            time.sleep(delay)
    print(json.dumps({"sent": n}), flush=True)


def udp_sink(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(0.5)
    seen = set()
    print("ready", flush=True)
    end = time.time() + seconds
    while time.time() < end:
        try:
            data, peer = s.recvfrom(2048)
            if data.startswith(b"ask:"):
                s.sendto(data, peer)
            else:
                seen.add(int.from_bytes(data[:8], "big"))
        except socket.timeout:
            pass
    missing = sorted(set(range(max(seen) + 1)) - seen) if seen else []
    print(json.dumps({"unique": len(seen), "max_seq": max(seen) if seen else -1,
                      "missing": missing[:50]}), flush=True)


async def tcp_echo(seconds, endpoints):
    async def handle(r, w):
        try:
            while line := await r.readline():
                w.write(line)
                await w.drain()
        except ConnectionError:
            pass
        w.close()

    servers = [await asyncio.start_server(handle, h, p, backlog=4096) for h, p in map(hostport, endpoints)]
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    for s in servers:
        s.close()


async def tcp_many(count, hold, dests):
    targets = [hostport(d) for d in dests]
    ok = failed = 0
    conns = []

    async def one(i):
        h, p = targets[i % len(targets)]
        r, w = await asyncio.wait_for(asyncio.open_connection(h, p), 20)
        conns.append(w)
        return r, w

    started = time.time()
    results = await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)
    opened = [x for x in results if not isinstance(x, Exception)]
    errors = [repr(x) for x in results if isinstance(x, Exception)]
    await asyncio.sleep(hold)  # every connection is open at the same time here

    async def check(rw):
        r, w = rw
        w.write(b"ping\n")
        await w.drain()
        return await asyncio.wait_for(r.readline(), 10) == b"ping\n"

    checks = await asyncio.gather(*(check(rw) for rw in opened), return_exceptions=True)
    ok = sum(1 for c in checks if c is True)
    failed = count - ok
    for w in conns:
        w.close()
    print(json.dumps({"requested": count, "opened": len(opened), "echo_ok": ok, "failed": failed,
                      "seconds": round(time.time() - started, 2), "errors": errors[:5]}), flush=True)


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "udp-echo":
        udp_echo(a[0], int(a[1]), float(a[2]))
    elif cmd == "udp-ask":
        udp_ask(a[0], int(a[1]), a[2:])
    elif cmd == "udp-listen":
        udp_listen(a[0], int(a[1]), float(a[2]))
    elif cmd == "udp-fan":
        udp_fan(a[0], int(a[1]), int(a[2]), a[3])
    elif cmd == "udp-seq":
        udp_seq(a[0], int(a[1]), a[2], float(a[3]), float(a[4]))
    elif cmd == "udp-sink":
        udp_sink(a[0], int(a[1]), float(a[2]))
    elif cmd == "tcp-echo":
        asyncio.run(tcp_echo(float(a[0]), a[1:]))
    elif cmd == "tcp-many":
        asyncio.run(tcp_many(int(a[0]), float(a[1]), a[2:]))


if __name__ == "__main__":
    main()
