/**
 * Issue 12.8: online migration steps on PostgreSQL (src/migrate/online.ts):
 * how a migration is planned, that a database before 0002 is upgraded with
 * the indexes built CONCURRENTLY before the old ones are dropped, that a run
 * which died halfway (an INVALID index left behind, some steps done) is
 * finished by the next, and that a migration marked `-- aimemo:online` still
 * runs under drizzle's own migrator (what `drizzle-kit migrate` runs), in its
 * transaction. PGlite always; the PostgreSQL server when AIMEMO_TEST_PG_URL
 * is set. Stalls of readers and writers: tests/reliability/upgrade-stalls.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePGlite } from 'drizzle-orm/pglite';
import { migrate as migratePGlite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgresJs } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { MigrationError } from '../../src';
import { MIGRATIONS_TABLE, readMigrations } from '../../src/migrate/locate';
import { ONLINE_MARKER, isOnline, onlinePlan } from '../../src/migrate/online';
import { migratePostgres, type AnyPgDatabase, type MigrationEvent } from '../../src/migrate/postgres';
import { copyMigrations, expectedMigrationRows, normaliseRows } from '../helpers/migrations';
import { PG_URL, createPGlite, createTestDatabase, reportSkip } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('migrations-online');
afterAll(() => tmp.cleanup());
let folders = 0;

describe('online migration plans', () => {
  const shipped = readMigrations('postgres');
  const byTag = (tag: string) => shipped.find((m) => m.tag === tag)!;

  it('runs the released 0001 and 0002 online, index builds before drops; 0000 in a transaction', () => {
    expect(shipped.map((m) => [m.tag, isOnline(m)])).toEqual([
      ['0000_init', false],
      ['0001_ns-ts-id-index', true],
      ['0002_ns-gin-indexes', true],
      ['0003_save-order', false],
      ['0004_search-index', false],
      ['0005_search-index-triggers', false],
      ['0006_ns-ts-seq-index', true],
      ['0007_expiry', false],
      ['0008_expiry-index', true],
    ]);
    expect(onlinePlan(byTag('0006_ns-ts-seq-index')).map((s) => s.sql)).toEqual([
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "memories_ns_ts_seq_idx" ON "aimemo"."memories" USING btree ("namespace","timestamp","seq")',
    ]);
    const plan = onlinePlan(byTag('0002_ns-gin-indexes'));
    expect(plan.map((s) => s.kind)).toEqual(['plain', 'create-index', 'create-index', 'drop-index', 'drop-index']);
    expect(plan.map((s) => s.sql)).toEqual([
      'CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA "aimemo"',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "memories_ns_search_idx" ON "aimemo"."memories" USING gin ("namespace","search_vector")',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "memories_ns_tags_idx" ON "aimemo"."memories" USING gin ("namespace","tags")',
      'DROP INDEX CONCURRENTLY IF EXISTS "aimemo"."memories_search_idx"',
      'DROP INDEX CONCURRENTLY IF EXISTS "aimemo"."memories_tags_idx"',
    ]);
    expect(onlinePlan(byTag('0001_ns-ts-id-index')).map((s) => s.kind)).toEqual(['create-index', 'drop-index']);
  });

  it('a released migration with other bytes (say, line endings) is not run online', () => {
    const m = byTag('0002_ns-gin-indexes');
    expect(isOnline({ ...m, hash: '0'.repeat(64) })).toBe(false);
  });

  it(`a migration whose first line is ${ONLINE_MARKER} runs its statements in the order written`, () => {
    const m = {
      tag: '0009_expires-at-index',
      when: 1,
      hash: 'x',
      statements: [
        `${ONLINE_MARKER}\n-- why: a comment line\nDROP INDEX "aimemo"."old_idx";`,
        'CREATE UNIQUE INDEX IF NOT EXISTS "new_idx" ON "aimemo"."memories" USING btree ("namespace","id") WHERE "x" IS NULL;',
        'ANALYZE "aimemo"."memories";',
      ],
    };
    expect(isOnline(m)).toBe(true);
    expect(onlinePlan(m).map((s) => s.sql)).toEqual([
      'DROP INDEX CONCURRENTLY IF EXISTS "aimemo"."old_idx"',
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "new_idx" ON "aimemo"."memories" USING btree ("namespace","id") WHERE "x" IS NULL',
      'ANALYZE "aimemo"."memories"',
    ]);
  });

  it.each([
    ['ALTER TABLE "aimemo"."memories" ADD COLUMN "x" text;'],
    ['CREATE TABLE "aimemo"."t" (a int);'],
    ['DROP INDEX "aimemo"."a", "aimemo"."b";'],
    ['DROP INDEX "aimemo"."a" CASCADE;'],
  ])('refuses a statement that cannot run online: %s', (statement) => {
    const m = { tag: '0009_bad', when: 1, hash: 'x', statements: [`${ONLINE_MARKER}\n${statement}`] };
    expect(() => onlinePlan(m)).toThrow(/0009_bad/);
  });
});

interface Db {
  query<T>(text: string): Promise<T[]>;
  db: AnyPgDatabase;
  drizzleMigrate(folder: string): Promise<void>;
  dispose(): Promise<void>;
}

const FILL = `INSERT INTO aimemo.memories (namespace, id, content, tags, timestamp)
  SELECT 'ns' || (i % 7), 'm' || i, 'note ' || i || ' about apples and pears', ARRAY['t' || (i % 3)], now() FROM generate_series(1, 500) AS i`;

/** Index name → its definition, for the schema aimemo. */
async function indexes(d: Db): Promise<Record<string, { valid: boolean; def: string }>> {
  const rows = await d.query<{ name: string; valid: boolean; def: string }>(
    `SELECT c.relname AS name, i.indisvalid AS valid, pg_get_indexdef(c.oid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'aimemo' AND c.relname LIKE 'memories%'`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, { valid: r.valid, def: r.def.replace(/^.* USING /, 'USING ') }]));
}

