/**
 * Issue 10: the search pool is the exact BM25 top-N of every match in the
 * namespace, at any size, the same on every backend.
 *
 * - Reference: on generated namespaces (Zipf vocabulary, so some words are in
 *   most memories and the threshold algorithm has to read deep; repeated words;
 *   shared timestamps), every query's results equal a brute-force BM25 over
 *   every match (tests/search/reference.ts, read from the backends' own
 *   full-text indexes): the same ids (ties aside) and the same scores.
 *   10,000 memories in `npm test`, 200,000 in `npm run test:stress`.
 * - Parity: the same data on SQLite and PostgreSQL gives the same results
 *   and scores (within 1e-9).
 * - Isolation: a namespace's results and scores do not move when another
 *   namespace gains 100,000 memories of the same words (PGlite: 20,000).
 *
 * Mode 'all' returns the engine's top-N as it is (mode 'any' re-ranks it), so
 * OR queries in mode 'all' test the pool the re-ranker sees.
 */
import type { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import { drizzle } from 'drizzle-orm/pglite';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore, type NewMemory, type SearchOptions, type SqlStore } from '../../src';
import { PG_URL, createPGlite, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { prng, scale } from '../helpers/reliability';
import { tempDir } from '../helpers/temp';
import { POSTGRES_REFERENCE_SQL, postgresReference, sqliteReference, sqliteStems, type Reference, type RefQuery } from './reference';

const SIZE = scale(10_000, 200_000);
const NS = 'exact';
const tmp = tempDir('exact-ranking');

// ---------------------------------------------------------------- data

const random = prng(20_261_203);
const SYLLABLES = ['ka', 'lo', 'mu', 'ri', 'sa', 'to', 'ne', 'pu', 'di', 'vo', 'ga', 'zu'];
/** Words no stemmer changes (they end in a, o or u after a consonant), plus real ones that do. */
const VOCABULARY = [
  ...Array.from({ length: 3000 }, (_, i) => {
    let w = '';
    for (let n = i + 7; w.length < 6 || n > 0; n = Math.floor(n / SYLLABLES.length)) w += SYLLABLES[n % SYLLABLES.length];
    return w.replace(/[ie]$/, 'a');
  }),
];
const REAL = ['running', 'runs', 'painted', 'painting', 'paints', 'walked', 'walking'];
const zipf = (() => {
  const weights = VOCABULARY.map((_, k) => 1 / Math.pow(k + 1, 1.05));
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  const cumulative = weights.map((w) => (sum += w / total));
  return () => {
    const x = random();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return VOCABULARY[lo];
  };
})();
const TAGS = ['red', 'green', 'blue'];

function memories(namespace: string, n: number): NewMemory[] {
  const start = Date.UTC(2025, 0, 1);
  return Array.from({ length: n }, (_, i) => {
    const length = 3 + Math.floor(random() * 30);
    const words = Array.from({ length }, () => (random() < 0.03 ? REAL[Math.floor(random() * REAL.length)] : random() < 0.15 ? 'the' : zipf()));
    return {
      id: `${namespace}-${i}`,
      namespace,
      content: words.join(' '),
      tags: TAGS.filter(() => random() < 0.3),
      // Every fifth memory shares its timestamp with the one before it: ties the save order must break.
      timestamp: new Date(start + (i - (i % 5 === 4 ? 1 : 0)) * 1000),
    };
  });
}

const DATA = memories(NS, SIZE);

/** Queries over words of every frequency: the most common, mid, rare; AND, OR, phrases, prefixes, tags. */
const QUERIES: { text: string; options?: SearchOptions }[] = [
  { text: VOCABULARY[0] },
  { text: VOCABULARY[1] },
  { text: `${VOCABULARY[0]} OR ${VOCABULARY[1]}` },
  { text: `${VOCABULARY[0]} OR ${VOCABULARY[2]} OR ${VOCABULARY[40]}` },
  { text: `${VOCABULARY[3]} OR ${VOCABULARY[900]}` },
  { text: `${VOCABULARY[0]} ${VOCABULARY[5]}` },
  { text: `${VOCABULARY[30]} ${VOCABULARY[31]}` },
  { text: `${VOCABULARY[2000]} OR ${VOCABULARY[2500]} OR ${VOCABULARY[0]}` },
  { text: 'running OR paint' },
  // Phrases: two of the commonest words (over 512 matches at 10,000 memories: the engine checks candidates against
  // FTS5's set of matches), fewer matches (scored whole), and a reversed order (the words together, rarely in it)
  { text: `"${VOCABULARY[0]} ${VOCABULARY[1]}"` },
  { text: `"${VOCABULARY[2]} ${VOCABULARY[3]}"` },
  { text: `"${VOCABULARY[1]} ${VOCABULARY[0]}"` },
  { text: `"${VOCABULARY[0]} ${VOCABULARY[1]}"`, options: { tags: ['red'] } },
  { text: `${VOCABULARY[4].slice(0, 4)}*` },
  { text: `${VOCABULARY[0]} OR ${VOCABULARY[1]}`, options: { tags: ['red', 'blue'] } },
  { text: `${VOCABULARY[6]} OR ${VOCABULARY[7]} OR ${VOCABULARY[8]} OR ${VOCABULARY[9]}`, options: { tags: ['green'] } },
];

/** The reference query for a test query, words stemmed the backend's way. */
function refQuery(text: string, options: SearchOptions | undefined, stem: (words: string[]) => string[]): RefQuery {
  const tags = options?.tags;
  if (text.startsWith('"')) return { join: 'and', items: [{ kind: 'phrase', stems: stem(text.slice(1, -1).split(' ')) }], tags };
  if (text.endsWith('*')) return { join: 'or', items: [{ kind: 'prefix', prefix: stem([text.slice(0, -1)])[0] || text.slice(0, -1) }], tags };
  const or = text.includes(' OR ');
  const words = text.split(or ? ' OR ' : ' ');
  return { join: or ? 'or' : 'and', items: stem(words).map((s) => ({ kind: 'word' as const, stem: s })), tags };
}

const LIMIT = 20;

/** Results equal to the reference: same scores in order (1e-9), same ids above the last score (ties aside). */
function expectExact(results: { id: string; score: number }[], ref: Reference, q: RefQuery, label: string): void {
  const ranked = ref.rank(q);
  const max = ref.maxScore(q);
  const expected = ranked.slice(0, LIMIT);
  expect({ label, n: results.length }).toEqual({ label, n: expected.length });
  results.forEach((r, i) => expect({ label, i, score: r.score }).toEqual({ label, i, score: expect.closeTo(expected[i].score / max, 9) }));
  if (expected.length === 0) return;
  const last = expected[expected.length - 1].score;
  const above = (list: { id: string; score: number }[], s: (x: { score: number }) => number) => list.filter((x) => s(x) > last + 1e-9).map((x) => x.id).sort();
  expect({ label, ids: above(results, (x) => x.score * max) }).toEqual({ label, ids: above(expected, (x) => x.score) });
  // Every result really is a match with its reference score.
  const byId = new Map(ranked.map((x) => [x.id, x.score]));
  for (const r of results) expect({ label, id: r.id, score: r.score }).toEqual({ label, id: r.id, score: expect.closeTo((byId.get(r.id) ?? NaN) / max, 9) });
}

async function fill(store: SqlStore, data: NewMemory[]): Promise<void> {
  for (let i = 0; i < data.length; i += 5000) await store.saveMany(data.slice(i, i + 5000));
}

// ---------------------------------------------------------------- backends

interface Backend {
  name: string;
  store: SqlStore;
  reference(namespace: string): Promise<Reference>;
  stem(words: string[]): Promise<string[]>;
}

const results = new Map<string, Map<number, { id: string; score: number }[]>>();

/** Memories another namespace gains before the isolation check: 100,000 (PGlite, which is slow to load: 20,000). */
const crowd = (name: string) => (name.includes('PGlite') ? 20_000 : 100_000);

function exactSuite(name: string, open: () => Promise<Backend>, close: () => Promise<void>): void {
  describe(`${name}: exact BM25 top-${LIMIT} against brute force over every match (${SIZE.toLocaleString('en')} memories)`, () => {
    let backend: Backend;
    let ref: Reference;
    beforeAll(async () => {
      backend = await open();
      await fill(backend.store, DATA);
      await fill(backend.store, memories('neighbour', 500));
      ref = await backend.reference(NS);
      expect(ref.n).toBe(SIZE);
    }, scale(240_000, 3_600_000));
    afterAll(close);

    it.each(QUERIES.map((q, i) => [i, q.text, q] as const))('query %i: %s', async (i, _text, q) => {
      const found = await backend.store.search(q.text, { namespace: NS, mode: 'all', limit: LIMIT, ...q.options });
      const rq = refQuery(q.text, q.options, (w) => stemSync.get(backend)!(w));
      expectExact(found, ref, rq, `${name} ${q.text}`);
      if (!results.has(name)) results.set(name, new Map());
      results.get(name)!.set(i, found.map((r) => ({ id: r.id, score: r.score })));
    });

    it(`isolation: the same results and scores after another namespace gains ${crowd(name).toLocaleString('en')} memories of the same words`, async () => {
      await fill(backend.store, memories('crowd', crowd(name)));
      for (const [i, q] of QUERIES.entries()) {
        const found = await backend.store.search(q.text, { namespace: NS, mode: 'all', limit: LIMIT, ...q.options });
        expect({ i, results: found.map((r) => [r.id, r.score]) }).toEqual({ i, results: results.get(name)!.get(i)!.map((r) => [r.id, r.score]) });
      }
    }, 600_000);

    const stemSync = new Map<Backend, (w: string[]) => string[]>();
    beforeAll(async () => {
      // Stems for every word the queries use, looked up once.
      const all = [...new Set(QUERIES.flatMap((q) => q.text.replace(/["*]/g, '').split(/ OR | /)))];
      const stems = await backend.stem(all);
      const map = new Map(all.map((w, i) => [w, stems[i]]));
      stemSync.set(backend, (words) => words.map((w) => map.get(w)!));
    });
  });
}

let pglite: PGlite;
let server: TestDatabase | undefined;

exactSuite(
  'SQLiteStore(file)',
  async () => {
    const file = tmp.file('exact.db');
    const store = new SQLiteStore(file);
    return {
      name: 'sqlite',
      store,
      reference: async (ns) => {
        const db = new Database(file);
        try {
          return sqliteReference(db, ns);
        } finally {
          db.close();
        }
      },
      stem: async (words) => {
        const db = new Database(':memory:');
        try {
          return sqliteStems(db, words);
        } finally {
          db.close();
        }
      },
    };
  },
  async () => undefined,
);

const pgBackend = (name: string, store: SqlStore, query: <T>(text: string, params: unknown[]) => Promise<T[]>): Backend => ({
  name,
  store,
  reference: async (ns) => postgresReference(await query(POSTGRES_REFERENCE_SQL, [ns])),
  stem: async (words) => (await query<{ s: string }>(`SELECT coalesce((SELECT string_agg(lexeme, ' ') FROM unnest(to_tsvector('english', w))), '') AS s FROM unnest($1::text[]) WITH ORDINALITY AS x(w, o) ORDER BY o`, [words])).map((r) => r.s),
});

exactSuite(
  'PostgresStore(PGlite)',
  async () => {
    pglite = await createPGlite();
    return pgBackend('pglite', new PostgresStore(drizzle({ client: pglite })), async <T>(text: string, params: unknown[]) => (await pglite.query<T>(text, params)).rows);
  },
  async () => {
    await pglite.close();
  },
);

if (PG_URL) {
  let sql: postgres.Sql;
  exactSuite(
    'PostgresStore(server)',
    async () => {
      server = await createTestDatabase('exact');
      sql = postgres(server.url, { max: 1, onnotice: () => undefined });
      return pgBackend('server', new PostgresStore(server.url, { poolSize: 2 }), async <T>(text: string, params: unknown[]) => (await sql.unsafe(text, params as never[])) as unknown as T[]);
    },
    async () => {
      await sql.end();
      await server!.drop();
    },
  );
} else {
  test.skip('PostgresStore(server): set AIMEMO_TEST_PG_URL to run', () => undefined);
}

describe('parity: the same data gives the same results and scores on every backend', () => {
  it.each(QUERIES.map((q, i) => [i, q.text] as const))('query %i: %s', (i) => {
    const [first, ...others] = [...results.values()].map((r) => r.get(i)!);
    for (const other of others) {
      expect(other.map((r) => r.score)).toEqual(first.map((r) => expect.closeTo(r.score, 9)));
      const last = first[first.length - 1]?.score ?? 0;
      const above = (list: { id: string; score: number }[]) => list.filter((r) => r.score > last + 1e-9).map((r) => r.id).sort();
      expect(above(other)).toEqual(above(first));
    }
  });
});

afterAll(() => tmp.cleanup());
