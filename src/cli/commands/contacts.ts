import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ImportSummary } from '../../core/contacts-import.js';
import { output, resolveAccount, withCore } from '../context.js';

/** A one-line progress bar on stderr: share of the file's bytes read, rows, rows per second. */
function progressBar(size: number, started: number) {
  return (rows: number, bytes: number) => {
    const share = size ? Math.min(1, bytes / size) : 0;
    const filled = Math.round(share * 30);
    const rate = Math.round(rows / Math.max((Date.now() - started) / 1000, 0.001));
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${rows.toLocaleString('en')} rows  ${rate.toLocaleString('en')} rows/s `);
  };
}

/** Human summary: counts, then rejected rows with their reasons (the first 50). */
function printSummary(s: ImportSummary): void {
  process.stdout.write(`${s.total} rows read (${s.encoding}): ${s.accepted} accepted (${s.created} new, ${s.updated} updated, ${s.unchanged} unchanged), `
    + `${s.rejected_count} rejected, ${s.kept_unsubscribed} kept unsubscribed\n`);
  for (const r of s.rejected.slice(0, 50)) process.stdout.write(`  line ${r.line}: ${r.reason}${r.value !== undefined ? ` (${JSON.stringify(r.value)})` : ''}\n`);
  if (s.rejected_count > 50) process.stdout.write(`  … ${s.rejected_count - 50} more (use --json for all${s.rejected_count > s.rejected.length ? ` stored: ${s.rejected.length}` : ''})\n`);
}

/** `contacts import FILE.csv --list NAME [--json]`. */
export function register(program: Command): void {
  const c = program.command('contacts').description('contacts');
  c.command('import <file>').description('import a CSV (header row with an email column; other columns become attributes)')
    .requiredOption('--list <name>', 'list name or id').option('--account <id>', 'account id')
    .action(async (file: string, o: { list: string; account?: string }) => {
      const json = Boolean(program.opts().json);
      const tty = Boolean(process.stderr.isTTY) && !json;
      const size = statSync(file).size;
      const input = createReadStream(file, { highWaterMark: 256 * 1024 });
      const bar = progressBar(size, Date.now());
      const s = await withCore(program, async (core) => {
        const acc = await resolveAccount(core, o.account);
        const list = await core.lists.get(acc, o.list);
        return core.contacts.import(acc, list.id, input, { onProgress: tty ? (n) => bar(n, input.bytesRead) : undefined, consentSource: `import:cli:${file}` });
      }).finally(() => input.destroy());
      if (tty) process.stderr.write('\n');
      if (json) output(program, s);
      else printSummary(s);
    });
}
