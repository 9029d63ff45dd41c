import { isIP } from 'node:net';

/** The one DNS call the analysis makes; node:dns/promises Resolver fits, tests inject a fixture. */
export interface PtrResolver {
  reverse(ip: string): Promise<string[]>;
}

/**
 * PTR names of the busiest sources (the list is ordered by the caller), `concurrency` at a time,
 * each bounded by `timeoutMs` (DESIGN convention 12). A failure or timeout is simply no name.
 */
export async function lookupPtrs(resolver: PtrResolver, ips: string[], opts: { timeoutMs: number; max?: number; concurrency?: number }): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const todo = ips.filter((ip) => isIP(ip) !== 0).slice(0, opts.max ?? 200);
  let next = 0;
  const one = async (ip: string) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const names = await Promise.race([
        resolver.reverse(ip),
        new Promise<string[]>((_, rej) => { timer = setTimeout(() => rej(new Error('timeout')), opts.timeoutMs); }),
      ]);
      out.set(ip, names[0]?.replace(/\.$/, '').toLowerCase().slice(0, 255) || null);
    } catch {
      out.set(ip, null);
    } finally {
      clearTimeout(timer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, todo.length) }, async () => {
    while (next < todo.length) await one(todo[next++]);
  }));
  return out;
}
