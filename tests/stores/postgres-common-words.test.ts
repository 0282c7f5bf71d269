/**
 * PostgreSQL keeps, for a minute, which words 1,000 memories of a namespace
 * or more hold (src/store/postgres/postgres-repository.ts, `knownCommon`):
 * counting them reads the word's whole GIN posting list, and they score 0
 * in BM25 anyway. A search that uses the verdict must return exactly what
 * the first one, which counted, returned; rarer words are counted each time.
 * Runs on PGlite (the server runs the same SQL in the conformance suite).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { PostgresStore, type NewMemory } from '../../src';
import type { TracedStatement } from '../../src/store/repository';
import { createPGlite } from '../helpers/postgres';

describe('PostgreSQL: common words are counted once a minute', () => {
  let db: PGlite;
  let store: PostgresStore;

  beforeAll(async () => {
    db = await createPGlite();
    store = new PostgresStore(db);
    const rows: NewMemory[] = Array.from({ length: 1200 }, (_, i) => ({
      namespace: 'big',
      id: `m${i}`,
      content: `meeting notes ${i % 10 === 0 ? 'quarterly budget' : 'weekly sync'} item ${i}`,
      timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
    }));
    await store.saveMany(rows);
    await store.saveMany(rows.slice(0, 5).map((r) => ({ ...r, namespace: 'small' })));
  }, 60_000);

  afterAll(async () => {
    await store.close();
    await db.close();
  });

  /** Results and the statements sent for one search. */
  async function traced(query: string, namespace: string, mode: 'all' | 'any' = 'all') {
    const sent: TracedStatement[] = [];
    const repository = (store as unknown as { repository: { tracer?: (s: TracedStatement) => void } }).repository;
    repository.tracer = (s) => sent.push(s);
    const results = await store.search(query, { namespace, mode, limit: 10 });
    repository.tracer = undefined;
    return { results: results.map((r) => [r.id, r.score]), sent };
  }

  /** The `common` flags the search statement carried, as text ('true'/'false'). */
  const flags = (sent: TracedStatement[]) => sent.filter((s) => /WITH words AS/.test(s.sql)).map((s) => s.params[2]);

  it('a common word is counted by the first search only; the second returns the same', async () => {
    const first = await traced('meeting', 'big');
    expect(flags(first.sent)).toEqual([['false']]);
    expect(first.results).toHaveLength(10);
    expect(first.results.every(([, score]) => score === 0)).toBe(true); // held by 1,200 memories: scores 0, newest first
    expect(first.results.map(([id]) => id)).toEqual(Array.from({ length: 10 }, (_, i) => `m${1199 - i}`));

    const second = await traced('meeting', 'big');
    expect(flags(second.sent)).toEqual([['true']]);
    expect(second.results).toEqual(first.results);
  });

  it('a rarer word is counted every time, and ranks above the common one', async () => {
    const first = await traced('meeting budget', 'big');
    const second = await traced('meeting budget', 'big');
    expect(flags(second.sent)).toEqual([['true', 'false']]); // meeting known common; budget (120 memories) counted again
    expect(second.results).toEqual(first.results);
    expect(second.results.every(([, score]) => (score as number) > 0)).toBe(true);
  });

  it('the verdict is per namespace', async () => {
    const small = await traced('meeting', 'small');
    expect(flags(small.sent)).toEqual([['false']]);
    expect(small.results).toHaveLength(5);
  });

  it("mode 'any' reuses it: no round trip to count words already known common", async () => {
    await traced('weekly meeting', 'big', 'any'); // learns that 'weekly' (1,080 memories) is common too
    const again = await traced('weekly meeting', 'big', 'any');
    expect(again.sent.some((s) => /WITH ORDINALITY AS w\(q, i\)/.test(s.sql))).toBe(false);
    expect(again.results.length).toBeGreaterThan(0);
  });
});
