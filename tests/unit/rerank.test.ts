import { describe, expect, it } from '@jest/globals';
import { parseQuery } from '../../src/search/query';
import { anchors, coverage, lightStem, queryWords, rerank } from '../../src/search/rerank';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
const hit = (key: string, content: string, score: number, minute = 0, seq = 0) => ({ key, content, score, timestamp: at(minute), seq });

describe('lightStem', () => {
  it.each([
    ['painting', 'paint'],
    ['painted', 'paint'],
    ['paints', 'paint'],
    ['Relationship', 'relati'],
    ['run', 'run'],
  ])('%s → %s', (word, stem) => expect(lightStem(word)).toBe(stem));
});

describe('queryWords', () => {
  it('collects terms and phrase words, not the excluded ones', () => {
    expect(queryWords(parseQuery('"green tea" japan* NOT coffee', 'any')!)).toEqual(['green', 'tea', 'japan']);
  });
});

describe('coverage', () => {
  const stems = ['green', 'tea', 'japan'].map(lightStem);
  it('is the share of the query words the content holds', () => {
    expect(coverage(stems, 'Green tea in Japan')).toBe(1);
    expect(coverage(stems, 'I like green things')).toBeCloseTo(1 / 3);
  });
  it('never drops a match to zero (the database matched it on a stem this heuristic misses)', () => {
    expect(coverage(stems, 'nothing in common')).toBeCloseTo(1 / 3);
  });
});

describe('rerank', () => {
  const query = parseQuery('green tea japan', 'any')!;

  it('ranks a memory with more of the words above one with a single rarer word', () => {
    const ranked = rerank([hit('rare', 'japan trip', 2.0), hit('all', 'green tea from japan', 1.5)], query, new Map());
    expect(ranked.map((r) => r.key)).toEqual(['all', 'rare']);
    expect(ranked[0].score).toBeCloseTo(1.5);
    expect(ranked[1].score).toBeCloseTo(2.0 / 3);
  });

  it('lets a best match lift the matching memories saved next to it, and only those', () => {
    const candidates = [hit('best', 'green tea from japan', 3, 10), hit('next', 'bought in japan', 0.3, 11), hit('far', 'japan again', 0.5, 50)];
    const near = new Map([['best', ['prev-not-a-match', 'next']]]);
    const ranked = rerank(candidates, query, near);
    expect(ranked.map((r) => r.key)).toEqual(['best', 'next', 'far']);
    expect(ranked.find((r) => r.key === 'next')!.score).toBeCloseTo(0.3 / 3 + 0.5 * 3);
    expect(ranked.some((r) => r.key === 'prev-not-a-match')).toBe(false);
  });

  it('breaks ties by recency, then save order (later first), then key', () => {
    const ranked = rerank([hit('b', 'green', 1, 1), hit('a', 'green', 1, 1), hit('c', 'green', 1, 2), hit('d', 'green', 1, 1, 7)], query, new Map());
    expect(ranked.map((r) => r.key)).toEqual(['c', 'd', 'a', 'b']);
  });

  it('anchors are the best candidates after coverage', () => {
    expect(anchors([hit('rare', 'japan trip', 2.0), hit('all', 'green tea from japan', 1.5)], query, 1).map((r) => r.key)).toEqual(['all']);
  });
});
