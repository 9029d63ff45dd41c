import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createApp, type TegamiApp } from '../../src/app/create-app.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { openDb, type Db } from '../../src/store/db.js';
import { startPrivatePg, type PrivatePg } from './private-pg.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from './smtp-sink.js';

/** A private PostgreSQL server, a tegami (no loops) on it to seed and watch, and an SMTP sink: the outage tests' parts. */
export interface PrivatePgApp { pgs: PrivatePg; store: Db; app: TegamiApp; sink: SmtpSink; masterKey: Buffer; close(): Promise<void> }

/** Starts the parts of {@link PrivatePgApp}; `close` stops them all. */
export async function startPrivatePgApp(sinkOptions: SmtpSinkOptions = {}, poolSize = 4): Promise<PrivatePgApp> {
  const pgs = await startPrivatePg();
  const sink = await startSmtpSink({ hideSTARTTLS: true, ...sinkOptions });
  const store = openDb({ url: pgs.url, poolSize });
  const config = defaultConfig();
  config.http.publicUrl = 'https://mail.tegami.test';
  const masterKey = randomBytes(32);
  const app = await createApp(config, [], { store, log: pino({ level: 'silent' }), masterKey, listen: false, startLoops: false });
  return {
    pgs, store, app, sink, masterKey,
    async close() {
      await app.stop();
      await store.close();
      await sink.close();
      pgs.destroy();
    },
  };
}
