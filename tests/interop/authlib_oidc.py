#!/usr/bin/env python3
"""Interop check: OpenID Connect against a running latchkey, with libraries nobody here wrote.

Usage: authlib_oidc.py BASE_URL USERNAME PASSWORD ALG:CLIENT_ID:CLIENT_SECRET... [jwt:ALG:CLIENT_ID:CLIENT_SECRET:AUDIENCE...]

BASE_URL is the server under test (a loopback http URL). Each ALG:CLIENT_ID:CLIENT_SECRET
is a confidential client whose id_token_signed_response_alg is ALG (RS256, ES256 or
EdDSA), allowed authorization_code and refresh_token, the scopes openid, profile and
email, and the redirect URI http://127.0.0.1/cb. USERNAME/PASSWORD has a name and an
e-mail address and has not consented to these clients yet.

For every client: discovery (/.well-known/openid-configuration) names the issuer,
the JWKS and userinfo; Authlib runs the code flow with PKCE and a nonce; the
id_token is validated twice against the JWKS — by PyJWT (PyJWKClient) and by
joserfc (KeySet, claims registry) — for its signature, algorithm, issuer, audience,
expiry, nonce and at_hash; userinfo (Authlib's session, Bearer) answers the same
sub with the profile and e-mail claims; a refresh returns a new id_token for the
same sub and auth_time and without a nonce, which also validates. A tampered
id_token is refused by both libraries. Each jwt:ALG:CLIENT_ID:CLIENT_SECRET:AUDIENCE
is a client_credentials client with JWT access tokens: Authlib fetches one, and
PyJWT and joserfc check it as a resource server would (RFC 9068: typ at+jwt, the
algorithm, issuer, audience, expiry, client_id, scope, jti).

Run by tests/it/interop_oidc.rs inside the venv built from tests/interop/requirements.txt.
Exits 0 when every check passes; otherwise prints what failed and exits 1.
"""

import base64
import hashlib
import os
import secrets
import sys
import traceback
from urllib.parse import parse_qs, urlsplit

# PyJWKClient uses urllib: no proxy from the environment for the loopback server.
os.environ["no_proxy"] = "*"
os.environ.pop("http_proxy", None)
os.environ.pop("HTTP_PROXY", None)

import jwt as pyjwt  # PyJWT
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from authlib_code_flow import (
    REDIRECT_URI,
    TIMEOUT_SECONDS,
    CheckFailed,
    check,
    loopback_base,
    sign_in_and_allow,
)

SCOPE = "openid profile email"


def half_hash(alg, value):
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def validate(id_token, alg, jwks_uri, jwks, issuer, client_id, nonce, access_token, what):
    """The id_token's claims, checked by PyJWT and by joserfc."""
    header = pyjwt.get_unverified_header(id_token)
    check(header.get("alg") == alg, f"{what}: header alg {header!r}, expected {alg}")
    check(header.get("kid"), f"{what}: no kid in {header!r}")
    signing_key = pyjwt.PyJWKClient(jwks_uri, timeout=TIMEOUT_SECONDS).get_signing_key_from_jwt(id_token)
    claims = pyjwt.decode(
        id_token,
        signing_key.key,
        algorithms=[alg],
        audience=client_id,
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    token = jose_jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[alg])
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
    )
    registry.validate(token.claims)
    check(token.claims == claims, f"{what}: PyJWT and joserfc read different claims")
    if nonce is None:
        check("nonce" not in claims, f"{what}: a nonce on refresh: {claims!r}")
    else:
        check(claims.get("nonce") == nonce, f"{what}: nonce {claims.get('nonce')!r}, sent {nonce!r}")
    check(claims.get("azp") == client_id, f"{what}: azp {claims!r}")
    check(isinstance(claims.get("auth_time"), int), f"{what}: auth_time {claims!r}")
    check(claims.get("sub", "").startswith("usr_"), f"{what}: sub {claims!r}")
    check(
        claims.get("at_hash") == half_hash(alg, access_token),
        f"{what}: at_hash {claims.get('at_hash')!r}, expected {half_hash(alg, access_token)!r}",
    )
    # A changed signature is refused by both libraries.
    head, body, sig = id_token.split(".")
    forged = f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    for name, attempt in (
        ("PyJWT", lambda: pyjwt.decode(forged, signing_key.key, algorithms=[alg], audience=client_id)),
        ("joserfc", lambda: jose_jwt.decode(forged, KeySet.import_key_set(jwks), algorithms=[alg])),
    ):
        try:
            attempt()
        except Exception:
            continue
        raise CheckFailed(f"{what}: {name} accepted a tampered id_token")
    return claims


