/**
 * SQLite search has two query shapes (src/store/sqlite/sqlite-repository.ts):
 * the namespace's FTS5 token in the MATCH (most namespaces), or, for a
 * namespace of 10,000 memories or more that holds a tenth of the table, the
 * words alone with the namespace checked in the join (FTS5's bm25() would
 * otherwise count every row of that namespace first). Both must return the
 * same memories with the same scores; this test compares them row for row,
 * and checks that each shape really ran (the conformance suite's namespaces
 * are all small, so it only ever runs the first).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { namespaceToken } from '../../drizzle/sqlite';
import { SQLiteStore, type NewMemory } from '../../src';
import { toFts5 } from '../../src/search/fts5';
import { parseQuery } from '../../src/search/query';
import type { TracedStatement } from '../../src/store/repository';
import { tempDir } from '../helpers/temp';

const WORDS = ['amber', 'birch', 'cobalt', 'dune', 'ember', 'fjord', 'garnet', 'harbor', 'indigo', 'juniper', 'kestrel', 'lagoon'];

function memories(namespace: string, count: number): NewMemory[] {
  return Array.from({ length: count }, (_, i) => ({
    namespace,
    id: `${namespace}-${i}`,
    // word i % 12 in every memory, a rarer word every 7th and 50th: varied term frequencies and lengths
    content: [WORDS[i % 12], i % 7 === 0 ? WORDS[(i + 3) % 12] : '', i % 50 === 0 ? `${WORDS[5]} ${WORDS[5]}` : '', 'note', String(i)].join(' '),
    tags: i % 3 === 0 ? ['third'] : [],
    timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000),
  }));
}

describe('SQLite search: namespace token in the MATCH, or not', () => {
  const tmp = tempDir('search-paths');
  const file = tmp.file('paths.db');
  let store: SQLiteStore;
  let raw: Database.Database;

  beforeAll(async () => {
    store = new SQLiteStore(file);
    await store.saveMany(memories('big', 12_000));
    await store.saveMany(memories('small', 600));
    raw = new Database(file, { readonly: true });
  });

  afterAll(async () => {
    raw.close();
    await store.close();
    tmp.cleanup();
  });

  /** The MATCH expressions the library sent for one search. */
  async function matches(query: string, namespace: string, tags: string[] = []): Promise<{ ids: string[]; scores: number[]; match: string[] }> {
    const sent: TracedStatement[] = [];
    const repository = (store as unknown as { repository: { tracer?: (s: TracedStatement) => void } }).repository;
    repository.tracer = (s) => sent.push(s);
    const results = await store.search(query, { namespace, limit: 10, tags });
    repository.tracer = undefined;
    const match = sent.filter((s) => /MATCH/.test(s.sql) && /bm25/.test(s.sql)).map((s) => String(s.params[0]));
    return { ids: results.map((r) => r.id), scores: results.map((r) => r.score), match };
  }

  /** The same search written with the token, run on better-sqlite3 directly. */
  function withToken(query: string, namespace: string, tags: string[] = []): { ids: string[]; scores: number[] } {
    const tree = parseQuery(query, 'all')!;
    const rows = raw
      .prepare(
        `SELECT * FROM (SELECT m.id, m."timestamp", bm25(memories_fts, 1.0, 0.0) AS rank FROM memories_fts JOIN memories m ON m.rid = memories_fts.rowid
           WHERE memories_fts MATCH ? AND m.namespace = ? ${tags.map(() => 'AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ?)').join(' ')}
           ORDER BY memories_fts.rowid DESC LIMIT 1000)
         ORDER BY rank, "timestamp" DESC, id LIMIT 10`,
      )
      .all(`fts_ns : "${namespaceToken(namespace)}" AND content : (${toFts5(tree)})`, namespace, ...tags) as { id: string; rank: number }[];
    return { ids: rows.map((r) => r.id), scores: rows.map((r) => -r.rank) };
  }

  it.each([['amber'], ['fjord'], ['amber OR dune'], ['"amber note"'], ['bir*'], ['fjord NOT amber'], ['kestrel note']])(
    'a large namespace is searched without its token, with the same results: %s',
    async (query) => {
      const got = await matches(query, 'big');
      expect(got.match.length).toBeGreaterThan(0);
      for (const m of got.match) expect(m).not.toMatch(/fts_ns/);
      const want = withToken(query, 'big');
      expect(got.ids).toEqual(want.ids);
      expect(got.ids.length).toBeGreaterThan(0);
      got.scores.forEach((score, i) => expect(score).toBeCloseTo(want.scores[i], 12));
    },
  );

  it('a tags filter too', async () => {
    const got = await matches('garnet', 'big', ['third']);
    expect(got.match[0]).not.toMatch(/fts_ns/);
    expect(got.ids).toEqual(withToken('garnet', 'big', ['third']).ids);
    expect(got.ids.length).toBe(10);
  });

  it('a small namespace is searched with its token, and never sees the large one', async () => {
    const got = await matches('amber', 'small');
    expect(got.match[0]).toMatch(/^fts_ns : "ns[0-9a-f]+0" AND content/);
    expect(got.ids).toEqual(withToken('amber', 'small').ids);
    expect(got.ids.every((id) => id.startsWith('small-'))).toBe(true);
  });
});
