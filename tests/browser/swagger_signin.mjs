// Signs in to latchkey's Swagger UI the way a person would, in Debian's
// chromium (never a downloaded browser), and calls GET /api/v1/users/me with
// the token it got:
//
//   /docs → Authorize → oauth2 (authorizationCode) → Authorize → popup: login,
//   consent "Allow" → the receiver page hands the code back → Swagger UI redeems
//   it with PKCE → "Logout" shows → Users / getCurrentUser → Try it out → Execute
//   → the response says auth_method access_token, client_id swagger-ui, USERNAME.
//
// Usage: node swagger_signin.mjs BASE_URL USERNAME PASSWORD
// Environment: CHROMIUM (default /usr/bin/chromium); ARTIFACT_DIR, where a
// screenshot goes on failure (default target/browser-artifacts under the
// working directory). Run by tests/it/swagger.rs, which installs playwright-core
// from package.json beside this file.
//
// Every wait is bounded (STEP_TIMEOUT_MS); the page may only ever reach
// BASE_URL's origin: anything else is aborted and fails the run. Exit 0 on
// success; otherwise what failed, the page's visible text and a screenshot path
// go to stderr and the exit status is 1.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

/** The longest any single step (a click, a page load, an appearance) may take. */
const STEP_TIMEOUT_MS = 15_000;

const [baseArg, username, password] = process.argv.slice(2);
if (!baseArg || !username || !password) {
  console.error('usage: node swagger_signin.mjs BASE_URL USERNAME PASSWORD');
  process.exit(2);
}
const base = new URL(baseArg);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  console.error(`refusing a non-loopback BASE_URL: ${baseArg}`);
  process.exit(2);
}
const origin = base.origin;
const artifacts = resolve(process.env.ARTIFACT_DIR || 'target/browser-artifacts');

/** Requests the page tried to make outside `origin` (all aborted). */
const offOrigin = [];
/** The step being run, for the failure report. */
let step = 'launching chromium';

function log(message) {
  console.log(`[swagger_signin] ${message}`);
}

/** The value of `step`, logged: the last line printed says how far the run got. */
function begin(what) {
  step = what;
  log(what);
}

function isOwn(url) {
  try {
    const parsed = new URL(url);
    // data: and blob: URLs stay inside the page (Swagger UI's inline images).
    return parsed.origin === origin || parsed.protocol === 'data:' || parsed.protocol === 'blob:';
  } catch {
    return false;
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
  headless: true,
  timeout: STEP_TIMEOUT_MS,
});

