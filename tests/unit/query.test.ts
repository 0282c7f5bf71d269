import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseQuery, positiveWords, QUERY_LIMITS, type QueryNode } from '../../src/search/query';
import { toFts5 } from '../../src/search/fts5';
import { toTsquery } from '../../src/search/tsquery';
import { JUNK_QUERIES } from '../fixtures/queries';

const term = (word: string, prefix = false): QueryNode => ({ kind: 'term', word, prefix });

describe('parseQuery', () => {
  it('joins words with AND in mode all and OR in mode any', () => {
    expect(parseQuery('fastapi authentication', 'all')).toEqual({ kind: 'and', children: [term('fastapi'), term('authentication')] });
    expect(parseQuery('fastapi authentication', 'any')).toEqual({ kind: 'or', children: [term('fastapi'), term('authentication')] });
  });

  it('lower-cases words and drops English stop words', () => {
    expect(parseQuery('How do I add Authentication?')).toEqual({ kind: 'and', children: [term('add'), term('authentication')] });
    expect(parseQuery('the and of')).toBeNull();
  });

  it('reads "phrases", trimming stop words at their ends only', () => {
    expect(parseQuery('"the quick brown fox"')).toEqual({ kind: 'phrase', words: ['quick', 'brown', 'fox'] });
    expect(parseQuery('"state of the art"')).toEqual({ kind: 'phrase', words: ['state', 'of', 'the', 'art'] });
    expect(parseQuery('"the fox"')).toEqual(term('fox'));
    expect(parseQuery('"unclosed phrase')).toEqual({ kind: 'phrase', words: ['unclosed', 'phrase'] });
  });

  it('reads prefix* and drops stop-word prefixes', () => {
    expect(parseQuery('auth*')).toEqual(term('auth', true));
    expect(parseQuery('the*')).toBeNull();
  });

  it('reads upper-case AND, OR, NOT with NOT > AND > OR precedence', () => {
    expect(parseQuery('a1 OR b1 c1')).toEqual({ kind: 'or', children: [term('a1'), { kind: 'and', children: [term('b1'), term('c1')] }] });
    expect(parseQuery('a1 b1 NOT c1')).toEqual({ kind: 'and', children: [term('a1'), { kind: 'not', positive: term('b1'), negative: term('c1') }] });
    expect(parseQuery('(a1 OR b1) AND c1')).toEqual({ kind: 'and', children: [{ kind: 'or', children: [term('a1'), term('b1')] }, term('c1')] });
  });

  it('keeps explicit AND in mode any, turning only juxtaposition into OR', () => {
    expect(parseQuery('a1 b1 AND c1', 'any')).toEqual({ kind: 'or', children: [term('a1'), { kind: 'and', children: [term('b1'), term('c1')] }] });
  });

  it('treats lower-case and/or/not as plain (stop) words', () => {
    expect(parseQuery('cats or dogs')).toEqual({ kind: 'and', children: [term('cats'), term('dogs')] });
    expect(parseQuery('cats AND* dogs')).toEqual({ kind: 'and', children: [term('cats'), term('dogs')] }); // AND* is the stop word 'and'
  });

  it('recovers from dangling operators and brackets', () => {
    expect(parseQuery('fox AND')).toEqual(term('fox'));
    expect(parseQuery('OR fox')).toEqual(term('fox'));
    expect(parseQuery('NOT fox')).toBeNull(); // nothing to exclude from
    expect(parseQuery('fox NOT')).toEqual(term('fox'));
    expect(parseQuery('(fox')).toEqual(term('fox'));
    expect(parseQuery('fox) dog')).toEqual({ kind: 'and', children: [term('fox'), term('dog')] });
    expect(parseQuery('fox NOT the')).toEqual(term('fox'));
  });

  it('splits on every character that is not a letter or digit', () => {
    expect(parseQuery('john.doe@example.com')).toEqual({ kind: 'and', children: [term('john'), term('doe'), term('example'), term('com')] });
    expect(parseQuery("'; DROP TABLE memories; --")).toEqual({ kind: 'and', children: [term('drop'), term('table'), term('memories')] });
    expect(parseQuery('東京 café')).toEqual({ kind: 'and', children: [term('東京'), term('café')] });
  });

  it('treats private-use characters (icon fonts) as separators, as PostgreSQL does', () => {
    expect(parseQuery('\uf113 git\ue0a0branch \u{F0000}')).toEqual({ kind: 'and', children: [term('git'), term('branch')] });
    expect(parseQuery('\ue000')).toBeNull();
  });

  it.each(JUNK_QUERIES.map((q) => [JSON.stringify(q).slice(0, 50), q]))('never throws on %s', (_label, q) => {
    for (const mode of ['all', 'any'] as const) {
      const tree = parseQuery(q, mode);
      if (tree) {
        expect(typeof toFts5(tree)).toBe('string');
        expect(typeof toTsquery(tree)).toBe('string');
      }
    }
  });
});

