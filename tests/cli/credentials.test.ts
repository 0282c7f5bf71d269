/**
 * Issue 11, item 15: a `--db` like `root:s3cretPW@localhost` (a URL that
 * lost its `postgres://`) created a SQLite file of that name, and read
 * commands echoed it, password included. The CLI now refuses a value that
 * looks like `user:password@host` without a PostgreSQL scheme, creates
 * nothing, and never prints the password, here or for a PostgreSQL URL it
 * cannot reach. A file really named like that is still reachable as `./…`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireBuild } from '../helpers/migrations';
import { tempDir } from '../helpers/temp';

const BIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const tmp = tempDir('cli-credentials');
beforeAll(() => requireBuild());
afterAll(() => tmp.cleanup());

function aimemo(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmp.dir,
      env: { ...process.env, NODE_OPTIONS: '', AIMEMO_DB: '', AIMEMO_DB_PATH: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

const PASSWORD = 's3cretPW';
const LOOKALIKES = [`root:${PASSWORD}@localhost`, `app:${PASSWORD}@db.internal:5432/prod`, `file:root:${PASSWORD}@localhost`, `//root:${PASSWORD}@localhost/db`, `root:${PASSWORD}@`];

describe('--db that looks like a URL with credentials', () => {
  it.each(LOOKALIKES)('refuses %s for reads and writes, creates nothing, never prints the password', async (value) => {
    for (const args of [['--db', value, 'list'], ['--db', value, 'stats', '--json'], ['--db', value, 'add', 'hello'], ['transfer', '--from', value, '--to', tmp.file('to.db')]]) {
      const r = await aimemo(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 }); // bad usage: refused before any database opens
      expect(r.out).toMatch(/looks like a URL with a user name and password/);
      expect(r.out).not.toContain(PASSWORD);
    }
    expect(fs.readdirSync(tmp.dir).filter((f) => f.includes(PASSWORD))).toEqual([]);
  });

  it('refuses it from AIMEMO_DB too', async () => {
    const r = await aimemo(['list'], { AIMEMO_DB: `root:${PASSWORD}@localhost` });
    expect(r.code).toBe(2);
    expect(r.out).not.toContain(PASSWORD);
  });

  it('never prints the password of a PostgreSQL URL it cannot reach, or of another scheme', async () => {
    for (const url of [`postgres://root:${PASSWORD}@127.0.0.1:1/db`, `mysql://root:${PASSWORD}@localhost/db`, `postgres://root:${PASSWORD}@/db`]) {
      const r = await aimemo(['--db', url, 'stats', '--connect-timeout', '2']);
      expect(r.code).not.toBe(0);
      expect(r.out).not.toContain(PASSWORD);
    }
  });

  it('still opens a file named like that when written as a path', async () => {
    const r = await aimemo(['--db', `./root:${PASSWORD}@localhost`, 'add', 'hello', '-q']);
    expect(r.code).toBe(0);
    expect(fs.existsSync(tmp.file(`root:${PASSWORD}@localhost`))).toBe(true);
  });
});
