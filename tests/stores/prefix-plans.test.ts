/**
 * Reads across a namespace prefix find their namespaces on an index range,
 * never by scanning the memories (EXPLAIN of the statements the store sends,
 * captured with its internal tracer). Data: 2,000 namespaces of 10 memories,
 * 40 of them under the prefix, and plain namespaces that sort among them.
 *
 * - SQLite: each step of the namespace walk is one seek of an index on `(namespace, …)`.
 * - PostgreSQL (server): the registry range uses `search_namespaces_namespace_c_idx`
 *   (migration 0009), the probes and the per-namespace pages the memories' own indexes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import postgres from 'postgres';
import { namespacePath, PostgresStore, SQLiteStore, type NewMemory, type SqlStore } from '../../src';
import type { TracedStatement } from '../../src/store/repository';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('prefix-plans');
afterAll(() => tmp.cleanup());

const memories = (): NewMemory[] =>
  Array.from({ length: 2000 }, (_, k) =>
    Array.from({ length: 10 }, (_, i) => ({
      id: `m${i}`,
      namespace: k % 50 === 0 ? namespacePath(['tenants', String(k), 'memories']) : k % 2 ? namespacePath(['other', String(k)]) : `plain-${k}`,
      content: `memory ${i} of namespace ${k}`,
    })),
  ).flat();

/** The statements one call sends. */
async function statementsOf(store: SqlStore, call: () => Promise<unknown>): Promise<TracedStatement[]> {
  const repository = (store as unknown as { repository: { tracer?: (s: TracedStatement) => void } }).repository;
  const seen: TracedStatement[] = [];
  repository.tracer = (s) => seen.push(s);
  try {
    await call();
  } finally {
    repository.tracer = undefined;
  }
  return seen;
}

describe('SQLite: the namespaces under a prefix, one index seek each', () => {
  let store: SQLiteStore;
  beforeAll(async () => {
    store = new SQLiteStore(tmp.file('prefix.db'));
    await store.saveMany(memories());
    await store.optimize();
  }, 60_000);
  afterAll(() => store.close());

  it('walks a (namespace, …) index by range, and finds exactly the 40 namespaces', async () => {
    const statements = await statementsOf(store, () => store.getAllNamespaces({ namespacePrefix: ['tenants'] }));
    // One statement per namespace found, plus the one that finds no next namespace.
    expect(statements).toHaveLength(41);
    for (const { sql, params } of statements.slice(0, 2)) {
      const plan = (store.client!.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
      // Either index that starts with the namespace serves the seek (the planner picks the smaller).
      expect(plan).toMatch(/SEARCH memories USING COVERING INDEX memories_ns_(id_uq|ts_idx) \(namespace>\? AND namespace<\?\)/);
      expect(plan).not.toMatch(/SCAN memories/);
    }
    expect(await store.getAllNamespaces({ namespacePrefix: ['tenants'] })).toHaveLength(40);
  });
});

(PG_URL ? describe : describe.skip)('PostgreSQL (server): the namespaces under a prefix come from an index range', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDatabase('prefix_plans');
    store = new PostgresStore(db.url, { poolSize: 2 });
    await store.saveMany(memories());
    await store.optimize(); // folds the statistics log, ANALYZE
    sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await sql?.end();
    await db?.drop();
  });

  const explain = async ({ sql: text, params }: TracedStatement) => (await sql.unsafe(`EXPLAIN ${text}`, params as never[])).map((r) => r['QUERY PLAN'] as string).join('\n');

  it('reads the registry on its COLLATE "C" index, and probes each namespace on the primary key', async () => {
    const [statement] = await statementsOf(store, () => store.getAllNamespaces({ namespacePrefix: ['tenants'] }));
    const plan = await explain(statement);
    expect(plan).toMatch(/search_namespaces_namespace_c_idx/);
    expect(plan).not.toMatch(/Seq Scan on (memories|search_namespaces)/);
    expect(await store.getAllNamespaces({ namespacePrefix: ['tenants'] })).toHaveLength(40);
  });

  it('lists across the prefix reading each namespace on an index (never the whole table)', async () => {
    const statements = await statementsOf(store, () => store.list({ namespacePrefix: ['tenants'], limit: 10 }));
    const plan = await explain(statements[statements.length - 1]);
    expect(plan).toMatch(/Index Cond: \(namespace = n\.ns\)/);
    expect(plan).not.toMatch(/Seq Scan on memories/);
  });
});
