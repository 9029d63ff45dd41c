import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchBrowser, login, screenshot, startConsoleServer, type ConsoleServer } from './helpers/browser.js';
import { seedList } from './helpers/fixtures.js';
import { reportXml } from './fixtures/dmarc/report-xml.js';
import { smtpSend } from './helpers/smtp-client.js';

/** An RFC 3464 DSN from a remote MTA for one of our messages. */
function dsn(rcpt: string, original: string) {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>', 'To: <>', 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '', '--B', 'Content-Type: text/plain', '', 'I could not deliver your message.', '',
    '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '', `Final-Recipient: rfc822; ${rcpt}`, 'Action: failed',
    'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 The email account that you tried to reach does not exist', '',
    '--B', 'Content-Type: text/rfc822-headers', '', original.split(/\r?\n\r?\n/)[0], '', '--B--', '',
  ].join('\r\n');
}

/** expect.poll with room for a loaded shared machine (the default gives up after 1 s). */
const poll = <T>(fn: () => T | Promise<T>, opts: { timeout?: number; message?: string } = {}) => expect.poll(fn, { timeout: 10_000, ...opts });

// Browser tests use SQLite only (the API they drive is covered on both dialects elsewhere).
describe.skipIf(!browserAvailable())('web console in Chromium (issue 8)', () => {
  let s: ConsoleServer;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    s = await startConsoleServer();
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB', acceptDownloads: true });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
    page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await s?.t.close();
  });

  it('logs in by keyboard with the first admin; a wrong password shows the error and sets no cookie', async () => {
    await page.goto(`${s.url}/`);
    expect(page.url()).toBe(`${s.url}/console/`);
    await page.getByLabel('E-mail address').waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('type'))).toBe('email');
    await page.keyboard.type(s.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    await poll(() => page.getByRole('alert').textContent()).toContain('wrong');
    expect((await ctx.cookies()).find((c) => c.name === 'tegami_session')).toBeUndefined();
    await page.getByLabel('Password').fill(s.password);
    await page.keyboard.press('Enter');
    await page.getByTestId('current-user').waitFor();
    expect(await page.getByTestId('current-user').textContent()).toContain(s.email);
    const cookie = (await ctx.cookies()).find((c) => c.name === 'tegami_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    // The page script cannot read the session cookie.
    expect(await page.evaluate(() => document.cookie)).not.toContain('tegami_session');
    await screenshot(page, 'login-done');
  });

  it('renders the dashboard charts; cards whose endpoint is absent say so instead of breaking', async () => {
    await s.t.api('POST', '/v1/suppressions', { entries: [
      { address: 'chart1@example.net', scope: 'account', reason: 'unsubscribe' },
      { address: 'chart2@example.net', scope: 'account', reason: 'hard_bounce' },
      { address: 'chart3@example.net', scope: 'account', reason: 'hard_bounce' },
    ] });
    await page.goto(`${s.url}/console/`);
    await page.getByTestId('chart-unsubscribes').locator('svg polyline').waitFor({ state: 'attached' });
    const lastPoint = page.getByTestId('chart-unsubscribes').locator('circle').last();
    expect(await lastPoint.locator('title').textContent()).toMatch(/: 1$/);
    const bars = page.getByTestId('chart-suppressions').locator('svg rect');
    await poll(() => bars.count()).toBe(6);
    expect(await page.getByTestId('chart-suppressions').locator('svg > title').textContent()).toContain('Hard bounce 2');
    await poll(() => page.getByTestId('chart-bounces').locator('svg polyline').count()).toBe(3);
    // Volume per provider group and the spam rate with its 0.1 % and 0.3 % lines (issue 6's API).
    await page.getByTestId('chart-volume').locator('svg').waitFor();
    await page.getByTestId('chart-spam-rate').locator('svg').waitFor();
    const lines = page.getByTestId('chart-spam-rate').locator('.threshold text');
    expect(await lines.allTextContents()).toEqual(['0.10% warning', '0.30% pause']);
    await poll(() => page.getByTestId('card-bulk').textContent()).toContain('No domain is a bulk sender yet.');
    expect(await page.getByTestId('not-available').count()).toBe(0);
    expect(await page.locator('.error').count()).toBe(0);
    await screenshot(page, 'dashboard');
    expect(errors).toEqual([]);
  });

  it('searches the suppression list, resubscribes with a note, and downloads a CSV whose rows match', async () => {
    const list = await seedList(s.t.db.db, s.t.accountId, 'Sup list', []);
    const add = await s.t.api('POST', '/v1/suppressions', { entries: [
      { address: 'keep.one@example.org', scope: 'account', reason: 'complaint' },
      { address: 'keep.two@example.org', scope: 'list', list_id: list.id, reason: 'unsubscribe', note: 'form' },
      { address: 'keep.back@example.org', scope: 'account', reason: 'manual' },
      { address: 'other@example.org', scope: 'account', reason: 'manual' },
    ] });
    expect(add.status).toBe(201);
    await page.getByRole('link', { name: 'Suppression list' }).click();
    await page.getByTestId('sup-prefix').fill('keep.');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const results = page.getByTestId('sup-results');
    await poll(() => results.locator('tbody tr').count()).toBe(3);
    expect(await results.textContent()).not.toContain('other@example.org');
    await results.getByRole('button', { name: 'keep.back@example.org' }).click();
    const hist = page.getByTestId('sup-history');
    await hist.getByRole('button', { name: 'Resubscribe' }).click();
    await hist.getByLabel('Why is this address resubscribed?').fill('customer asked by phone, ticket 42');
    await hist.getByRole('button', { name: 'Remove suppression' }).click();
    await poll(() => hist.getByRole('status').textContent()).toContain('keep.back@example.org was removed');
    await poll(() => hist.locator('.timeline li').count()).toBe(2);
    expect(await hist.locator('.timeline').textContent()).toContain('ticket 42');
    const ledger = await s.t.api('GET', '/v1/suppressions/keep.back@example.org');
    expect(ledger.json.entries).toEqual([]);
    expect(ledger.json.history.map((h: { action: string; note: string | null }) => [h.action, h.note])).toEqual(
      expect.arrayContaining([['remove', 'customer asked by phone, ticket 42']]));
    await poll(() => results.locator('tbody tr').count()).toBe(2);
    await screenshot(page, 'suppressions-resubscribed');

    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sup-export').click()]);
    expect(dl.suggestedFilename()).toBe('suppressions.csv');
    const rows = parse(readFileSync((await dl.path())!), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.address, r.scope, r.list_id, r.reason, r.note]).sort()).toEqual([
      ['keep.one@example.org', 'account', '', 'complaint', ''],
      ['keep.two@example.org', 'list', list.id, 'unsubscribe', 'form'],
    ]);
  });

  it('creates a campaign, previews it, sends a test, schedules it and follows the progress bar to done', async () => {
    const dom = await s.t.api('POST', '/v1/domains', { name: 'example.com' });
    expect(dom.status).toBe(201);
    s.publish((await s.t.api('GET', `/v1/domains/${dom.json.id}/dns`)).json.records);
    const rcpts = Array.from({ length: 12 }, (_, i) => `reader${i}@example.net`);
    await seedList(s.t.db.db, s.t.accountId, 'Readers', rcpts, { attributes: (i) => ({ name: `Reader ${i}` }) });
    await s.t.api('POST', '/v1/suppressions', { entries: [{ address: 'reader3@example.net', scope: 'account', reason: 'complaint' }] });
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByTestId('cmp-name').fill('November news');
    await page.getByLabel('Readers').check();
    await page.getByTestId('cmp-from').fill('"Example News" <news@example.com>');
    await page.getByTestId('cmp-subject').fill('Hello ');
    await page.getByTestId('cmp-subject').focus();
    await page.getByRole('button', { name: 'Insert {{ contact.name }}' }).click();
    expect(await page.getByTestId('cmp-subject').inputValue()).toBe('Hello {{ contact.name }}');
    await page.getByTestId('cmp-html').fill('<p>Dear {{ contact.name }},</p><p>News for {{ email }}.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>');
    await page.getByTestId('cmp-create').click();
    await page.getByTestId('campaign-status').waitFor();
    expect(await page.getByTestId('campaign-status').textContent()).toBe('Draft');
    const id = page.url().split('/').pop()!;

    const preview = page.getByTestId('campaign-preview');
    await preview.getByLabel('Preview for address').fill('reader1@example.net');
    await preview.getByRole('button', { name: 'Render' }).click();
    await poll(async () => (await preview.frameLocator('iframe').locator('body').textContent()) ?? '').toContain('News for reader1@example.net');
    await preview.getByRole('tab', { name: 'Headers' }).click();
    await poll(() => preview.locator('table.headers').textContent()).toContain('List-Unsubscribe-Post');
    expect(await preview.locator('table.headers').textContent()).toContain('One-Click');

    await page.getByTestId('cmp-test-to').fill('tester@example.org');
    await page.getByTestId('cmp-test-send').click();
    await poll(() => page.getByTestId('test-result').textContent()).toContain('tester@example.org: Queued');
    await screenshot(page, 'campaign-draft');

    await page.getByTestId('cmp-schedule').click();
    const bar = page.getByTestId('campaign-progress');
    await poll(() => bar.getAttribute('aria-valuenow'), { timeout: 30_000 }).toBe('100');
    await poll(() => page.getByTestId('campaign-status').textContent(), { timeout: 30_000 }).toBe('Sent');
    expect(await page.getByTestId('r-sent').textContent()).toBe('11');
    expect(await page.getByTestId('r-skipped').textContent()).toBe('1');
    expect(await page.getByTestId('campaign-progress-card').textContent()).toContain('suppressed:complaint');
    await screenshot(page, 'campaign-sent');

    const captured = await s.t.api('GET', '/v1/captured?limit=500');
    const to = captured.json.items.map((c: { rcpt_to: string }) => c.rcpt_to);
    expect(to).toContain('tester@example.org');
    expect(to.filter((x: string) => x.startsWith('reader')).sort()).toEqual(rcpts.filter((r) => r !== 'reader3@example.net').sort());
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download results (CSV)' }).click()]);
    const report = parse(readFileSync((await dl.path())!), { columns: true }) as Array<Record<string, string>>;
    expect(report).toHaveLength(12);
    expect(report.filter((r) => r.status === 'sent')).toHaveLength(11);
    expect(dl.suggestedFilename()).toBe(`${id}.csv`);

    // The dashboard's volume chart now counts what the worker sent (per provider group).
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await poll(async () => {
      const figures = await page.getByTestId('volume-today').locator('dd').allTextContents();
      return figures.reduce((a, x) => a + Number(x.replace(/\D/g, '')), 0);
    }, { timeout: 15_000 }).toBe(12);
    await screenshot(page, 'dashboard-after-send');
  });

  it('shows a domain\'s DNS records to copy and rotates its keys', async () => {
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByLabel('Domain', { exact: true }).fill('mail.example.jp');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const records = page.getByTestId('dns-record');
    await poll(() => records.count()).toBeGreaterThan(3);
    const id = page.url().split('/').pop()!;
    const dns = await s.t.api('GET', `/v1/domains/${id}/dns`);
    expect(await records.count()).toBe(dns.json.records.length);
    const dkim = dns.json.records.find((r: { name: string; value: string }) => r.name.includes('._domainkey') && r.value.includes('k=ed25519'));
    const row = records.filter({ hasText: dkim.name });
    expect(await row.locator('code.wrap').textContent()).toBe(dkim.value);
    await row.getByRole('button', { name: new RegExp(`^Copy TXT ${dkim.name.replace(/\./g, '\\.')}`) }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(dkim.value);
    // Nothing is published yet: the check fails with rule ids and the records to publish.
    const check = page.getByTestId('card-domain-check');
    await poll(() => check.locator('[data-testid=findings] tbody tr').count(), { timeout: 15_000 }).toBeGreaterThan(2);
    expect(await check.textContent()).toMatch(/R-AUTH-\d+/);
    expect(await check.locator('.b-error').count()).toBeGreaterThan(0);
    expect(await check.textContent()).toContain('DKIM ✗');
    s.publish(dns.json.records);
    await check.getByTestId('run-check').click();
    await poll(() => check.textContent(), { timeout: 15_000 }).toContain('DKIM ✓');
    expect(await check.textContent()).toContain('DMARC ✓');
    await screenshot(page, 'domain-dns');
    page.once('dialog', (d) => d.accept());
    await page.getByLabel('Unsubscribe host').fill('unsub.mail.example.jp');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await poll(() => records.filter({ hasText: 'CNAME' }).count()).toBe(1);
    expect(await records.filter({ hasText: 'CNAME' }).textContent()).toContain('unsub.mail.example.jp');
    await page.getByTestId('rotate-key').click();
    await poll(() => page.getByRole('status').first().textContent()).toContain('New keys are active');
    const keys = (await s.t.api('GET', `/v1/domains/${id}`)).json.keys;
    expect(keys.filter((k: { status: string }) => k.status === 'retiring')).toHaveLength(2);
    await poll(() => page.locator('.badge', { hasText: 'Retiring' }).count()).toBe(2);
  });

  it('imports contacts and suppressions from CSV with a progress bar and a rejected-rows report', async () => {
    await page.getByRole('link', { name: 'Lists & contacts' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Imported');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'List: Imported' }).waitFor();
    const csv = 'email,name,consent_source\nsato@example.jp,Sato,web form\nnot-an-address,Bad,web form\nsuzuki@example.jp,Suzuki,web form\n';
    await page.getByLabel('CSV file').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload' }).click();
    const report = page.getByTestId('import-report');
    await report.waitFor();
    expect(await page.getByTestId('import-progress').getAttribute('aria-valuenow')).toBe('100');
    expect(await report.textContent()).toContain('Rejected rows (1)');
    expect(await report.locator('tbody tr td').first().textContent()).toBe('3');
    await poll(() => page.getByTestId('count-subscribed').textContent()).toBe('2');
    await screenshot(page, 'list-import');

    // The contact's page: consent evidence from the import, then an unsubscribe by hand.
    await page.getByRole('link', { name: 'Lists & contacts' }).click();
    await page.getByLabel('Address (prefix)').fill('sato@');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: 'sato@example.jp' }).click();
    const subs = page.locator('section', { has: page.getByRole('heading', { name: 'Subscriptions and consent' }) });
    await poll(() => subs.locator('tbody').textContent()).toContain('Imported');
    expect(await subs.locator('tbody').textContent()).toContain('web form');
    await subs.getByLabel('List', { exact: true }).selectOption({ label: 'Imported' });
    await subs.getByLabel('Status', { exact: true }).selectOption('unsubscribed');
    await subs.getByRole('button', { name: 'Set subscription' }).click();
    await poll(() => subs.locator('tbody .badge').first().textContent()).toBe('Unsubscribed');
    await screenshot(page, 'contact');

    await page.getByRole('link', { name: 'Suppression list' }).click();
    const sup = 'address,reason,note\nimported1@example.jp,manual,from old system\nbroken@@example.jp,manual,\nimported2@example.jp,complaint,\n';
    await page.getByLabel('CSV file').setInputFiles({ name: 'sup.csv', mimeType: 'text/csv', buffer: Buffer.from(sup) });
    await page.getByRole('button', { name: 'Upload' }).click();
    const rep = page.getByTestId('import-report');
    await rep.waitFor();
    expect(await rep.textContent()).toContain('Rejected rows (1)');
    expect(await rep.locator('dl').textContent()).toMatch(/Added\s*2/);
    // The upload's audit row, in the past uploads: done, 3 rows, 2 added, 1 rejected.
    await poll(() => page.getByTestId('sup-imports').locator('tbody tr').first().textContent()).toMatch(/Done.*3\s*2\s*0\s*1$/);
    const entry = await s.t.api('GET', '/v1/suppressions/imported1@example.jp');
    expect(entry.json.entries[0]).toMatchObject({ reason: 'manual', note: 'from old system' });
  });

  it('shows a message with its events timeline and checks the captured copy against the sender rules', async () => {
    const sent = (await s.t.api('GET', '/v1/messages?recipient=reader1@example.net')).json.items[0];
    await page.goto(`${s.url}/console/messages?recipient=reader1@example.net`);
    await page.getByRole('link', { name: /2026|20\d\d/ }).first().click();
    const timeline = page.getByTestId('events-timeline');
    await poll(() => timeline.locator('li').count()).toBeGreaterThan(0);
    expect(await timeline.textContent()).toContain('Sent');
    expect(page.url()).toContain(`/messages/${sent.id}`);
    await page.getByTestId('lint-captured').click();
    const findings = page.getByTestId('captured').getByTestId('findings');
    await findings.waitFor();
    await screenshot(page, 'message-timeline');
    expect(await findings.textContent()).toContain('R-UNSUB');
    expect(await page.getByTestId('captured').getByRole('status').textContent()).toMatch(/Linted as Subscription: 0 errors/);
  });

  it('shows a DSN in the bounce log with its raw report; the chart and the ledger count it', async () => {
    const cap = (await s.t.api('GET', '/v1/captured?rcpt=reader5@example.net')).json.items[0];
    const raw = (await s.t.api('GET', `/v1/captured/${cap.id}/raw`)).body;
    const r = await smtpSend(s.t.inboundPort!, '', cap.mail_from, dsn('reader5@example.net', raw));
    expect(r.ok, r.text).toBe(true);
    await page.getByRole('link', { name: 'Bounces & complaints' }).click();
    const row = page.locator('tr', { hasText: 'reader5@example.net' });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/hard_bounce.*5\.1\.1/);
    await row.getByRole('button', { name: 'Raw report' }).click();
    await poll(() => page.getByTestId('bounce-raw').textContent()).toContain('Final-Recipient: rfc822; reader5@example.net');
    await screenshot(page, 'bounces-raw');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const hard = page.getByTestId('chart-bounces').locator('svg > g').filter({ has: page.locator('polyline[stroke="#dc2626"]') }).locator('circle').last();
    await poll(async () => hard.locator('title').textContent()).toMatch(/^Hard bounces .*: 1$/);
    expect((await s.t.api('GET', '/v1/suppressions/reader5@example.net')).json.entries[0].reason).toBe('hard_bounce');
  });

  it('edits a template with merge-field help and composes a campaign from it', async () => {
    await page.getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('link', { name: 'New template' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Monthly');
    await page.getByLabel('Subject').fill('Monthly news for ');
    await page.getByLabel('Subject').focus();
    await page.getByRole('button', { name: 'Insert {{ email }}' }).click();
    await page.getByLabel('HTML body').fill('<p>Hi</p>');
    await page.getByLabel('HTML body').focus();
    await page.keyboard.press('End');
    await page.getByRole('button', { name: 'Insert {{ unsubscribe_url }}' }).click();
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText('Saved.').waitFor();
    const tpl = (await s.t.api('GET', '/v1/templates')).json.items.find((x: { name: string }) => x.name === 'Monthly');
    expect(tpl).toMatchObject({ subject: 'Monthly news for {{ email }}', html: '<p>Hi</p>{{ unsubscribe_url }}' });
    expect(page.url()).toContain(`/templates/${tpl.id}`);
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByLabel('Template').selectOption({ label: 'Monthly' });
    expect(await page.getByTestId('cmp-subject').inputValue()).toBe('Monthly news for {{ email }}');
    expect(await page.getByTestId('cmp-html').inputValue()).toBe('<p>Hi</p>{{ unsubscribe_url }}');
  });

  it('manages API keys, users, SMTP credentials, relay filters and webhooks from the settings', async () => {
    const hooks: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const hookServer = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { hooks.push({ headers: req.headers, body }); res.writeHead(200).end('ok'); });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    try {
      await page.getByRole('link', { name: 'Settings' }).click();
      const keys = page.getByTestId('api-keys');
      await keys.getByLabel('Name', { exact: true }).fill('reporting');
      await keys.getByLabel('Scope').selectOption('read');
      await keys.getByRole('button', { name: 'Create key' }).click();
      const secret = (await keys.getByTestId('new-key').textContent())!;
      expect(secret).toMatch(/^tg_key_/);
      const withKey = await fetch(`${s.url}/v1/lists`, { headers: { authorization: `Bearer ${secret}` } });
      expect(withKey.status).toBe(200);
      expect((await fetch(`${s.url}/v1/lists`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: '{"name":"n"}' })).status).toBe(403);

      const users = page.getByTestId('users');
      await users.getByLabel('E-mail address').fill('editor@console.test');
      await users.getByLabel('Role', { exact: true }).selectOption('editor');
      await users.getByRole('button', { name: 'Add user' }).click();
      const shown = (await users.getByRole('status').textContent())!;
      const pw = /: (\S+)$/.exec(shown)![1];
      const r = await s.t.http!.inject({ method: 'POST', url: '/v1/session', payload: { email: 'editor@console.test', password: pw } });
      expect(r.statusCode).toBe(201);
      expect(r.json().scopes).toEqual(['read', 'write']);

      const smtp = page.getByTestId('smtp-credentials');
      await smtp.getByLabel('Name', { exact: true }).fill('legacy CRM');
      await smtp.getByLabel('Messages per minute').fill('600');
      await smtp.getByRole('button', { name: 'Create' }).click();
      await poll(() => smtp.getByTestId('smtp-password').count()).toBe(1);
      const cred = (await s.t.api('GET', '/v1/smtp-credentials')).json.items.find((c: { name: string }) => c.name === 'legacy CRM');
      expect(cred).toMatchObject({ rate_per_minute: 600, revoked_at: null });
      await poll(() => smtp.locator('tbody').textContent()).toContain(cred.username);

      const filters = page.getByTestId('relay-filters');
      await filters.getByLabel('Header').fill('X-Category');
      await filters.getByLabel('Value', { exact: true }).fill('newsletter');
      await filters.getByLabel('List', { exact: true }).selectOption({ label: 'Readers' });
      await filters.getByRole('button', { name: 'Create' }).click();
      await poll(() => filters.locator('tbody tr').count()).toBe(1);
      expect(await filters.locator('tbody').textContent()).toContain('X-Category');

      const hooksCard = page.getByTestId('webhooks');
      const port = (hookServer.address() as AddressInfo).port;
      await hooksCard.getByLabel('URL').fill(`http://127.0.0.1:${port}/hook`);
      await hooksCard.getByLabel('bounced').check();
      await hooksCard.getByRole('button', { name: 'Create' }).click();
      await poll(() => hooksCard.locator('tbody tr').count()).toBe(1);
      expect(await hooksCard.getByRole('status').first().textContent()).toMatch(/shown only once/);
      await hooksCard.getByRole('button', { name: 'Send test' }).click();
      await poll(() => hooksCard.getByRole('status').last().textContent()).toContain('Test ping answered: 200');
      expect(hooks.length).toBeGreaterThan(0);
      expect(Object.keys(hooks[0].headers)).toEqual(expect.arrayContaining(['webhook-id', 'webhook-signature']));
      await screenshot(page, 'settings-filled');
    } finally {
      await new Promise((r) => hookServer.close(r));
    }
  });

  it('uploads a DMARC report and shows the analysis with the policy recommendation', async () => {
    s.zone.set('192.0.2.1', new Map([['PTR', ['mta1.example.com']]]));
    await page.getByRole('link', { name: 'DMARC' }).click();
    await page.getByLabel('Report file (XML, gzip, zip or e-mail)').setInputFiles({ name: 'report.xml', mimeType: 'text/xml', buffer: Buffer.from(reportXml('console-1')) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await poll(() => page.getByRole('status').first().textContent()).toContain('1 report(s) stored.');
    await page.getByTestId('dmarc-domain').selectOption('example.com');
    // The fixture report is from November 2023: outside the default 31 days until the period widens.
    await poll(() => page.getByTestId('dmarc-analysis').locator('dl').textContent()).toMatch(/Messages\s*0/);
    // While the all-time analysis is on its way, the 31-day one stays on screen marked stale.
    const held: Array<() => Promise<void>> = [];
    await page.route('**/v1/dmarc/analysis?*', (route) => { held.push(() => route.continue()); });
    await page.getByTestId('dmarc-days').selectOption('all');
    const a = page.getByTestId('dmarc-analysis');
    await poll(() => held.length).toBeGreaterThan(0);
    expect(await a.getByTestId('stale').getAttribute('aria-busy')).toBe('true');
    expect(await a.getByTestId('stale').locator('dl').textContent()).toMatch(/Messages\s*0/);
    for (const go of held) await go();
    await page.unroute('**/v1/dmarc/analysis?*');
    await poll(() => a.getByTestId('stale').count()).toBe(0);
    expect(await a.locator('table').textContent()).toContain('mta1.example.com');
    await a.getByTestId('chart-dmarc').waitFor();
    expect(await a.locator('dl').textContent()).toMatch(/Messages\s*3/);
    expect(await a.getByRole('status').textContent()).toMatch(/Keep collecting reports|Ready for the next policy|fix it first/);
    await page.getByLabel('Report file (XML, gzip, zip or e-mail)').setInputFiles({ name: 'report.xml', mimeType: 'text/xml', buffer: Buffer.from(reportXml('console-1')) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await poll(() => page.getByText('This report was already stored.').count()).toBe(1);
    await screenshot(page, 'dmarc');
  });

  it('renders every screen without errors, with a label on every control', async () => {
    const ids = {
      list: (await s.t.api('GET', '/v1/lists')).json.items[0].id,
      campaign: (await s.t.api('GET', '/v1/campaigns')).json.items[0].id,
      domain: (await s.t.api('GET', '/v1/domains')).json.items[0].id,
      contact: (await s.t.api('GET', '/v1/contacts?limit=1')).json.items[0].id,
      message: (await s.t.api('GET', '/v1/messages?limit=1')).json.items[0].id,
    };
    const paths = ['/', '/campaigns', '/campaigns/new', '/templates', '/templates/new', `/campaigns/${ids.campaign}`, '/lists', `/lists/${ids.list}`, `/contacts/${ids.contact}`,
      '/suppressions', '/messages', `/messages/${ids.message}`, '/bounces', '/domains', `/domains/${ids.domain}`, '/compliance', '/dmarc', '/settings'];
    for (const p of paths) {
      await page.goto(`${s.url}/console${p}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await poll(() => page.locator('[aria-busy=true]').count(), { message: p }).toBe(0);
      expect(await page.locator('.error').allTextContents(), p).toEqual([]);
      expect(await page.getByTestId('not-available').count(), p).toBe(0);
      const unlabelled = await page.locator('main').evaluate((main) => [...main.querySelectorAll('input, select, textarea, button')]
        .filter((el) => {
          const e = el as HTMLInputElement;
          if (el.tagName === 'BUTTON') return !(el.textContent ?? '').trim() && !el.getAttribute('aria-label');
          return !(e.labels && e.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby');
        }).map((el) => el.outerHTML.slice(0, 120)));
      expect(unlabelled, p).toEqual([]);
    }
    await screenshot(page, 'settings');
    expect(errors).toEqual([]);
  });

  it('hides what a viewer may not do, and the API refuses it anyway', async () => {
    await s.t.core.consoleUsers.add(s.t.accountId, { email: 'viewer@console.test', role: 'viewer', password: 'viewer password 1' });
    const vctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB' });
    const v = await vctx.newPage();
    await login(v, { ...s, email: 'viewer@console.test', password: 'viewer password 1' });
    expect(await v.getByTestId('current-user').textContent()).toContain('Viewer');
    await v.getByRole('link', { name: 'Campaigns' }).click();
    await v.getByRole('heading', { name: 'Campaigns' }).waitFor();
    expect(await v.getByRole('link', { name: 'New campaign' }).count()).toBe(0);
    await v.getByRole('link', { name: 'Settings' }).click();
    await v.getByText('Only admins can manage keys, users and integrations.').waitFor();
    expect(await v.getByTestId('api-keys').count()).toBe(0);
    const status = await v.evaluate(async () => (await fetch('/v1/lists', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' })).status);
    expect(status).toBe(403);
    await screenshot(v, 'viewer-settings');
    // Any role changes its own password; every session ends and the new password logs in.
    const profile = v.getByTestId('profile');
    await profile.getByLabel('Current password').fill('viewer password 1');
    await profile.getByLabel('New password (12+ characters)').fill('viewer password 2');
    await profile.getByLabel('New password again').fill('viewer password 2');
    await profile.getByRole('button', { name: 'Change password' }).click();
    await v.getByRole('heading', { name: 'Log in to tegami' }).waitFor();
    await login(v, { ...s, email: 'viewer@console.test', password: 'viewer password 2' });
    await vctx.close();
  });

  it('switches between English and Japanese, keeps the choice, and defaults from the browser language', async () => {
    await page.goto(`${s.url}/console/`);
    await page.getByTestId('lang-switch').selectOption('ja');
    await poll(() => page.getByRole('navigation').textContent()).toContain('ダッシュボード');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ja');
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('ダッシュボード');
    await page.reload();
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('ダッシュボード');
    await page.getByRole('link', { name: '配信停止リスト' }).click();
    await page.getByRole('button', { name: '検索' }).waitFor();
    await screenshot(page, 'lang-ja');
    await page.getByTestId('lang-switch').selectOption('en');
    await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Suppression list');

    const jaCtx = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1366, height: 768 } });
    const jaPage = await jaCtx.newPage();
    await jaPage.goto(`${s.url}/console/`);
    await jaPage.getByLabel('メールアドレス').waitFor();
    expect(await jaPage.getByRole('heading', { level: 1 }).textContent()).toBe('tegami にログイン');
    await screenshot(jaPage, 'login-ja');
    await jaCtx.close();
    expect(errors).toEqual([]);
  });
});
