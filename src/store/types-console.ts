import type { Generated } from 'kysely';

type Millis = number;

/** A console login session; `id` is the SHA-256 of the cookie token (base64url). */
export interface ConsoleSessionsTable {
  id: string; account_id: string; user_id: string; csrf: string; ip: string | null; user_agent: string | null;
  created_at: Millis; last_seen_at: Millis; expires_at: Millis;
}
/** One failed login attempt, keyed by `email:…` or `ip:…`. */
export interface ConsoleLoginFailuresTable {
  id: Generated<number>; key: string; created_at: Millis;
}

/** Tables of the console area, as Kysely sees them (see migrations/007-console.ts). */
export interface ConsoleTables {
  console_sessions: ConsoleSessionsTable;
  console_login_failures: ConsoleLoginFailuresTable;
}
