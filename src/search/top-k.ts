/**
 * The exact BM25 top-k of a query in one namespace, whatever its size
 * (docs/search.md, "How search works").
 *
 * Each dialect keeps an impact-ordered index beside the full-text one (see
 * {@link ScoringIndex}): for every (namespace, word, tf) the memories holding
 * the word that often, shortest first. For a fixed tf a word weighs most in
 * the shortest memories ({@link termWeight}), so reading each (word, tf)
 * list from its start yields a word's memories from the highest weight down,
 * and the weight of the last one read bounds every memory not read yet.
 *
 * That is Fagin's threshold algorithm (Fagin, Lotem & Naor 2001; MaxScore and
 * WAND, Turtle & Flood 1995 and Broder et al. 2003, prune with the same kind
 * of per-word bound): read every word's lists to a depth, score every memory
 * met exactly (its tf for every scored word and its length, read from the
 * index), keep those that match the query and pass the call's filters, and
 * stop once the k-th best score is at least the most any unread memory could
 * score (the sum of the words' bounds). Otherwise read four times deeper.
 * Nothing that could enter the top-k is ever skipped: the result is the same
 * as scoring every match, which tests/search/reference.test.ts checks against
 * brute force.
 *
 * Shortcuts that keep it exact: a word every match must hold (AND, a phrase)
 * and that few memories hold is read whole, and its memories are the only
 * candidates; a query whose words are all rare is read whole.
 */
import type { MemoryFilter } from '../store/repository';
import { idf, maxTermScore, termWeight } from './bm25';
import { positiveWords, type QueryNode } from './query';

/** How a dialect identifies a memory inside the index: SQLite's rid, PostgreSQL's id. */
export type DocKey = number | string;

/** A word of a query to look up: `prefix` for `auth*`. */
export interface LookupWord {
  word: string;
  prefix: boolean;
}

/** An indexed word (a stem) of a namespace and how many of its memories hold it. */
export interface IndexTerm {
  term: string;
  df: number;
}

export interface IndexLookup {
  /** Memories of the namespace. */
  n: number;
  /** Their total length, in indexed words. */
  totalDl: number;
  /**
   * For each word looked up, in order, the indexed words it stands for: its
   * stem when the namespace holds it (none otherwise); for a prefix, the
   * namespace's words that start with it, most frequent first, at most
   * {@link PREFIX_EXPANSIONS}.
   */
  terms: IndexTerm[][];
}

/** Read the first `depth` postings of every tf list of `term` (`Infinity`: all of them). */
export interface StreamRequest {
  term: string;
  depth: number;
}

/** What a round read of one (term, tf) list. */
export interface StreamGroup {
  term: string;
  tf: number;
  /** The largest length read (every unread posting of the list is at least this long). */
  lastDl: number;
  /** Every posting of the list was read. */
  exhausted: boolean;
}

/** A memory met in the index, with what scoring needs. */
export interface IndexedDoc<K extends DocKey> {
  key: K;
  /** Length, in indexed words. */
  dl: number;
  /** Timestamp, ms. */
  ts: number;
  /** Save order (later saves are larger): the tie-breaker after the timestamp. */
  seq: number;
  /** tf of each requested term, in the order asked. */
  tf: number[];
  /** Matches the query and passes the filter. */
  match: boolean;
}

export interface RoundRequest<K extends DocKey> {
  streams: StreamRequest[];
  /** The terms every new memory reports its tf of, in this order. */
  terms: string[];
  /** Memories already reported: leave them out. */
  known: K[];
  query: QueryNode;
  filter: MemoryFilter;
}

export interface RoundResult<K extends DocKey> {
  /** One entry per (term, tf) list that has postings. */
  groups: StreamGroup[];
  /** Every memory the streams met that is not in `known`. */
  docs: IndexedDoc<K>[];
}

/** What the engine needs from a dialect: implemented by each repository over its index tables. */
export interface ScoringIndex<K extends DocKey> {
  lookup(namespace: string, words: LookupWord[]): Promise<IndexLookup>;
  round(namespace: string, request: RoundRequest<K>): Promise<RoundResult<K>>;
  /** The same facts for these memories (missing ones left out). */
  docs(namespace: string, keys: K[], terms: string[], query: QueryNode, filter: MemoryFilter): Promise<IndexedDoc<K>[]>;
  /**
   * The newest memories matching the query and filter, leaving out `exclude`:
   * the ones no scored word reaches (a prefix's completions beyond the
   * scored ones), which score 0.
   */
  recent(namespace: string, query: QueryNode, filter: MemoryFilter, exclude: K[], limit: number): Promise<IndexedDoc<K>[]>;
}

