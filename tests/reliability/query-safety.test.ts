/**
 * Issue #6.7: query safety, as a property test (fast-check).
 *
 * Generated queries mix the corpus's own words with the syntax of FTS5
 * (NEAR, ^, :, *, "…", column filters) and of tsquery (&, |, !, <->, :*),
 * upper- and lower-case operators, SQL fragments, control characters, lone
 * surrogates and arbitrary Unicode. Every query goes to SQLite and to
 * PostgreSQL (PGlite always, a server when AIMEMO_TEST_PG_URL is set), in
 * mode 'all' or 'any', with or without a tags filter. For each:
 *
 * - no backend raises;
 * - every hit is in the namespace searched and carries the tags asked for;
 * - SQLite and every PostgreSQL return the same ids. Two documented
 *   exceptions, where SQLite's ids must be a subset of PostgreSQL's instead:
 *   a stop word inside a phrase (SQLite wants that very word, PostgreSQL any
 *   word in its place), and a letter PostgreSQL does not know as one (added to
 *   Unicode after its C library's tables; PGlite's are older than a glibc
 *   server's), which PostgreSQL reads as a space while SQLite must match it.
 *   The test asks each PostgreSQL which letters those are. Where a single
 *   word of the query already finds different memories on its own, the query
 *   is only counted, not compared: stemming (Porter on SQLite, Snowball on
 *   PostgreSQL: `us` finds `uses` on SQLite only) and a prefix that begins a
 *   stop word (`h*` finds `here` on SQLite, which PostgreSQL never indexes);
 * - at the end, no backend's data has changed by a single byte.
 *
 * A quarter of the searches carry a generated metadata filter (`where`) and
 * some a time window: every hit must satisfy them (checked with the
 * JavaScript reference, `matchesWhere`). A second property runs generated
 * filters alone on `list` and `count` over memories whose metadata mixes
 * types on purpose (numbers and numeric strings, true and 1, null and
 * missing, arrays and strings, nested objects): every backend must return
 * exactly the reference's memories, in list order, and count them.
 *
 * CI: 1,000 queries and 1,000 filters (each runs on SQLite, PGlite and the server: 170 s at 2,000 kept `npm test` over its 15-minute budget). `npm run test:stress`: 100,000 each.
 * AIMEMO_SEED replays a run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore, matchesWhere, validateWhere, type Json, type MemoryStore, type SearchOptions, type Where } from '../../src';
import { parseQuery, words, type QueryNode } from '../../src/search/query';
import { isStopWord } from '../../src/search/stop-words';
import { PG_URL, createPGlite, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { report, scale, seed } from '../helpers/reliability';

const QUERIES = scale(1_000, 100_000);
const FILTERS = scale(1_000, 100_000);
const FILTERED = 'filtered'; // memories with generated metadata, for the filter property
const NS = 'corpus';
const DECOY = 'corpus-decoy'; // the same texts under other ids: must never show up

/** The corpus: ordinary notes, punctuation, Unicode, numbers, code, e-mail, URLs. */
const TEXTS = [
  'User is building a FastAPI project with OAuth2 authentication',
  'FastAPI authentication uses JWT tokens that expire after an hour',
  'The quick brown fox jumps over the lazy dog',
  'A lazy afternoon: coffee, a book and the dog asleep',
  'Deploy to staging with docker compose, then to production with kubernetes',
  'Budget review for Q3: marketing spend is 20% over plan',
  'Prefers dark mode in every editor and terminal',
  'Running a marathon in under four hours is the goal; runs every morning',
  'The database query planner picked a sequential scan',
  'Search memory for the agent: recall what the user said about Rust',
  'Rust compiler errors mention lifetimes and borrowing',
  'Python scripts parse the CSV export every night',
  'Meeting notes: state-of-the-art retrieval, NEAR duplicates removed',
  'E-mail john.doe@example.com about the invoice #4521',
  'See https://example.org/docs/auth?lang=en for the OAuth flow',
  'Café au lait at the naïve bistro; crème brûlée for dessert',
  'Straße und Grüße aus München',
  '日本語のメモ: 東京で会議',
  'Données personnelles: consentement requis',
  '🚀 launch day for version 2.0 🎉',
  'C++ and C# builds run on x86_64 and arm64',
  "Don't forget: O'Brien's report is due Friday",
  'Errors: SQLITE_BUSY and ECONNREFUSED were logged at 03:14',
  'Tags like "urgent" and (optional) brackets [sic] {braces}',
  'Temperature was -5 degrees; 42 is the answer',
  'NOT an operator here, just the word not; and/or too',
  'Quoted "exact phrase" inside a memory about phrases',
  'The fox and the hound; foxes and hounds',
  'Authentication, authorization and auditing (AAA)',
  'Coffee budget: 3 espresso machines, 12 kilograms of beans',
];
const TAGS = ['work', 'home', 'urgent', 'tag with spaces', 'ünïcödé'];