/** The indexes a fresh database has after every shipped migration. */
const LATEST_INDEXES = {
  memories_pk: { valid: true, def: 'USING btree (namespace, id)' },
  memories_ns_ts_id_idx: { valid: true, def: 'USING btree (namespace, "timestamp" DESC, id COLLATE "C" DESC)' },
  memories_ns_search_idx: { valid: true, def: 'USING gin (namespace, search_vector)' },
  memories_ns_tags_idx: { valid: true, def: 'USING gin (namespace, tags)' },
  memories_metadata_idx: { valid: true, def: 'USING gin (metadata jsonb_path_ops)' },
  memories_ns_ts_seq_idx: { valid: true, def: 'USING btree (namespace, "timestamp", seq)' },
  memories_expires_idx: { valid: true, def: 'USING btree (expires_at) WHERE (expires_at IS NOT NULL)' },
};

function describeOnline(name: string, open: (label: string) => Promise<Db>): void {
  describe(`online migrations on ${name}`, () => {
    it('upgrades a database at 0001 online: 0002 builds its GIN indexes CONCURRENTLY, then drops the old ones, recorded once', async () => {
      const d = await open('upgrade');
      try {
        await d.drizzleMigrate(copyMigrations('postgres', tmp.file(`upto-${++folders}`), { upTo: '0001_ns-ts-id-index' }));
        await d.query(FILL);
        const events: MigrationEvent[] = [];
        const status = await migratePostgres(d.db, true, undefined, { session: true, onEvent: (e) => events.push(e) });
        expect(status.newer).toEqual([]);
        expect(events.map((e) => [e.tag, e.phase, e.online])).toEqual(
          readMigrations('postgres')
            .slice(2)
            .flatMap((m) => [[m.tag, 'start', isOnline(m)], [m.tag, 'end', isOnline(m)]]),
        );
        expect(await indexes(d)).toEqual(LATEST_INDEXES);
        expect(normaliseRows(await d.query(`SELECT hash, created_at FROM aimemo."${MIGRATIONS_TABLE}" ORDER BY id`))).toEqual(expectedMigrationRows('postgres'));
      } finally {
        await d.dispose();
      }
    });

    it('gives a new database every migration in one transaction (nothing to block; all or nothing)', async () => {
      const d = await open('fresh');
      try {
        const events: MigrationEvent[] = [];
        await migratePostgres(d.db, true, undefined, { session: true, onEvent: (e) => events.push(e) });
        expect(events.filter((e) => e.phase === 'end').map((e) => [e.tag, e.online])).toEqual(readMigrations('postgres').map((m) => [m.tag, false]));
        expect(await indexes(d)).toEqual(LATEST_INDEXES);
      } finally {
        await d.dispose();
      }
    });

    it('finishes a run that died halfway: an index built, another left INVALID, nothing recorded', async () => {
      const d = await open('resume');
      try {
        await d.drizzleMigrate(copyMigrations('postgres', tmp.file(`upto-${++folders}`), { upTo: '0001_ns-ts-id-index' }));
        await d.query(FILL);
        // What a run of 0002 killed between its steps leaves: the extension, the first index, and a build that
        // failed half way (a concurrent build that fails leaves its index behind, INVALID).
        await d.query('CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA "aimemo"');
        await d.query('CREATE INDEX CONCURRENTLY "memories_ns_search_idx" ON "aimemo"."memories" USING gin ("namespace","search_vector")');
        await expect(d.query('CREATE UNIQUE INDEX CONCURRENTLY "memories_ns_tags_idx" ON "aimemo"."memories" ("namespace")')).rejects.toThrow(/duplicate|unique/i);
        expect((await indexes(d)).memories_ns_tags_idx).toEqual({ valid: false, def: 'USING btree (namespace)' });

        await migratePostgres(d.db, true, undefined, { session: true });
        expect(await indexes(d)).toEqual(LATEST_INDEXES);
        expect(normaliseRows(await d.query(`SELECT hash, created_at FROM aimemo."${MIGRATIONS_TABLE}" ORDER BY id`))).toEqual(expectedMigrationRows('postgres'));
        // Running again changes nothing.
        await migratePostgres(d.db, true, undefined, { session: true });
        expect(await d.query(`SELECT count(*)::int AS n FROM aimemo."${MIGRATIONS_TABLE}"`)).toEqual([{ n: expectedMigrationRows('postgres').length }]);
      } finally {
        await d.dispose();
      }
    });

    it(`runs a migration marked ${ONLINE_MARKER} online in our runner, and as written (in a transaction) in drizzle's migrator`, async () => {
      const marked = `${ONLINE_MARKER}\nCREATE INDEX "memories_content_idx" ON "aimemo"."memories" USING btree ("namespace","content");`;
      const folder = copyMigrations('postgres', tmp.file(`marked-${++folders}`), { add: [{ tag: '0003_content-index', sql: marked }] });
      const ours = await open('marked-ours');
      try {
        await migratePostgres(ours.db, true);
        await ours.query(FILL);
        const events: MigrationEvent[] = [];
        await migratePostgres(ours.db, true, folder, { session: true, onEvent: (e) => events.push(e) });
        expect(events.filter((e) => e.phase === 'end').map((e) => [e.tag, e.online])).toEqual([['0003_content-index', true]]);
        expect((await indexes(ours)).memories_content_idx).toEqual({ valid: true, def: 'USING btree (namespace, content)' });
        expect(normaliseRows(await ours.query(`SELECT hash, created_at FROM aimemo."${MIGRATIONS_TABLE}" ORDER BY id`))).toEqual(expectedMigrationRows('postgres', folder));
      } finally {
        await ours.dispose();
      }
      const kit = await open('marked-kit');
      try {
        await kit.drizzleMigrate(folder);
        expect((await indexes(kit)).memories_content_idx).toEqual({ valid: true, def: 'USING btree (namespace, content)' });
        expect(normaliseRows(await kit.query(`SELECT hash, created_at FROM aimemo."${MIGRATIONS_TABLE}" ORDER BY id`))).toEqual(expectedMigrationRows('postgres', folder));
      } finally {
        await kit.dispose();
      }
    });

    it('refuses a marked migration holding a statement that cannot run online, naming it, and records nothing of it', async () => {
      const bad = `${ONLINE_MARKER}\nALTER TABLE "aimemo"."memories" ADD COLUMN "x" text;`;
      const folder = copyMigrations('postgres', tmp.file(`bad-${++folders}`), { add: [{ tag: '0003_not-online', sql: bad }] });
      const d = await open('bad');
      try {
        await migratePostgres(d.db, true);
        const error = await migratePostgres(d.db, true, folder, { session: true }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MigrationError);
        expect((error as MigrationError).migration).toBe('0003_not-online');
        expect(await d.query(`SELECT count(*)::int AS n FROM aimemo."${MIGRATIONS_TABLE}"`)).toEqual([{ n: expectedMigrationRows('postgres').length }]);
      } finally {
        await d.dispose();
      }
    });
  });
}

