/**
 * Issue 12.10: the shipped drizzle.config.ts in a deploy pipeline. Every
 * mistake is one line on stderr (`aimemo drizzle.config.ts: …`) and exit code
 * 1, never a success that did something else and never a password:
 *
 * - no DATABASE_URL (a missing secret): refused, no ./aimemo.db created;
 *   AIMEMO_DB_PATH names a SQLite file instead;
 * - AIMEMO_DIALECT=sqlite with a postgres:// URL; a SQLite file in a missing directory;
 * - PostgreSQL unreachable, a missing database, a password with `@`/`#` not percent-encoded;
 * - a fresh PostgreSQL database migrates without printing a NOTICE object.
 *
 * `npx drizzle-kit migrate` runs in the repository with its drizzle.config.ts,
 * as tests/helpers/migrations.ts `drizzleKit` does; the packed copy is run the
 * same way by tests/packaging/pack.test.ts.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../src/migrate/locate';
import { drizzleKit } from '../helpers/migrations';
import { PG_URL, createTestDatabase, reportSkip } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('kit-config');
afterAll(() => tmp.cleanup());

/** drizzle-kit migrate with exactly these variables (none of DATABASE_URL, AIMEMO_DB_PATH, AIMEMO_DIALECT otherwise). */
function migrate(env: Record<string, string>) {
  return drizzleKit(['migrate'], { DATABASE_URL: '', AIMEMO_DB_PATH: '', AIMEMO_DIALECT: '', ...env }).then((r) => ({
    code: r.code,
    // What the config printed: its own line(s), without drizzle-kit's banner and spinner.
    said: r.output.split('\n').filter((l) => l.startsWith('aimemo drizzle.config.ts:')),
    output: r.output,
  }));
}

describe('the shipped drizzle.config.ts in a pipeline', () => {
  it('refuses to run without DATABASE_URL or AIMEMO_DB_PATH, and creates no ./aimemo.db', async () => {
    const stray = path.join(packageRoot(), 'aimemo.db');
    const existed = fs.existsSync(stray);
    const r = await migrate({ CI: 'true' });
    expect(r.code).toBe(1);
    expect(r.said).toEqual([
      'aimemo drizzle.config.ts: set DATABASE_URL (a postgres:// URL or a SQLite file path) or AIMEMO_DB_PATH before `drizzle-kit migrate`; refusing to guess ./aimemo.db',
    ]);
    if (!existed) expect(fs.existsSync(stray)).toBe(false);
  });

  it('migrates the SQLite file AIMEMO_DB_PATH names', async () => {
    const file = tmp.file('explicit.db');
    const r = await migrate({ AIMEMO_DB_PATH: file });
    expect({ code: r.code, said: r.said }).toEqual({ code: 0, said: [] });
    expect(fs.existsSync(file)).toBe(true);
  });

  it.each([
    ['AIMEMO_DIALECT=sqlite with a postgres:// URL', { AIMEMO_DIALECT: 'sqlite', DATABASE_URL: 'postgres://app:pw@127.0.0.1:5432/app' }, 'AIMEMO_DIALECT=sqlite needs a SQLite file path in DATABASE_URL; got a postgres:// URL (unset AIMEMO_DIALECT for PostgreSQL)'],
    ['AIMEMO_DIALECT=postgres with a file path', { AIMEMO_DIALECT: 'postgres', DATABASE_URL: './aimemo.db' }, 'AIMEMO_DIALECT=postgres needs a postgres:// or postgresql:// URL in DATABASE_URL; got something else'],
    ['a SQLite file in a missing directory', { DATABASE_URL: '/nonexistent-aimemo-dir/x/memory.db' }, 'the directory of the SQLite file /nonexistent-aimemo-dir/x/memory.db does not exist'],
    ['an unknown dialect', { AIMEMO_DIALECT: 'mysql', DATABASE_URL: './aimemo.db' }, "AIMEMO_DIALECT must be 'sqlite' or 'postgres'; got 'mysql'"],
  ])('%s: one line, exit 1', async (_label, env, message) => {
    const r = await migrate(env);
    expect({ code: r.code, said: r.said }).toEqual({ code: 1, said: [`aimemo drizzle.config.ts: ${message}`] });
  });

  it('an unreachable PostgreSQL server: one line naming where, exit 1, no password', async () => {
    const r = await migrate({ DATABASE_URL: 'postgres://app:s3cret-pw@127.0.0.1:1/app' });
    expect({ code: r.code, said: r.said }).toEqual({ code: 1, said: ['aimemo drizzle.config.ts: cannot connect to PostgreSQL at 127.0.0.1:1/app: connect ECONNREFUSED 127.0.0.1:1'] });
    expect(r.output).not.toContain('s3cret-pw');
  });

  it('a password with @ and # not percent-encoded: the hint says to encode it', async () => {
    const r = await migrate({ DATABASE_URL: 'postgres://app:p@ss#word@127.0.0.1:1/app' });
    expect(r.code).toBe(1);
    expect(r.said).toHaveLength(1);
    expect(r.said[0]).toMatch(/^aimemo drizzle.config.ts: cannot connect to PostgreSQL at .*; if the password holds @ : \/ \? # \[ \] % or spaces, percent-encode it \(encodeURIComponent\)$/);
    expect(r.output).not.toContain('ss#word');
  });

  if (PG_URL) {
    it('a missing database: one line, exit 1', async () => {
      const u = new URL(PG_URL!);
      u.pathname = '/aimemo_no_such_database';
      const r = await migrate({ DATABASE_URL: u.toString() });
      expect({ code: r.code, said: r.said }).toEqual({
        code: 1,
        said: [`aimemo drizzle.config.ts: cannot connect to PostgreSQL at ${u.hostname}:${u.port || '5432'}/aimemo_no_such_database: database "aimemo_no_such_database" does not exist`],
      });
    });

    it('a fresh database migrates without printing a NOTICE object', async () => {
      const db = await createTestDatabase('kitcfg');
      try {
        const r = await migrate({ DATABASE_URL: db.url });
        expect({ code: r.code, said: r.said }).toEqual({ code: 0, said: [] });
        expect(r.output).toContain('migrations applied successfully');
        expect(r.output).not.toMatch(/NOTICE|severity/);
      } finally {
        await db.drop();
      }
    });
  } else {
    reportSkip('drizzle.config.ts against the PostgreSQL server');
  }
});
