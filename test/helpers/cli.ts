import { spawn } from 'node:child_process';
import type { TestApp } from './app.js';

/** Runs the CLI as its own process against the test app's database; returns exit code and output. */
export function cli(t: TestApp, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const url = t.db.schema ? `${t.db.url}?options=-c%20search_path%3D${t.db.schema}` : t.db.url;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--database', url, ...args], {
    env: { ...process.env, TEGAMI_MASTER_KEY: t.deps.masterKey.toString('base64'), TEGAMI_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}
