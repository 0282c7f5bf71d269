/**
 * Which index each kind of filter uses (EXPLAIN), on data where the index is
 * the right choice: the statements are the ones the store sends (captured with
 * its internal tracer, as `npm run bench` does) and are explained on a
 * connection of the test's own.
 *
 * - PostgreSQL: metadata equality and containment (of a number, boolean or
 *   null: a string operand also matches substrings) use the GIN index
 *   `memories_metadata_idx` (jsonb_path_ops); a range uses a declared
 *   expression index; `since`/`until` use `memories_ns_ts_id_idx`.
 * - SQLite: a range uses a declared expression index; `since`/`until` use
 *   `memories_ns_ts_idx`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore, type ListOptions, type NewMemory, type SqlStore } from '../../src';
import type { TracedStatement } from '../../src/store/repository';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const ROWS = 20_000;
const NS = 'plans';
const tmp = tempDir('filter-plans');
afterAll(() => tmp.cleanup());

const memories = (): NewMemory[] =>
  Array.from({ length: ROWS }, (_, i) => ({
    namespace: i % 4 === 0 ? `other-${i % 8}` : NS, // the namespace holds 3 in 4
    content: `memory ${i}`,
    metadata: { turn: i, source: ['chat', 'doc', 'email'][i % 3], labels: i === 4000 ? ['rare'] : ['common'], codes: [i % 1000, i] },
    timestamp: new Date(Date.UTC(2025, 0, 1) + i * 60_000),
  }));

/** The statement `list(options)` sends. */
async function statementOf(store: SqlStore, options: ListOptions): Promise<TracedStatement> {
  const repository = (store as unknown as { repository: { tracer?: (s: TracedStatement) => void } }).repository;
  const seen: TracedStatement[] = [];
  repository.tracer = (s) => seen.push(s);
  try {
    await store.list({ namespace: NS, limit: 10, ...options });
  } finally {
    repository.tracer = undefined;
  }
  return seen[seen.length - 1];
}

