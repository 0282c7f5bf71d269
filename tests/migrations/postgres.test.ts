/**
 * PostgreSQL migrations: our runner (src/migrate/postgres.ts), drizzle's own
 * migrator and `drizzle-kit migrate`, always on PGlite and, when
 * AIMEMO_TEST_PG_URL is set, on a real server with a fresh database per test.
 *
 * Old databases ("as released at tag X") are built with drizzle's own migrator
 * on a copy of migrations/postgres cut at that tag. The child-process test
 * loads the build in dist/ (`npm run build` first).
 */
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePGlite } from 'drizzle-orm/pglite';
import { migrate as migratePGlite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgresJs } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { AIMEMO_SCHEMA } from '../../drizzle/postgres';
import { MigrationError, PostgresStore, SchemaOutdatedError, type PostgresStoreOptions } from '../../src';
import { MIGRATIONS_TABLE } from '../../src/migrate/locate';
import { migratePostgres, type AnyPgDatabase } from '../../src/migrate/postgres';
import {
  copyMigrations,
  drizzleKit,
  expectedMigrationRows,
  normaliseRows,
  outcomes,
  raceChildren,
  readJournal,
  requireBuild,
  type MigrationRow,
} from '../helpers/migrations';
import { PG_URL, createPGlite, createTestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('migrations-postgres');
let folders = 0;
afterAll(() => tmp.cleanup());

const journal = readJournal('postgres');
const latest = journal[journal.length - 1];
const expectedRows = expectedMigrationRows('postgres');
const MIGRATIONS = `"${AIMEMO_SCHEMA}"."${MIGRATIONS_TABLE}"`;

/** One empty database, and what the tests do with it. */
interface Fresh {
  store(options?: PostgresStoreOptions): PostgresStore;
  query<T = Record<string, unknown>>(text: string): Promise<T[]>;
  /** A Drizzle database on it, for calling the runner directly. */
  db: AnyPgDatabase;
  /** drizzle's own migrator (the code `drizzle-kit migrate` runs), on `folder`, into our table. */
  drizzleMigrate(folder: string): Promise<void>;
  /** Set on the server only. */
  url?: string;
  dispose(): Promise<void>;
}

interface Target {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  fresh(label: string): Promise<Fresh>;
}

/** Every object of the schema `public` and every schema, to show that migrating touches neither. */
const OUTSIDE_AIMEMO = `
  SELECT 'schema ' || nspname AS o FROM pg_namespace WHERE nspname <> '${AIMEMO_SCHEMA}' AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
  UNION ALL SELECT 'relation ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'
  UNION ALL SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
  -- btree_gin (migration 0002) is installed into the schema aimemo: inside, so not listed.
  UNION ALL SELECT 'extension ' || e.extname || ' in ' || n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname <> '${AIMEMO_SCHEMA}'
  ORDER BY 1`;

let pglite: PGlite;
const pgliteTarget: Target = {
  name: 'PGlite',
  setup: async () => {
    pglite = await createPGlite();
  },
  teardown: async () => {
    await pglite.close();
  },
  // One PGlite per file (it takes seconds to start): "fresh" drops what a previous test created.
  fresh: async () => {
    await pglite.exec(`DROP SCHEMA IF EXISTS "${AIMEMO_SCHEMA}" CASCADE`);
    const db = drizzlePGlite({ client: pglite });
    return {
      store: (options) => new PostgresStore(pglite, options),
      query: async <T>(text: string) => (await pglite.query<T>(text)).rows,
      db: db as unknown as AnyPgDatabase,
      drizzleMigrate: (folder) => migratePGlite(db, { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: AIMEMO_SCHEMA }),
      dispose: async () => undefined,
    };
  },
};

const serverTarget: Target = {
  name: 'PostgreSQL server',
  setup: async () => undefined,
  teardown: async () => undefined,
  fresh: async (label) => {
    const database = await createTestDatabase(`mig_${label}`);
    const sql = postgres(database.url, { max: 1, onnotice: () => undefined });
    const db = drizzlePostgres({ client: sql });
    return {
      url: database.url,
      store: (options) => new PostgresStore(database.url, { poolSize: 2, maxOverflow: 0, ...options }),
      query: async <T>(text: string) => (await sql.unsafe(text)) as unknown as T[],
      db: db as unknown as AnyPgDatabase,
      drizzleMigrate: (folder) => migratePostgresJs(db, { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: AIMEMO_SCHEMA }),
      dispose: async () => {
        await sql.end({ timeout: 5 });
        await database.drop();
      },
    };
  },
};

async function migrationRows(f: Fresh): Promise<MigrationRow[]> {
  return normaliseRows(await f.query<MigrationRow>(`SELECT hash, created_at FROM ${MIGRATIONS} ORDER BY id`));
}

async function outside(f: Fresh): Promise<string[]> {
  return (await f.query<{ o: string }>(OUTSIDE_AIMEMO)).map((r) => r.o);
}

async function schemaExists(f: Fresh): Promise<boolean> {
  const [row] = await f.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = '${AIMEMO_SCHEMA}'`);
  return row.n > 0;
}

/** Every message down the `cause` chain (drizzle wraps the driver's error in DrizzleQueryError). */
function causes(error: unknown): string {
  const messages: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) messages.push(e.message);
  return messages.join(' <- ');
}

async function searchIds(store: PostgresStore, query: string, namespace: string): Promise<string[]> {
  return (await store.search(query, { namespace, limit: 1000 })).map((r) => r.id).sort();
}

/** Runs `fn` on a fresh database, disposing of it and of every store opened through it afterwards. */
async function onFresh(target: Target, label: string, fn: (f: Fresh, open: (options?: PostgresStoreOptions) => PostgresStore) => Promise<void>) {
  const f = await target.fresh(label);
  const stores: PostgresStore[] = [];
  try {
    await fn(f, (options) => {
      const store = f.store(options);
      stores.push(store);
      return store;
    });
  } finally {
    for (const store of stores) await store.close();
    await f.dispose();
  }
}

function describeMigrations(target: Target): void {
  describe(`PostgreSQL migrations on ${target.name}`, () => {
    beforeAll(() => target.setup(), 30_000);
    afterAll(() => target.teardown());

    it('brings an empty database to the latest migration, in schema aimemo only, each journal entry recorded once', () =>
      onFresh(target, 'fresh', async (f, open) => {
        const before = await outside(f);
        const store = open();
        await store.save({ id: 'm1', namespace: 'fresh', content: 'The deployment pipeline runs migrations first' });
        expect(await searchIds(store, 'migration', 'fresh')).toEqual(['m1']);

        expect(await migrationRows(f)).toEqual(expectedRows);
        const tables = await f.query<{ schemaname: string; tablename: string }>(
          `SELECT schemaname, tablename FROM pg_tables WHERE tablename IN ('memories', '${MIGRATIONS_TABLE}') ORDER BY tablename`,
        );
        expect(tables).toEqual([
          { schemaname: AIMEMO_SCHEMA, tablename: MIGRATIONS_TABLE },
          { schemaname: AIMEMO_SCHEMA, tablename: 'memories' },
        ]);
        const indexes = (await f.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = '${AIMEMO_SCHEMA}'`)).map((r) => r.indexname);
        expect(indexes).toEqual(expect.arrayContaining(['memories_pk', 'memories_ns_ts_id_idx', 'memories_ns_search_idx', 'memories_ns_tags_idx', 'memories_metadata_idx']));
        expect(indexes).not.toEqual(expect.arrayContaining(['memories_search_idx']));
        expect(await f.query(`SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'btree_gin'`)).toEqual([{ nspname: AIMEMO_SCHEMA }]);
        expect(await outside(f)).toEqual(before);
      }));

    it('is a no-op on an up-to-date database', () =>
      onFresh(target, 'noop', async (f, open) => {
        await open().ready();
        const before = await migrationRows(f);
        await open().ready();
        expect(await migrationRows(f)).toEqual(before);
      }));

    it('autoMigrate: false refuses an empty database, naming the migration and drizzle-kit migrate, and creates nothing', () =>
      onFresh(target, 'empty', async (f, open) => {
        const before = await outside(f);
        const error = await open({ autoMigrate: false }).save({ namespace: 'empty', content: 'must not be written' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SchemaOutdatedError);
        expect((error as SchemaOutdatedError).expected).toBe(latest.tag);
        expect((error as SchemaOutdatedError).found).toBeNull();
        expect((error as Error).message).toContain(`expected migration ${latest.tag}`);
        expect((error as Error).message).toContain('drizzle-kit migrate');
        expect(await schemaExists(f)).toBe(false);
        expect(await outside(f)).toEqual(before);
      }));

    it('autoMigrate: false refuses a database whose newest migration row is gone, and writes nothing', () =>
      onFresh(target, 'outdated', async (f, open) => {
        const seed = open();
        await seed.save({ id: 'old', namespace: 'outdated', content: 'written before' });
        await f.query(`DELETE FROM ${MIGRATIONS} WHERE id = (SELECT max(id) FROM ${MIGRATIONS})`);
        const rows = await migrationRows(f);

        const error = await open({ autoMigrate: false }).save({ namespace: 'outdated', content: 'must not be written' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SchemaOutdatedError);
        const previous = journal[journal.length - 2];
        expect((error as SchemaOutdatedError).expected).toBe(latest.tag);
        expect((error as SchemaOutdatedError).found).toBe(previous ? previous.tag : null);
        expect((error as Error).message).toContain('drizzle-kit migrate');
        expect(await migrationRows(f)).toEqual(rows);
        expect(await f.query(`SELECT id FROM "${AIMEMO_SCHEMA}".memories`)).toEqual([{ id: 'old' }]);
      }));

    it("drizzle's migrator (what drizzle-kit migrate runs), then autoMigrate: false works, with the rows our runner writes", () =>
      onFresh(target, 'drizzle', async (f, open) => {
        await f.drizzleMigrate(copyMigrations('postgres', tmp.file(`as-shipped-${++folders}`)));
        expect(await migrationRows(f)).toEqual(expectedRows);
        const store = open({ autoMigrate: false });
        await store.save({ id: 'd1', namespace: 'drizzle', content: 'Applied by drizzle in the deploy pipeline' });
        expect(await searchIds(store, 'pipeline', 'drizzle')).toEqual(['d1']);
        expect(await migrationRows(f)).toEqual(expectedRows);
      }));

    const older = journal.slice(0, -1).map((e) => e.tag);
    (older.length ? it.each(older) : it.skip.each(['(none: only one migration is released)']))(
      'upgrades from %s keeping the rows written then searchable',
      (tag) =>
        onFresh(target, 'upgrade', async (f, open) => {
          await f.drizzleMigrate(copyMigrations('postgres', tmp.file(`upto-${++folders}`), { upTo: tag }));
          await f.query(
            `INSERT INTO "${AIMEMO_SCHEMA}".memories (namespace, id, content, timestamp)
             SELECT 'upgrade', 'old' || i, CASE WHEN i % 3 = 0 THEN 'kiwi' ELSE 'plum' END || ' note ' || i, now() FROM generate_series(0, 29) AS i`,
          );
          const store = open();
          expect(await searchIds(store, 'kiwi', 'upgrade')).toEqual(Array.from({ length: 10 }, (_, i) => `old${i * 3}`).sort());
          expect(await migrationRows(f)).toEqual(expectedRows);
        }),
    );

    it('rolls back the whole batch when a migration fails (MigrationError names it)', () =>
      onFresh(target, 'broken', async (f) => {
        const folder = copyMigrations('postgres', tmp.file(`broken-${++folders}`), {
          add: [{ tag: '9999_broken', sql: `CREATE TABLE "${AIMEMO_SCHEMA}"."extra" (x int);\n--> statement-breakpoint\nSELECT 1 / 0;` }],
        });
        const before = await outside(f);
        const error = await migratePostgres(f.db, true, folder).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MigrationError);
        expect((error as MigrationError).migration).toBe('9999_broken');
        expect(causes(error)).toMatch(/division by zero/);
        // The shipped migrations ran in the same transaction: nothing of them is left either.
        expect(await schemaExists(f)).toBe(false);
        expect(await outside(f)).toEqual(before);

        await migratePostgres(f.db, true);
        const error2 = await migratePostgres(f.db, true, folder).catch((e: unknown) => e);
        expect(error2).toBeInstanceOf(MigrationError);
        expect(await migrationRows(f)).toEqual(expectedRows);
        expect(await f.query(`SELECT to_regclass('"${AIMEMO_SCHEMA}"."extra"')::text AS t`)).toEqual([{ t: null }]);
      }));
  });
}

