#!/usr/bin/env python3
"""Interop check: python-keycloak's KeycloakOpenID against a latchkey realm at Keycloak's paths.

Usage: keycloak_realm.py BASE_URL REALM CLIENT_ID CLIENT_SECRET PREFIX

BASE_URL is the server under test (a loopback http(s) URL), REALM a realm created on
it, PREFIX "" (BASE/realms/REALM/...) or "/auth" (older Keycloak: BASE/auth/realms/...).
CLIENT_ID/CLIENT_SECRET is a confidential client of the realm allowed client_credentials
and the scopes read and write. python-keycloak authenticates with client_secret_post.

Discovery names the realm's issuer and endpoints; a client_credentials token (scope
read) introspects as active for this client; every JWKS key has kid and alg and
imports into jwcrypto (what decode_token does); a JWT access token validates with
decode_token. When the environment carries LK_REFRESH_TOKEN (and optionally
LK_ACCESS_TOKEN, scope openid) from a code flow of the same client: userinfo answers
a sub, refresh_token gives a new pair, logout (204) ends the grant, and the logged-out
refresh token is then refused with invalid_grant.

Run by tests/it/interop.rs inside the venv built from tests/interop/requirements.txt.
Exits 0 when every check passes; otherwise prints what failed and exits 1.
"""

import json
import os
import sys
import traceback

# requests (inside python-keycloak): no proxy from the environment for the loopback server.
os.environ["no_proxy"] = "*"
for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
    os.environ.pop(name, None)

from jwcrypto import jwk
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError, KeycloakPostError

from authlib_code_flow import TIMEOUT_SECONDS, CheckFailed, check, loopback_base

ENDPOINTS = ("authorization_endpoint", "token_endpoint", "introspection_endpoint", "userinfo_endpoint", "jwks_uri")


def decode_if_jwt(kc, keys, token, issuer, what):
    """decode_token validates a JWT (signature, exp) against the JWKS; opaque tokens are skipped."""
    if token.count(".") != 2:
        print(f"ok {what} is opaque, not decoded")
        return None
    claims = kc.decode_token(token, key=keys)
    check(claims.get("iss") == issuer, f"{what}: iss {claims.get('iss')!r}, expected {issuer!r}")
    check(isinstance(claims.get("exp"), int), f"{what}: exp {claims!r}")
    print(f"ok {what} decoded and validated by decode_token")
    return claims


def client_flows(kc, base, issuer, client_id):
    conf = kc.well_known()
    check(conf.get("issuer") == issuer, f"well_known issuer {conf.get('issuer')!r}, expected {issuer!r}")
    for key in ENDPOINTS:
        check(str(conf.get(key, "")).startswith(base + "/"), f"well_known {key}: {conf.get(key)!r}")
    print("ok well_known")

    token = kc.token(grant_type="client_credentials", scope="read")
    access = token.get("access_token")
    check(isinstance(access, str) and access, f"client_credentials: no access_token in {token!r}")
    check(str(token.get("token_type")).lower() == "bearer", f"client_credentials token_type: {token!r}")
    check(token.get("scope") == "read", f"client_credentials scope: {token!r}")
    check(isinstance(token.get("expires_in"), int) and token["expires_in"] > 0, f"expires_in: {token!r}")
    print("ok token client_credentials")

    info = kc.introspect(access)
    check(info.get("active") is True, f"introspect: {info!r}")
    check(info.get("client_id") == client_id, f"introspect client_id: {info!r}")
    check(info.get("scope") == "read", f"introspect scope: {info!r}")
    print("ok introspect")

    certs = kc.certs()
    check(certs.get("keys"), f"certs: no keys in {certs!r}")
    for k in certs["keys"]:
        check(k.get("kid") and k.get("alg"), f"certs: a key without kid or alg: {k!r}")
        check(not {"d", "p", "q", "dp", "dq", "qi"} & set(k), f"certs: a private member in {sorted(k)}")
        jwk.JWK(**k)  # what decode_token does with every key when given none
    keys = jwk.JWKSet.from_json(json.dumps(certs))
    print(f"ok certs ({', '.join(sorted(k['alg'] for k in certs['keys']))})")

    decode_if_jwt(kc, keys, access, issuer, "client_credentials access token")
    return keys