describe('SQLite: query plans of filters', () => {
  let store: SQLiteStore;
  beforeAll(async () => {
    store = new SQLiteStore(tmp.file('plans.db'));
    await store.saveMany(memories());
    await store.createMetadataIndex({ path: 'turn', type: 'number' });
    await store.optimize(); // PRAGMA optimize: statistics
  }, 60_000);
  afterAll(() => store.close());

  const plan = async (options: ListOptions) => {
    const { sql, params } = await statementOf(store, options);
    return (store.client!.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
  };

  it('a range on an indexed path uses its expression index', async () => {
    expect(await plan({ where: { turn: { $gte: 400, $lt: 480 } } })).toMatch(/USING INDEX memories_meta_number_turn \(namespace=\? AND <expr>>\? AND <expr><\?\)/);
  });

  it('a range holding most of the namespace walks the newest rows instead (counted through the index first)', async () => {
    expect(await plan({ where: { turn: { $gte: 400 } } })).toMatch(/memories_ns_ts_idx/);
    expect((await store.list({ namespace: NS, limit: 3, where: { turn: { $gte: 400 } } })).map((m) => m.metadata.turn)).toEqual([19999, 19998, 19997]);
  });

  it('since/until use (namespace, timestamp)', async () => {
    expect(await plan({ since: new Date(Date.UTC(2025, 0, 2)), until: new Date(Date.UTC(2025, 0, 3)) })).toMatch(/memories_ns_ts_idx \(namespace=\? AND timestamp>\? AND timestamp<\?\)/);
  });

  it('returns the same rows with and without the index', async () => {
    const where = { turn: { $gte: 400, $lt: 480 } };
    const withIndex = await store.list({ namespace: NS, where });
    expect(withIndex.map((m) => m.metadata.turn)).toEqual(Array.from({ length: 80 }, (_, k) => 479 - k).filter((t) => t % 4 !== 0));
    await store.dropMetadataIndex({ path: 'turn', type: 'number' });
    expect(await plan({ where })).not.toMatch(/memories_meta_/);
    expect(await store.list({ namespace: NS, where })).toEqual(withIndex);
    expect(await store.metadataIndexes()).toEqual([]);
    expect((await store.createMetadataIndex({ path: 'turn', type: 'number' })).created).toBe(true);
    expect((await store.createMetadataIndex({ path: 'turn', type: 'number' })).created).toBe(false);
    expect(await store.metadataIndexes()).toEqual([{ name: 'memories_meta_number_turn', type: 'number', path: 'turn' }]);
  });
});

(PG_URL ? describe : describe.skip)('PostgreSQL (server): query plans of filters', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDatabase('plans');
    store = new PostgresStore(db.url, { poolSize: 2 });
    await store.ready();
    sql = postgres(db.url, { max: 1, onnotice: () => undefined });
    // As memories() but five times as many (the GIN index pays off on a table of some size), written in SQL for speed.
    await sql.unsafe(`INSERT INTO aimemo.memories (namespace, id, content, metadata, tags, "timestamp")
      SELECT CASE WHEN i % 4 = 0 THEN 'other-' || (i % 8) ELSE '${NS}' END, 'm' || i, 'memory ' || i,
        jsonb_build_object('turn', i, 'source', (ARRAY['chat', 'doc', 'email'])[1 + i % 3],
          'labels', CASE WHEN i = 4000 THEN '["rare"]'::jsonb ELSE '["common"]'::jsonb END, 'codes', jsonb_build_array(i % 1000, i)),
        '{}', timestamptz '2025-01-01' + i * interval '1 minute'
      FROM generate_series(0, ${ROWS * 5 - 1}) AS i`);
    await store.createMetadataIndex({ path: 'turn', type: 'number' });
    await store.createMetadataIndex({ path: 'source', type: 'string' });
    await store.optimize(); // ANALYZE
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await sql?.end();
    await db?.drop();
  });

  const plan = async (options: ListOptions) => {
    const { sql: text, params } = await statementOf(store, options);
    const rows = await sql.unsafe(`EXPLAIN ${text}`, params as never[]);
    return rows.map((r) => r['QUERY PLAN'] as string).join('\n');
  };

  it('metadata equality uses the GIN index on metadata', async () => {
    expect(await plan({ where: { turn: 4000 } })).toMatch(/memories_metadata_idx/);
  });

  it('array containment uses it too (a string operand also matches substrings, which the index cannot serve)', async () => {
    expect(await plan({ where: { codes: { $contains: 4000 } } })).toMatch(/memories_metadata_idx/);
    expect(await plan({ where: { labels: { $contains: 'rare' } } })).not.toMatch(/memories_metadata_idx/);
  });

  it('a range on an indexed path uses its expression index', async () => {
    expect(await plan({ where: { turn: { $gte: 400, $lt: 480 } } })).toMatch(/memories_meta_number_turn/);
    expect(await plan({ where: { source: { $gte: 'd', $lt: 'e' } }, since: new Date(Date.UTC(2025, 0, 5)) })).toMatch(/memories_meta_string_source|memories_ns_ts_id_idx/);
  });

  it('a range holding most of the namespace walks the newest rows instead (the index gives the planner statistics)', async () => {
    expect(await plan({ where: { turn: { $gte: 400 } } })).toMatch(/memories_ns_ts_id_idx/);
  });

  it('since/until use (namespace, timestamp, id)', async () => {
    expect(await plan({ since: new Date(Date.UTC(2025, 0, 2)), until: new Date(Date.UTC(2025, 0, 3)) })).toMatch(/memories_ns_ts_id_idx/);
  });

  it('returns the same rows with and without the index, and rebuilds an invalid one', async () => {
    const where = { turn: { $gte: 400, $lt: 480 } };
    const withIndex = await store.list({ namespace: NS, where });
    expect(withIndex).toHaveLength(60);
    expect(await store.dropMetadataIndex({ path: 'turn', type: 'number' })).toBe(true);
    expect(await store.list({ namespace: NS, where })).toEqual(withIndex);
    // A build that died leaves an INVALID index (simulated): createMetadataIndex drops it and builds again.
    await sql.unsafe(`CREATE INDEX "memories_meta_number_turn" ON aimemo.memories (namespace) WHERE false`);
    await sql.unsafe(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'aimemo.memories_meta_number_turn'::regclass`);
    expect((await store.createMetadataIndex({ path: 'turn', type: 'number' })).created).toBe(true);
    const [{ valid, def }] = await sql`SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE indexrelid = 'aimemo.memories_meta_number_turn'::regclass`;
    expect(valid).toBe(true);
    expect(def).toMatch(/metadata -> 'turn'/);
    expect((await store.metadataIndexes()).map((i) => i.name).sort()).toEqual(['memories_meta_number_turn', 'memories_meta_string_source']);
  });
});
