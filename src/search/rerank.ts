/**
 * Ranking for mode `'any'`, shared by every dialect: it re-ranks the exact
 * BM25 top of the namespace (`top-k.ts`, the same on both backends).
 *
 * Two signals are added to the BM25 score, each measured on LoCoMo
 * (`npm run bench:relevance`; figures in docs/search.md, "How search works"):
 *
 * 1. **Coverage.** A memory that holds more of the question's words ranks
 *    higher: the score is multiplied by the share of the query's words it
 *    contains. Words are compared by {@link lightStem}, so `painting` counts
 *    for `paint`. BM25 alone lets one rare word outweigh several common ones.
 * 2. **Context.** Memories are usually saved as a conversation goes; the turn
 *    that answers a question often shares few words with it, while the turns
 *    around it do. A matching memory saved within {@link RankingSettings.window}
 *    places of one of the best matches (by time, in the same namespace) gains
 *    {@link RankingSettings.contextWeight} of that match's score. Only memories
 *    that match the query themselves are ever returned.
 */
import { positiveWords, words, type QueryNode } from './query';
import type { DocKey } from './top-k';

/** The knobs of {@link rerank}. */
export interface RankingSettings {
  /** How many results of the exact BM25 ranking are re-ranked (the pool). */
  pool: number;
  /** How many of the best matches pass their score on to their neighbours. */
  anchors: number;
  /** How many memories before and after a best match count as its neighbours. */
  window: number;
  /** Share of a best match's score that a neighbour gains. */
  contextWeight: number;
}

export const RANKING: Readonly<RankingSettings> = Object.freeze({ pool: 20, anchors: 20, window: 2, contextWeight: 0.5 });

/**
 * A deliberately light English stemmer for comparing words, not for indexing:
 * drops one common ending and keeps at most six letters, so `paintings`,
 * `painted` and `painting` all become `paint`.
 */
export function lightStem(word: string): string {
  return word.toLowerCase().replace(/(ing|ers|er|ed|es|ly|s)$/, '').slice(0, 6);
}

/** The distinct words a query asks for (terms and phrase words; not the excluded ones). */
export function queryWords(node: QueryNode): string[] {
  return [...new Set(positiveWords(node).map((w) => w.word))];
}

/** Share (0-1] of the query's words found in the content; never 0 for a match. */
export function coverage(stems: string[], content: string): number {
  if (stems.length === 0) return 1;
  const have = new Set(words(content).map(lightStem));
  const found = stems.filter((s) => have.has(s)).length;
  return Math.max(found, 1) / stems.length;
}

export interface Ranked {
  /** The search index's key of the memory. */
  key: DocKey;
  content: string;
  timestamp: Date;
  /** Save order: the tie-breaker after the timestamp. */
  seq: number;
  score: number;
}

/**
 * Combines the BM25 scores with coverage and context.
 * `neighbours` maps a best match's key to the keys saved next to it.
 * Returns every candidate, best first (ties: newer first, then saved later, then key).
 */
export function rerank<T extends Ranked>(
  candidates: T[],
  query: QueryNode,
  neighbours: Map<DocKey, DocKey[]>,
  settings: RankingSettings = RANKING,
): T[] {
  const stems = [...new Set(queryWords(query).map(lightStem))];
  const base = new Map(candidates.map((c) => [c.key, c.score * coverage(stems, c.content)]));
  const bonus = new Map<DocKey, number>();
  for (const [anchor, ids] of neighbours) {
    const gift = settings.contextWeight * (base.get(anchor) ?? 0);
    for (const id of ids) {
      if (base.has(id) && gift > (bonus.get(id) ?? 0)) bonus.set(id, gift);
    }
  }
  return candidates
    .map((c) => ({ ...c, score: base.get(c.key)! + (bonus.get(c.key) ?? 0) }))
    .sort((a, b) => b.score - a.score || b.timestamp.getTime() - a.timestamp.getTime() || b.seq - a.seq || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The best `n` candidates by coverage-weighted score: the matches whose neighbours are looked up. */
export function anchors<T extends Ranked>(candidates: T[], query: QueryNode, n: number): T[] {
  return rerank(candidates, query, new Map()).slice(0, n);
}
