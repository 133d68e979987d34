#!/usr/bin/env python3
"""Instructions per request, counted by valgrind (callgrind): repeatable where req/s is not.

On a shared machine wrk's req/s moves by ±10 % or more from run to run; the number of
user-space instructions the server executes per request does not. This starts latchkey's
release build (or $LATCHKEY_BIN) with the peers benchmark's seed under
`valgrind --tool=callgrind`, and beside it the bare poem baseline of the peers benchmark
($BASELINE_BIN, built by ../shared/bench/peers/run.sh or scripts/load.py), sends each
request WARM times over one keep-alive connection, zeroes the counters, sends it N more
times and reads the count: instructions per request (tokio, hyper, poem and the handler;
the kernel's share is not counted).

usage: python3 scripts/instructions.py [-n 2000] [--warm 300] [--keep DIR]
       (--keep: leave callgrind's dumps in DIR, one per request kind, for callgrind_annotate)
Needs valgrind (Debian package `valgrind`). Only 127.0.0.1 is contacted.
"""
import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("LATCHKEY_BIN") or os.path.join(ROOT, "target", "release", "latchkey")
BASELINE_BIN = os.environ.get("BASELINE_BIN") or "/tmp/peers-baseline/target/release/peers-baseline"
PEERS = os.path.join(os.path.dirname(ROOT), "shared", "bench", "peers")
SEED = os.path.join(PEERS, "latchkey-seed.toml")
API_KEY = "lk_key_benchKeyForLoopbackLoadTestsOnly0123456789a"
LK_FORM = ("grant_type=client_credentials&client_id=bench-client"
           "&client_secret=lk_cs_bench-secret-0123456789abcdef")
BARE_FORM = ("grant_type=client_credentials&client_id=bench-client"
             "&client_secret=bench-secret-0123456789abcdef")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(path, auth=None):
    a = f"Authorization: {auth}\r\n" if auth else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{a}\r\n".encode()


def post(path, body):
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, request):
        self.s.sendall(request)
        buf = b""
        while True:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            buf += chunk
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            head = buf[:end].decode("latin-1")
            m = re.search(r"(?im)^content-length:\s*(\d+)", head)
            length = int(m.group(1)) if m else 0
            if len(buf) >= end + 4 + length:
                return int(head.split(" ")[1]), buf[end + 4:end + 4 + length]


def wait(port, path, limit=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            if Conn(port).send(get(path))[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"no 200 on {path} within {limit} s")


def callgrind(cmd, env, outdir):
    out = os.path.join(outdir, "cg.out.%p")
    return subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             "--dump-instr=no", "--dump-line=no"] + cmd,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def totals(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def measure(proc, port, outdir, rows, n, warm, keep=None):
    result = {}
    for name, request in rows:
        c = Conn(port)
        for _ in range(warm):
            status, _ = c.send(request)
            if status != 200:
                sys.exit(f"{name}: status {status}")
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        for _ in range(n):
            c.send(request)
        before = set(glob.glob(os.path.join(outdir, "cg.out.*")))
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        new = sorted(set(glob.glob(os.path.join(outdir, "cg.out.*"))) - before)
        result[name] = sum(totals(p) for p in new) / n
        if keep:
            os.makedirs(keep, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            for i, p in enumerate(new):
                shutil.copy(p, os.path.join(keep, f"{slug}-{i}.out"))
    return result


def stop(proc):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--warm", type=int, default=300)
    ap.add_argument("--keep", help="directory to keep callgrind's dumps in")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind not found: apt-get install valgrind")
    out = {}
    with tempfile.TemporaryDirectory(prefix="latchkey-cg-") as tmp:
        if os.path.exists(BASELINE_BIN):
            port = free_port()
            proc = callgrind([BASELINE_BIN], dict(os.environ, PORT=str(port), STORE="none"), tmp)
            try:
                wait(port, "/hello")
                out["bare"] = measure(proc, port, tmp, [
                    ("GET", get("/hello")), ("token", post("/token", BARE_FORM))], args.n, args.warm,
                    args.keep and os.path.join(args.keep, "bare"))
            finally:
                stop(proc)
        port = free_port()
        data = os.path.join(tmp, "data")
        proc = callgrind([BIN, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data,
                          "--admin-password", "bench-admin-password-1", "--seed", SEED],
                         dict(os.environ, LATCHKEY_LOG="warn"), tmp)
        try:
            wait(port, "/ready")
            status, body = Conn(port).send(post("/oauth/token", LK_FORM))
            token = re.search(rb'"access_token":"([^"]+)"', body).group(1).decode()
            out["latchkey"] = measure(proc, port, tmp, [
                ("GET /health", get("/health")),
                ("API-key /users/me", get("/api/v1/users/me", f"Bearer {API_KEY}")),
                ("access-token /users/me", get("/api/v1/users/me", f"Bearer {token}")),
                ("token", post("/oauth/token", LK_FORM))], args.n, args.warm,
                args.keep and os.path.join(args.keep, "latchkey"))
        finally:
            stop(proc)
    print(f"user-space instructions per request (callgrind, {args.n} requests after {args.warm}, one connection):")
    for server, rows in out.items():
        for name, ir in rows.items():
            print(f"  {server:9} {name:24} {ir:9.0f}")
    if "bare" in out:
        b, l = out["bare"], out["latchkey"]
        print("latchkey / bare:")
        print(f"  token                  {l['token'] / b['token']:.2f}x")
        for name in ("GET /health", "API-key /users/me", "access-token /users/me"):
            print(f"  {name:22} {l[name] / b['GET']:.2f}x")


if __name__ == "__main__":
    main()