/** The corpus's words, so generated queries match something. */
const VOCABULARY = [
  'fastapi', 'FastAPI', 'authentication', 'auth', 'oauth2', 'jwt', 'tokens', 'token', 'quick', 'brown', 'fox', 'foxes', 'lazy',
  'dog', 'coffee', 'deploy', 'staging', 'docker', 'kubernetes', 'budget', 'dark', 'mode', 'running', 'run', 'runs', 'marathon',
  'database', 'query', 'search', 'memory', 'agent', 'rust', 'Rust', 'python', 'errors', 'error', 'john', 'doe', 'example', 'com',
  'https', 'org', 'café', 'cafe', 'naïve', 'crème', 'straße', 'grüße', 'münchen', '日本語のメモ', '東京で会議', 'données', 'launch',
  'version', '2', '0', 'x86_64', 'x86', '64', 'arm64', 'don', 'brien', 'sqlite_busy', 'econnrefused', '03', '14', 'urgent',
  'sic', 'braces', 'degrees', '42', 'exact', 'phrase', 'hound', 'hounds', 'aaa', 'espresso', 'beans', 'state', 'art',
  'the', 'and', 'or', 'not', 'a', 'of', 'is', 'near', 'near',
];

/** Query syntax of FTS5 and tsquery, our own operators, and plain punctuation. */
const SYNTAX = [
  'AND', 'OR', 'NOT', 'and', 'or', 'not', 'NEAR', 'NEAR/2', 'NEAR(', '"', '(', ')', '*', '^', ':', '-', '+', '{', '}', '[', ']',
  '&', '|', '!', '<->', '<2>', ':*', ':A', ':AB', "'", "''", '\\', '--', ';', '/*', '*/', ',', '.', '?', '$', '%', '_', '#',
  '@', '~', '`', '=', '<', '>', '\u201c', '\u201d', '\u2018', '\u2019', '\u00ab', '\u00bb',
];

/** Fragments an attacker (or an unlucky user) might type. */
const FRAGMENTS = [
  "'; DROP TABLE memories; --", "' OR '1'='1", '" OR 1=1 --', 'UNION SELECT * FROM sqlite_master', 'memories_fts', 'rank',
  'content:fox', 'memories_fts:fox', '{content}: fox', '- content : fox', 'NEAR(fox dog, 2)', 'NEAR(fox dog)', '^fox', 'fox:*',
  'fox:A', 'fox & !dog', 'fox <-> dog', 'fox <3> dog', '(fox | dog) & !cat', '!!fox', '"fox"*', '*fox', 'fox**', '""', '()',
  ')(', '"(', ')"', 'pg_sleep(10)', "'; SELECT pg_sleep(10); --", '$1', '?1', ':name', '@p', "E'\\\\'", '\\x00', "to_tsquery('x')",
  "'fox':* & 'dog'", 'fox AND', 'OR fox', 'NOT fox', 'fox NOT', 'AND OR NOT', '((((fox', 'fox))))', '"unclosed phrase fox',
  'ROLLBACK; DELETE FROM memories', 'COMMIT', 'PRAGMA writable_schema=1', 'VACUUM', 'ATTACH DATABASE',
];

const CONTROL = ['\u0000', '\u0001', '\t', '\n', '\r', '\u000b', '\u000c', '\u001b', '\u007f', '\u0085', '\u00a0', '\u200b', '\u200d', '\u2028', '\u202e', '\ufeff', '\ud800', '\udfff', '\uffff', '\u{10ffff}'];

