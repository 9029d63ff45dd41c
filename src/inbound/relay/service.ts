import { readFileSync } from 'node:fs';
import type { Service } from '../../app/services.js';
import { fail } from '../../domain/errors.js';
import { relayMessagesRepo } from '../../store/relay-messages-repo.js';
import { relayState, startRelayListener } from './server.js';

function readPem(path: string, what: string): Buffer {
  if (!path) fail('E_CONFIG', `relay.${what} is required when the SMTP relay runs (STARTTLS before AUTH)`);
  try {
    return readFileSync(path);
  } catch (e) {
    fail('E_CONFIG', `relay.${what}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * The SMTP submission relay (issue 7), in the `smtp` role: port smtp.submissionPort (587,
 * STARTTLS) and optionally relay.implicitTlsPort (465). Off when both ports are 0 and no
 * `relayPort` override is given. `info.port` / `info.tlsPort` are the bound ports.
 */
export const relayService: Service = {
  name: 'relay',
  roles: ['smtp'],
  async start(deps, core, opts) {
    const cfg = deps.config;
    const port = opts.relayPort ?? cfg.smtp.submissionPort;
    if (!(port > 0 || opts.relayPort !== undefined) && !cfg.relay.implicitTlsPort) return null;
    const key = readPem(cfg.relay.tlsKeyFile, 'tlsKeyFile');
    const cert = readPem(cfg.relay.tlsCertFile, 'tlsCertFile');
    const state = relayState(deps, core);
    const closers: Array<() => Promise<void>> = [];
    const info: Record<string, unknown> = {};
    try {
      if (port > 0 || opts.relayPort !== undefined) {
        const l = await startRelayListener(deps, core, state, { port, host: cfg.smtp.host, secure: false, key, cert });
        closers.push(l.close);
        info.port = l.port;
      }
      if (cfg.relay.implicitTlsPort) {
        const l = await startRelayListener(deps, core, state, { port: cfg.relay.implicitTlsPort, host: cfg.smtp.host, secure: true, key, cert });
        closers.push(l.close);
        info.tlsPort = l.port;
      }
    } catch (e) {
      for (const c of closers) await c();
      throw e;
    }
    // Stored bytes go once every recipient's row is final and keepHours have passed.
    const repo = relayMessagesRepo(deps.store);
    const prune = async () => {
      try {
        const before = deps.clock.now() - cfg.relay.keepHours * 3_600_000;
        let n = 0;
        for (let got = 1000; got === 1000 && n < 100_000; n += got) got = await repo.prune(before, 1000);
        if (n) deps.log.info({ component: 'relay', pruned: n }, 'pruned relayed message bytes');
      } catch (err) {
        deps.log.warn({ err, component: 'relay' }, 'pruning relayed message bytes failed');
      }
    };
    const timer = setInterval(prune, 10 * 60_000);
    timer.unref();
    info.prune = prune;
    return { info, stop: async () => { clearInterval(timer); for (const c of closers) await c(); } };
  },
};
