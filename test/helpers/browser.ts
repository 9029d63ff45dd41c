import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Config } from '../../src/config/schema.js';
import { systemClock } from '../../src/domain/clock.js';
import { createTestApp, type TestApp } from './app.js';

/** Debian's Chromium, driven by playwright-core (DESIGN.md). */
export const CHROMIUM = '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');

/** True when the browser tests can run; says plainly why not, and fails under CI. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (IN_CI) throw new Error(`${CHROMIUM} is missing: the console browser tests must run in CI (.ci/run installs chromium)`);
  console.warn(`[tegami tests] console browser tests SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium)`);
  return false;
}

let built = false;
/** Builds the console once per test process when dist/console is missing or stale. */
export function ensureConsoleBuilt(): void {
  if (built) return;
  const r = spawnSync(process.execPath, ['src/console/ensure-built.mjs'], { stdio: 'inherit', cwd: process.cwd() });
  if (r.status !== 0) throw new Error('vite build of the console failed');
  built = true;
}

/** Launches headless Chromium with the flags a shared CI machine needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** The real server listening on a socket, on a temp SQLite database, with an admin console user. */
export interface ConsoleServer {
  t: TestApp;
  url: string;
  email: string;
  password: string;
  /** The DNS the server sees (no real DNS in tests): name → type → answers, in node:dns shapes. */
  zone: Map<string, Map<string, unknown[]>>;
  /** Publishes records as GET /v1/domains/:id/dns lists them. */
  publish(records: Array<{ type: string; name: string; value: string }>): void;
}

/** Starts tegami (api, worker with its loops running, inbound SMTP for bounces) for the browser. */
export async function startConsoleServer(opts: { configure?: (c: Config) => void } = {}): Promise<ConsoleServer> {
  ensureConsoleBuilt();
  const zone = new Map<string, Map<string, unknown[]>>();
  const resolver = async (name: string, type: string) => {
    const hit = zone.get(name.toLowerCase().replace(/\.$/, ''))?.get(type.toUpperCase());
    if (!hit) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return hit as any[];
  };
  const t = await createTestApp('sqlite', {
    roles: ['api', 'worker', 'smtp'], listen: true,
    configure: (c) => {
      c.http.host = '127.0.0.1'; c.worker.pollMs = 50; c.worker.renderThreads = 0;
      // Webhook endpoints on a loopback test server, reached without DNS.
      c.webhooks.allowLocalHttp = true;
      // The PTR answers come from an in-memory zone; a 2 s budget can still run out when a loaded
      // machine starves the event loop, and the page then shows no PTR name.
      c.dmarc.ptrTimeoutMs = 30_000;
      opts.configure?.(c);
    },
    // Real time for the browser (sessions, progress polling); the loops run as in production.
    create: { startLoops: true, clock: systemClock, resolver, inboundPort: 0 },
  });
  // DMARC analysis names sources by PTR: answered from the same zone (PTR type), never real DNS.
  t.core.dmarc.setResolver({ reverse: async (ip) => (zone.get(ip)?.get('PTR') as string[] | undefined) ?? [] });
  const publish: ConsoleServer['publish'] = (records) => {
    for (const r of records) {
      const name = r.name.toLowerCase().replace(/\.$/, '');
      const byType = zone.get(name) ?? new Map<string, unknown[]>();
      const prior = byType.get(r.type) ?? [];
      const m = /^(\d+)\s+(\S+)$/.exec(r.value);
      const answer = r.type === 'TXT' ? [r.value] : r.type === 'MX' && m ? { priority: Number(m[1]), exchange: m[2].replace(/\.$/, '') } : r.value.replace(/\.$/, '');
      byType.set(r.type, [...prior, answer]);
      zone.set(name, byType);
    }
  };
  const email = 'admin@console.test';
  const password = 'console password 1';
  await t.core.consoleUsers.add(t.accountId, { email, role: 'admin', password });
  return { t, url: t.url!.replace('localhost', '127.0.0.1'), email, password, zone, publish };
}

/** Logs in through the login form. */
export async function login(page: Page, s: ConsoleServer, lang = 'en'): Promise<void> {
  await page.goto(`${s.url}/console/`);
  await page.evaluate((l) => localStorage.setItem('tegami.lang', l), lang);
  await page.reload();
  await page.getByLabel(lang === 'ja' ? 'メールアドレス' : 'E-mail address').fill(s.email);
  await page.getByLabel(lang === 'ja' ? 'パスワード' : 'Password').fill(s.password);
  await page.getByRole('button', { name: lang === 'ja' ? 'ログイン' : 'Log in' }).click();
  await page.getByTestId('current-user').waitFor();
}

/** Saves a full-page screenshot as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
