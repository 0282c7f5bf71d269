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
 * of per-word bound), in its combined form: read every word's postings in
 * weight order to a depth (the first `depth` of each of its tf lists, of
 * which the `depth` heaviest are kept). Every word's edge (the most a posting
 * not kept can weigh) bounds what is unseen, so each memory met has an
 * exact part (the words whose postings were kept) and an upper bound (that
 * plus the edges of its other words). The facts of memories met (their tf
 * of every word, their length, whether they match the query and pass the
 * call's filters) are read only while one could still enter the top k:
 * the k surest first (they set the floor), then best bound first, in
 * growing batches, until the next bound is below the k-th best score. The
 * reading stops once the k-th best score is at least the most a memory no
 * kept posting belongs to could score (the sum of the words' edges);
 * otherwise it reads twice as deep. Nothing that could enter the top k is
 * ever skipped: the result is the same as scoring every match, which
 * tests/search/exact-ranking.test.ts checks against brute force.
 *
 * Shortcuts that keep it exact: a word every match must hold (AND, a phrase)
 * and that few memories hold is read whole, and its memories are the only
 * candidates; a query whose words are all rare is read whole.
 */
import type { MemoryFilter } from '../store/repository';
import type { Memory } from '../types';
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

/**
 * Read `term`'s postings in impact order to `depth`: the first `depth` of
 * each of its tf lists, of which the `depth` weighing most (for `avgdl`) are
 * kept (`Infinity`: all of them).
 */
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
  /** The memory itself, when the index read it with the facts (no second fetch then). */
  memory?: Memory;
}

export interface ReadRequest {
  streams: StreamRequest[];
  /** The namespace's average length, to order each term's postings by weight across its tf lists. */
  avgdl: number;
}

/** A posting kept: a memory holds stream `stream`'s term `tf` times and is `dl` words long. */
export interface KeptPosting<K extends DocKey> {
  key: K;
  /** Index into the request's streams. */
  stream: number;
  tf: number;
  dl: number;
}

export interface ReadResult<K extends DocKey> {
  /** One entry per (term, tf) list that has postings. */
  groups: StreamGroup[];
  /**
   * Per term, the heaviest posting read but not kept (beyond the term's
   * `depth` best): every posting not kept weighs at most that much.
   */
  dropped: { term: string; tf: number; dl: number }[];
  /** Every posting kept (each term's `depth` heaviest). */
  postings: KeptPosting<K>[];
}

/** What the engine needs from a dialect: implemented by each repository over its index tables. */
export interface ScoringIndex<K extends DocKey> {
  lookup(namespace: string, words: LookupWord[]): Promise<IndexLookup>;
  /** Each stream's postings in weight order to its depth: what is kept, what bounds the rest. */
  read(namespace: string, request: ReadRequest): Promise<ReadResult<K>>;
  /**
   * The facts scoring needs of these memories; missing ones, and (if the
   * dialect likes) ones that do not match, left out. `matched`: the keys came
   * from {@link matches}, so the query need not be tested again.
   */
  docs(namespace: string, keys: K[], terms: string[], query: QueryNode, filter: MemoryFilter, matched?: boolean): Promise<IndexedDoc<K>[]>;
  /**
   * The newest memories matching the query and filter, leaving out `exclude`:
   * the ones no scored word reaches (a prefix's completions beyond the
   * scored ones), which score 0.
   */
  recent(namespace: string, query: QueryNode, filter: MemoryFilter, exclude: K[], limit: number): Promise<IndexedDoc<K>[]>;
  /**
   * Memories matching the query, found by the full-text index, at most
   * `limit` of them, in no order; the filter may be left to {@link docs}.
   */
  matches(namespace: string, query: QueryNode, filter: MemoryFilter, limit: number): Promise<K[]>;
  /**
   * The most matches of a phrase query worth fetching as a set that
   * candidates are checked against before their facts are read: where
   * {@link docs} tests a phrase at a high cost per memory (SQLite: FTS5
   * seeks every word's doclist per memory). {@link PHRASE_WHOLE} or less: no set.
   */
  readonly phraseSet: number;
}

/** A prefix is scored through at most this many of its completions (its most frequent ones). */
export const PREFIX_EXPANSIONS = 64;

/** A required word held by at most this many memories is read whole; so is a query whose words hold at most this many postings in all. */
export const EXHAUSTIVE = 2048;

/**
 * A query with a phrase first asks the full-text index for its matches: when
 * at most this many, they are the candidates, scored whole. Postings cannot
 * tell a phrase, so the threshold algorithm would read (and reject) every
 * memory holding its words in another order: 130 statements, half a second,
 * for a phrase of two common words at 1,000,000 memories.
 */
export const PHRASE_WHOLE = 512;

/** First depth of the threshold algorithm's reads (twice as deep each round): postings are cheap to read, facts are not. */
const FIRST_DEPTH = 512;

/** A memory with its BM25 score. */
export interface ScoredHit<K extends DocKey> {
  key: K;
  score: number;
  ts: number;
  seq: number;
  memory?: Memory;
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
  /** Memories whose facts were read: scored (in `hits` if good enough) or not matching. */
  const checked = new Set<K>();
  if (terms.length > 0) {
    // Plan: the rarest required word, if rare enough, holds every match (read it whole); else every word, whole if few.
    let rarest = -1;
    for (const u of units) if (u.required && (rarest < 0 || df[u.terms[0]] < df[rarest])) rarest = u.terms[0];
    if (rarest >= 0 && df[rarest] > EXHAUSTIVE) rarest = -1;
    const all = df.reduce((a, b) => a + b, 0) <= EXHAUSTIVE;
    /** With a phrase: every match of the query, when not too many to fetch (candidates outside it cannot match). */
    let only: Set<K> | undefined;
    if (hasPhrase(prepared.query)) {
      const found = await index.matches(namespace, prepared.query, filter, Math.max(PHRASE_WHOLE, index.phraseSet) + 1);
      if (found.length > PHRASE_WHOLE && found.length <= index.phraseSet) only = new Set(found);
      else if (found.length <= PHRASE_WHOLE) {
        // Every match is known (at most PHRASE_WHOLE): score them all in one read; hits are sorted below.
        for (const doc of await index.docs(namespace, found, terms, prepared.query, filter, true)) {
          if (doc.match) hits.push({ key: doc.key, score: prepared.score(doc.tf, doc.dl), ts: doc.ts, seq: doc.seq, memory: doc.memory });
        }
        hits.sort(compareHits);
        if (hits.length > k) hits.length = k;
        return hits;
      }
    }
    let depth = FIRST_DEPTH;
    for (;;) {
      const streams = terms.map((term, t) => ({ term, depth: all || t === rarest || df[t] <= depth ? Infinity : depth }));
      const read = await index.read(namespace, { streams, avgdl: prepared.avgdl });
      const edge = edges(prepared, read);
      // What the kept postings tell of each memory: its length and its tf of the terms met (−1: not met).
      const met = new Map<K, { dl: number; tf: number[] }>();
      for (const p of read.postings) {
        let m = met.get(p.key);
        if (!m) met.set(p.key, (m = { dl: p.dl, tf: terms.map(() => -1) }));
        m.tf[p.stream] = p.tf;
      }
      const candidates: { key: K; upper: number; lower: number }[] = [];
      for (const [key, m] of met) {
        if (checked.has(key) || (rarest >= 0 && m.tf[rarest] < 0)) continue; // with a rarest word read whole, a memory without it cannot match
        if (only && !only.has(key)) continue; // not a match of the phrase
        candidates.push({ key, upper: upperBound(prepared, m, edge), lower: upperBound(prepared, m, NONE) });
      }
      // Best bound first; but while fewer than k are scored, the k surest (best exact part) first: they set the floor.
      candidates.sort((a, b) => b.upper - a.upper);
      if (hits.length < k) {
        const surest = new Set([...candidates].sort((a, b) => b.lower - a.lower).slice(0, k));
        candidates.sort((a, b) => Number(surest.has(b)) - Number(surest.has(a)) || b.upper - a.upper);
      }
      // Facts, best bound first, in growing batches, while a candidate could still enter the top k.
      for (let i = 0, batch = k; i < candidates.length; batch *= 2) {
        const floor = hits.length >= k ? hits[k - 1].score : -Infinity;
        let j = i;
        while (j < candidates.length && j - i < batch && candidates[j].upper >= floor) j++;
        if (j === i) break;
        const keys = candidates.slice(i, j).map((c) => c.key);
        for (const key of keys) checked.add(key);
        for (const doc of await index.docs(namespace, keys, terms, prepared.query, filter, only !== undefined)) {
          if (doc.match) hits.push({ key: doc.key, score: prepared.score(doc.tf, doc.dl), ts: doc.ts, seq: doc.seq, memory: doc.memory });
        }
        hits.sort(compareHits);
        if (hits.length > k) hits.length = k;
        i = j;
      }
      if (rarest >= 0 || all) break; // every match was met
      const bound = unreadBound(prepared, edge);
      if (bound === null) break; // every list read
      if (hits.length >= k && hits[k - 1].score >= bound) break;
      depth *= 2;
    }
  }
  if (hits.length < k) {
    // Matches no scored word reaches: only prefix completions beyond the scored ones (or a namespace missing every word).
    for (const doc of await index.recent(namespace, prepared.query, filter, [...checked], k - hits.length)) hits.push({ key: doc.key, score: 0, ts: doc.ts, seq: doc.seq, memory: doc.memory });
  }
  return hits;
}

/** Whether the query holds a phrase (outside a NOT: what a match must contain). */
function hasPhrase(node: QueryNode): boolean {
  switch (node.kind) {
    case 'phrase':
      return true;
    case 'term':
      return false;
    case 'not':
      return hasPhrase(node.positive);
    case 'and':
    case 'or':
      return node.children.some(hasPhrase);
  }
}

/**
 * Per term (in {@link PreparedQuery.terms} order), the most a posting not
 * kept can weigh — the last posting read of each tf list not read to its
 * end (unread ones are at least as long), and the heaviest posting read but
 * not kept — or null where every posting of the term was kept.
 */
function edges<K extends DocKey>(prepared: PreparedQuery<K>, read: ReadResult<K>): (number | null)[] {
  const at = new Map(prepared.terms.map((t, i) => [t, i]));
  const edge: (number | null)[] = prepared.terms.map(() => null);
  const raise = (term: string, tf: number, dl: number) => {
    const i = at.get(term)!;
    edge[i] = Math.max(edge[i] ?? 0, termWeight(tf, dl, prepared.avgdl));
  };
  for (const g of read.groups) if (!g.exhausted) raise(g.term, g.tf, g.lastDl);
  for (const d of read.dropped) raise(d.term, d.tf, d.dl);
  return edge;
}

/**
 * The most a memory met can score: per unit, the best of its terms, each
 * exact where a kept posting gave the memory's tf, else at most its edge.
 */
/** No edges: {@link upperBound} gives the exact part alone (what the kept postings prove). */
const NONE: null[] = [];
function upperBound<K extends DocKey>(prepared: PreparedQuery<K>, m: { dl: number; tf: number[] }, edge: (number | null)[]): number {
  let total = 0;
  for (const unit of prepared.units) {
    let best = 0;
    for (let j = 0; j < unit.terms.length; j++) {
      const t = unit.terms[j];
      const w = m.tf[t] >= 0 ? termWeight(m.tf[t], m.dl, prepared.avgdl) : (edge[t] ?? 0);
      if (unit.idf[j] * w > best) best = unit.idf[j] * w;
    }
    total += best;
  }
  return total;
}

/**
 * The most a memory no kept posting belongs to can score: per unit, its best
 * term's idf times the term's edge. Null when every posting was kept.
 */
function unreadBound<K extends DocKey>(prepared: PreparedQuery<K>, edge: (number | null)[]): number | null {
  if (edge.every((e) => e === null)) return null;
  let bound = 0;
  for (const unit of prepared.units) {
    let best = 0;
    unit.terms.forEach((t, j) => {
      best = Math.max(best, unit.idf[j] * (edge[t] ?? 0));
    });
    bound += best;
  }
  return bound;
}