/** A prefix is scored through at most this many of its completions (its most frequent ones). */
export const PREFIX_EXPANSIONS = 64;

/** A required word held by at most this many memories is read whole; so is a query whose words hold at most this many postings in all. */
export const EXHAUSTIVE = 2048;

/** First depth of the threshold algorithm's reads (×4 each round). */
const FIRST_DEPTH = 64;

/** A memory with its BM25 score. */
export interface ScoredHit<K extends DocKey> {
  key: K;
  score: number;
  ts: number;
  seq: number;
}

/** Best first: score, then the newer timestamp, then the later save, then the key. */
export function compareHits<K extends DocKey>(a: ScoredHit<K>, b: ScoredHit<K>): number {
  return b.score - a.score || b.ts - a.ts || b.seq - a.seq || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** One scored unit of the query: a word (one term), or a prefix (the best of its completions). */
interface Unit {
  /** Indexes into {@link PreparedQuery.terms}. */
  terms: number[];
  idf: number[];
  /** Every match holds it (a plain word under AND, in a phrase). */
  required: boolean;
}

/**
 * A query looked up in a namespace's index: its scored units, their
 * statistics, and the scorer. Also scores memories met another way (the
 * neighbours of mode 'any').
 */
export class PreparedQuery<K extends DocKey> {
  readonly terms: string[];
  readonly units: Unit[];
  readonly avgdl: number;
  readonly df: number[];

  constructor(
    readonly query: QueryNode,
    readonly lookup: IndexLookup,
    words: (LookupWord & { required: boolean })[],
  ) {
    const index = new Map<string, number>();
    const terms: string[] = [];
    const df: number[] = [];
    const termIndex = (t: IndexTerm) => {
      let i = index.get(t.term);
      if (i === undefined) {
        index.set(t.term, (i = terms.length));
        terms.push(t.term);
        df.push(t.df);
      }
      return i;
    };
    const units = new Map<string, Unit>();
    words.forEach((w, i) => {
      const found = lookup.terms[i];
      if (found.length === 0) return;
      const ids = found.map(termIndex);
      const key = `${w.prefix ? 'p' : 't'}:${ids.join(',')}`; // two words with one stem score once
      const unit = units.get(key);
      if (unit) unit.required ||= w.required && !w.prefix;
      else units.set(key, { terms: ids, idf: ids.map((t) => idf(lookup.n, df[t])), required: w.required && !w.prefix });
    });
    this.terms = terms;
    this.df = df;
    this.units = [...units.values()];
    this.avgdl = lookup.n > 0 ? Math.max(lookup.totalDl / lookup.n, 1e-9) : 1;
  }

  /** BM25 of a memory from its tf of every term (in {@link terms} order) and its length. */
  score(tf: number[], dl: number): number {
    let total = 0;
    for (const unit of this.units) {
      let best = 0;
      for (let j = 0; j < unit.terms.length; j++) {
        const s = unit.idf[j] * termWeight(tf[unit.terms[j]], dl, this.avgdl);
        if (s > best) best = s;
      }
      total += best;
    }
    return total;
  }

  /** The most any memory can score for this query: every word with unbounded tf. */
  get maxScore(): number {
    return this.units.reduce((sum, u) => sum + maxTermScore(Math.max(0, ...u.idf)), 0);
  }
}

/** The query's words to look up (terms, phrase words, prefixes; not the excluded ones), each with whether every match holds it. */
export function scoredWords(query: QueryNode): (LookupWord & { required: boolean })[] {
  const required = requiredWords(query);
  const seen = new Map<string, LookupWord & { required: boolean }>();
  for (const w of positiveWords(query)) {
    const key = `${w.prefix ? '*' : ''}${w.word}`;
    if (!seen.has(key)) seen.set(key, { word: w.word, prefix: w.prefix, required: !w.prefix && required.has(w.word) });
  }
  return [...seen.values()];
}

/** Plain words every match of the query holds. */
function requiredWords(node: QueryNode): Set<string> {
  switch (node.kind) {
    case 'term':
      return node.prefix ? new Set() : new Set([node.word]);
    case 'phrase':
      return new Set(node.words);
    case 'not':
      return requiredWords(node.positive);
    case 'and':
      return new Set(node.children.flatMap((c) => [...requiredWords(c)]));
    case 'or': {
      const [first, ...rest] = node.children.map(requiredWords);
      return new Set([...first].filter((w) => rest.every((s) => s.has(w))));
    }
  }
}

/** Looks the query up in the namespace's index. */
export async function prepare<K extends DocKey>(index: ScoringIndex<K>, namespace: string, query: QueryNode): Promise<PreparedQuery<K>> {
  const words = scoredWords(query);
  const lookup = await index.lookup(namespace, words);
  return new PreparedQuery<K>(query, lookup, words);
}

/**
 * The exact BM25 top-`k` of the memories of the namespace that match the
 * query and pass the filter, best first ({@link compareHits}). Memories that
 * match only through words that are not scored (a prefix's rarer
 * completions) follow with score 0, newest first, when fewer than `k` score.
 */
export async function topK<K extends DocKey>(
  index: ScoringIndex<K>,
  namespace: string,
  prepared: PreparedQuery<K>,
  filter: MemoryFilter,
  k: number,
): Promise<ScoredHit<K>[]> {
  const { terms, units, df } = prepared;
  const hits: ScoredHit<K>[] = [];
  const known = new Set<K>();
  if (terms.length > 0) {
    // Plan: the rarest required word, if rare enough, holds every match; else all words, read whole if few.
    let rarest = -1;
    for (const u of units) if (u.required && (rarest < 0 || df[u.terms[0]] < df[rarest])) rarest = u.terms[0];
    const postings = df.reduce((a, b) => a + b, 0);
    const whole = rarest >= 0 && df[rarest] <= EXHAUSTIVE ? [rarest] : postings <= EXHAUSTIVE ? terms.map((_, i) => i) : null;
    let depth = FIRST_DEPTH;
    for (;;) {
      const streams = whole ? whole.map((t) => ({ term: terms[t], depth: Infinity })) : terms.map((term, t) => ({ term, depth: df[t] <= depth ? Infinity : depth }));
      const round = await index.round(namespace, { streams, terms, known: [...known], query: prepared.query, filter });
      for (const doc of round.docs) {
        known.add(doc.key);
        if (doc.match) hits.push({ key: doc.key, score: prepared.score(doc.tf, doc.dl), ts: doc.ts, seq: doc.seq });
      }
      if (whole) break;
      hits.sort(compareHits);
      if (hits.length > k) hits.length = k;
      const bound = unreadBound(prepared, round.groups);
      if (bound === null) break; // every list read
      if (hits.length >= k && hits[k - 1].score >= bound) break;
      depth *= 4;
    }
    hits.sort(compareHits);
    if (hits.length > k) hits.length = k;
  }
  if (hits.length < k) {
    // Matches no scored word reaches: only prefix completions beyond the scored ones (or a namespace missing every word).
    for (const doc of await index.recent(namespace, prepared.query, filter, [...known], k - hits.length)) hits.push({ key: doc.key, score: 0, ts: doc.ts, seq: doc.seq });
  }
  return hits;
}

/**
 * The most a memory no list has reached yet can score: per unit, its best
 * term's idf times the weight at the edge of that term's lists (the weight
 * of the last posting read, for the tf of that list; lists read to the end
 * add nothing). Null when every list is exhausted.
 */
function unreadBound<K extends DocKey>(prepared: PreparedQuery<K>, groups: StreamGroup[]): number | null {
  const edge = new Map<string, number>();
  let open = false;
  for (const g of groups) {
    if (g.exhausted) continue;
    open = true;
    const w = termWeight(g.tf, g.lastDl, prepared.avgdl);
    if (w > (edge.get(g.term) ?? 0)) edge.set(g.term, w);
  }
  if (!open) return null;
  let bound = 0;
  for (const unit of prepared.units) {
    let best = 0;
    unit.terms.forEach((t, j) => {
      const s = unit.idf[j] * (edge.get(prepared.terms[t]) ?? 0);
      if (s > best) best = s;
    });
    bound += best;
  }
  return bound;
}
