// Testing with latchkey, from Node's built-in test runner: a realm per test,
// the clock moved past a token's expiry, a queued fault, the journal.
//
//   LATCHKEY_URL=http://127.0.0.1:8080 LATCHKEY_ADMIN_PASSWORD=… node --test tests/examples/
//
// Run by tests/it/examples.rs against a server it starts. Node 20+ (fetch, node:test).

import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

const BASE = process.env.LATCHKEY_URL ?? 'http://127.0.0.1:8080';
const basic = (user, pw) => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');
const ADMIN = basic('admin', process.env.LATCHKEY_ADMIN_PASSWORD ?? '');

async function call(path, { method = 'GET', json, form, auth = ADMIN } = {}) {
  const headers = { authorization: auth };
  let body;
  if (json !== undefined) [headers['content-type'], body] = ['application/json', JSON.stringify(json)];
  if (form !== undefined) [headers['content-type'], body] = ['application/x-www-form-urlencoded', new URLSearchParams(form)];
  const resp = await fetch(BASE + path, { method, headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await resp.text();
  return { status: resp.status, body: text ? JSON.parse(text) : null };
}

let realm; // "/realms/<name>", fresh for each test
beforeEach(async () => {
  const name = `n-${randomUUID().slice(0, 12)}`;
  assert.equal((await call('/api/v1/realms', { method: 'POST', json: { name } })).status, 201);
  realm = `/realms/${name}`;
});
afterEach(async () => {
  assert.equal((await call(`/api/v1${realm}`, { method: 'DELETE' })).status, 204);
});

async function serviceClient() {
  const c = await call(`${realm}/api/v1/clients`, {
    method: 'POST',
    json: { name: 'svc', type: 'confidential', grant_types: ['client_credentials'], scopes: ['read'], access_token_ttl_seconds: 300 },
  });
  assert.equal(c.status, 201);
  return basic(c.body.client_id, c.body.client_secret);
}

test('a token expires when the clock passes it', async () => {
  const client = await serviceClient();
  const t = await call(`${realm}/oauth/token`, { method: 'POST', form: { grant_type: 'client_credentials' }, auth: client });
  const introspect = () => call(`${realm}/oauth/introspect`, { method: 'POST', form: { token: t.body.access_token }, auth: client });
  assert.equal((await introspect()).body.active, true);
  assert.equal((await call(`${realm}/api/v1/test/clock`, { method: 'PUT', json: { advance_seconds: 301 } })).status, 200);
  assert.deepEqual((await introspect()).body, { active: false });
});

test('a queued token fault, and the journal shows it', async () => {
  const client = await serviceClient();
  const fault = await call(`${realm}/api/v1/test/faults`, {
    method: 'POST',
    json: { match: { endpoint: 'token' }, respond: { oauth_error: 'invalid_client', description: 'rotated' } },
  });
  assert.equal(fault.status, 201);
  const refused = await call(`${realm}/oauth/token`, { method: 'POST', form: { grant_type: 'client_credentials' }, auth: client });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error, 'invalid_client');
  const journal = await call(`${realm}/api/v1/test/requests?endpoint=token&status=401`);
  assert.equal(journal.body.count, 1);
  assert.equal(journal.body.requests[0].fault, fault.body.id);
});
