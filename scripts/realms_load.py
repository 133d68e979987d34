#!/usr/bin/env python3
"""Realm load: what realms cost, on a release latchkey (issue: realms, item 7).

Starts `target/release/latchkey serve` on a fresh temporary data dir on loopback
(pinned to CPU 0, wrk to CPU 1, as scripts/load.py) and reports:
  * one realm: client_credentials issuance (POST /realms/r0/oauth/token) and API-key
    GET /realms/r0/api/v1/users/me, wrk req/s, with only that realm;
  * 16 concurrent creators making --realms realms (default 1,000) over HTTP: errors
    (must be 0), creation p50/p99 as the clients saw it, RSS before and after, and
    the RSS an idle realm costs ((after - before) / realms; target < 50 KiB);
  * the same two wrk rows on r0 with all the realms there (target: within 10 % of
    the one-realm figures);
  * deleting every realm again over HTTP with 16 workers: errors, p50/p99.

Usage: python3 scripts/realms_load.py [--realms 1000] [--duration 10] [--no-pin]
Needs wrk and a release build. Only 127.0.0.1 is contacted; every wait is bounded.
"""

import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402  (the shared helpers: wrk, waits, RSS)

ADMIN = "Basic " + base64.b64encode(f"admin:{load.ADMIN_PASSWORD}".encode()).decode()
WORKERS = 16
RSS_PER_REALM_KIB = 50
SAME_WITHIN = 0.10


def call(conn, method, path, body=None, auth=ADMIN):
    headers = {"Authorization": auth}
    payload = None
    if body is not None:
        payload, headers["Content-Type"] = json.dumps(body), "application/json"
    conn.request(method, path, payload, headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def in_parallel(port, names, method, expect):
    """Runs `method` on every realm name with WORKERS keep-alive connections;
    returns (errors, latencies in ms)."""
    errors, lat = [], []
    lock = threading.Lock()
    chunks = [names[i::WORKERS] for i in range(WORKERS)]

    def work(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for name in chunk:
            t = time.perf_counter()
            if method == "POST":
                status, data = call(conn, "POST", "/api/v1/realms", {"name": name})
            else:
                status, data = call(conn, "DELETE", f"/api/v1/realms/{name}")
            ms = (time.perf_counter() - t) * 1000
            with lock:
                lat.append(ms)
                if status != expect:
                    errors.append((name, status, data[:200]))
        conn.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in chunks if c]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1800)
    lat.sort()
    return errors, lat


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p))] if lat else float("nan")


def rows(port, secret_form, api_key, duration):
    token = load.run_wrk(port, "/realms/r0/oauth/token", duration, 32, 1, form=secret_form)
    me = load.run_wrk(port, "/realms/r0/api/v1/users/me", duration, 32, 1,
                      auth=f"Bearer {api_key}")
    return token[0], me[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--realms", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--no-pin", action="store_true")
    args = ap.parse_args()
    load.PIN = not args.no_pin
    data = tempfile.mkdtemp(prefix="latchkey-realms-")
    port = load.free_port()
    env = dict(os.environ, LATCHKEY_LOG="warn")
    cmd = [load.BIN, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data,
           "--admin-password", load.ADMIN_PASSWORD]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env, preexec_fn=load.pin_server)
    try:
        load.wait_for(port, "/ready", time.monotonic())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, body = call(conn, "POST", "/api/v1/realms", {"name": "r0", "admin_password": "r0-admin-password"})
        assert status == 201, body
        r0 = "Basic " + base64.b64encode(b"admin:r0-admin-password").decode()
        status, body = call(conn, "POST", "/realms/r0/api/v1/clients", {
            "name": "load", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["read"]}, r0)
        assert status == 201, body
        client = json.loads(body)
        form = f"grant_type=client_credentials&client_id={client['client_id']}&client_secret={client['client_secret']}"
        status, body = call(conn, "POST", "/realms/r0/api/v1/api-keys", {"name": "load"}, r0)
        assert status == 201, body
        api_key = json.loads(body)["secret"]
        conn.close()

        one = rows(port, form, api_key, args.duration)
        print(f"one realm:      token {one[0]:9.0f} req/s   API-key /users/me {one[1]:9.0f} req/s")
        time.sleep(1)
        rss_before = load.rss_kib(proc.pid)
        names = [f"load-{i}" for i in range(args.realms)]
        t = time.monotonic()
        errors, lat = in_parallel(port, names, "POST", 201)
        spent = time.monotonic() - t
        time.sleep(1)
        rss_after = load.rss_kib(proc.pid)
        per = (rss_after - rss_before) / max(1, args.realms)
        print(f"created {args.realms} realms with {WORKERS} creators in {spent:.1f} s: {len(errors)} errors, "
              f"p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms")
        print(f"RSS {rss_before} KiB -> {rss_after} KiB: {per:.1f} KiB per idle realm "
              f"(target < {RSS_PER_REALM_KIB}) {'met' if per < RSS_PER_REALM_KIB else 'MISSED'}")
        many = rows(port, form, api_key, args.duration)
        print(f"{args.realms + 1} realms:  token {many[0]:9.0f} req/s   API-key /users/me {many[1]:9.0f} req/s")
        for label, a, b in [("token", one[0], many[0]), ("API-key /users/me", one[1], many[1])]:
            ratio = b / a
            ok = ratio >= 1 - SAME_WITHIN
            print(f"  {label}: {ratio * 100:.1f} % of the one-realm figure "
                  f"(target >= {(1 - SAME_WITHIN) * 100:.0f} %) {'met' if ok else 'MISSED'}")
        derr, dlat = in_parallel(port, names, "DELETE", 204)
        print(f"deleted {args.realms} realms: {len(derr)} errors, p50 {pct(dlat, 0.5):.2f} ms, "
              f"p99 {pct(dlat, 0.99):.2f} ms")
        for e in (errors + derr)[:5]:
            print("  error:", e)
        if errors or derr:
            sys.exit(1)
    finally:
        load.stop(proc)


if __name__ == "__main__":
    main()