def oidc_flow(base, alg, client_id, client_secret, username, password):
    discovery = requests.get(base + "/.well-known/openid-configuration", timeout=TIMEOUT_SECONDS).json()
    check(discovery.get("issuer") == base, f"discovery issuer {discovery.get('issuer')!r}")
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        check(str(discovery.get(key, "")).startswith(base + "/"), f"discovery {key}: {discovery.get(key)!r}")
    check(alg in discovery.get("id_token_signing_alg_values_supported", []), f"discovery algs {discovery!r}")
    check("public" in discovery.get("subject_types_supported", []), "discovery subject_types_supported")
    jwks_resp = requests.get(discovery["jwks_uri"], timeout=TIMEOUT_SECONDS)
    check(jwks_resp.status_code == 200, f"jwks: HTTP {jwks_resp.status_code}")
    jwks = jwks_resp.json()
    for k in jwks.get("keys", []):
        check(not {"d", "p", "q", "dp", "dq", "qi"} & set(k), f"a private member in the JWKS: {sorted(k)}")
    check({k.get("alg") for k in jwks["keys"]} >= {"RS256", "ES256", "EdDSA"}, f"jwks algs {jwks!r}")

    client = OAuth2Session(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope=SCOPE,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        default_timeout=TIMEOUT_SECONDS,
        trust_env=False,
        max_redirects=0,
    )
    with client, requests.Session() as browser:
        browser.trust_env = False
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        url, state = client.create_authorization_url(
            discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        location = sign_in_and_allow(browser, base, url, username, password)
        returned = parse_qs(urlsplit(location).query)
        check(returned.get("iss") == [base], f"authorization response iss (RFC 9207): {location!r}")
        token = client.fetch_token(
            discovery["token_endpoint"], authorization_response=location, state=state, code_verifier=verifier
        )
        id_token = token.get("id_token")
        check(isinstance(id_token, str), f"no id_token in {sorted(token)!r}")
        first = validate(
            id_token, alg, discovery["jwks_uri"], jwks, base, client_id, nonce, token["access_token"], "id_token"
        )
        check(first.get("preferred_username") == username, f"profile claims: {first!r}")
        check("email" in first and first.get("email_verified") is False, f"email claims: {first!r}")

        info = client.get(discovery["userinfo_endpoint"])
        check(info.status_code == 200, f"userinfo: HTTP {info.status_code} {info.text!r}")
        claims = info.json()
        check(claims.get("sub") == first["sub"], f"userinfo sub {claims!r} vs {first['sub']!r}")
        check(claims.get("email") == first.get("email"), f"userinfo email {claims!r}")

        rotated = client.refresh_token(discovery["token_endpoint"], refresh_token=token["refresh_token"])
        again = validate(
            rotated.get("id_token", ""),
            alg,
            discovery["jwks_uri"],
            jwks,
            base,
            client_id,
            None,
            rotated["access_token"],
            "refreshed id_token",
        )
        check(again["sub"] == first["sub"], f"refresh changed sub: {again!r}")
        check(again["auth_time"] == first["auth_time"], f"refresh changed auth_time: {again!r}")


def jwt_access(base, alg, client_id, client_secret, audience):
    discovery = requests.get(base + "/.well-known/openid-configuration", timeout=TIMEOUT_SECONDS).json()
    jwks = requests.get(discovery["jwks_uri"], timeout=TIMEOUT_SECONDS).json()
    with OAuth2Session(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_basic",
        default_timeout=TIMEOUT_SECONDS,
        trust_env=False,
    ) as client:
        token = client.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    access = token["access_token"]
    header = pyjwt.get_unverified_header(access)
    check(header.get("typ") == "at+jwt", f"JWT access token header {header!r}")
    check(header.get("alg") == alg, f"JWT access token alg {header!r}, expected {alg}")
    key = pyjwt.PyJWKClient(discovery["jwks_uri"], timeout=TIMEOUT_SECONDS).get_signing_key_from_jwt(access)
    claims = pyjwt.decode(
        access,
        key.key,
        algorithms=[alg],
        audience=audience,
        issuer=base,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )
    check(claims.get("client_id") == client_id, f"client_id claim {claims!r}")
    check(isinstance(claims.get("scope"), str), f"scope claim {claims!r}")
    token_jose = jose_jwt.decode(access, KeySet.import_key_set(jwks), algorithms=[alg])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": base}, aud={"essential": True, "value": audience}
    ).validate(token_jose.claims)
    try:
        pyjwt.decode(access, key.key, algorithms=[alg], audience="https://someone-else.test", issuer=base)
    except pyjwt.InvalidAudienceError:
        pass
    else:
        raise CheckFailed("PyJWT accepted the JWT access token for another audience")
    me = requests.get(
        base + "/api/v1/users/me", headers={"Authorization": f"Bearer {access}"}, timeout=TIMEOUT_SECONDS
    )
    check(me.status_code == 200, f"/users/me with the JWT access token: HTTP {me.status_code} {me.text!r}")


def main(argv):
    if len(argv) < 5:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 1
    base = loopback_base(argv[1])
    if base is None:
        print(f"refusing {argv[1]!r}: BASE_URL must be a loopback http(s) URL", file=sys.stderr)
        return 1
    username, password = argv[2], argv[3]
    for spec in argv[4:]:
        alg = spec
        try:
            if spec.startswith("jwt:"):
                _, alg, client_id, secret, audience = spec.split(":", 4)
                jwt_access(base, alg, client_id, secret, audience)
                print(f"ok {alg} jwt access token")
                continue
            alg, client_id, secret = spec.split(":", 2)
            oidc_flow(base, alg, client_id, secret, username, password)
        except CheckFailed as failure:
            print(f"FAIL {alg}: {failure}", file=sys.stderr)
            return 1
        except OAuthError as error:
            print(f"FAIL {alg}: OAuth error {error.error!r}: {error.description!r}", file=sys.stderr)
            return 1
        except Exception:
            print(f"FAIL {alg}: unexpected exception", file=sys.stderr)
            traceback.print_exc()
            return 1
        print(f"ok {alg} oidc_flow")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
