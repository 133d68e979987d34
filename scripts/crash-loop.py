#!/usr/bin/env python3
"""kill -9 loop: every change latchkey answered 2xx survives a SIGKILL.

Starts `target/release/latchkey serve` (or $LATCHKEY_BIN) on a fresh data dir on
127.0.0.1 and, for N cycles, runs concurrent mixed writes for a random 0.2-2 s:
users (create, password change, disable, delete), API keys (create, disable,
roll, delete), clients (create, new secret, disable, delete), access-token
revocations and refresh-token rotations (a code flow signs in through the
login page first). Then it kill -9s the server (never a graceful stop), runs
`latchkey check-store` on the directory (the store opens, every record decodes,
the username / key-hash / owner indexes agree with the records), starts the
server again on the same directory and checks that every change answered 2xx is
there and in effect: a deleted user is gone and a disabled one cannot sign in, a
changed password is the one that works, a disabled, rolled or deleted key's old
secret is refused, a client's replaced secret is refused, a revoked token stays
inactive, a rotated refresh token stays spent and its successor is live.

A request in flight when the server died has no answer: its entity is then
uncertain (either outcome is correct) and is left out of the checks. Changes are
checked in the cycle after they were made; the last cycle checks everything.

Prints `N cycles, M acknowledged changes, 0 lost` and exits 1 on any loss.
Usage: python3 scripts/crash-loop.py [--cycles 100] [--workers 4] [--seed S]
Only 127.0.0.1 is contacted; every wait is bounded. Needs `cargo build --release`.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("LATCHKEY_BIN") or os.path.join(ROOT, "target", "release", "latchkey")
ADMIN_PASSWORD = "crash-loop-admin-password"
ADMIN = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
REDIRECT = "http://127.0.0.1/cb"
TIMEOUT = 10


class Lost(Exception):
    """A change answered 2xx that is not there, or not in effect."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, auth=None, body=None, form=None, cookies=None):
    """(status, headers, body bytes); raises OSError / HTTPException when the
    server is gone."""
    headers = {}
    payload = None
    if auth:
        headers["Authorization"] = auth
    if body is not None:
        payload, headers["Content-Type"] = json.dumps(body), "application/json"
    if form is not None:
        payload = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, payload, headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Server:
    def __init__(self, data):
        self.data, self.port, self.proc = data, free_port(), None

    def start(self):
        env = dict(os.environ, LATCHKEY_LOG="error")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--bind", f"127.0.0.1:{self.port}", "--data-dir", self.data,
             "--admin-password", ADMIN_PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Lost(f"the server exited at start: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if call(self.port, "GET", "/ready")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.01)
        raise Lost("the server did not answer 200 on /ready within 15 s")

    def kill9(self):
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Forms(HTMLParser):
    """The first form's action and inputs (hidden values included)."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action") or ""
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields.append((a["name"], a.get("value") or ""))


def cookies_of(headers, jar):
    for name, value in headers:
        if name.lower() == "set-cookie":
            k, _, v = value.split(";", 1)[0].partition("=")
            jar[k.strip()] = v.strip()


def location(headers):
    return next((v for k, v in headers if k.lower() == "location"), "")


def sign_in_for_refresh(port, client, username, password):
    """A code flow through the login page (the client skips consent); returns
    the first refresh token."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": client["id"], "redirect_uri": REDIRECT,
                       "scope": "read", "state": "s", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    jar = {}
    status, headers, page = call(port, "GET", f"/oauth/authorize?{query}")
    if status != 200:
        raise Lost(f"authorize: HTTP {status}")
    cookies_of(headers, jar)
    form = Forms()
    form.feed(page.decode())
    fields = form.fields + [("username", username), ("password", password)]
    action = form.action
    if not action.startswith("/oauth/"):
        raise Lost(f"login page: form action {action!r}")
    status, headers, _ = call(port, "POST", action, form=fields, cookies=jar)
    code = parse_qs(urlsplit(location(headers)).query).get("code", [None])[0]
    if status not in (302, 303) or not code:
        raise Lost(f"login: HTTP {status}, Location {location(headers)!r}")
    status, _, body = call(port, "POST", "/oauth/token", auth=basic(client["id"], client["secret"]),
                           form={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": REDIRECT, "code_verifier": verifier})
    if status != 200:
        raise Lost(f"code redemption: HTTP {status} {body[:200]!r}")
    return json.loads(body)["refresh_token"]


class Model:
    """What the server acknowledged, per entity; `fresh` holds what changed
    since the last check."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users, self.keys, self.clients, self.revoked, self.families = [], [], [], [], []
        self.acknowledged = 0
        self.fresh = set()

    def ack(self, entity):
        with self.lock:
            self.acknowledged += 1
            self.fresh.add(id(entity))


class Worker(threading.Thread):
    """Mixed writes on entities of its own until the server dies."""

    def __init__(self, port, model, rng, refresh_client, stop):
        super().__init__(daemon=True)
        self.port, self.model, self.rng, self.rc, self.stop = port, model, rng, refresh_client, stop
        self.failure = None

    def mine(self, kind):
        return [e for e in getattr(self.model, kind) if e["owner"] is self and not e["uncertain"]]

    def send(self, entity, method, path, ok, **kw):
        """One change: acknowledged on an `ok` status, uncertain with no answer."""
        entity["uncertain"] = True  # until the answer arrives
        status, _, body = call(self.port, method, path, **kw)
        if status not in ok:
            raise Lost(f"{method} {path}: unexpected HTTP {status} {body[:300]!r}")
        entity["uncertain"] = False
        self.model.ack(entity)
        return json.loads(body) if body else None

    def run(self):
        try:
            while not self.stop.is_set():
                self.step()
        except (OSError, http.client.HTTPException):
            pass  # the server was killed: the entity in flight stays uncertain
        except Lost as e:
            self.failure = str(e)

    def add(self, kind, entity):
        entity.update(owner=self, uncertain=True)
        with self.model.lock:
            getattr(self.model, kind).append(entity)
        return entity

    def step(self):
        r = self.rng
        op = r.choice(["user", "user", "key", "key", "client", "client", "revoke", "refresh"])
        if op == "user":
            users = [u for u in self.mine("users") if not u["deleted"]]
            if len(users) < 3 or r.random() < 0.3:
                u = self.add("users", {"name": f"u{secrets.token_hex(6)}", "password": secrets.token_urlsafe(12),
                                       "old": [], "disabled": False, "deleted": False})
                made = self.send(u, "POST", "/api/v1/users", (201,), auth=ADMIN,
                                 body={"username": u["name"], "password": u["password"]})
                u["id"] = made["id"]
                return
            u = r.choice(users)
            what = r.choice(["delete"] if u["disabled"] else ["password", "disable", "delete"])
            path = f"/api/v1/users/{u['id']}"
            if what == "password":
                new = secrets.token_urlsafe(12)
                self.send(u, "PATCH", path, (200,), auth=ADMIN, body={"password": new})
                u["old"].append(u["password"])
                u["password"] = new
            elif what == "disable":
                self.send(u, "PATCH", path, (200,), auth=ADMIN, body={"disabled": True})
                u["disabled"] = True
            else:
                self.send(u, "DELETE", path, (204,), auth=ADMIN)
                u["deleted"] = True
        elif op == "key":
            keys = [k for k in self.mine("keys") if not k["deleted"]]
            if len(keys) < 3 or r.random() < 0.3:
                k = self.add("keys", {"old": [], "disabled": False, "deleted": False})
                made = self.send(k, "POST", "/api/v1/api-keys", (201,), auth=ADMIN,
                                 body={"name": f"k{secrets.token_hex(6)}", "scopes": ["keys:read"]})
                k["id"], k["secret"] = made["id"], made["secret"]
                return
            k = r.choice(keys)
            what = r.choice(["delete"] if k["disabled"] else ["disable", "roll", "delete"])
            path = f"/api/v1/api-keys/{k['id']}"
            if what == "disable":
                self.send(k, "POST", path + "/disable", (200,), auth=ADMIN)
                k["disabled"] = True
            elif what == "roll":
                made = self.send(k, "POST", path + "/roll", (200,), auth=ADMIN)
                k["old"].append(k["secret"])
                k["secret"] = made["secret"]
            else:
                self.send(k, "DELETE", path, (204,), auth=ADMIN)
                k["deleted"] = True
        elif op == "client":
            clients = [c for c in self.mine("clients") if not c["deleted"]]
            if len(clients) < 3 or r.random() < 0.3:
                c = self.add("clients", {"old": [], "disabled": False, "deleted": False})
                made = self.send(c, "POST", "/api/v1/clients", (201,), auth=ADMIN,
                                 body={"name": "crash", "type": "confidential",
                                       "grant_types": ["client_credentials"], "scopes": ["read"]})
                c["id"], c["secret"] = made["client_id"], made["client_secret"]
                return
            c = r.choice(clients)
            what = r.choice(["delete"] if c["disabled"] else ["secret", "disable", "delete"])
            path = f"/api/v1/clients/{c['id']}"
            if what == "secret":
                made = self.send(c, "POST", path + "/secret", (200,), auth=ADMIN)
                c["old"].append(c["secret"])
                c["secret"] = made["client_secret"]
            elif what == "disable":
                self.send(c, "POST", path + "/disable", (200,), auth=ADMIN)
                c["disabled"] = True
            else:
                self.send(c, "DELETE", path, (204,), auth=ADMIN)
                c["deleted"] = True
        elif op == "revoke":
            clients = [c for c in self.mine("clients") if not (c["deleted"] or c["disabled"])]
            if not clients:
                return
            c = r.choice(clients)
            status, _, body = call(self.port, "POST", "/oauth/token", auth=basic(c["id"], c["secret"]),
                                   form={"grant_type": "client_credentials"})
            if status != 200:
                raise Lost(f"client_credentials for {c['id']}: HTTP {status} {body[:200]!r}")
            t = self.add("revoked", {"token": json.loads(body)["access_token"]})
            self.send(t, "POST", "/oauth/revoke", (200,), auth=basic(c["id"], c["secret"]),
                      form={"token": t["token"]})
        else:
            families = self.mine("families")
            if not families:
                f = self.add("families", {"spent": []})
                f["current"] = sign_in_for_refresh(self.port, self.rc, "refresher", self.rc["user_password"])
                f["uncertain"] = False
                return
            f = r.choice(families)
            made = self.send(f, "POST", "/oauth/token", (200,), auth=basic(self.rc["id"], self.rc["secret"]),
                             form={"grant_type": "refresh_token", "refresh_token": f["current"]})
            f["spent"].append(f["current"])
            f["current"] = made["refresh_token"]


def check(port, model, everything):
    """Every acknowledged change is there and in effect; returns how many
    entities were checked."""
    lost = []

    def expect(cond, what):
        if not cond:
            lost.append(what)

    def me(auth):
        return call(port, "GET", "/api/v1/users/me", auth=auth)[0]

    def introspect(token):
        status, _, body = call(port, "POST", "/oauth/introspect", auth=ADMIN, form={"token": token})
        expect(status == 200, f"introspection answered {status}")
        return json.loads(body).get("active") if status == 200 else None

    def wanted(e):
        return not e["uncertain"] and (everything or id(e) in model.fresh)

    checked = 0
    for u in filter(wanted, model.users):
        checked += 1
        status, _, body = call(port, "GET", f"/api/v1/users/{u['id']}", auth=ADMIN)
        if u["deleted"]:
            expect(status == 404, f"deleted user {u['name']} is back (HTTP {status})")
            continue
        expect(status == 200, f"user {u['name']} is gone (HTTP {status})")
        if status != 200:
            continue
        expect(json.loads(body)["disabled"] == u["disabled"], f"user {u['name']}: disabled is not {u['disabled']}")
        if u["old"] or u["disabled"]:
            got = me(basic(u["name"], u["password"]))
            expect(got == (401 if u["disabled"] else 200), f"user {u['name']}: current password gives {got}")
        if u["old"]:
            got = me(basic(u["name"], u["old"][-1]))
            expect(got == 401, f"user {u['name']}: the replaced password gives {got}")
    for k in filter(wanted, model.keys):
        checked += 1
        got = me(f"Bearer {k['secret']}")
        live = not (k["deleted"] or k["disabled"])
        expect(got == (200 if live else 401), f"key {k['id']}: secret gives {got} (live: {live})")
        for old in k["old"]:
            got = me(f"Bearer {old}")
            expect(got == 401, f"key {k['id']}: a rolled secret gives {got}")
    for c in filter(wanted, model.clients):
        checked += 1
        got = call(port, "POST", "/oauth/token", auth=basic(c["id"], c["secret"]),
                   form={"grant_type": "client_credentials"})[0]
        live = not (c["deleted"] or c["disabled"])
        expect((got == 200) == live, f"client {c['id']}: secret gives {got} (live: {live})")
        for old in c["old"]:
            got = call(port, "POST", "/oauth/token", auth=basic(c["id"], old),
                       form={"grant_type": "client_credentials"})[0]
            expect(got != 200, f"client {c['id']}: a replaced secret gives {got}")
    for t in filter(wanted, model.revoked):
        checked += 1
        expect(introspect(t["token"]) is False, "a revoked access token is active again")
        expect(me(f"Bearer {t['token']}") == 401, "a revoked access token authenticates again")
    for f in filter(wanted, model.families):
        checked += 1
        expect(introspect(f["current"]) is True, "the latest refresh token of a grant is not live")
        for spent in f["spent"][-3:]:
            expect(introspect(spent) is False, "a spent refresh token is live again")
    model.fresh.clear()
    if lost:
        raise Lost(f"{len(lost)} lost: " + "; ".join(lost[:20]))
    return checked


def check_store(data):
    out = subprocess.run([BIN, "check-store", "--data-dir", data], capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise Lost(f"check-store: {out.stderr.strip()[-3000:]}")
    return out.stdout.strip()


def setup(port):
    """A user and a first-party client for the refresh-token rotations."""
    password = "refresher-password"
    status, _, body = call(port, "POST", "/api/v1/users", auth=ADMIN,
                           body={"username": "refresher", "password": password})
    if status != 201:
        raise Lost(f"setup user: HTTP {status} {body[:200]!r}")
    status, _, body = call(port, "POST", "/api/v1/clients", auth=ADMIN, body={
        "name": "refresher", "type": "confidential", "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"], "scopes": ["read"],
        "skip_consent": True})
    if status != 201:
        raise Lost(f"setup client: HTTP {status} {body[:200]!r}")
    made = json.loads(body)
    return {"id": made["client_id"], "secret": made["client_secret"], "user_password": password}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None, help="random seed (printed; reuse to replay)")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"no binary at {BIN}: cargo build --release first (or set LATCHKEY_BIN)")
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    data = tempfile.mkdtemp(prefix="latchkey-crash-")
    server = Server(data)
    model = Model()
    started = time.monotonic()
    try:
        server.start()
        rc = setup(server.port)
        for cycle in range(1, args.cycles + 1):
            stop = threading.Event()
            workers = [Worker(server.port, model, random.Random(rng.random()), rc, stop)
                       for _ in range(args.workers)]
            for w in workers:
                w.start()
            time.sleep(rng.uniform(0.2, 2.0))
            server.kill9()
            stop.set()
            for w in workers:
                w.join(timeout=TIMEOUT + 5)
                if w.is_alive():
                    raise Lost("a worker did not stop within its request timeout")
                if w.failure:
                    raise Lost(f"cycle {cycle}: {w.failure}")
            summary = check_store(data)
            server.start()
            checked = check(server.port, model, everything=(cycle == args.cycles))
            print(f"cycle {cycle}: {model.acknowledged} acknowledged so far, {checked} checked; "
                  f"store {summary}", flush=True)
    except Lost as e:
        print(f"crash loop (seed {seed}) FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    uncertain = sum(e["uncertain"] for kind in ("users", "keys", "clients", "revoked", "families")
                    for e in getattr(model, kind))
    print(f"{args.cycles} cycles, {model.acknowledged} acknowledged changes, 0 lost "
          f"({uncertain} in flight at a kill left unchecked; seed {seed}; "
          f"{time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