let pglite: PGlite;
describe('PGlite', () => {
  beforeAll(async () => {
    pglite = await createPGlite();
  }, 30_000);
  afterAll(async () => {
    await pglite.close();
  });
  describeOnline('PGlite', async () => {
    await pglite.exec('DROP SCHEMA IF EXISTS aimemo CASCADE');
    const db = drizzlePGlite({ client: pglite });
    return {
      query: async <T>(text: string) => (await pglite.query<T>(text)).rows,
      db: db as unknown as AnyPgDatabase,
      drizzleMigrate: (folder) => migratePGlite(db, { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: 'aimemo' }),
      dispose: async () => undefined,
    };
  });
});

if (PG_URL) {
  describeOnline('the PostgreSQL server', async (label) => {
    const database = await createTestDatabase(`online_${label}`);
    const sql = postgres(database.url, { max: 1, onnotice: () => undefined });
    const db = drizzlePostgres({ client: sql });
    return {
      query: async <T>(text: string) => (await sql.unsafe(text)) as unknown as T[],
      db: db as unknown as AnyPgDatabase,
      drizzleMigrate: (folder) => migratePostgresJs(db, { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: 'aimemo' }),
      dispose: async () => {
        await sql.end({ timeout: 5 });
        await database.drop();
      },
    };
  });
} else {
  reportSkip('online migrations on the PostgreSQL server');
}
