/**
 * Issue #6.5: schema upgrades across versions, with data.
 *
 * For every earlier release (releases.json and git tags v*, plus each journal
 * entry no release ends at: see tests/helpers/releases.ts) a database is built
 * with that release's migrations (drizzle's own migrator, as `drizzle-kit
 * migrate` would), filled, and then six processes open it at once with the
 * current version, which upgrades it. Each migration must be applied exactly
 * once, no row may be lost or changed, and full-text search must find the old
 * rows and the new ones (on SQLite the FTS triggers must survive and the index
 * pass its integrity check). Released migration files must be unchanged.
 *
 * SQLite and a PostgreSQL server race six processes; PGlite (one process)
 * upgrades alone. CI: 1,000 rows per release. `npm run test:stress`: 100,000.
 */
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqliteWithDrizzle } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePGlite } from 'drizzle-orm/pglite';
import { migrate as migratePGliteWithDrizzle } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgresWithDrizzle } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { MEMORIES_FTS_TRIGGERS, SEARCH_INDEX_TRIGGERS } from '../../drizzle/sqlite';
import { PostgresStore, SQLiteStore, type MemoryStore } from '../../src';
import { MIGRATIONS_TABLE } from '../../src/migrate/locate';
import { expectedMigrationRows, normaliseRows, outcomes, raceChildren, requireBuild } from '../helpers/migrations';
import { PG_URL, createPGlite, createTestDatabase } from '../helpers/postgres';
import { earlierReleases, releaseDrift, type Release } from '../helpers/releases';
import { report, scale, sqliteIntegrity, withSqlite } from '../helpers/reliability';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('reliability-upgrade');
afterAll(() => tmp.cleanup());

const ROWS = scale(1_000, 100_000);
const SAMPLE = scale(200, 2_000); // old rows looked up one by one through search()
const NS = 'heirlooms';

/** The content of old row i: a word all old rows share and one only it has. */
const oldContent = (i: number) => `heirloom note ${i} kept since the old release; token old${i}x`;

/** Old rows to look up by their own word: the first, the last and an even spread between. */
const sample = () => Array.from(new Set([0, ROWS - 1, ...Array.from({ length: SAMPLE }, (_, k) => Math.floor((k * ROWS) / SAMPLE))]));

/** What every backend must show after the upgrade, through the store. */
async function checkThroughStore(store: MemoryStore, racers: number): Promise<void> {
  expect(await store.count(NS)).toBe(ROWS);
  for (const i of sample()) {
    const hits = await store.search(`old${i}x`, { namespace: NS });
    expect({ i, ids: hits.map((h) => h.id) }).toEqual({ i, ids: [`old-${i}`] });
    expect(hits[0].content).toBe(oldContent(i));
  }
  if (racers > 0) {
    const race = await store.search('process opened store', { namespace: 'race', limit: 100 });
    expect(race.map((m) => m.id).sort()).toEqual(Array.from({ length: racers }, (_, i) => `p${i}`));
  }
  // Old rows behave like new ones: replaced (the index follows) and deleted.
  await store.save({ id: 'old-0', namespace: NS, content: 'heirloom rewritten after the upgrade' });
  expect(await store.search('old0x', { namespace: NS })).toEqual([]);
  expect((await store.search('rewritten', { namespace: NS })).map((m) => m.id)).toEqual(['old-0']);
  expect(await store.delete(`old-${ROWS - 1}`, NS)).toBe(true);
  expect(await store.search(`old${ROWS - 1}x`, { namespace: NS })).toEqual([]);
  await store.save({ id: 'new-1', namespace: NS, content: 'heirloom saved after the upgrade' });
  expect((await store.search('heirloom saved upgrade', { namespace: NS })).map((m) => m.id)).toEqual(['new-1']);
  // What the new schema brings works on old rows: filters, time ranges, pages, update, expiry.
  expect(await store.count({ namespace: NS, where: { i: { $lt: 10 } } })).toBe(9); // old-0 was rewritten without metadata
  expect(await store.count({ namespace: NS, until: new Date(Date.UTC(2024, 0, 1) + 5) })).toBe(4);
  const page = await store.listPage({ namespace: NS, where: { i: { $gte: 1, $lt: 4 } }, limit: 2 });
  expect(page.memories.map((m) => m.id)).toEqual(['old-3', 'old-2']);
  expect((await store.listPage({ namespace: NS, where: { i: { $gte: 1, $lt: 4 } }, limit: 2, cursor: page.cursor! })).memories.map((m) => m.id)).toEqual(['old-1']);
  expect((await store.update('old-1', { metadata: { touched: true } }, NS))!.metadata).toEqual({ i: 1, touched: true });
  expect((await store.get('old-2', NS))!.expiresAt).toBeUndefined();
  await store.update('old-2', { expiresAt: new Date(Date.now() - 1000) }, NS);
  expect(await store.get('old-2', NS)).toBeNull();
  expect(await store.purgeExpired()).toBe(1);
  expect(await store.search('old2x', { namespace: NS })).toEqual([]);
  expect(await store.deleteMany({ namespace: NS, where: { i: 3 } })).toBe(1);
  expect(await store.count(NS)).toBe(ROWS - 2);
}

