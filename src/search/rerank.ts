/**
 * Ranking for mode `'any'`, shared by every dialect: it runs on what each
 * database's own full-text ranking returned (FTS5 `bm25()`, or BM25 computed
 * from PostgreSQL's `tsvector`), so both backends rank with the same rules.
 *
 * Two signals are added to the database's score, each measured on LoCoMo
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

/** The knobs of {@link rerank}. */
export interface RankingSettings {
  /** How many results of the database's ranking are re-ranked. */
  pool: number;
  /** How many of the best matches pass their score on to their neighbours. */
  anchors: number;
  /** How many memories before and after a best match count as its neighbours. */
  window: number;
  /** Share of a best match's score that a neighbour gains. */
  contextWeight: number;
  /** A word held by at least this many memories only scores the candidates rarer words found. */
  commonWord: number;
}

export const RANKING: Readonly<RankingSettings> = Object.freeze({ pool: 20, anchors: 20, window: 2, contextWeight: 0.5, commonWord: 1000 });

/**
 * The candidate filter for a mode-'any' query: the top-level alternatives
 * minus the plain words held by `commonWord` memories or more, as long as one
 * alternative remains. Ranking every memory that holds a very common word (a
 * speaker's name in a chat log, say) costs time in proportion to how common
 * it is, while such a word adds almost nothing to a BM25 score; memories that
 * hold only common words can still enter as neighbours of the best matches.
 * `counts` has one entry per {@link prunableWords} word, capped at `commonWord`.
 */
export function pruneCommonWords(query: QueryNode, counts: number[], commonWord: number = RANKING.commonWord): QueryNode {
  if (query.kind !== 'or') return query;
  let i = 0;
  const kept = query.children.filter((child) => child.kind !== 'term' || (counts[i++] ?? 0) < commonWord); // uncounted: not known to be common
  if (kept.length === 0 || kept.length === query.children.length) return query;
  return kept.length === 1 ? kept[0] : { kind: 'or', children: kept };
}

/** The plain words (and prefixes) a query offers as alternatives: the ones {@link pruneCommonWords} may leave out. */
export function prunableWords(query: QueryNode): { word: string; prefix: boolean }[] {
  if (query.kind !== 'or') return [];
  return query.children.flatMap((c) => (c.kind === 'term' ? [{ word: c.word, prefix: c.prefix }] : []));
}

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
  id: string;
  content: string;
  timestamp: Date;
  score: number;
}

/**
 * Combines the database's scores with coverage and context.
 * `neighbours` maps a best match's id to the ids saved next to it.
 * Returns every candidate, best first (ties: newer first, then id).
 */
export function rerank<T extends Ranked>(
  candidates: T[],
  query: QueryNode,
  neighbours: Map<string, string[]>,
  settings: RankingSettings = RANKING,
): T[] {
  const stems = [...new Set(queryWords(query).map(lightStem))];
  const base = new Map(candidates.map((c) => [c.id, c.score * coverage(stems, c.content)]));
  const bonus = new Map<string, number>();
  for (const [anchor, ids] of neighbours) {
    const gift = settings.contextWeight * (base.get(anchor) ?? 0);
    for (const id of ids) {
      if (base.has(id) && gift > (bonus.get(id) ?? 0)) bonus.set(id, gift);
    }
  }
  return candidates
    .map((c) => ({ ...c, score: base.get(c.id)! + (bonus.get(c.id) ?? 0) }))
    .sort((a, b) => b.score - a.score || b.timestamp.getTime() - a.timestamp.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The best `n` candidates by coverage-weighted score: the matches whose neighbours are looked up. */
export function anchors<T extends Ranked>(candidates: T[], query: QueryNode, n: number): T[] {
  return rerank(candidates, query, new Map()).slice(0, n);
}
