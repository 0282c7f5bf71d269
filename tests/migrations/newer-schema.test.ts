/**
 * Issue 12.9: a database migrated by a newer version of aimemo (a rollback,
 * an old process in a rolling deploy). The newer version is played by a copy
 * of the migrations folder with extra migrations (tests/helpers/migrations.ts):
 * one additive (an extra column with a default), and, for the second case,
 * one that marks itself incompatible with older releases in `__aimemo_compat`
 * (docs/schema.md). This build then opens the database with its own shipped
 * migrations and must
 *
 * - report the newer schema once per store (the `onSchemaNewer` hook, or one
 *   process warning `AIMEMO_SCHEMA_NEWER`), naming both sides;
 * - go on reading and writing when nothing is marked incompatible;
 * - refuse writes with SchemaTooNewError (reads go on, nothing is written)
 *   when a newer migration is marked incompatible.
 *
 * SQLite and PGlite (PostgreSQL's migrations table and marker live in the
 * schema aimemo). `aimemo migrate --check` on such a database: tests/cli/usage.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import { PostgresStore, SchemaTooNewError, SQLiteStore, type SchemaNewerInfo, type SqlStore } from '../../src';
import { readMigrations } from '../../src/migrate/locate';
import { migratePostgres, type AnyPgDatabase } from '../../src/migrate/postgres';
import { packageVersion } from '../../src/migrate/schema-version';
import { migrateSqlite } from '../../src/migrate/sqlite';
import { drizzle as drizzlePGlite } from 'drizzle-orm/pglite';
import { copyMigrations, newerMigrations, readJournal } from '../helpers/migrations';
import { createPGlite } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('newer-schema');
afterAll(() => tmp.cleanup());
let n = 0;

interface Case {
  name: string;
  /** A database migrated by the "newer version"; returns a store of this build on it. */
  newer(incompatible: boolean, options: { onSchemaNewer?: (info: SchemaNewerInfo) => void }): Promise<SqlStore>;
  /** Rows in memories, counted outside the store. */
  count(): Promise<number>;
}

let pglite: PGlite;
let sqliteFile = '';

const CASES: Case[] = [
  {
    name: 'SQLite',
    newer: async (incompatible, options) => {
      sqliteFile = tmp.file(`newer-${++n}.db`);
      const folder = copyMigrations('sqlite', tmp.file(`sqlite-newer-${n}`), { add: newerMigrations('sqlite', incompatible) });
      const db = new Database(sqliteFile);
      migrateSqlite(db, true, folder);
      db.prepare(`INSERT INTO memories (namespace, id, content, timestamp) VALUES ('ns', 'before', 'written by the newer version', 1)`).run();
      db.close();
      return new SQLiteStore(sqliteFile, options);
    },
    count: async () => {
      const db = new Database(sqliteFile, { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM memories').get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'PGlite',
    newer: async (incompatible, options) => {
      await pglite.exec('DROP SCHEMA IF EXISTS aimemo CASCADE');
      const folder = copyMigrations('postgres', tmp.file(`pg-newer-${++n}`), { add: newerMigrations('postgres', incompatible) });
      await migratePostgres(drizzlePGlite({ client: pglite }) as unknown as AnyPgDatabase, true, folder);
      await pglite.exec(`INSERT INTO aimemo.memories (namespace, id, content, timestamp) VALUES ('ns', 'before', 'written by the newer version', now())`);
      return new PostgresStore(pglite, options);
    },
    count: async () => (await pglite.query<{ n: number }>('SELECT count(*)::int AS n FROM aimemo.memories')).rows[0].n,
  },
];

beforeAll(async () => {
  pglite = await createPGlite();
}, 30_000);
afterAll(async () => {
  await pglite.close();
});

describe.each(CASES.map((c) => [c.name, c] as [string, Case]))('a database migrated by a newer aimemo, opened by this one: %s', (name, c) => {
  const dialect = name === 'SQLite' ? 'sqlite' : 'postgres';
  const latest = readMigrations(dialect).slice(-1)[0].tag;
  let warnings: jest.SpiedFunction<typeof process.emitWarning>;

  beforeAll(() => {
    warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => {
    warnings.mockClear();
  });
  afterAll(() => warnings.mockRestore());

  it('without an incompatibility marker: reports it once through onSchemaNewer, naming both sides, and goes on reading and writing', async () => {
    const reports: SchemaNewerInfo[] = [];
    const store = await c.newer(false, { onSchemaNewer: (info) => reports.push(info) });
    try {
      await store.save({ id: 'after', namespace: 'ns', content: 'written by this older version' });
      expect((await store.search('written', { namespace: 'ns' })).map((m) => m.id).sort()).toEqual(['after', 'before']);
      await store.count('ns');
      expect(reports).toHaveLength(1);
      expect(reports[0]).toEqual({
        version: packageVersion(),
        latest,
        newer: [{ generatedAt: new Date(readJournal(dialect).slice(-1)[0].when + 1000).toISOString(), hash: expect.stringMatching(/^[0-9a-f]{64}$/) }],
        incompatible: [],
      });
      expect(warnings).not.toHaveBeenCalled();
      expect(await c.count()).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('without a hook: one process warning AIMEMO_SCHEMA_NEWER per store, whatever the number of calls', async () => {
    const store = await c.newer(false, {});
    try {
      for (let i = 0; i < 3; i++) await store.save({ namespace: 'ns', content: `write ${i}` });
      await store.list({ namespace: 'ns' });
      expect(warnings).toHaveBeenCalledTimes(1);
      const [message, options] = warnings.mock.calls[0] as [string, { type: string; code: string }];
      expect(options).toEqual({ type: 'AIMemoWarning', code: 'AIMEMO_SCHEMA_NEWER' });
      expect(message).toContain(`this aimemo ${packageVersion()}`);
      expect(message).toContain(latest);
      expect(message).toContain('1 migration written by a newer version of aimemo');
    } finally {
      await store.close();
    }
  });

  it('with a newer migration marked incompatible: writes are refused with SchemaTooNewError naming both versions, reads go on, nothing is written', async () => {
    const reports: SchemaNewerInfo[] = [];
    const store = await c.newer(true, { onSchemaNewer: (info) => reports.push(info) });
    try {
      expect((await store.search('newer', { namespace: 'ns' })).map((m) => m.id)).toEqual(['before']);
      for (const write of [
        () => store.save({ namespace: 'ns', content: 'must not be written' }),
        () => store.saveMany([{ namespace: 'ns', content: 'must not be written' }]),
        () => store.delete('before', 'ns'),
        () => store.clear('ns'),
      ]) {
        const error = await write().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SchemaTooNewError);
        expect((error as SchemaTooNewError).code).toBe('SCHEMA_TOO_NEW');
        expect((error as Error).message).toContain('aimemo 9.0.0');
        expect((error as Error).message).toContain(`this is aimemo ${packageVersion()}`);
        expect((error as Error).message).toContain(latest);
        expect((error as SchemaTooNewError).incompatible).toEqual([
          { tag: '0101_future-breaking', version: '9.0.0', reason: 'memories.importance is required and computed by the writer' },
        ]);
      }
      expect(await c.count()).toBe(1);
      expect(await store.get('before', 'ns')).not.toBeNull();
      expect(reports).toHaveLength(1);
      expect(reports[0].newer).toHaveLength(2);
      expect(reports[0].incompatible.map((i) => i.tag)).toEqual(['0101_future-breaking']);
    } finally {
      await store.close();
    }
  });
});
