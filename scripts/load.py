#!/usr/bin/env python3
"""Load script: start-up time, memory and throughput of a release latchkey.

Starts `target/release/latchkey serve` (or $LATCHKEY_BIN) on a fresh temporary
data dir on loopback, and reports:
  * start-up: process spawn to the first 200 on /health, and to the first 200 on /ready
  * idle RSS after start-up
  * wrk req/s and p50/p99 latency for GET /health and Basic-auth GET /api/v1/users/me,
    in the same run, each for a bounded duration
  * RSS after the load

  * the same for API-key (Bearer) GET /api/v1/users/me, with `--keys N` keys stored
  * client_credentials issuance: POST /oauth/token, form body, client_secret_basic
  * access-token (Bearer lk_at_) GET /api/v1/users/me
  * JWT access tokens (RFC 9068): client_credentials issuance signed with RS256,
    ES256 and EdDSA, and a repeated JWT on GET /api/v1/users/me (unless --no-jwt),
    with the OpenID Connect targets: EdDSA and ES256 issuance >= 50 % of opaque
    issuance, a repeated JWT on /users/me >= 80 % of an opaque token
  * restart: stop, start again on the same data dir, time to the first 200 on /ready

Regression guard: the same run measures the bare poem server of the peers benchmark
(`../shared/bench/peers/baseline`: a form-parsing token endpoint and a plain GET, the
ceiling of our own stack; built into /tmp/peers-baseline when missing, or given by
$BASELINE_BIN) and prints latchkey's ratios to it, with the targets of
`../shared/bench/peers/ratios.py`. As there, the server runs pinned to CPU 0 and wrk
(one thread) to CPU 1, unless --no-pin.

Soak mode (--soak): 1,000,000 client_credentials tokens (wrk in 10 s chunks until
the count is reached), then 100,000 tokens of a 20-second client issued and revoked
over HTTP; checks that RSS stays under 64 MiB, that p99 of the last chunk is not
above twice the first's (plus 1 ms), and that once the revocations have expired
and the minute's sweep has run, the stopped store's revocation list is back to
its baseline (`latchkey check-store` counts it), and that a second round of
revocations does not grow the directory by more than a quarter (sled keeps its
files' size but reuses what the sweep freed).
  python3 scripts/load.py --soak [--soak-tokens 1000000] [--soak-revocations 100000]

Usage: python3 scripts/load.py [--duration 10] [--connections 32] [--threads 1] [--keys 100000]
                               [--no-pin] [--no-baseline] [--no-jwt]
Needs wrk (Debian package `wrk`) and a release build (`cargo build --release`).
Only 127.0.0.1 is ever contacted; every wait is bounded.
"""

import argparse
import base64
import http.client
import json
import threading
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
ADMIN_PASSWORD = "load-test-admin-password"
PEERS = os.path.join(os.path.dirname(ROOT), "shared", "bench", "peers")
BASELINE_BIN = os.environ.get("BASELINE_BIN") or "/tmp/peers-baseline/target/release/peers-baseline"
# The bare server's fixed client (see the baseline's main.rs).
BASELINE_FORM = "grant_type=client_credentials&client_id=bench-client&client_secret=bench-secret-0123456789abcdef"
# Targets of the performance work (as ../shared/bench/peers/ratios.py).
TARGETS = [("client_credentials token / bare token", "token", 0.75),
           ("GET /health / bare GET", "health", 0.90),
           ("API-key /users/me / bare GET", "api_key", 0.70),
           ("access-token /users/me / bare GET", "access_token", 0.70)]
# OpenID Connect targets (issue: JWT issuance vs opaque issuance, in the same run;
# RSA-2048 signing costs about a millisecond, so RS256 is written down as it is).
JWT_ALGS = ["RS256", "ES256", "EdDSA"]
JWT_ISSUANCE_TARGETS = {"ES256": 0.50, "EdDSA": 0.50}
JWT_ME_TARGET = 0.80
SERVER_CPU, LOAD_CPU = 0, 1
PIN = True


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path, timeout=0.5):
    """Status code of GET path on 127.0.0.1:port, or None if not reachable."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64).decode("latin-1")
            parts = head.split(" ")
            return int(parts[1]) if len(parts) > 1 else None
    except OSError:
        return None


def wait_for(port, path, started, limit=10.0):
    while time.monotonic() - started < limit:
        if http_status(port, path) == 200:
            return time.monotonic() - started
        time.sleep(0.0005)
    sys.exit(f"no 200 on {path} within {limit} s")


def rss_kib(pid, field="VmRSS"):
    """A memory figure of /proc/PID/status in KiB (VmRSS now, VmHWM the peak)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def pin_server():
    if PIN:
        os.sched_setaffinity(0, {SERVER_CPU})


