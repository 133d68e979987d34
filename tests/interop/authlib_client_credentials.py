#!/usr/bin/env python3
"""Interop check: Authlib's requests client against a running latchkey.

Usage: authlib_client_credentials.py BASE_URL CLIENT_ID CLIENT_SECRET

BASE_URL is the server under test and must be a loopback http(s) URL. The client
must be confidential, allowed the client_credentials grant and the scope "read",
and owned by the user "admin". For each of client_secret_basic and
client_secret_post this fetches a token, uses it, introspects it, revokes it and
checks it is dead; then checks a wrong secret is refused with invalid_client.

Run by tests/it/interop.rs (authlib_client_credentials) inside a venv built from
tests/interop/requirements.txt. Exits 0 when every check passes; otherwise
prints what failed to stderr and exits 1.
"""

import ipaddress
import sys
import traceback
from urllib.parse import urlsplit

from authlib.integrations.requests_client import OAuth2Session, OAuthError

# Every request carries this timeout, so a hung server fails the run instead of stalling it.
TIMEOUT_SECONDS = 10
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class CheckFailed(Exception):
    """One expectation about the server's answers did not hold."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def loopback_base(url):
    """The URL without a trailing slash, or None when it is not a loopback http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.hostname != "localhost":
        try:
            if not ipaddress.ip_address(parts.hostname).is_loopback:
                return None
        except ValueError:
            return None
    return url.rstrip("/")


def session(client_id, client_secret, method):
    """An Authlib session that authenticates with `method` at every endpoint."""
    return OAuth2Session(
        client_id=client_id,
        client_secret=client_secret,
        # Authlib uses the first for the token and introspection endpoints, the second for revocation.
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        default_timeout=TIMEOUT_SECONDS,
        # No proxies or ~/.netrc from the environment: talk to the test server, as given.
        trust_env=False,
        # A redirect from any of these endpoints is a bug, not something to follow.
        max_redirects=0,
    )


def json_body(resp, what):
    check(
        resp.headers.get("content-type", "").startswith("application/json"),
        f"{what}: content-type {resp.headers.get('content-type')!r}, body {resp.text!r}",
    )
    return resp.json()


def introspect(client, url, token):
    resp = client.introspect_token(url, token=token, token_type_hint="access_token")
    check(resp.status_code == 200, f"introspection: HTTP {resp.status_code}, body {resp.text!r}")
    return json_body(resp, "introspection")


def token_lifecycle(base, client_id, client_secret, method):
    """Fetch, use, introspect and revoke one token, authenticating with `method`."""
    token_url = base + "/oauth/token"
    introspect_url = base + "/oauth/introspect"
    revoke_url = base + "/oauth/revoke"
    me_url = base + "/api/v1/users/me"

    with session(client_id, client_secret, method) as client:
        token = client.fetch_token(token_url, grant_type="client_credentials", scope="read")
        check(token.get("token_type") == "Bearer", f"token_type: {token!r}")
        check(token.get("scope") == "read", f"scope: {token!r}")
        access = token.get("access_token")
        check(isinstance(access, str) and access.startswith("lk_at_"), f"access_token: {token!r}")
        check(isinstance(token.get("expires_in"), int) and token["expires_in"] > 0, f"expires_in: {token!r}")

        # The session now sends `Authorization: Bearer <access_token>` itself.
        me = client.get(me_url)
        check(me.status_code == 200, f"/users/me with the token: HTTP {me.status_code}, body {me.text!r}")
        who = json_body(me, "/users/me")
        check(who.get("auth_method") == "access_token", f"/users/me auth_method: {who!r}")
        check(who.get("client_id") == client_id, f"/users/me client_id: {who!r}")
        check(who.get("username") == "admin", f"/users/me username: {who!r}")

        info = introspect(client, introspect_url, access)
        check(info.get("active") is True, f"introspection of a live token: {info!r}")
        check(info.get("client_id") == client_id, f"introspection client_id: {info!r}")
        check(info.get("scope") == "read", f"introspection scope: {info!r}")
        check(info.get("token_type") == "Bearer", f"introspection token_type: {info!r}")
        check(info.get("username") == "admin", f"introspection username: {info!r}")
        check(
            isinstance(info.get("iat"), int) and isinstance(info.get("exp"), int) and info["exp"] > info["iat"],
            f"introspection iat/exp: {info!r}",
        )

        revoked = client.revoke_token(revoke_url, token=access, token_type_hint="access_token")
        check(revoked.status_code == 200, f"revocation: HTTP {revoked.status_code}, body {revoked.text!r}")

        # RFC 7662 §2.2: an inactive token's introspection says nothing else about it.
        info = introspect(client, introspect_url, access)
        check(info == {"active": False}, f"introspection of a revoked token: {info!r}")

        me = client.get(me_url)
        check(me.status_code == 401, f"/users/me with a revoked token: HTTP {me.status_code}, body {me.text!r}")


def wrong_secret_refused(base, client_id, client_secret, method):
    with session(client_id, client_secret + "x", method) as client:
        try:
            token = client.fetch_token(base + "/oauth/token", grant_type="client_credentials", scope="read")
        except OAuthError as error:
            check(error.error == "invalid_client", f"wrong secret: error {error.error!r} ({error.description!r})")
            return
        raise CheckFailed(f"wrong secret: got a token {token!r}")


def main(argv):
    if len(argv) != 4:
        print("usage: authlib_client_credentials.py BASE_URL CLIENT_ID CLIENT_SECRET", file=sys.stderr)
        return 1
    base = loopback_base(argv[1])
    if base is None:
        print(f"refusing {argv[1]!r}: BASE_URL must be a loopback http(s) URL", file=sys.stderr)
        return 1
    client_id, client_secret = argv[2], argv[3]

    for method in AUTH_METHODS:
        for step in (token_lifecycle, wrong_secret_refused):
            try:
                step(base, client_id, client_secret, method)
            except CheckFailed as failure:
                print(f"FAIL {method} {step.__name__}: {failure}", file=sys.stderr)
                return 1
            except OAuthError as error:
                print(f"FAIL {method} {step.__name__}: OAuth error {error.error!r}: {error.description!r}", file=sys.stderr)
                return 1
            except Exception:  # a timeout, a refused connection, a non-JSON body, an Authlib bug...
                print(f"FAIL {method} {step.__name__}: unexpected exception", file=sys.stderr)
                traceback.print_exc()
                return 1
            print(f"ok {method} {step.__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