describe('upgrades from every earlier release, with data: SQLite, six processes at once', () => {
  const { source, releases } = earlierReleases('sqlite', tmp.file('releases'));
  const expectedRows = expectedMigrationRows('sqlite');

  it.each(releases.map((r) => [r.name, r] as [string, Release]))(`from %s (${source}): no row lost, each migration once, old and new rows found`, async (name, release) => {
    requireBuild();
    expect(releaseDrift('sqlite', release)).toEqual([]);
    const file = tmp.file(`${name.replace(/\W+/g, '_')}.db`);
    withSqlite(file, (client) => {
      migrateSqliteWithDrizzle(drizzleSqlite({ client }), { migrationsFolder: release.folder, migrationsTable: MIGRATIONS_TABLE });
      // Rows as that release wrote them: the columns every release has, JSON as text, time in ms.
      const insert = client.prepare(`INSERT INTO memories (namespace, id, content, metadata, tags, timestamp) VALUES (?, ?, ?, ?, ?, ?)`);
      client.transaction(() => {
        for (let i = 0; i < ROWS; i++) insert.run(NS, `old-${i}`, oldContent(i), JSON.stringify({ i }), JSON.stringify(['old']), Date.UTC(2024, 0, 1) + i);
      })();
    });

    const results = await raceChildren(6, 'sqlite', file);
    expect(outcomes(results)).toEqual(Array(6).fill('ok'));

    withSqlite(file, (db) => {
      expect(normaliseRows(db.prepare(`SELECT hash, created_at FROM "${MIGRATIONS_TABLE}" ORDER BY id`).all() as never)).toEqual(expectedRows);
      const triggers = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'memories'`).all() as { name: string }[]).map((t) => t.name);
      expect(triggers.sort()).toEqual([...MEMORIES_FTS_TRIGGERS, ...SEARCH_INDEX_TRIGGERS].sort());
      const old = db.prepare(`SELECT count(*) AS n, sum(content = 'heirloom note ' || substr(id, 5) || ' kept since the old release; token old' || substr(id, 5) || 'x') AS same FROM memories WHERE namespace = ?`).get(NS);
      expect(old).toEqual({ n: ROWS, same: ROWS });
      expect(db.prepare(`SELECT count(*) AS n FROM memories_fts WHERE memories_fts MATCH 'heirloom'`).get()).toEqual({ n: ROWS });
      expect(db.prepare(`SELECT count(*) AS n FROM memories WHERE namespace = ? AND expires_at IS NULL`).get(NS)).toEqual({ n: ROWS });
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'memories_expires_idx'`).get()).toEqual({ name: 'memories_expires_idx' });
      expect(db.prepare(`SELECT v FROM memories_fts_config WHERE k = 'secure-delete'`).get()).toEqual({ v: 1 });
    });
    sqliteIntegrity(file);

    const store = new SQLiteStore(file);
    try {
      await checkThroughStore(store, 6);
    } finally {
      await store.close();
    }
    sqliteIntegrity(file);
    report(`upgrade sqlite ${name}`, { source, rows: ROWS, processes: 6, migrationsApplied: expectedRows.length, lost: 0 });
  }, scale(60_000, 600_000));
});

