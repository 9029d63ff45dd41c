import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

/** A self-signed certificate made at test time with the openssl CLI (never a checked-in key). */
export function makeTlsFiles(): { certFile: string; keyFile: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-relay-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  readFileSync(certFile);
  return { certFile, keyFile, dir };
}

/** A free TCP port on loopback (for listeners whose config takes no port 0). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A nodemailer client of the relay: STARTTLS required, the test certificate accepted. */
export function relayClient(port: number, auth?: { user: string; pass: string }, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth,
    connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000, ...extra,
  } as never);
}

/** An RSA key a client signs with, and the TXT record a test resolver serves for it. */
export function clientDkimKey(domain: string, selector: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    dkim: { domainName: domain, keySelector: selector, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    name: `${selector}._domainkey.${domain}`, txt: `v=DKIM1; k=rsa; p=${p}`,
  };
}

/** Waits until `cond` holds or the time is up. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
