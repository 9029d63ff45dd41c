import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockSkewMs, SKEW_WARN_MS, startClockCheck } from '../src/send/clock-check.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

const HOUR = 3_600_000;
const LEASE_MS = 120_000;

/**
 * Workers on several machines compare leases written with each other's clocks (issue 11): each
 * sending process measures its clock against the PostgreSQL server's and says so when it is off.
 * The machine's clock cannot be moved in a test; the process clock (injected) can, by an hour.
 */
describe.each(DIALECTS)('clock check of a sending process on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'], create: { startLoops: true } });
  });
  afterAll(async () => { await t?.close(); });

  const capture = () => {
    const lines: Array<{ level: string; skew_ms: number; msg: string }> = [];
    const at = (level: string) => (o: { skew_ms: number }, msg: string) => { lines.push({ level, msg, skew_ms: o.skew_ms }); };
    return { lines, log: { warn: at('warn'), error: at('error') } };
  };

  if (dialect === 'sqlite') {
    it('has nothing to compare on SQLite (one machine, one clock) and exports no figure', async () => {
      t.clock.set(Date.now() + HOUR);
      expect(await clockSkewMs(t.db, t.clock)).toBeNull();
      const { lines, log } = capture();
      const c = startClockCheck({ store: t.db, clock: t.clock, leaseMs: LEASE_MS, log });
      expect(await c.first).toBeNull();
      c.stop();
      expect(lines).toEqual([]);
      expect((await t.api('GET', '/metrics')).body).not.toMatch(/^tegami_clock_skew_seconds/m);
    });
    return;
  }

  it('measures the skew against the server, warns above 2 s, errs above a quarter of the lease', async () => {
    t.clock.set(Date.now() + HOUR);
    const skew = (await clockSkewMs(t.db, t.clock))!;
    expect(Math.abs(skew - HOUR)).toBeLessThan(1000);
    const { lines, log } = capture();
    let c = startClockCheck({ store: t.db, clock: t.clock, leaseMs: LEASE_MS, log });
    await c.first;
    c.stop();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', msg: expect.stringMatching(/quarter of the lease/) });
    expect(Math.abs(lines[0].skew_ms - HOUR)).toBeLessThan(1000);

    t.clock.set(Date.now() - 10_000); // behind by 10 s: below a quarter of the lease
    c = startClockCheck({ store: t.db, clock: t.clock, leaseMs: LEASE_MS, log });
    await c.first;
    c.stop();
    expect(lines[1]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/run NTP/) });
    expect(Math.abs(lines[1].skew_ms + 10_000)).toBeLessThan(1000);

    t.clock.set(Date.now());
    c = startClockCheck({ store: t.db, clock: t.clock, leaseMs: LEASE_MS, log });
    expect(Math.abs((await c.first)!)).toBeLessThan(SKEW_WARN_MS);
    c.stop();
    expect(lines).toHaveLength(2);
  });

  it("exports the sending role's figure as tegami_clock_skew_seconds", async () => {
    // The role's own check ran at start, with the manual clock set when the app was built: it
    // stood still while the app started, so it is behind by that start-up time only.
    const m = (await t.api('GET', '/metrics')).body.match(/^tegami_clock_skew_seconds\{reference="database"\} (-?[\d.e+-]+)$/m);
    expect(m).not.toBeNull();
    expect(Math.abs(Number(m![1]))).toBeLessThan(10);
  });
});
