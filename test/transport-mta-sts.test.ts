import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import { ManualClock } from '../src/domain/clock.js';
import { createTransport } from '../src/transport/create-transport.js';
import { mtaStsPolicyProvider } from '../src/transport/mta-sts.js';
import type { Resolver } from '../src/transport/mx.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const RAW = Buffer.from('From: a@example.com\r\nTo: x@sts.example\r\nSubject: t\r\nMessage-ID: <1@example.com>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nhi\r\n');

/** A fake DNS and HTTPS world for one domain; counts lookups and fetches (no network). */
function world() {
  const w = {
    txt: ['v=STSv1; id=20260101T000000;'] as string[] | null,
    dnsDown: false,
    policy: 'version: STSv1\nmode: enforce\nmx: mx.sts.example\nmx: *.backup.sts.example\nmax_age: 86400\n',
    status: 200,
    txtLookups: 0,
    fetches: [] as Array<{ url: string; init?: RequestInit }>,
  };
  const resolver: Resolver = async (name, type) => {
    if (type === 'TXT' && name === '_mta-sts.sts.example') {
      w.txtLookups++;
      if (w.dnsDown) throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
      if (w.txt) return w.txt.map((t) => [t]);
    }
    if (type === 'MX' && name === 'sts.example') return [{ exchange: 'mx.sts.example', priority: 10 }];
    if (type === 'A' && name === 'mx.sts.example') return ['127.0.0.1'];
    throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
  };
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    w.fetches.push({ url: String(url), init });
    return new Response(w.policy, { status: w.status, headers: { 'content-type': 'text/plain' } });
  }) as typeof fetch;
  return { w, resolver, fakeFetch };
}

describe('MTA-STS policy discovery, fetch and cache (R-INFRA-4, RFC 8461)', () => {
  it('discovers through the TXT record, fetches the well-known URL without following redirects, and parses it', async () => {
    const { w, resolver, fakeFetch } = world();
    const p = mtaStsPolicyProvider({ resolver, fetch: fakeFetch, clock: new ManualClock(), timeoutMs: 5000 });
    const policy = await p('STS.example.');
    expect(policy).toMatchObject({ id: '20260101T000000', mode: 'enforce', mx: ['mx.sts.example', '*.backup.sts.example'], maxAge: 86400 });
    expect(w.fetches).toHaveLength(1);
    expect(w.fetches[0].url).toBe('https://mta-sts.sts.example/.well-known/mta-sts.txt');
    expect(w.fetches[0].init?.redirect).toBe('error');
    expect(w.fetches[0].init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('caches for max_age: same id → no refetch; new id or expiry → refetch', async () => {
    const { w, resolver, fakeFetch } = world();
    const clock = new ManualClock();
    const p = mtaStsPolicyProvider({ resolver, fetch: fakeFetch, clock, timeoutMs: 5000 });
    await p('sts.example');
    await p('sts.example');
    expect(w.txtLookups).toBe(1); // answered from the cache without DNS
    clock.advance(10 * 60_000);
    expect((await p('sts.example')).mode).toBe('enforce');
    expect([w.txtLookups, w.fetches.length]).toEqual([2, 1]); // id re-checked, unchanged: no fetch
    w.txt = ['v=STSv1; id=second;'];
    w.policy = 'version: STSv1\nmode: testing\nmx: mx.sts.example\nmax_age: 600\n';
    clock.advance(10 * 60_000);
    expect(await p('sts.example')).toMatchObject({ id: 'second', mode: 'testing' });
    expect(w.fetches).toHaveLength(2);
    clock.advance(601_000); // past max_age: fetched again even though the id is unchanged
    await p('sts.example');
    expect(w.fetches).toHaveLength(3);
  });

  it('keeps applying a valid cached policy when DNS or the policy host fails (RFC 8461 §5.1)', async () => {
    const { w, resolver, fakeFetch } = world();
    const clock = new ManualClock();
    const p = mtaStsPolicyProvider({ resolver, fetch: fakeFetch, clock, timeoutMs: 5000, log: pino({ level: 'silent' }) });
    await p('sts.example');
    w.dnsDown = true;
    clock.advance(10 * 60_000);
    expect((await p('sts.example')).mode).toBe('enforce');
    w.dnsDown = false;
    w.txt = ['v=STSv1; id=broken;'];
    w.status = 404;
    clock.advance(10 * 60_000);
    expect((await p('sts.example')).mode).toBe('enforce');
  });

  it('no record, a 404 or an invalid policy file mean no policy (mode none)', async () => {
    const a = world();
    a.w.txt = null;
    expect((await mtaStsPolicyProvider({ resolver: a.resolver, fetch: a.fakeFetch, clock: new ManualClock(), timeoutMs: 5000 })('sts.example')).mode).toBe('none');
    expect(a.w.fetches).toHaveLength(0);
    const b = world();
    b.w.status = 404;
    expect((await mtaStsPolicyProvider({ resolver: b.resolver, fetch: b.fakeFetch, clock: new ManualClock(), timeoutMs: 5000 })('sts.example')).mode).toBe('none');
    const c = world();
    c.w.policy = 'version: STSv1\nmode: enforce\nmax_age: 86400\n'; // enforce without mx lines is invalid
    expect((await mtaStsPolicyProvider({ resolver: c.resolver, fetch: c.fakeFetch, clock: new ManualClock(), timeoutMs: 5000 })('sts.example')).mode).toBe('none');
  });
});

describe('createTransport(kind mx) with an injected resolver and fetch honours MTA-STS', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());

  const mx = (policy: string) => {
    const { resolver, fakeFetch, w } = world();
    w.policy = policy;
    const config = defaultConfig();
    config.transport.kind = 'mx';
    config.transport.mx.port = sink.port;
    config.transport.timeoutMs = 5000;
    const deps = { store: undefined as never, clock: new ManualClock(), log: pino({ level: 'silent' }), config, masterKey: Buffer.alloc(32), resolver, fetch: fakeFetch };
    return createTransport(deps);
  };
  const send = (policy: string) => mx(policy).send({ accountId: 'a', envelope: { mailFrom: 'b@bounces.example.com', rcptTo: ['x@sts.example'] }, raw: RAW });

  it('enforce with a non-matching MX: nothing is sent', async () => {
    const r = await send('version: STSv1\nmode: enforce\nmx: mx.elsewhere.example\nmax_age: 86400\n');
    expect(r).toMatchObject({ status: 'deferred', mx: 'mx.sts.example' });
    expect(r.reply).toMatch(/MTA-STS/);
    expect(sink.messages).toHaveLength(0);
  });

  it('enforce with a matching MX but a certificate that does not validate: nothing is sent', async () => {
    const r = await send('version: STSv1\nmode: enforce\nmx: mx.sts.example\nmax_age: 86400\n');
    expect(r.status).toBe('deferred');
    expect(r.classification.class).toBe('network');
    expect(r.reply).toMatch(/certificate/i); // the sink's self-signed certificate, checked because of enforce
    expect(sink.messages).toHaveLength(0);
  });

  it('testing mode only logs: the message goes out (over opportunistic TLS)', async () => {
    const r = await send('version: STSv1\nmode: testing\nmx: mx.elsewhere.example\nmax_age: 86400\n');
    expect(r).toMatchObject({ status: 'sent', tls: true, mx: 'mx.sts.example' });
    expect(sink.messages).toHaveLength(1);
  });
});