const token = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...VOCABULARY) },
  { weight: 2, arbitrary: fc.constantFrom(...VOCABULARY).map((w) => `${w}*`) },
  { weight: 5, arbitrary: fc.constantFrom(...SYNTAX) },
  { weight: 1, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 1, arbitrary: fc.constantFrom(...CONTROL) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const separator = fc.constantFrom(' ', ' ', ' ', '', '  ', '\t', '\n');
const ordinaryQuery = fc.array(fc.tuple(token, separator), { maxLength: 14 }).map((parts) => parts.map(([t, s]) => t + s).join(''));
/**
 * Shapes past the parser's bounds (issue 11): long NOT chains (FTS5's parser
 * stack overflowed at 92), brackets nested far past 5 (alternating OR and
 * implicit AND overflowed it at 32; `(`×2,422 overflowed the call stack),
 * and more distinct words than the 64 read. The parser bounds them, so both
 * backends must still agree.
 */
const word = fc.constantFrom(...VOCABULARY);
const notChain = fc.tuple(word, fc.array(word, { minLength: 1, maxLength: 400 })).map(([first, rest]) => `${first} ${rest.map((w) => `NOT ${w}`).join(' ')}`);
const nestedGroups = fc
  .tuple(fc.array(fc.tuple(word, fc.constantFrom('OR ', '', 'AND ', 'NOT ')), { minLength: 6, maxLength: 120 }), word)
  .map(([levels, inner]) => levels.reduce((q, [w, op]) => `(${w} ${op}${q})`, inner));
const bracketFlood = fc.tuple(fc.integer({ min: 6, max: 5_000 }), ordinaryQuery, fc.boolean()).map(([n, q, close]) => `${'('.repeat(n)}${q}${close ? ')'.repeat(n) : ''}`);
const manyWords = fc.array(fc.oneof(word, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 5 })), { minLength: 65, maxLength: 300 }).map((ws) => ws.join(' OR '));
const query = fc.oneof(
  { weight: 60, arbitrary: ordinaryQuery },
  { weight: 1, arbitrary: fc.constantFrom(...VOCABULARY, ...SYNTAX).map((w) => `${w} `.repeat(2_000)) }, // very long
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: notChain },
  { weight: 2, arbitrary: nestedGroups },
  { weight: 1, arbitrary: bracketFlood },
  { weight: 1, arbitrary: manyWords },
);
// ---------------------------------------------------------------- metadata and filters

/** Values of mixed JSON types that look alike across types: 2 and '2', true and 1 and 'true', null and missing, é and z, astral and BMP. */
const NUMBERS = [-1, 0, 0.5, 1, 2, 10, 1e21];
const STRINGS = ['', 'a', 'A', 'chat', 'Chat', 'é', 'z', '😀', '\ufb00', '1', '2', 'true', 'null', 'ab'];
const SCALARS: Json[] = [...NUMBERS, ...STRINGS, true, false, null];
const KEYS = ['a', 'b', 'n', 's', 'arr', 'o', 'x'];
const PATHS = ['a', 'b', 'n', 's', 'arr', 'o', 'x.y', 'x.z', 'x.y.z', 'missing', 'o.k'];

/** Metadata of memory `i`: each key present or not, holding a scalar, an array of scalars or an object, from a seeded choice. */
function mixedMetadata(i: number): Record<string, Json> {
  let state = (i + 1) * 2654435761;
  const next = (n: number) => {
    state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return state % n;
  };
  const value = (depth: number): Json => {
    const kind = next(depth > 0 ? 5 : 8);
    if (kind <= 2) return SCALARS[next(SCALARS.length)];
    if (kind === 3) return Array.from({ length: next(4) }, () => SCALARS[next(SCALARS.length)]);
    if (kind === 4) return { y: value(depth + 1), z: value(depth + 1) };
    return SCALARS[next(SCALARS.length)];
  };
  return Object.fromEntries(KEYS.filter(() => next(3) > 0).map((k) => [k, value(0)]));
}

