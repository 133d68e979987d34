// openid-client (v6) and jose against a running latchkey, as an OpenID
// Connect app and a resource server would use them. Run by tests/it/oidc.rs.
//
// usage: node oidc_client.mjs BASE_URL CLIENT_ID CLIENT_SECRET USERNAME PASSWORD JWT_CLIENT_ID JWT_CLIENT_SECRET AUDIENCE
//
// The first client is confidential with authorization_code and refresh_token, the
// scopes openid and profile, the redirect URI http://127.0.0.1/cb and the
// post-logout URI http://127.0.0.1/bye. The second has client_credentials and
// JWT access tokens for AUDIENCE. No browser: fetch walks the login and consent
// forms with the cookies it was given, and never follows a redirect.
//
// Checks: discovery; the code flow with PKCE, state and nonce, through
// openid-client's authorizationCodeGrant (which also checks the response's iss,
// RFC 9207); the id_token verified by jose against the JWKS (createRemoteJWKSet +
// jwtVerify: signature, issuer, audience); userinfo (fetchUserInfo, same sub);
// a refresh with a new id_token for the same sub; the end-session URL
// (buildEndSessionUrl) redirecting back to the registered URI; a JWT access token
// verified by jose with typ at+jwt and the audience, and refused for another.
// Only loopback URLs; every request has a timeout. Exits 0 when all pass.

import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

const TIMEOUT_MS = 10_000;
const REDIRECT_URI = 'http://127.0.0.1:8765/cb';
const [base, clientId, clientSecret, username, password, jwtClientId, jwtClientSecret, audience] =
  process.argv.slice(2);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const url = new URL(base);
check(['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname), `not a loopback URL: ${base}`);

const cookies = new Map();
async function browse(target, init = {}) {
  const headers = new Headers(init.headers || {});
  if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
  const resp = await fetch(target, {
    ...init,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  for (const line of resp.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const [k, v] = pair.split('=');
    if (attrs.some((a) => a.trim() === 'Max-Age=0')) cookies.delete(k.trim());
    else cookies.set(k.trim(), v);
  }
  return resp;
}

const unescape = (s) =>
  s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

function form(html, what) {
  const action = /<form method="post" action="([^"]+)">/.exec(html);
  check(action, `${what}: no form in ${html.slice(0, 300)}`);
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
    m[1],
    unescape(m[2]),
  ]);
  return { action: new URL(unescape(action[1]), base), fields };
}

async function submit(page, extra, what) {
  const { action, fields } = form(page, what);
  const body = new URLSearchParams([...fields, ...extra]);
  return browse(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

const config = await client.discovery(url, clientId, clientSecret, undefined, {
  execute: [client.allowInsecureRequests],
  timeout: TIMEOUT_MS / 1000,
});
const meta = config.serverMetadata();
check(meta.issuer === base, `discovery issuer ${meta.issuer}`);
check(meta.jwks_uri === `${base}/oauth/jwks`, `jwks_uri ${meta.jwks_uri}`);
const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));

// The code flow.
const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const authorize = client.buildAuthorizationUrl(config, {
  redirect_uri: REDIRECT_URI,
  scope: 'openid profile',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  nonce,
  state,
});
let resp = await browse(authorize);
check(resp.status === 200, `login page: HTTP ${resp.status}`);
resp = await submit(await resp.text(), [['username', username], ['password', password]], 'login');
check(resp.status === 200, `consent page: HTTP ${resp.status}`);
resp = await submit(await resp.text(), [['decision', 'allow']], 'consent');
check(resp.status === 303, `after consent: HTTP ${resp.status}`);
const callback = new URL(resp.headers.get('location'));
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedNonce: nonce,
  expectedState: state,
  idTokenExpected: true,
});
const claims = tokens.claims();
check(claims.sub.startsWith('usr_'), `sub ${claims.sub}`);
check(claims.preferred_username === username, `preferred_username ${claims.preferred_username}`);
const verified = await jwtVerify(tokens.id_token, jwks, { issuer: base, audience: clientId });
check(verified.payload.nonce === nonce, 'jose: nonce');
console.log(`ok code flow (${decodeProtectedHeader(tokens.id_token).alg} id_token verified by jose)`);

const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
check(info.sub === claims.sub && info.preferred_username === username, `userinfo ${JSON.stringify(info)}`);
console.log('ok userinfo');

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
check(refreshed.refresh_token !== tokens.refresh_token, 'refresh rotates');
const again = await jwtVerify(refreshed.id_token, jwks, { issuer: base, audience: clientId });
check(again.payload.sub === claims.sub && again.payload.nonce === undefined, 'refreshed id_token');
console.log('ok refresh with a new id_token');

const logout = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: 'http://127.0.0.1/bye',
  state: 'bye-state',
});
resp = await browse(logout);
check(resp.status === 302, `end session: HTTP ${resp.status}`);
check(resp.headers.get('location') === 'http://127.0.0.1/bye?state=bye-state', `end session: ${resp.headers.get('location')}`);
console.log('ok end session');

// A resource server's view of a JWT access token.
const cc = await client.discovery(url, jwtClientId, jwtClientSecret, undefined, {
  execute: [client.allowInsecureRequests],
});
const granted = await client.clientCredentialsGrant(cc, {});
const access = await jwtVerify(granted.access_token, jwks, { issuer: base, audience, typ: 'at+jwt' });
check(access.payload.client_id === jwtClientId, `client_id ${access.payload.client_id}`);
let refused = false;
try {
  await jwtVerify(granted.access_token, jwks, { issuer: base, audience: 'https://someone-else.test' });
} catch {
  refused = true;
}
check(refused, 'jose accepted a JWT access token for another audience');
console.log('ok JWT access token verified by jose');
