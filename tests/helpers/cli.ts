/**
 * Runs the built `aimemo` CLI (dist/src/cli/main.js) as a child process, as
 * `npx aimemo` runs it, with a clean environment (no AIMEMO_DB, no jest
 * NODE_OPTIONS).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const BIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd`; `input` goes to stdin. */
export function aimemo(args: string[], options: { cwd: string; input?: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env.AIMEMO_DB;
    delete env.AIMEMO_DB_PATH;
    Object.assign(env, options.env);
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The parsed `{ error }` an --json run prints on stderr. */
export function errorOf(r: Run): { name: string; code: string; message: string; field?: string; rule?: string } {
  return JSON.parse(r.stderr.trim().split('\n').pop()!).error;
}
