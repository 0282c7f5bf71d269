/**
 * Issue 5: AIMemo's PostgreSQL migrations also run on an `aimemo.memories`
 * that a DBA has converted to `PARTITION BY HASH (namespace)` (docs/scaling.md),
 * and the store works on it.
 *
 * On a fresh database (PGlite always; a scratch database on the server named
 * by AIMEMO_TEST_PG_URL when it is set, dropped afterwards):
 *
 * 1. migrate normally and note the indexes of `aimemo.memories` (the
 *    reference), then drop the schema;
 * 2. apply the first migration only and insert rows;
 * 3. run docs/partition-memories.sql, the script the docs give DBAs, unchanged;
 * 4. open a PostgresStore (autoMigrate), which applies every later migration
 *    in the journal, whatever it holds by then;
 * 5. check the table is still partitioned, every row survived, every index
 *    of the reference exists on the parent and on each partition, and the
 *    store's operations work with rows spread over several partitions.
 *
 * Then two kinds of migration that may come next are applied on top (a
 * recreated search_vector column, a btree_gin GIN index), and two that
 * partitioning rules out are shown to fail and roll back: a later migration of
 * that kind would fail here first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePGlite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { AIMEMO_SCHEMA } from '../../drizzle/postgres';
import { AIMemo, MigrationError, PostgresStore } from '../../src';
import { MIGRATIONS_TABLE, packageRoot } from '../../src/migrate/locate';
import { migratePostgres, type AnyPgDatabase } from '../../src/migrate/postgres';
import { copyMigrations, expectedMigrationRows, normaliseRows, readJournal, type MigrationRow } from '../helpers/migrations';
import { PG_URL, createPGlite, createTestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const SCRIPT = fs.readFileSync(path.join(packageRoot(), 'docs', 'partition-memories.sql'), 'utf8');
/** How many partitions the script creates: its `partitions` constant. */
const PARTITIONS = Number(/partitions CONSTANT int := (\d+);/.exec(SCRIPT)?.[1]);
const TABLE = `"${AIMEMO_SCHEMA}"."memories"`;
const journal = readJournal('postgres');

const tmp = tempDir('migrations-partitioned');
let folders = 0;
afterAll(() => tmp.cleanup());

/** One empty database and the ways the test talks to it. */
interface Scratch {
  /** A Drizzle database on it, for the migration runner. */
  db: AnyPgDatabase;
  query<T = Record<string, unknown>>(text: string): Promise<T[]>;
  /** Runs a script of several statements (BEGIN/COMMIT and DO blocks included), as psql -f would. */
  script(text: string): Promise<void>;
  /** A store with the default autoMigrate: true. */
  store(): PostgresStore;
  dispose(): Promise<void>;
}

interface Target {
  name: string;
  open(): Promise<Scratch>;
}

const pgliteTarget: Target = {
  name: 'PGlite',
  open: async () => {
    const pglite: PGlite = await createPGlite();
    return {
      db: drizzlePGlite({ client: pglite }) as unknown as AnyPgDatabase,
      query: async <T>(text: string) => (await pglite.query<T>(text)).rows,
      script: async (text) => {
        await pglite.exec(text);
      },
      store: () => new PostgresStore(pglite),
      dispose: () => pglite.close(),
    };
  },
};

const serverTarget: Target = {
  name: 'PostgreSQL server',
  open: async () => {
    const database = await createTestDatabase('partitioned');
    const sql = postgres(database.url, { max: 1, onnotice: () => undefined });
    return {
      db: drizzlePostgres({ client: sql }) as unknown as AnyPgDatabase,
      query: async <T>(text: string) => (await sql.unsafe(text)) as unknown as T[],
      // Without parameters postgres.js sends the text as one simple query: several statements are fine.
      script: async (text) => {
        await sql.unsafe(text);
      },
      store: () => new PostgresStore(database.url, { poolSize: 2, maxOverflow: 0 }),
      dispose: async () => {
        await sql.end({ timeout: 5 });
        await database.drop();
      },
    };
  },
};

interface IndexRow {
  indexname: string;
  indexdef: string;
}