let page;
let popup;
try {
  const context = await browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  // Every request of every page in this context, popups included.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isOwn(url)) {
      return route.continue();
    }
    offOrigin.push(url);
    return route.abort('blockedbyclient');
  });

  page = await context.newPage();
  page.on('pageerror', (err) => log(`page error: ${err.message}`));

  begin(`opening ${origin}/docs`);
  await page.goto(`${origin}/docs`, { waitUntil: 'load' });

  begin('opening the Authorize dialog');
  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor({ state: 'visible' });

  // The oauth2 scheme has two flows, each in its own container; pick the code flow.
  const codeFlow = dialog
    .locator('.auth-container')
    .filter({ hasText: 'authorizationCode' })
    .filter({ hasText: 'oauth2' });
  await codeFlow.waitFor({ state: 'visible' });
  const clientId = await codeFlow.locator('input#client_id, input[data-name="clientId"]').first().inputValue();
  if (clientId !== 'swagger-ui') {
    throw new Error(`the dialog's client_id is ${JSON.stringify(clientId)}, not "swagger-ui" (initOAuth missing?)`);
  }

  begin('starting the authorization-code flow (Authorize in the oauth2 authorizationCode section)');
  const popupOpened = page.waitForEvent('popup', { timeout: STEP_TIMEOUT_MS });
  await codeFlow.locator('button.authorize').click();
  popup = await popupOpened;
  popup.on('pageerror', (err) => log(`popup error: ${err.message}`));

  begin('signing in on the login page');
  await popup.waitForLoadState('load');
  assertOwn(popup.url(), 'the login page');
  await popup.locator('#username').fill(username);
  await popup.locator('#password').fill(password);
  await popup.locator('button[type=submit]').click();

  begin('allowing on the consent page');
  // Only raced against a bounded wait: it is there to notice a popup that closes early.
  const closedEarly = new Promise((done) => popup.once('close', done));
  const allow = popup.locator('button[name=decision][value=allow]');
  // A refused login shows the form again with an alert.
  const alert = popup.locator('.alert');
  const shown = await Promise.race([
    allow.or(alert).first().waitFor({ state: 'visible' }).then(() => 'page'),
    closedEarly.then(() => 'closed'),
  ]);
  if (shown === 'closed') {
    throw new Error('the popup closed without showing the consent page');
  }
  if (await alert.count()) {
    throw new Error(`the login page says: ${(await alert.allInnerTexts()).join(' | ')}`);
  }
  assertOwn(popup.url(), 'the consent page');
  // The receiver page closes the popup once it has handed the code to Swagger UI.
  const popupClosed = popup.waitForEvent('close', { timeout: STEP_TIMEOUT_MS });
  await allow.click();
  await popupClosed;
  popup = undefined;

  begin('waiting for the authorizationCode flow to show as authorized');
  const logout = codeFlow.locator('button', { hasText: 'Logout' });
  const errors = codeFlow.locator('.errors');
  await logout.or(errors).first().waitFor({ state: 'visible' });
  if (await errors.count()) {
    throw new Error(`Swagger UI reports: ${(await errors.allInnerTexts()).join(' | ')}`);
  }

  begin('closing the dialog');
  await codeFlow.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'hidden' });

  begin('trying out GET /api/v1/users/me');
  const op = page.locator('#operations-Users-getCurrentUser');
  await op.locator('.opblock-summary').first().click();
  await op.locator('button.try-out__btn').click();
  await op.locator('button.execute').click();
  const live = op.locator('.live-responses-table');
  const status = live.locator('.response .response-col_status').first();
  await status.waitFor({ state: 'visible' });
  const body = live.locator('.response-col_description .highlight-code pre').first();
  await body.waitFor({ state: 'visible' });
  const statusText = (await status.innerText()).trim();
  const bodyText = await body.innerText();
  log(`response ${statusText}: ${bodyText.replace(/\s+/g, ' ')}`);

  begin('checking the response');
  if (!statusText.startsWith('200')) {
    throw new Error(`GET /api/v1/users/me answered ${statusText}: ${bodyText}`);
  }
  let me;
  try {
    me = JSON.parse(bodyText);
  } catch (err) {
    throw new Error(`the response body is not JSON (${err.message}): ${bodyText}`);
  }
  const expected = { auth_method: 'access_token', client_id: 'swagger-ui', username };
  for (const [field, want] of Object.entries(expected)) {
    if (me[field] !== want) {
      throw new Error(`users/me ${field} is ${JSON.stringify(me[field])}, expected ${JSON.stringify(want)}: ${bodyText}`);
    }
  }
  if (offOrigin.length) {
    throw new Error(`the page tried to leave ${origin}: ${offOrigin.join(', ')}`);
  }
  log('ok: signed in through Swagger UI and called users/me with its token');
  await browser.close();
  process.exit(0);
} catch (err) {
  console.error(`FAILED while ${step}: ${err.stack || err}`);
  if (offOrigin.length) {
    console.error(`requests outside ${origin} (aborted): ${offOrigin.join(', ')}`);
  }
  for (const [name, p] of [['popup', popup], ['page', page]]) {
    if (p && !p.isClosed()) {
      await report(name, p);
    }
  }
  await browser.close().catch(() => {});
  process.exit(1);
}

/** Fails unless `url` is on the server's origin. */
function assertOwn(url, what) {
  if (new URL(url).origin !== origin) {
    throw new Error(`${what} is at ${url}, outside ${origin}`);
  }
}

/** Prints a page's URL and visible text to stderr and saves a screenshot under `artifacts`. */
async function report(name, p) {
  console.error(`--- ${name} at ${p.url()}`);
  try {
    const text = await p.locator('body').innerText({ timeout: 5_000 });
    console.error(text.length > 8_000 ? `${text.slice(0, 8_000)}\n… (${text.length} characters)` : text);
  } catch (err) {
    console.error(`(no visible text: ${err.message})`);
  }
  try {
    mkdirSync(artifacts, { recursive: true });
    const path = join(artifacts, `swagger_signin-${name}.png`);
    await p.screenshot({ path, fullPage: true, timeout: 10_000 });
    console.error(`--- screenshot: ${path}`);
  } catch (err) {
    console.error(`(no screenshot: ${err.message})`);
  }
}
