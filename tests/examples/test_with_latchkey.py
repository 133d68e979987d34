"""Testing with latchkey, from pytest: a realm per test, the clock moved past a
token's expiry, a queued fault, and the journal asserted on.

    LATCHKEY_URL=http://127.0.0.1:8080 LATCHKEY_ADMIN_PASSWORD=… python -m pytest tests/examples

Run by tests/it/examples.rs against a server it starts (httpx and pytest are
pinned in tests/interop/requirements.txt).
"""

import os
import uuid

import httpx
import pytest

BASE = os.environ.get("LATCHKEY_URL", "http://127.0.0.1:8080")
ADMIN = ("admin", os.environ.get("LATCHKEY_ADMIN_PASSWORD", ""))


@pytest.fixture
def realm():
    """A fresh realm for one test, deleted afterwards; yields an httpx client
    bound to it, authenticated as the default realm's admin (who administers
    every realm)."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=BASE, auth=ADMIN, timeout=10) as root:
        root.post("/api/v1/realms", json={"name": name}).raise_for_status()
        with httpx.Client(base_url=f"{BASE}/realms/{name}", auth=ADMIN, timeout=10) as client:
            yield client
        root.delete(f"/api/v1/realms/{name}").raise_for_status()


def service_client(realm, ttl):
    r = realm.post("/api/v1/clients", json={
        "name": "svc", "type": "confidential", "grant_types": ["client_credentials"],
        "scopes": ["read"], "access_token_ttl_seconds": ttl})
    r.raise_for_status()
    return r.json()["client_id"], r.json()["client_secret"]


def token(realm, cid, secret):
    return realm.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret))


def test_a_token_expires_when_the_clock_passes_it(realm):
    cid, secret = service_client(realm, ttl=300)
    access = token(realm, cid, secret).json()["access_token"]
    seen = realm.post("/oauth/introspect", data={"token": access}, auth=(cid, secret)).json()
    assert seen["active"] is True
    realm.put("/api/v1/test/clock", json={"advance_seconds": 301}).raise_for_status()
    seen = realm.post("/oauth/introspect", data={"token": access}, auth=(cid, secret)).json()
    assert seen == {"active": False}


def test_the_app_sees_a_token_endpoint_outage_and_the_journal_shows_it(realm):
    cid, secret = service_client(realm, ttl=300)
    fault = realm.post("/api/v1/test/faults", json={
        "match": {"endpoint": "token", "client_id": cid},
        "respond": {"oauth_error": "temporarily_unavailable"}})
    assert fault.status_code == 201
    outage = token(realm, cid, secret)
    assert outage.status_code == 503 and outage.json()["error"] == "temporarily_unavailable"
    assert token(realm, cid, secret).status_code == 200  # the fault fired once
    journal = realm.get("/api/v1/test/requests", params={"endpoint": "token", "client_id": cid}).json()
    assert journal["count"] == 2
    faulted, normal = journal["requests"][1], journal["requests"][0]
    assert faulted["fault"] == fault.json()["id"] and faulted["status"] == 503
    assert normal["status"] == 200 and normal["fault"] is None
    assert normal["params"].get("client_secret") in (None, "***")  # never the secret