def user_flows(kc, keys, issuer, refresh, access):
    if access:
        claims = kc.userinfo(access)
        check(isinstance(claims, dict) and claims.get("sub"), f"userinfo: {claims!r}")
        print("ok userinfo")
        decode_if_jwt(kc, keys, access, issuer, "code-flow access token")

    pair = kc.refresh_token(refresh)
    new_access, new_refresh = pair.get("access_token"), pair.get("refresh_token")
    check(isinstance(new_access, str) and new_access, f"refresh_token: no access_token in {pair!r}")
    check(isinstance(new_refresh, str) and new_refresh, f"refresh_token: no refresh_token in {pair!r}")
    check(new_refresh != refresh, "refresh_token: the refresh token was not rotated")
    claims = kc.userinfo(new_access)
    check(isinstance(claims, dict) and claims.get("sub"), f"userinfo with the refreshed token: {claims!r}")
    if pair.get("id_token"):
        decode_if_jwt(kc, keys, pair["id_token"], issuer, "refreshed id_token")
    print("ok refresh_token")

    answer = kc.logout(new_refresh)  # python-keycloak accepts only 204 and then returns {}
    check(answer == {}, f"logout: {answer!r}")
    print("ok logout")

    try:
        again = kc.refresh_token(new_refresh)
    except KeycloakPostError as error:
        check(error.response_code == 400, f"refresh after logout: HTTP {error.response_code}, {error.response_body!r}")
        body = json.loads(error.response_body)
        check(body.get("error") == "invalid_grant", f"refresh after logout: {body!r}")
    else:
        raise CheckFailed(f"refresh after logout: got tokens {sorted(again)!r}")
    info = kc.introspect(new_access)
    check(info == {"active": False}, f"introspect of an access token after logout: {info!r}")
    print("ok refresh refused after logout")


def main(argv):
    if len(argv) != 6 or argv[5] not in ("", "/auth"):
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 1
    base = loopback_base(argv[1])
    if base is None:
        print(f"refusing {argv[1]!r}: BASE_URL must be a loopback http(s) URL", file=sys.stderr)
        return 1
    realm, client_id, client_secret, prefix = argv[2:]
    issuer = f"{base}/realms/{realm}"
    kc = KeycloakOpenID(
        # The trailing slash matters: python-keycloak urljoin()s "realms/..." onto it,
        # and without it "/auth" would be dropped.
        server_url=base + prefix + "/",
        realm_name=realm,
        client_id=client_id,
        client_secret_key=client_secret,
        timeout=TIMEOUT_SECONDS,
        # No automatic retry: a POSTed refresh token must reach the server once.
        max_retries=0,
    )
    refresh, access = os.environ.get("LK_REFRESH_TOKEN"), os.environ.get("LK_ACCESS_TOKEN")
    label = f"realm {realm} prefix {prefix or '(none)'}"
    try:
        keys = client_flows(kc, base, issuer, client_id)
        if refresh:
            user_flows(kc, keys, issuer, refresh, access)
        else:
            print("skip userinfo/refresh_token/logout: no LK_REFRESH_TOKEN")
    except CheckFailed as failure:
        print(f"FAIL {label}: {failure}", file=sys.stderr)
        return 1
    except KeycloakError as error:
        # A KeycloakConnectionError (refused, timed out) keeps the reason in __cause__.
        print(f"FAIL {label}: {type(error).__name__} {error} {error.__cause__ or ''}", file=sys.stderr)
        return 1
    except Exception:  # a non-JSON body, a jwcrypto error, a python-keycloak bug...
        print(f"FAIL {label}: unexpected exception", file=sys.stderr)
        traceback.print_exc()
        return 1
    print(f"ok {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