/** The compiled text per dialect, for each shape of query (Kysely's testSql pattern). */
const COMPILED: [string, 'all' | 'any', string, string][] = [
  ['fastapi', 'all', '"fastapi"', "'fastapi'"],
  ['fastapi authentication', 'all', '"fastapi" AND "authentication"', "'fastapi' & 'authentication'"],
  ['fastapi authentication', 'any', '"fastapi" OR "authentication"', "'fastapi' | 'authentication'"],
  ['"quick brown fox"', 'all', '"quick brown fox"', "'quick' <-> 'brown' <-> 'fox'"],
  ['auth*', 'all', '"auth"*', "'auth':*"],
  ['(fox OR dog) NOT cat', 'all', '("fox" OR "dog") NOT "cat"', "('fox' | 'dog') & !'cat'"],
  ['a1 b1 NOT "c1 d1"', 'any', '"a1" OR ("b1" NOT "c1 d1")', "'a1' | ('b1' & !('c1' <-> 'd1'))"],
];

describe('toFts5 / toTsquery', () => {
  it.each(COMPILED)('%s (%s) compiles to FTS5 %s and tsquery %s', (query, mode, fts5, tsquery) => {
    const tree = parseQuery(query, mode)!;
    expect(toFts5(tree)).toBe(fts5);
    expect(toTsquery(tree)).toBe(tsquery);
  });

  it('escapes quotes and backslashes inside words', () => {
    // The parser never produces such words; the compilers escape them anyway.
    expect(toFts5(term('a"b'))).toBe('"a""b"');
    expect(toTsquery(term("a'b\\c"))).toBe("'a''b\\\\c'");
  });
});

describe('positiveWords', () => {
  it('lists terms and phrase words with their prefix flag, not excluded words', () => {
    expect(positiveWords(parseQuery('auth* "green tea" (fox OR dog) NOT cat', 'all')!)).toEqual([
      { word: 'auth', prefix: true },
      { word: 'green', prefix: false },
      { word: 'tea', prefix: false },
      { word: 'fox', prefix: false },
      { word: 'dog', prefix: false },
    ]);
  });
});

describe('parseQuery bounds (QUERY_LIMITS)', () => {
  /** Composite nodes from the root to the deepest leaf. */
  const depth = (n: QueryNode): number =>
    n.kind === 'term' || n.kind === 'phrase' ? 0 : 1 + Math.max(...(n.kind === 'not' ? [n.positive, n.negative] : n.children).map(depth));
  const wordCount = (n: QueryNode): number =>
    n.kind === 'term' ? 1 : n.kind === 'phrase' ? n.words.length : n.kind === 'not' ? wordCount(n.positive) + wordCount(n.negative) : n.children.reduce((a, c) => a + wordCount(c), 0);

  it('flattens a NOT chain into one NOT of an OR', () => {
    expect(parseQuery('apple NOT z0 NOT z1 NOT z2')).toEqual({
      kind: 'not',
      positive: term('apple'),
      negative: { kind: 'or', children: [term('z0'), term('z1'), term('z2')] },
    });
  });

  it('reads brackets nested deeper than 5 as spaces', () => {
    expect(parseQuery('((((((a1 OR b1) c1))))))')).toEqual(parseQuery('(((((a1 OR b1 c1)))))'));
    expect(parseQuery(`${'('.repeat(2422)}fox`)).toEqual(term('fox'));
  });

  it('reads at most 64 distinct words, counting a repeated one once', () => {
    const q = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    expect(positiveWords(parseQuery(q, 'any')!)).toHaveLength(QUERY_LIMITS.words);
    expect(parseQuery('fox '.repeat(900) + 'dog')).toEqual({ kind: 'and', children: [term('fox'), term('dog')] });
    expect(parseQuery('fox '.repeat(5000) + 'dog')).toEqual(term('fox')); // past the 1,000th token the rest is not read
  });

  it('reads a word up to 2,047 characters, however long the run (a regular expression overflowed on millions)', () => {
    expect(parseQuery('x'.repeat(5_000_000))).toEqual(term('x'.repeat(2047)));
    expect(parseQuery(`"${'é'.repeat(3_000_000)} fox"`)).toEqual({ kind: 'phrase', words: ['é'.repeat(2047), 'fox'] });
    expect((parseQuery('\u{1D49C}'.repeat(2000)) as { word: string }).word).toHaveLength(2046); // 𝒜 is two UTF-16 units: never half a pair
  });

  it('keeps at most 64 words of a phrase', () => {
    expect(parseQuery(`"${'alpha beta '.repeat(1000)}"`)).toMatchObject({ kind: 'phrase', words: expect.any(Array) });
    expect((parseQuery(`"${'alpha beta '.repeat(1000)}"`) as { words: string[] }).words).toHaveLength(64);
  });

  it('stays at most 24 operators deep and 64 words wide for any input, in linear time', () => {
    const token = fc.oneof(
      fc.constantFrom('(', ')', '(', ')', 'AND', 'OR', 'NOT', '"', 'fox', 'dog*', 'cat', 'the', ' '),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 400 }), fc.constantFrom<'all' | 'any'>('all', 'any'), (parts, mode) => {
        const tree = parseQuery(parts.join(' '), mode);
        if (!tree) return;
        expect(depth(tree)).toBeLessThanOrEqual(24);
        expect(wordCount(tree)).toBeLessThanOrEqual(QUERY_LIMITS.words * 2); // distinct words, each at most in a term and a phrase
      }),
      { numRuns: 3000 },
    );
    const started = Date.now();
    for (const q of ['('.repeat(1e6), 'NOT a '.repeat(2e5), '"'.repeat(1e6), `"${'a b '.repeat(5e5)}`, 'x'.repeat(5e6), ')'.repeat(1e6)]) parseQuery(q, 'any');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
