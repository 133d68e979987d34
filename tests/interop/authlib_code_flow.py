#!/usr/bin/env python3
"""Interop check: Authlib's authorization-code client against a running latchkey.

Usage: authlib_code_flow.py BASE_URL CLIENT_ID CLIENT_SECRET PUBLIC_CLIENT_ID USERNAME PASSWORD

BASE_URL is the server under test and must be a loopback http(s) URL. Both clients
must be allowed the authorization_code and refresh_token grants, the scope "read",
and the redirect URI http://127.0.0.1/cb (a loopback URI registered without a port,
so any port matches). CLIENT_ID is confidential (its secret is CLIENT_SECRET),
PUBLIC_CLIENT_ID is public; USERNAME/PASSWORD is a user who has not yet consented.

There is no browser: a requests.Session keeps the cookies, reads the login and
consent forms with html.parser and posts them, and never follows a redirect, so
the code comes from the Location header. For the confidential client
(client_secret_basic) and then the public one (token_endpoint_auth_method none)
this runs Authlib's create_authorization_url with an S256 code_verifier, signs in,
allows, fetches the token with the verifier, uses it at /api/v1/users/me, refreshes
it, and checks rotation: the new refresh token differs, the old one is refused with
invalid_grant, and that reuse has revoked the new one too.

Run by tests/it/interop.rs (authlib_code_flow_with_pkce_and_refresh) inside a venv
built from tests/interop/requirements.txt. Exits 0 when every check passes;
otherwise prints what failed to stderr and exits 1.
"""

import ipaddress
import secrets
import sys
import traceback
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

# Every request carries this timeout, so a hung server fails the run instead of stalling it.
TIMEOUT_SECONDS = 10
# Registered without a port; the server must accept it on any loopback port. Nothing
# listens there: the script reads the redirect instead of following it.
REDIRECT_URI = "http://127.0.0.1:8765/cb"
SCOPE = "read"


class CheckFailed(Exception):
    """One expectation about the server's answers did not hold."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def is_loopback(url):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def loopback_base(url):
    """The URL without a trailing slash, or None when it is not a loopback http(s) URL."""
    return url.rstrip("/") if is_loopback(url) else None


class FormParser(HTMLParser):
    """Collects each <form>'s method, action, inputs and submit buttons (values unescaped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "method": (attrs.get("method") or "get").lower(),
                    "action": attrs.get("action") or "",
                    "hidden": [],
                    "inputs": set(),
                    "buttons": [],
                }
            )
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("name"):
            if (attrs.get("type") or "text").lower() == "hidden":
                self.forms[-1]["hidden"].append((attrs["name"], attrs.get("value") or ""))
            else:
                self.forms[-1]["inputs"].add(attrs["name"])
        elif tag == "button" and attrs.get("name"):
            self.forms[-1]["buttons"].append((attrs["name"], attrs.get("value") or ""))


def the_form(resp, what):
    """The one form of an HTML page answered with 200."""
    check(
        resp.status_code == 200,
        f"{what}: HTTP {resp.status_code}, Location {resp.headers.get('location')!r}, body {resp.text[:500]!r}",
    )
    check(
        resp.headers.get("content-type", "").startswith("text/html"),
        f"{what}: content-type {resp.headers.get('content-type')!r}",
    )
    parser = FormParser()
    parser.feed(resp.text)
    parser.close()
    check(len(parser.forms) == 1, f"{what}: expected one form, found {len(parser.forms)}: {resp.text[:500]!r}")
    form = parser.forms[0]
    check(form["method"] == "post", f"{what}: form method {form['method']!r}")
    return form


def submit(browser, base, page_url, form, fields, what):
    """Posts the form's hidden fields plus `fields`, without following a redirect."""
    action = urljoin(page_url, form["action"])
    check(action.startswith(base + "/"), f"{what}: form posts to {action!r}, not to the server under test")
    data = list(form["hidden"]) + list(fields)
    return browser.post(action, data=data, allow_redirects=False, timeout=TIMEOUT_SECONDS)


def sign_in_and_allow(browser, base, authorize_url, username, password):
    """Walks the login and consent pages; returns the Location the server redirects to."""
    resp = browser.get(authorize_url, allow_redirects=False, timeout=TIMEOUT_SECONDS)
    login = the_form(resp, "authorization request (login page)")
    check(
        {"username", "password"} <= login["inputs"],
        f"login page: inputs {sorted(login['inputs'])!r}",
    )
    check(
        any(name == "csrf_token" and value for name, value in login["hidden"]),
        f"login page: no csrf_token among {login['hidden']!r}",
    )
    check("lk_csrf" in browser.cookies, f"login page: no lk_csrf cookie in {sorted(browser.cookies.keys())!r}")

    resp = submit(
        browser, base, resp.url, login, [("username", username), ("password", password)], "login"
    )
    consent = the_form(resp, "login (consent page)")
    check(
        ("decision", "allow") in consent["buttons"],
        f"consent page: buttons {consent['buttons']!r}",
    )
    check("lk_session" in browser.cookies, f"after login: no lk_session cookie in {sorted(browser.cookies.keys())!r}")

    resp = submit(browser, base, resp.url, consent, [("decision", "allow")], "consent")
    check(
        resp.status_code == 303,
        f"consent: HTTP {resp.status_code}, body {resp.text[:500]!r}",
    )
    location = resp.headers.get("location", "")
    check(location.startswith(REDIRECT_URI + "?"), f"consent: Location {location!r}")
    return location


def oauth_error(call, what):
    """The RFC 6749 error code of a token request that must fail."""
    try:
        token = call()
    except OAuthError as error:
        return error.error
    raise CheckFailed(f"{what}: expected an error, got a token {token!r}")