def run_wrk(port, path, duration, connections, threads, auth=None, expect_errors=False,
            form=None):
    cmd = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
           "--timeout", "5s"]
    if PIN:
        cmd = ["taskset", "-c", str(LOAD_CPU)] + cmd
    if auth:
        cmd += ["-H", f"Authorization: {auth}"]
    script = None
    if form is not None:
        # wrk sends a body only from a Lua script.
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write('wrk.method = "POST"\n'
                     f'wrk.body = "{form}"\n'
                     'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
        script.close()
        cmd += ["-s", script.name]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    finally:
        if script:
            os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx and not expect_errors:
        sys.exit(f"{path}: {non2xx.group(1)} non-2xx responses\n{out}")
    return rps, lat.get("50", "?"), lat.get("99", "?")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure_baseline(args):
    """The bare poem server's token and GET throughput, start-up and idle RSS."""
    if not os.path.exists(BASELINE_BIN):
        manifest = os.path.join(PEERS, "baseline", "Cargo.toml")
        if not os.path.exists(manifest):
            print(f"no bare baseline ({BASELINE_BIN} missing, no {manifest}): ratios skipped")
            return None
        print("building the bare poem baseline (once)...", file=sys.stderr)
        subprocess.run(["cargo", "build", "--quiet", "--release", "--manifest-path", manifest,
                        "--target-dir", "/tmp/peers-baseline/target"], check=True, timeout=1800)
    port = free_port()
    env = dict(os.environ, PORT=str(port), STORE="none")
    started = time.monotonic()
    proc = subprocess.Popen([BASELINE_BIN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, preexec_fn=pin_server)
    try:
        t = wait_for(port, "/hello", started)
        time.sleep(0.5)
        idle = rss_kib(proc.pid)
        token = run_wrk(port, "/token", args.duration, args.connections, args.threads,
                        form=BASELINE_FORM)[0]
        get = run_wrk(port, "/hello", args.duration, args.connections, args.threads)[0]
    finally:
        stop(proc)
    return {"token": token, "get": get, "startup_ms": t * 1000, "idle_mib": idle / 1024}


def create_keys(port, basic, count, workers=16):
    """Creates `count` API keys over keep-alive connections; returns one secret."""
    secrets = []
    errors = []

    def work(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"name": "bulk", "scopes": ["keys:read"]})
        headers = {"Authorization": basic, "Content-Type": "application/json"}
        for _ in range(n):
            conn.request("POST", "/api/v1/api-keys", body, headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 201:
                errors.append(data)
                return
            if not secrets:
                secrets.append(json.loads(data)["secret"])
        conn.close()

    per = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    threads = [threading.Thread(target=work, args=(n,)) for n in per if n]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1800)
    if errors:
        sys.exit(f"creating keys failed: {errors[0][:200]}")
    return secrets[0]


def post_json(port, path, auth, body=None, form=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    if form is not None:
        payload, ctype = form, "application/x-www-form-urlencoded"
    else:
        payload, ctype = json.dumps(body), "application/json"
    conn.request("POST", path, payload, {"Authorization": auth, "Content-Type": ctype})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status not in (200, 201):
        sys.exit(f"POST {path} failed: {resp.status} {data[:200]}")
    return json.loads(data)


def store_counts(data):
    """`latchkey check-store` on a stopped server's directory: its counts."""
    out = subprocess.run([BIN, "check-store", "--data-dir", data], capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        sys.exit(f"check-store failed: {out.stderr[-2000:]}")
    return dict((kind, int(n)) for n, kind in re.findall(r"(\d+) ([a-zA-Z ]+?)(?:,|$)", out.stdout))


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def soak(args):
    """The soak run (see the module docstring)."""
    import concurrent.futures
    data = tempfile.mkdtemp(prefix="latchkey-soak-")
    port = free_port()
    env = dict(os.environ, LATCHKEY_LOG="warn")
    cmd = [BIN, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data,
           "--admin-password", ADMIN_PASSWORD]
    basic = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env, preexec_fn=pin_server)
    started = time.monotonic()
    try:
        wait_for(port, "/ready", started)
        client = post_json(port, "/api/v1/clients", basic, {
            "name": "soak", "type": "confidential", "grant_types": ["client_credentials"],
            "scopes": ["read"]})
        auth = "Basic " + base64.b64encode(
            f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        form = "grant_type=client_credentials&scope=read"
        issued, chunks = 0, []
        deadline = time.monotonic() + 1800
        while issued < args.soak_tokens and time.monotonic() < deadline:
            rps, p50, p99 = run_wrk(port, "/oauth/token", 10, args.connections, args.threads,
                                    auth, form=form)
            issued += int(rps * 10)
            chunks.append((rps, p50, p99))
        baseline_size = dir_bytes(data)
        # 100,000 short-lived tokens, each revoked (a durable write apiece).
        short = post_json(port, "/api/v1/clients", basic, {
            "name": "soak-revocations", "type": "confidential",
            "grant_types": ["client_credentials"], "scopes": ["read"],
            "access_token_ttl_seconds": 20})
        short_auth = "Basic " + base64.b64encode(
            f"{short['client_id']}:{short['client_secret']}".encode()).decode()

        def revoke_some(n):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(n):
                conn.request("POST", "/oauth/token", form,
                             {"Authorization": short_auth,
                              "Content-Type": "application/x-www-form-urlencoded"})
                resp = conn.getresponse()
                token = json.loads(resp.read())["access_token"]
                conn.request("POST", "/oauth/revoke", f"token={token}",
                             {"Authorization": short_auth,
                              "Content-Type": "application/x-www-form-urlencoded"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"revoke: HTTP {resp.status}")
            conn.close()
            return n

        workers = 32
        per = [args.soak_revocations // workers + (i < args.soak_revocations % workers)
               for i in range(workers)]
        rounds = []
        for _ in range(2):
            # Two rounds: the second shows the store reuses what the sweep freed.
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                revoked = sum(pool.map(revoke_some, per))
            t_revoke = time.monotonic() - t0
            peak_size = dir_bytes(data)
            # The last token expires 20 s after its revocation; the sweep runs
            # every 60 s: 90 s later every entry is gone.
            time.sleep(90)
            rounds.append((revoked, t_revoke, peak_size, dir_bytes(data)))
        rss_peak = rss_kib(proc.pid, "VmHWM")
        rss_now = rss_kib(proc.pid)
        stop(proc)
        counts = store_counts(data)
        final_size = dir_bytes(data)
    finally:
        stop(proc)
    shutil.rmtree(data, ignore_errors=True)
    print(f"soak: {issued} client_credentials tokens in {len(chunks)} chunks of 10 s")
    for i, (revoked, t_revoke, peak, swept) in enumerate(rounds):
        print(f"  revocation round {i + 1}: {revoked} tokens issued and revoked in {t_revoke:.0f} s "
              f"({revoked / t_revoke:.0f}/s); store {peak / 1e6:.1f} MB, {swept / 1e6:.1f} MB "
              f"after the sweep")
    for i in (0, len(chunks) - 1):
        print(f"  chunk {i + 1}: {chunks[i][0]:.0f} req/s, p50 {chunks[i][1]}, p99 {chunks[i][2]}")
    print(f"  RSS peak (VmHWM) {rss_peak / 1024:.1f} MiB, after the revocations {rss_now / 1024:.1f} MiB")
    print(f"  store: {baseline_size / 1e6:.1f} MB before the revocations, {final_size / 1e6:.1f} MB "
          f"at the end; entries left: {counts.get('revoked tokens')} revoked tokens, "
          f"{counts.get('revocation markers')} markers")

    def ms(v):
        return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") \
            else float(v[:-1]) * 1000
    failures = []
    if rss_peak > 64 * 1024:
        failures.append(f"RSS peak {rss_peak / 1024:.1f} MiB > 64 MiB")
    if ms(chunks[-1][2]) > 2 * ms(chunks[0][2]) + 1:
        failures.append(f"p99 grew from {chunks[0][2]} to {chunks[-1][2]}")
    if rounds[1][2] > 1.25 * rounds[0][2] + 1e6:
        failures.append(f"the second round grew the store to {rounds[1][2] / 1e6:.1f} MB "
                        f"(first: {rounds[0][2] / 1e6:.1f} MB): freed space is not reused")
    if counts.get("revoked tokens") != 0:
        failures.append(f"{counts.get('revoked tokens')} revoked tokens left after the sweep")
    if failures:
        sys.exit("soak FAILED: " + "; ".join(failures))
    print("soak ok")


def jwt_rows(port, basic, args):
    """client_credentials issuance of JWT access tokens per algorithm, and a
    repeated JWT (ES256) on /users/me."""
    rows, token = [], None
    form = "grant_type=client_credentials&scope=read"
    for alg in JWT_ALGS:
        client = post_json(port, "/api/v1/clients", basic, {
            "name": f"load jwt {alg}", "type": "confidential",
            "grant_types": ["client_credentials"], "scopes": ["read"],
            "access_token_format": "jwt", "access_token_signed_response_alg": alg})
        auth = "Basic " + base64.b64encode(
            f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        issued = post_json(port, "/oauth/token", auth, form=form)["access_token"]
        if issued.count(".") != 2:
            sys.exit(f"{alg}: expected a JWT access token, got {issued[:12]}…")
        if alg == "ES256":
            token = issued
        rows.append((f"POST /oauth/token (JWT {alg})",) + run_wrk(
            port, "/oauth/token", args.duration, args.connections, args.threads, auth, form=form))
    rows.append(("GET /api/v1/users/me (JWT access token)",) + run_wrk(
        port, "/api/v1/users/me", args.duration, args.connections, args.threads,
        f"Bearer {token}"))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keys", type=int, default=1, help="API keys stored before the load (at least 1)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the server and wrk to a CPU each")
    ap.add_argument("--no-baseline", action="store_true", help="skip the bare poem server")
    ap.add_argument("--no-jwt", action="store_true", help="skip the JWT access-token rows")
    ap.add_argument("--soak", action="store_true", help="the soak run instead of the table")
    ap.add_argument("--soak-tokens", type=int, default=1_000_000)
    ap.add_argument("--soak-revocations", type=int, default=100_000)
    args = ap.parse_args()
    global PIN
    PIN = not args.no_pin and (os.cpu_count() or 1) >= 2
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    if args.soak:
        return soak(args)
    bare = None if args.no_baseline else measure_baseline(args)

    data = tempfile.mkdtemp(prefix="latchkey-load-")
    port = free_port()
    env = dict(os.environ, LATCHKEY_LOG="warn")
    started = time.monotonic()
    cmd = [BIN, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data,
           "--admin-password", ADMIN_PASSWORD]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env, preexec_fn=pin_server)
    try:
        t_health = wait_for(port, "/health", started)
        t_ready = wait_for(port, "/ready", started)
        time.sleep(2.0)  # past the hashing pool's 1 s idle release
        idle = rss_kib(proc.pid)
        basic = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        t0 = time.monotonic()
        secret = create_keys(port, basic, max(1, args.keys))
        t_keys = time.monotonic() - t0
        rows = [
            ("GET /health",) + run_wrk(port, "/health", args.duration, args.connections, args.threads),
            ("GET /api/v1/users/me (Basic)",) + run_wrk(
                port, "/api/v1/users/me", args.duration, args.connections, args.threads, basic),
            (f"GET /api/v1/users/me (API key)",) + run_wrk(
                port, "/api/v1/users/me", args.duration, args.connections, args.threads,
                f"Bearer {secret}"),
        ]
        client = post_json(port, "/api/v1/clients", basic, {
            "name": "load", "type": "confidential", "grant_types": ["client_credentials"],
            "scopes": ["read"]})
        client_basic = "Basic " + base64.b64encode(
            f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        form = "grant_type=client_credentials&scope=read"
        token = post_json(port, "/oauth/token", client_basic, form=form)["access_token"]
        # The bare server's request shape: client_secret_post, no scope parameter.
        post_form = (f"grant_type=client_credentials&client_id={client['client_id']}"
                     f"&client_secret={client['client_secret']}")
        rows += [
            ("POST /oauth/token (client_credentials)",) + run_wrk(
                port, "/oauth/token", args.duration, args.connections, args.threads,
                client_basic, form=form),
            ("POST /oauth/token (client_secret_post)",) + run_wrk(
                port, "/oauth/token", args.duration, args.connections, args.threads,
                form=post_form),
            ("GET /api/v1/users/me (access token)",) + run_wrk(
                port, "/api/v1/users/me", args.duration, args.connections, args.threads,
                f"Bearer {token}"),
        ]
        if not args.no_jwt:
            rows += jwt_rows(port, basic, args)
        after = rss_kib(proc.pid)
        # A flood of wrong passwords for one username: the first five pay argon2id,
        # then the username is throttled (401 too_many_attempts) and refusals cost
        # no hashing; this shows that a guessing flood cannot tie up the server.
        wrong = "Basic " + base64.b64encode(b"admin:wrong-password").decode()
        rows.append(("GET /api/v1/users/me (wrong pw, throttled)",) + run_wrk(
            port, "/api/v1/users/me", args.duration, args.connections, args.threads, wrong,
            expect_errors=True))
        after_flood = rss_kib(proc.pid)
        stop(proc)
        # Restart on the existing store.
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env, preexec_fn=pin_server)
        t_restart = wait_for(port, "/ready", started)
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)

    print(f"start-up to first 200 on /health: {t_health * 1000:.1f} ms (empty store)")
    print(f"start-up to first 200 on /ready:  {t_ready * 1000:.1f} ms (bootstrap admin hashed and flushed)")
    print(f"restart to first 200 on /ready:   {t_restart * 1000:.1f} ms (existing store, {max(1, args.keys)} keys)")
    print(f"idle RSS: {idle / 1024:.1f} MiB; after the load above: {after / 1024:.1f} MiB; "
          f"after the wrong-password flood: {after_flood / 1024:.1f} MiB")
    print(f"API keys stored: {max(1, args.keys)} (created over HTTP in {t_keys:.1f} s)")
    print(f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per endpoint"
          + (f"; server pinned to CPU {SERVER_CPU}, wrk to CPU {LOAD_CPU}" if PIN else ""))
    print(f"{'endpoint':40} {'req/s':>10} {'p50':>10} {'p99':>10}")
    for name, rps, p50, p99 in rows:
        print(f"{name:40} {rps:10.0f} {p50:>10} {p99:>10}")
    health_rps = rows[0][1]
    for name, rps, _, _ in rows[1:6]:
        print(f"{name}: {100 * rps / health_rps:.0f} % of /health")
    by = {name: rps for name, rps, _, _ in rows}
    if not args.no_jwt:
        opaque_token = by["POST /oauth/token (client_credentials)"]
        opaque_me = by["GET /api/v1/users/me (access token)"]
        for alg in JWT_ALGS:
            ratio = by[f"POST /oauth/token (JWT {alg})"] / opaque_token
            target = JWT_ISSUANCE_TARGETS.get(alg)
            verdict = "    " if target is None else ("ok  " if ratio >= target else "MISS")
            wanted = "written down as it is" if target is None else f"target >= {100 * target:.0f} %"
            print(f"  {verdict} JWT {alg} issuance / opaque issuance: {100 * ratio:.1f} % ({wanted})")
        ratio = by["GET /api/v1/users/me (JWT access token)"] / opaque_me
        print(f"  {'ok  ' if ratio >= JWT_ME_TARGET else 'MISS'} repeated JWT /users/me / opaque: "
              f"{100 * ratio:.1f} % (target >= {100 * JWT_ME_TARGET:.0f} %)")
    if bare:
        mine = {"token": by["POST /oauth/token (client_secret_post)"],
                "health": by["GET /health"],
                "api_key": by["GET /api/v1/users/me (API key)"],
                "access_token": by["GET /api/v1/users/me (access token)"]}
        print(f"bare poem (same run): POST /token {bare['token']:.0f} req/s, GET /hello {bare['get']:.0f} req/s, "
              f"start {bare['startup_ms']:.1f} ms, idle {bare['idle_mib']:.1f} MiB")
        for label, key, target in TARGETS:
            base = bare["token"] if key == "token" else bare["get"]
            ratio = mine[key] / base
            print(f"  {'ok  ' if ratio >= target else 'MISS'} {label}: {100 * ratio:.1f} % "
                  f"(target >= {100 * target:.0f} %)")


if __name__ == "__main__":
    main()