const scalarArb = fc.constantFrom<Json>(...SCALARS) as fc.Arbitrary<string | number | boolean | null>;
const rangeArb = fc.constantFrom<string | number>(...NUMBERS, ...STRINGS);
const operatorsArb = fc
  .record(
    {
      $eq: scalarArb,
      $ne: scalarArb,
      $gt: rangeArb,
      $gte: rangeArb,
      $lt: rangeArb,
      $lte: rangeArb,
      $in: fc.array(scalarArb, { maxLength: 4 }),
      $nin: fc.array(scalarArb, { maxLength: 4 }),
      $exists: fc.boolean(),
      $contains: scalarArb,
    },
    { requiredKeys: [] },
  )
  .filter((ops) => Object.keys(ops).length > 0 && Object.keys(ops).length <= 3);
const conditionArb = fc.oneof(
  { weight: 2, arbitrary: scalarArb },
  { weight: 5, arbitrary: operatorsArb },
  { weight: 1, arbitrary: operatorsArb.map((ops) => ({ $not: ops })) },
);
const whereArb: fc.Arbitrary<Where> = fc.letrec<{ where: Where }>((tie) => ({
  where: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: fc.dictionary(fc.constantFrom(...PATHS), conditionArb, { minKeys: 1, maxKeys: 2 }) as fc.Arbitrary<Where> },
    { weight: 1, arbitrary: fc.array(tie('where'), { minLength: 1, maxLength: 3 }).map((w) => ({ $or: w })) },
    { weight: 1, arbitrary: fc.array(tie('where'), { minLength: 1, maxLength: 3 }).map((w) => ({ $and: w })) },
    { weight: 1, arbitrary: tie('where').map((w) => ({ $not: w })) },
  ),
})).where;
const windowArb = fc.option(
  fc.record({ since: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), until: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }) }),
  { nil: undefined, freq: 3 },
);
/** Minute `m` of the corpus's day, as the memories' timestamps are. */
const minute = (m: number) => new Date(Date.UTC(2025, 0, 1, 0, m));

const options = fc.record({
  mode: fc.constantFrom<SearchOptions['mode']>(undefined, 'all', 'any'),
  tags: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.subarray(TAGS, { maxLength: 2 }) }),
  where: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: whereArb }),
  window: windowArb,
});

/** True when a phrase holds a stop word between two other words: the one documented difference. */
function stopWordInPhrase(node: QueryNode | null): boolean {
  if (!node) return false;
  switch (node.kind) {
    case 'term':
      return false;
    case 'phrase':
      return node.words.some(isStopWord);
    case 'not':
      return stopWordInPhrase(node.positive) || stopWordInPhrase(node.negative);
    default:
      return node.children.some(stopWordInPhrase);
  }
}

/** The single terms of a query (phrase words as plain terms), as `word` or `word*`. */
function terms(node: QueryNode | null): string[] {
  if (!node) return [];
  switch (node.kind) {
    case 'term':
      return [node.prefix ? `${node.word}*` : node.word];
    case 'phrase':
      return node.words.filter((w) => !isStopWord(w));
    case 'not':
      return [...terms(node.positive), ...terms(node.negative)];
    default:
      return node.children.flatMap(terms);
  }
}

interface Backend {
  name: string;
  store: MemoryStore;
  /** Runs SQL with one int[] parameter (PostgreSQL backends only). */
  query?(text: string, ints: number[]): Promise<{ cp: number }[]>;
}

/** Every letter or digit above U+007F (as JavaScript's Unicode tables say). */
function letters(): number[] {
  const found: number[] = [];
  for (let cp = 0x80; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (/^[\p{L}\p{N}]$/u.test(String.fromCodePoint(cp))) found.push(cp);
  }
  return found;
}

/** Every memory of every namespace, as text: equal before and after means nothing changed. */
async function snapshot(store: MemoryStore): Promise<string> {
  const parts: string[] = [];
  for (const ns of await store.getAllNamespaces()) parts.push(JSON.stringify([ns, await store.getAllMemories(ns)]));
  return parts.join('\n');
}