describe('upgrades from every earlier release, with data: PostgreSQL', () => {
  const { source, releases } = earlierReleases('postgres', tmp.file('pg-releases'));
  const expectedRows = expectedMigrationRows('postgres');
  const cases = releases.map((r) => [r.name, r] as [string, Release]);
  const fill = `INSERT INTO aimemo.memories (namespace, id, content, metadata, tags, timestamp)
    SELECT '${NS}', 'old-' || i, 'heirloom note ' || i || ' kept since the old release; token old' || i || 'x',
           jsonb_build_object('i', i), ARRAY['old'], timestamptz '2024-01-01' + i * interval '1 ms'
    FROM generate_series(0, ${ROWS - 1}) AS i`;
  const checkTables = async (query: <T>(text: string) => Promise<T[]>) => {
    expect(normaliseRows(await query(`SELECT hash, created_at FROM aimemo."${MIGRATIONS_TABLE}" ORDER BY id`))).toEqual(expectedRows);
    const [old] = await query<{ n: number; same: number; fts: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE content = 'heirloom note ' || substr(id, 5) || ' kept since the old release; token old' || substr(id, 5) || 'x')::int AS same,
              count(*) FILTER (WHERE search_vector @@ to_tsquery('english', 'heirloom'))::int AS fts,
              count(*) FILTER (WHERE expires_at IS NULL)::int AS lasting
       FROM aimemo.memories WHERE namespace = '${NS}'`,
    );
    expect(old).toEqual({ n: ROWS, same: ROWS, fts: ROWS, lasting: ROWS });
    const [index] = await query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'memories_expires_idx'`,
    );
    expect(index).toEqual({ valid: true });
  };

  describe('PGlite (one process)', () => {
    let pglite: PGlite;
    beforeAll(async () => {
      pglite = await createPGlite();
    }, 30_000);
    afterAll(async () => {
      await pglite.close();
    });

    it.each(cases)(`from %s (${source}): no row lost, each migration once, old and new rows found`, async (name, release) => {
      expect(releaseDrift('postgres', release)).toEqual([]);
      await pglite.exec('DROP SCHEMA IF EXISTS aimemo CASCADE');
      await migratePGliteWithDrizzle(drizzlePGlite({ client: pglite }), { migrationsFolder: release.folder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: 'aimemo' });
      await pglite.exec(fill);
      const store = new PostgresStore(pglite);
      await store.ready(); // upgrades
      await checkTables(async <T>(text: string) => (await pglite.query<T>(text)).rows);
      await checkThroughStore(store, 0);
      await store.close();
      report(`upgrade pglite ${name}`, { source, rows: ROWS, processes: 1, migrationsApplied: expectedRows.length, lost: 0 });
    }, scale(60_000, 600_000));
  });

  if (PG_URL) {
    it.each(cases)(`server, six processes at once: from %s (${source}): no row lost, each migration once, old and new rows found`, async (name, release) => {
      requireBuild();
      expect(releaseDrift('postgres', release)).toEqual([]);
      const db = await createTestDatabase('upgrade');
      const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
      try {
        await migratePostgresWithDrizzle(drizzlePostgres({ client: sql }), { migrationsFolder: release.folder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: 'aimemo' });
        await sql.unsafe(fill);
        const results = await raceChildren(6, 'postgres', db.url);
        expect(outcomes(results)).toEqual(Array(6).fill('ok'));
        await checkTables(async <T>(text: string) => (await sql.unsafe(text)) as unknown as T[]);
        const store = new PostgresStore(db.url, { poolSize: 2 });
        try {
          await checkThroughStore(store, 6);
        } finally {
          await store.close();
        }
        report(`upgrade postgres ${name}`, { source, rows: ROWS, processes: 6, migrationsApplied: expectedRows.length, lost: 0 });
      } finally {
        await sql.end({ timeout: 5 });
        await db.drop();
      }
    }, scale(60_000, 600_000));
  } else {
    test.skip('PostgreSQL server upgrades with six processes: set AIMEMO_TEST_PG_URL to run', () => undefined);
  }
});