/** The indexes of the table `aimemo.memories` itself (not of its partitions), by name. */
async function parentIndexes(s: Scratch): Promise<IndexRow[]> {
  const rows = await s.query<IndexRow>(
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '${AIMEMO_SCHEMA}' AND tablename = 'memories' ORDER BY indexname`,
  );
  // pg_get_indexdef says "ON ONLY" for an index of a partitioned table; the index is otherwise the same.
  return rows.map((r) => ({ indexname: r.indexname, indexdef: r.indexdef.replace(' ON ONLY ', ' ON ') }));
}

/** Every row, every column (search_vector too), as text: to compare before and after. */
const ALL_ROWS = `SELECT namespace, id, content, metadata::text AS metadata, tags::text AS tags, "timestamp"::text AS ts, search_vector::text AS sv
  FROM ${TABLE} ORDER BY namespace COLLATE "C", id COLLATE "C"`;

/** Who may do what on the table (the owner included). */
const GRANTS = `SELECT a.grantor::regrole::text AS grantor, a.grantee::regrole::text AS grantee, a.privilege_type, a.is_grantable
  FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = '${TABLE}'::regclass ORDER BY 2, 3`;

/** A copy of the shipped migrations with `add` appended after the newest. */
function withExtra(add: { tag: string; sql: string }[]): string {
  return copyMigrations('postgres', tmp.file(`extra-${++folders}`), { add });
}

/** Every message down the `cause` chain (drizzle wraps the driver's error). */
function causes(error: unknown): string {
  const messages: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) messages.push(e.message);
  return messages.join(' <- ');
}

const FRUIT = ['kiwi', 'plum', 'mango', 'fig'];
const SEED_NAMESPACES = 12;
const SEED_PER_NAMESPACE = 10;

function describePartitioned(target: Target): void {
  describe(`aimemo.memories partitioned by hash of namespace, on ${target.name}`, () => {
    let s: Scratch;
    let store: PostgresStore;
    let reference: IndexRow[];
    let rowsBefore: Record<string, unknown>[];
    let grantsBefore: Record<string, unknown>[];

    beforeAll(async () => {
      expect(PARTITIONS).toBeGreaterThan(1);
      s = await target.open();

      // 1. The reference: the indexes a normal install has at the newest migration.
      await migratePostgres(s.db, true);
      reference = await parentIndexes(s);
      await s.query(`DROP SCHEMA "${AIMEMO_SCHEMA}" CASCADE`);

      // 2. The first migration only, with rows in it.
      await migratePostgres(s.db, true, copyMigrations('postgres', tmp.file(`first-${++folders}`), { upTo: journal[0].tag }));
      await s.query(
        `INSERT INTO ${TABLE} (namespace, id, content, tags, metadata, "timestamp")
         SELECT 'seed-' || (i % ${SEED_NAMESPACES}), 'old' || i,
                (ARRAY['${FRUIT.join("','")}'])[1 + (i / ${SEED_NAMESPACES}) % ${FRUIT.length}] || ' note number ' || i,
                ARRAY['t' || (i % 3)], jsonb_build_object('i', i), timestamptz '2025-01-01' + i * interval '1 minute'
         FROM generate_series(0, ${SEED_NAMESPACES * SEED_PER_NAMESPACE - 1}) AS i`,
      );
      // A grant of the kind a runtime role gets (PUBLIC here: roles are cluster-wide, a scratch database cannot drop them).
      await s.query(`GRANT SELECT ON ${TABLE} TO PUBLIC`);
      rowsBefore = await s.query(ALL_ROWS);
      grantsBefore = await s.query(GRANTS);

      // 3. The DBA's script, as docs/scaling.md gives it.
      await s.script(SCRIPT);

      // 4. The store's normal path: every later migration, on the partitioned table.
      store = s.store();
      await store.ready();
    }, 60_000);

    afterAll(async () => {
      await store?.close();
      await s?.dispose();
    });

    it('leaves the table partitioned by hash of namespace, in as many partitions as the script made', async () => {
      expect(await s.query(`SELECT relkind::text AS relkind FROM pg_class WHERE oid = '${TABLE}'::regclass`)).toEqual([{ relkind: 'p' }]);
      expect(await s.query(`SELECT partstrat::text AS strategy, pg_get_partkeydef(partrelid) AS key FROM pg_partitioned_table WHERE partrelid = '${TABLE}'::regclass`)).toEqual([
        { strategy: 'h', key: 'HASH (namespace)' },
      ]);
      const [parts] = await s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = '${TABLE}'::regclass`);
      expect(parts.n).toBe(PARTITIONS);
    });

    it('applied every migration of the journal after the first, recording each once', async () => {
      const rows = normaliseRows(await s.query<MigrationRow>(`SELECT hash, created_at FROM "${AIMEMO_SCHEMA}"."${MIGRATIONS_TABLE}" ORDER BY id`));
      expect(rows).toEqual(expectedMigrationRows('postgres'));
    });

    it('kept every row written before the conversion, search_vector included', async () => {
      expect(rowsBefore).toHaveLength(SEED_NAMESPACES * SEED_PER_NAMESPACE);
      expect(await s.query(ALL_ROWS)).toEqual(rowsBefore);
    });

    it('kept the owner and the grants', async () => {
      expect(grantsBefore).toEqual(expect.arrayContaining([expect.objectContaining({ grantee: '-', privilege_type: 'SELECT' })]));
      expect(await s.query(GRANTS)).toEqual(grantsBefore);
    });

    it('has every index a normal install has, by name and definition, valid and on every partition', async () => {
      expect(reference.length).toBeGreaterThan(0);
      expect(await parentIndexes(s)).toEqual(reference);
      const attached = await s.query<{ name: string; valid: boolean; partitions: number }>(
        `SELECT c.relname AS name, i.indisvalid AS valid, (SELECT count(*)::int FROM pg_inherits WHERE inhparent = i.indexrelid) AS partitions
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '${TABLE}'::regclass ORDER BY c.relname`,
      );
      expect(attached).toEqual(reference.map((r) => ({ name: r.indexname, valid: true, partitions: PARTITIONS })));
    });

    it("finds the rows written before the conversion with the store's search", async () => {
      const expected = Array.from({ length: SEED_PER_NAMESPACE }, (_, k) => 3 + k * SEED_NAMESPACES)
        .filter((i) => FRUIT[Math.floor(i / SEED_NAMESPACES) % FRUIT.length] === 'kiwi')
        .map((i) => `old${i}`)
        .sort();
      expect(expected.length).toBeGreaterThan(0);
      const hits = await store.search('kiwi', { namespace: 'seed-3', limit: 100 });
      expect(hits.map((h) => h.id).sort()).toEqual(expected);
    });

    it("runs the store's operations, spreading namespaces over several partitions", async () => {
      const namespaces = Array.from({ length: 16 }, (_, i) => `ops-${i}`);
      const saved = await store.save({ id: 'one', namespace: 'ops-0', content: 'User prefers dark mode in the editor', tags: ['preference'], metadata: { source: 'chat' } });
      expect(saved.id).toBe('one');
      await store.saveMany(
        namespaces.flatMap((namespace, n) =>
          Array.from({ length: 5 }, (_, k) => ({
            id: `m${k}`,
            namespace,
            content: k === 0 ? `FastAPI authentication uses OAuth2 tokens (${n})` : `Deploy note ${k} for project ${n}`,
            tags: k % 2 === 0 ? ['even'] : ['odd'],
            timestamp: new Date(Date.UTC(2026, 0, 1, 0, k)),
          })),
        ),
      );
      // Saving (namespace, id) again replaces it, through ON CONFLICT on the partitioned primary key.
      await store.save({ id: 'm1', namespace: 'ops-5', content: 'Deploy note replaced', timestamp: new Date(Date.UTC(2026, 0, 2)) });

      expect((await store.get('one', 'ops-0'))?.metadata).toEqual({ source: 'chat' });
      expect(await store.get('one', 'ops-1')).toBeNull();
      expect((await store.get('m1', 'ops-5'))?.content).toBe('Deploy note replaced');
      expect(await store.count('ops-0')).toBe(6);
      expect(await store.count('ops-5')).toBe(5);

      expect((await store.search('fastapi authentication', { namespace: 'ops-7', mode: 'all' })).map((r) => r.id)).toEqual(['m0']);
      const any = await store.search('oauth2 deploy', { namespace: 'ops-7', mode: 'any', limit: 10 });
      expect(any.map((r) => r.id).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect((await store.search('deploy', { namespace: 'ops-7', tags: ['odd'], limit: 10 })).map((r) => r.id).sort()).toEqual(['m1', 'm3']);

      expect((await store.list({ namespace: 'ops-5', limit: 2 })).map((m) => m.id)).toEqual(['m1', 'm4']);
      expect((await store.list({ namespace: 'ops-3', tags: ['even'] })).map((m) => m.id)).toEqual(['m4', 'm2', 'm0']);

      expect(await store.delete('m4', 'ops-3')).toBe(true);
      expect(await store.delete('m4', 'ops-3')).toBe(false);
      expect(await store.count('ops-3')).toBe(4);
      expect(await store.clear('ops-15')).toBe(5);
      expect(await store.count('ops-15')).toBe(0);

      const memo = new AIMemo({ store, namespace: 'ops-9' });
      expect(await memo.getContext('How do I add authentication?')).toContain('FastAPI authentication uses OAuth2 tokens (9)');

      expect(await store.getAllNamespaces()).toEqual(expect.arrayContaining(namespaces.slice(0, 15)));
      const stats = await store.getTableStats();
      expect(stats.totalMemories).toBe(SEED_NAMESPACES * SEED_PER_NAMESPACE + 1 + 16 * 5 - 1 - 5);
      expect(stats.namespaces).toBe(SEED_NAMESPACES + 15);

      // ANALYZE and VACUUM on the parent reach every partition.
      expect((await store.optimize({ vacuum: true })).steps.map((step) => step.step)).toContain(`VACUUM (ANALYZE) ${TABLE}`);

      const spread = await s.query<{ part: string; n: number }>(
        `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM ${TABLE} WHERE namespace LIKE 'ops-%' GROUP BY 1 ORDER BY 1`,
      );
      expect(spread.length).toBeGreaterThanOrEqual(3);
      for (const row of spread) expect(row.part).toMatch(/^aimemo\.memories_p\d+$/);
      // Each namespace lives in exactly one partition.
      expect(await s.query(`SELECT namespace FROM ${TABLE} GROUP BY namespace HAVING count(DISTINCT tableoid) > 1`)).toEqual([]);
    });

    it('reads one partition for a query on one namespace, with the value known at planning time or only at execution', async () => {
      const plan = async (text: string) => (await s.query<{ 'QUERY PLAN': string }>(text)).map((r) => r['QUERY PLAN']).join('\n');
      const literal = await plan(`EXPLAIN (COSTS OFF) SELECT id FROM ${TABLE} WHERE namespace = 'ops-4' ORDER BY "timestamp" DESC LIMIT 5`);
      expect(new Set(literal.match(/memories_p\d+/g))).toHaveProperty('size', 1);

      // A generic plan of a prepared statement (what a driver re-using a statement may get) prunes at execution.
      await s.query('SET plan_cache_mode = force_generic_plan');
      try {
        await s.query(`PREPARE aimemo_probe(text) AS SELECT id FROM ${TABLE} WHERE namespace = $1 ORDER BY "timestamp" DESC LIMIT 5`);
        const generic = await plan(`EXPLAIN (COSTS OFF) EXECUTE aimemo_probe('ops-4')`);
        expect(generic).toContain(`Subplans Removed: ${PARTITIONS - 1}`);
      } finally {
        await s.query('DEALLOCATE aimemo_probe');
        await s.query('RESET plan_cache_mode');
      }
    });

    // Before the next test: these fail and roll back, so they leave the journal as it was.
    it.each([
      [
        'a unique index without namespace',
        `CREATE UNIQUE INDEX "memories_probe_id_uq" ON ${TABLE} USING btree ("id");`,
        /unique constraint on partitioned table must include all partitioning columns/,
      ],
      ['a change of the namespace column', `ALTER TABLE ${TABLE} ALTER COLUMN "namespace" SET DATA TYPE varchar(255);`, /part of the partition key/],
    ])('refuses a migration partitioning rules out (%s), rolling it back', async (_what, statement, reason) => {
      const indexes = await parentIndexes(s);
      const error = await migratePostgres(s.db, true, withExtra([{ tag: '9001_probe-refused', sql: statement }])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect(causes(error)).toMatch(reason);
      expect(await parentIndexes(s)).toEqual(indexes);
      expect(await s.query(`SELECT data_type FROM information_schema.columns WHERE table_schema = '${AIMEMO_SCHEMA}' AND table_name = 'memories' AND column_name = 'namespace'`)).toEqual([
        { data_type: 'text' },
      ]);
    });

    it('applies the kinds of migration expected next: a recreated search_vector, a btree_gin index on (namespace, search_vector)', async () => {
      const [generated] = await s.query<{ expr: string }>(
        `SELECT pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
         WHERE d.adrelid = '${TABLE}'::regclass AND a.attname = 'search_vector'`,
      );
      // Dropping the column drops every index on it: recreate each, whatever the migrations have made by then.
      const onVector = (await parentIndexes(s)).filter((r) => /\bsearch_vector\b/.test(r.indexdef)).map((r) => `${r.indexdef};`);
      expect(onVector.length).toBeGreaterThan(0);
      await migratePostgres(
        s.db,
        true,
        withExtra([
          {
            // What drizzle-kit emits when the generated expression changes (drop, add), plus the indexes it forgets (notes/drizzle.md).
            tag: '9001_probe-search-vector',
            sql: [
              `ALTER TABLE ${TABLE} DROP COLUMN "search_vector";`,
              `ALTER TABLE ${TABLE} ADD COLUMN "search_vector" "tsvector" GENERATED ALWAYS AS (${generated.expr}) STORED NOT NULL;`,
              ...onVector,
            ].join('\n--> statement-breakpoint\n'),
          },
          {
            tag: '9002_probe-btree-gin',
            sql: `CREATE EXTENSION IF NOT EXISTS btree_gin;\n--> statement-breakpoint\nCREATE INDEX "memories_probe_ns_search_idx" ON ${TABLE} USING gin ("namespace","search_vector");`,
          },
        ]),
      );
      const indexes = await parentIndexes(s);
      expect(indexes.map((r) => r.indexname).sort()).toEqual([...reference.map((r) => r.indexname), 'memories_probe_ns_search_idx'].sort());
      const attached = await s.query<{ valid: boolean; partitions: number }>(
        `SELECT i.indisvalid AS valid, (SELECT count(*)::int FROM pg_inherits WHERE inhparent = i.indexrelid) AS partitions
         FROM pg_index i WHERE i.indrelid = '${TABLE}'::regclass`,
      );
      expect(attached).toEqual(indexes.map(() => ({ valid: true, partitions: PARTITIONS })));
      expect((await store.search('fastapi', { namespace: 'ops-2' })).map((r) => r.id)).toEqual(['m0']);
      expect(await s.query(`SELECT relkind::text AS relkind FROM pg_class WHERE oid = '${TABLE}'::regclass`)).toEqual([{ relkind: 'p' }]);
    });
  });
}

describePartitioned(pgliteTarget);

if (!PG_URL && process.env.AIMEMO_REQUIRE_PG === '1') {
  test('the partitioned-table migration tests run on the PostgreSQL server', () => {
    throw new Error('AIMEMO_REQUIRE_PG=1 but AIMEMO_TEST_PG_URL is not set');
  });
} else if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('Partitioned-table migration tests on a server skipped: AIMEMO_TEST_PG_URL is not set (they ran on PGlite)');
  test.skip('partitioned aimemo.memories on a PostgreSQL server: set AIMEMO_TEST_PG_URL to run', () => undefined);
} else {
  describePartitioned(serverTarget);
}