describe('query safety: generated queries on SQLite and PostgreSQL', () => {
  const backends: Backend[] = [];
  let pglite: PGlite | undefined;
  let server: TestDatabase | undefined;
  const before = new Map<string, string>();
  /** Letters at least one PostgreSQL reads as spaces. */
  const notLetters = new Set<number>();

  beforeAll(async () => {
    backends.push({ name: 'SQLite', store: new SQLiteStore(':memory:') });
    const lite = (pglite = await createPGlite());
    backends.push({ name: 'PGlite', store: new PostgresStore(lite), query: async (text, ints) => (await lite.query<{ cp: number }>(text, [ints])).rows });
    if (PG_URL) {
      const db = (server = await createTestDatabase('queries'));
      backends.push({
        name: 'PostgreSQL server',
        store: new PostgresStore(db.url, { poolSize: 2 }),
        query: async (text, ints) => {
          const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
          try {
            return (await sql.unsafe(text, [ints as never])) as unknown as { cp: number }[];
          } finally {
            await sql.end();
          }
        },
      });
    }
    const all = letters();
    for (const b of backends) {
      const blank = await b.query?.(`SELECT cp FROM unnest($1::int[]) AS cp WHERE to_tsvector('simple', chr(cp)) = ''::tsvector`, all);
      for (const { cp } of blank ?? []) notLetters.add(cp);
    }
    const memories = [
      ...TEXTS.flatMap((content, i) => [
        { id: `m${i}`, namespace: NS, content, tags: TAGS.filter((_, t) => (i + t) % 3 === 0), metadata: mixedMetadata(i), timestamp: minute(i) },
        { id: `d${i}`, namespace: DECOY, content, tags: TAGS, metadata: mixedMetadata(i), timestamp: minute(i) },
      ]),
      ...Array.from({ length: 300 }, (_, i) => ({ id: `f${i}`, namespace: FILTERED, content: `filtered memory ${i}`, metadata: mixedMetadata(1000 + i), timestamp: minute(i % 31) })),
    ];
    for (const b of backends) {
      await b.store.saveMany(memories);
      before.set(b.name, await snapshot(b.store));
    }
  }, 60_000);

  afterAll(async () => {
    for (const b of backends) await b.store.close();
    await pglite?.close();
    await server?.drop();
  });

  it(`${QUERIES} generated queries: no error, no data change, the same ids on every backend`, async () => {
    const runSeed = seed();
    let compared = 0;
    let subsetOnly = 0;
    let wordDiffers = 0;
    /** Per term: does it alone find the same memories on every backend? (Stemming and stop words decide.) */
    const sameAlone = new Map<string, boolean>();
    const alone = async (term: string): Promise<boolean> => {
      let same = sameAlone.get(term);
      if (same === undefined) {
        const found = await Promise.all(backends.map(async (b) => (await b.store.search(term, { namespace: NS, limit: 10_000 })).map((h) => h.id).sort().join()));
        same = found.every((ids) => ids === found[0]);
        sameAlone.set(term, same);
      }
      return same;
    };
    let nonEmpty = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(query, options, async (q, opts) => {
        const searchOptions: SearchOptions = {
          namespace: NS,
          limit: 10_000,
          ...(opts.mode ? { mode: opts.mode } : {}),
          ...(opts.tags ? { tags: opts.tags } : {}),
          ...(opts.where ? { where: opts.where } : {}),
          ...(opts.window?.since !== undefined ? { since: minute(opts.window.since) } : {}),
          ...(opts.window?.until !== undefined ? { until: minute(opts.window.until) } : {}),
        };
        const results = await Promise.all(backends.map((b) => b.store.search(q, searchOptions)));
        const where = validateWhere(opts.where);
        results.forEach((hits) => {
          for (const hit of hits) {
            if (hit.namespace !== NS) throw new Error(`a hit from namespace ${hit.namespace}`);
            for (const tag of opts.tags ?? []) if (!hit.tags.includes(tag)) throw new Error(`a hit without tag ${tag}`);
            if (!matchesWhere(where, hit.metadata)) throw new Error(`a hit (${hit.id}) that does not satisfy the filter`);
            if (searchOptions.since && hit.timestamp < searchOptions.since) throw new Error(`a hit (${hit.id}) before since`);
            if (searchOptions.until && hit.timestamp >= searchOptions.until) throw new Error(`a hit (${hit.id}) at or after until`);
          }
        });
        const [sqlite, ...pg] = results.map((hits) => hits.map((h) => h.id).sort());
        if (sqlite.length > 0) nonEmpty++;
        const tree = parseQuery(q, opts.mode ?? 'all');
        const each = await Promise.all(terms(tree).map(alone));
        if (each.includes(false)) {
          wordDiffers++;
          return; // a word that alone finds different memories (stemming, stop-word prefix): nothing to compare
        }
        const loose = stopWordInPhrase(tree) || words(q).some((w) => [...w].some((ch) => notLetters.has(ch.codePointAt(0)!)));
        if (loose) subsetOnly++;
        else compared++;
        pg.forEach((ids, i) => {
          if (loose) {
            if (!sqlite.every((id) => ids.includes(id))) throw new Error(`SQLite found ${sqlite} but ${backends[i + 1].name} only ${ids}`);
          } else if (JSON.stringify(ids) !== JSON.stringify(sqlite)) {
            throw new Error(`SQLite found [${sqlite}] but ${backends[i + 1].name} [${ids}]`);
          }
        });
      }),
      { numRuns: QUERIES, seed: runSeed, endOnFailure: false },
    );
    const ms = Date.now() - started;

    for (const b of backends) expect({ backend: b.name, unchanged: (await snapshot(b.store)) === before.get(b.name) }).toEqual({ backend: b.name, unchanged: true });
    const sqlite = backends[0].store as SQLiteStore;
    sqlite.client!.exec(`INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)`);
    report('query safety', {
      seed: runSeed,
      queries: QUERIES,
      backends: backends.map((b) => b.name).join('+'),
      queriesWithHits: nonEmpty,
      sameIds: compared,
      subsetChecked: subsetOnly,
      notComparedWordAloneDiffers: wordDiffers,
      wordsThatAloneDiffer: [...sameAlone].filter(([, same]) => !same).length,
      examples: [...sameAlone].filter(([, same]) => !same).slice(0, 10).map(([term]) => term).join(','),
      lettersPostgresReadsAsSpaces: notLetters.size,
      errors: 0,
      dataChanged: 0,
      ms,
    });
  }, scale(180_000, 3_600_000));

  it(`${FILTERS} generated metadata filters: every backend lists and counts exactly the reference's memories`, async () => {
    const runSeed = seed();
    const all = (await backends[0].store.list({ namespace: FILTERED })).reverse(); // oldest first, for the reference
    let nonEmpty = 0;
    let total = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(whereArb, windowArb, async (where, window) => {
        const since = window?.since === undefined ? undefined : minute(window.since);
        const until = window?.until === undefined ? undefined : minute(window.until);
        const tree = validateWhere(where);
        const expected = all
          .filter((m) => matchesWhere(tree, m.metadata) && (!since || m.timestamp >= since) && (!until || m.timestamp < until))
          .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
          .map((m) => m.id);
        if (expected.length) nonEmpty++;
        total += expected.length;
        const opts = { namespace: FILTERED, where, ...(since ? { since } : {}), ...(until ? { until } : {}) };
        for (const b of backends) {
          const ids = (await b.store.list(opts)).map((m) => m.id);
          if (JSON.stringify(ids) !== JSON.stringify(expected)) {
            throw new Error(`${b.name} listed ${ids.length} memories, the reference ${expected.length}: ${JSON.stringify(where)} ${JSON.stringify(window)}`);
          }
          const n = await b.store.count(opts);
          if (n !== expected.length) throw new Error(`${b.name} counted ${n}, the reference ${expected.length}: ${JSON.stringify(where)}`);
        }
      }),
      { numRuns: FILTERS, seed: runSeed, endOnFailure: false },
    );
    report('generated filters', {
      seed: runSeed,
      filters: FILTERS,
      backends: backends.map((b) => b.name).join('+'),
      memories: all.length,
      filtersWithMatches: nonEmpty,
      averageMatches: +(total / FILTERS).toFixed(1),
      mismatches: 0,
      ms: Date.now() - started,
    });
  }, scale(180_000, 3_600_000));
});