def session(client_id, client_secret, method):
    """An Authlib session for the code flow that authenticates with `method` at the token endpoint."""
    return OAuth2Session(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method=method,
        scope=SCOPE,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        default_timeout=TIMEOUT_SECONDS,
        # No proxies or ~/.netrc from the environment: talk to the test server, as given.
        trust_env=False,
        # A redirect from the token endpoint or the API is a bug, not something to follow.
        max_redirects=0,
    )


def code_flow(base, client_id, client_secret, method, username, password):
    """Authorizes, redeems with PKCE, uses, refreshes and replays a refresh token, authenticating with `method`."""
    authorize_url = base + "/oauth/authorize"
    token_url = base + "/oauth/token"
    me_url = base + "/api/v1/users/me"

    with session(client_id, client_secret, method) as client, requests.Session() as browser:
        # No proxies or ~/.netrc from the environment: talk to the test server, as given.
        browser.trust_env = False
        code_verifier = secrets.token_urlsafe(48)
        url, state = client.create_authorization_url(authorize_url, code_verifier=code_verifier)
        check(is_loopback(url), f"authorization URL {url!r} is not on the loopback server")

        location = sign_in_and_allow(browser, base, url, username, password)
        returned = parse_qs(urlsplit(location).query)
        check(returned.get("state") == [state], f"state {state!r} not echoed verbatim: Location {location!r}")
        code = returned.get("code", [""])[0]
        check(code.startswith("lk_ac_"), f"code: Location {location!r}")

        # Authlib checks the state again and sends code, redirect_uri and code_verifier.
        token = client.fetch_token(
            token_url, authorization_response=location, state=state, code_verifier=code_verifier
        )
        check(token.get("token_type") == "Bearer", f"token_type: {token!r}")
        check(token.get("scope") == SCOPE, f"scope: {token!r}")
        check(isinstance(token.get("expires_in"), int) and token["expires_in"] > 0, f"expires_in: {token!r}")
        access = token.get("access_token")
        refresh = token.get("refresh_token")
        check(isinstance(access, str) and access.startswith("lk_at_"), f"access_token: {token!r}")
        check(isinstance(refresh, str) and refresh.startswith("lk_rt_"), f"refresh_token: {token!r}")

        # The session now sends `Authorization: Bearer <access_token>` itself.
        me = client.get(me_url)
        check(me.status_code == 200, f"/users/me with the token: HTTP {me.status_code}, body {me.text!r}")
        who = me.json()
        check(who.get("auth_method") == "access_token", f"/users/me auth_method: {who!r}")
        check(who.get("client_id") == client_id, f"/users/me client_id: {who!r}")
        check(who.get("username") == username, f"/users/me username: {who!r}")

        rotated = client.refresh_token(token_url, refresh_token=refresh)
        new_access = rotated.get("access_token")
        new_refresh = rotated.get("refresh_token")
        check(
            isinstance(new_access, str) and new_access.startswith("lk_at_") and new_access != access,
            f"refreshed access_token: {rotated!r}",
        )
        check(
            isinstance(new_refresh, str) and new_refresh.startswith("lk_rt_") and new_refresh != refresh,
            f"refresh did not rotate the refresh token: old {refresh!r}, response {rotated!r}",
        )
        check(rotated.get("scope") == SCOPE, f"refreshed scope: {rotated!r}")
        me = client.get(me_url)
        check(me.status_code == 200, f"/users/me with the refreshed token: HTTP {me.status_code}, body {me.text!r}")

        # Replaying the spent refresh token is refused and revokes the whole family.
        error = oauth_error(lambda: client.refresh_token(token_url, refresh_token=refresh), "a reused refresh token")
        check(error == "invalid_grant", f"a reused refresh token: error {error!r}, not invalid_grant")
        error = oauth_error(
            lambda: client.refresh_token(token_url, refresh_token=new_refresh),
            "the rotated refresh token after its predecessor was reused",
        )
        check(
            error == "invalid_grant",
            f"the rotated refresh token after its predecessor was reused: error {error!r}, not invalid_grant",
        )
        for what, token_value in (("first", access), ("refreshed", new_access)):
            me = browser.get(
                me_url,
                headers={"Authorization": f"Bearer {token_value}"},
                allow_redirects=False,
                timeout=TIMEOUT_SECONDS,
            )
            check(
                me.status_code == 401,
                f"/users/me with the {what} access token of a revoked family: HTTP {me.status_code}, body {me.text!r}",
            )


def main(argv):
    if len(argv) != 7:
        print(
            "usage: authlib_code_flow.py BASE_URL CLIENT_ID CLIENT_SECRET PUBLIC_CLIENT_ID USERNAME PASSWORD",
            file=sys.stderr,
        )
        return 1
    base = loopback_base(argv[1])
    if base is None:
        print(f"refusing {argv[1]!r}: BASE_URL must be a loopback http(s) URL", file=sys.stderr)
        return 1
    client_id, client_secret, public_id, username, password = argv[2:]

    runs = (
        ("confidential client_secret_basic", client_id, client_secret, "client_secret_basic"),
        ("public none", public_id, None, "none"),
    )
    for label, cid, secret, method in runs:
        try:
            code_flow(base, cid, secret, method, username, password)
        except CheckFailed as failure:
            print(f"FAIL {label}: {failure}", file=sys.stderr)
            return 1
        except OAuthError as error:
            print(f"FAIL {label}: OAuth error {error.error!r}: {error.description!r}", file=sys.stderr)
            return 1
        except Exception:  # a timeout, a refused connection, a non-JSON body, an Authlib bug...
            print(f"FAIL {label}: unexpected exception", file=sys.stderr)
            traceback.print_exc()
            return 1
        print(f"ok {label} code_flow")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