describeMigrations(pgliteTarget);

if (!PG_URL && process.env.AIMEMO_REQUIRE_PG === '1') {
  test('the PostgreSQL server migration tests run', () => {
    throw new Error('AIMEMO_REQUIRE_PG=1 but AIMEMO_TEST_PG_URL is not set');
  });
} else if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('PostgreSQL server migration tests skipped: AIMEMO_TEST_PG_URL is not set (PGlite covers PostgreSQL instead)');
  test.skip('PostgreSQL server migrations: set AIMEMO_TEST_PG_URL to run', () => undefined);
} else {
  describeMigrations(serverTarget);

  describe('PostgreSQL migrations on a server: deploy tools and concurrency', () => {
    it('DATABASE_URL=… npx drizzle-kit migrate, then autoMigrate: false works', () =>
      onFresh(serverTarget, 'kit', async (f, open) => {
        const before = await outside(f);
        const kit = await drizzleKit(['migrate'], { DATABASE_URL: f.url! });
        expect({ code: kit.code, output: kit.output }).toEqual({ code: 0, output: expect.stringContaining('migrations applied successfully') });
        expect(await migrationRows(f)).toEqual(expectedRows);
        expect(await outside(f)).toEqual(before);

        const store = open({ autoMigrate: false });
        await store.save({ id: 'k1', namespace: 'kit', content: 'Applied by drizzle-kit in the deploy pipeline' });
        expect(await searchIds(store, 'pipeline', 'kit')).toEqual(['k1']);
      }));

    it.each([1, 2, 3])('lets six processes start on one new database at once (round %i): each migration applied once', (round) =>
      onFresh(serverTarget, `race${round}`, async (f) => {
        requireBuild();
        const results = await raceChildren(6, 'postgres', f.url!);
        expect(outcomes(results)).toEqual(Array(6).fill('ok'));
        expect(await migrationRows(f)).toEqual(expectedRows);
        const ids = await f.query<{ id: string }>(`SELECT id FROM "${AIMEMO_SCHEMA}".memories ORDER BY id`);
        expect(ids.map((r) => r.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
      }),
    );
  });
}
