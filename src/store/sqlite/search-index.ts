/**
 * SQLite's impact-ordered search index (migration 0003_search-index): keeping
 * it in step with `memories`, and reading it for the exact top-k engine
 * (src/search/top-k.ts).
 *
 * Keeping it in step: triggers queue every written memory's rid in
 * `memories_pending`; {@link SQLiteSearchIndex.sync} indexes queued memories
 * (removes what a memory had, adds what it has now) and updates the
 * namespace's statistics, inside the caller's transaction. The store calls it
 * at the end of each of its own writes, and before searching a namespace
 * that has queued memories (an older version's writes, plain SQL, the
 * backfill after the upgrade).
 *
 * Matching: a memory matches a query when its indexed words satisfy the
 * query's tree (stems compared, as FTS5 compares them); phrases are then
 * confirmed by FTS5 itself, which knows the words' positions.
 */
import type { Statement } from 'better-sqlite3';
import { SEARCH_INDEX } from '../../../drizzle/sqlite';
import type { QueryNode } from '../../search/query';
import { isStopWord } from '../../search/stop-words';
import { termWeight } from '../../search/bm25';
import { PREFIX_EXPANSIONS, type IndexedDoc, type IndexLookup, type LookupWord, type KeptPosting, type ReadRequest, type ReadResult, type ScoringIndex } from '../../search/top-k';
import type { MemoryFilter } from '../repository';
import { filterSql } from './filters';
import { COLUMNS, toMemory, type MemoryRow } from './rows';
import type { Stemmer } from './stemmer';

const { namespaces: NS, terms: TERMS, postings: POSTINGS, docs: DOCS, pending: PENDING } = SEARCH_INDEX;

/** Queued memories indexed per statement batch (and per transaction when indexing a backlog). */
const SYNC_BATCH = 2000;

/** Runs a statement (prepared once per connection, told to the tracer). */
export interface SqlRunner {
  all<T>(text: string, params: unknown[]): T[];
  get<T>(text: string, params: unknown[]): T | undefined;
  run(text: string, params: unknown[]): number;
  statement(text: string): Statement;
  /** Runs `fn` in an IMMEDIATE transaction (a savepoint when one is open). */
  transaction<T>(fn: () => T): T;
  inTransaction(): boolean;
  /** The connection is read-only: queued memories wait for a writer. */
  readonly: boolean;
}

/** An FTS5 MATCH expression for `node` within one namespace (its `fts_ns` token first). */
export type MatchIn = (namespace: string, node: QueryNode) => string;

interface DocRow extends MemoryRow {
  rid: number;
  dl: number;
  ts: number;
  terms: string;
  ok: number;
}

/** "word tf word tf …" → word → tf. */
function parseTerms(text: string): Map<string, number> {
  const parts = text === '' ? [] : text.split(' ');
  const map = new Map<string, number>();
  for (let i = 0; i < parts.length; i += 2) map.set(parts[i], Number(parts[i + 1]));
  return map;
}

/** Candidates of a phrase query FTS5 confirms one by one; more go in one pass over their rowid range. */
const PHRASE_LOOKUPS = 4;

/** A query tree as a test on a memory's indexed words, and whether FTS5 must confirm it (phrases). */
interface Matcher {
  test(terms: Map<string, number>): boolean;
  phrases: boolean;
}

export class SQLiteSearchIndex implements ScoringIndex<number> {
  /** A phrase's matches (FTS5 rowids) fetched as a set up to this many: testing a phrase per memory costs FTS5 a seek in every word's doclist. */
  readonly phraseSet = 65_536;

  readonly #nsIds = new Map<string, number>();

  constructor(
    private readonly sql: SqlRunner,
    private readonly stemmer: Stemmer,
    private readonly matchIn: MatchIn,
  ) {}

  // ------------------------------------------------------------ keeping it in step

  /** How many memories wait to be indexed. */
  pendingCount(): number {
    return this.sql.get<{ n: number }>(`SELECT count(DISTINCT rid) AS n FROM ${PENDING}`, [])!.n;
  }

  /**
   * Re-indexes these memories (the rows a write of the store touched), in
   * the caller's transaction. Only these: memories queued by other writers
   * (plain SQL, an older version, the rows a migration queued) are indexed
   * before their namespace is searched, or by `indexQueued()`, so no write
   * ever waits for a backlog.
   */
  take(rids: number[]): void {
    for (let i = 0; i < rids.length; i += SYNC_BATCH) this.index(rids.slice(i, i + SYNC_BATCH));
  }

  /** Drops a namespace's queue (`clear`: its memories and index entries are gone). */
  forgetQueue(namespace: string): void {
    this.sql.run(`DELETE FROM ${PENDING} WHERE namespace = ?`, [namespace]);
  }

  /**
   * Indexes the queued memories of one namespace (and queued removals of its
   * memories), each batch its own transaction, so other writers interleave.
   * Used before a search when the namespace has queued memories.
   */
  syncNamespace(namespace: string): void {
    for (;;) {
      const rids = this.sql.all<{ rid: number }>(`SELECT rid FROM ${PENDING} WHERE namespace = ? LIMIT ?`, [namespace, SYNC_BATCH]).map((r) => r.rid);
      if (rids.length === 0) return;
      this.sql.transaction(() => this.index(rids));
    }
  }

  /** Indexes everything queued, in batches of one transaction each; returns how many memories it indexed. */
  syncAll(onBatch?: (done: number) => void): number {
    let done = 0;
    for (;;) {
      const rids = this.sql.all<{ rid: number }>(`SELECT DISTINCT rid FROM ${PENDING} ORDER BY rid LIMIT ?`, [SYNC_BATCH]).map((r) => r.rid);
      if (rids.length === 0) return done;
      this.sql.transaction(() => this.index(rids));
      done += rids.length;
      onBatch?.(done);
    }
  }

  /** The namespace's id in the index; created when `create` (a new namespace's first memory). */
  private nsId(namespace: string, create: true): number;
  private nsId(namespace: string, create: false): number | undefined;
  private nsId(namespace: string, create: boolean): number | undefined {
    const known = this.#nsIds.get(namespace);
    if (known !== undefined) return known;
    let row = this.sql.get<{ ns: number }>(`SELECT ns FROM ${NS} WHERE namespace = ?`, [namespace]);
    if (!row && create) row = this.sql.get<{ ns: number }>(`INSERT INTO ${NS} (namespace) VALUES (?) RETURNING ns`, [namespace]);
    if (!row) return undefined;
    if (this.#nsIds.size > 100_000) this.#nsIds.clear();
    this.#nsIds.set(namespace, row.ns);
    return row.ns;
  }

  /** Re-indexes these memories: what the index holds of each goes, what the table holds now comes. */
  private index(rids: number[]): void {
    const olds = new Map(
      this.sql.all<{ rid: number; ns: number; dl: number; ts: number; terms: string }>(`SELECT rid, ns, dl, ts, terms FROM ${DOCS} WHERE rid IN (SELECT value FROM json_each(?))`, [JSON.stringify(rids)]).map((r) => [r.rid, r]),
    );
    const nows = this.sql.all<{ rid: number; namespace: string; content: string; timestamp: number }>(
      `SELECT rid, namespace, content, "timestamp" FROM memories WHERE rid IN (SELECT value FROM json_each(?))`,
      [JSON.stringify(rids)],
    );
    const df = new Map<string, number>(); // "ns term" → change
    const size = new Map<number, [number, number]>(); // ns → [memories, length] change
    const change = (ns: number, term: string, by: number) => {
      const key = `${ns} ${term}`;
      df.set(key, (df.get(key) ?? 0) + by);
    };
    const grow = (ns: number, n: number, dl: number) => {
      const s = size.get(ns) ?? [0, 0];
      s[0] += n;
      s[1] += dl;
      size.set(ns, s);
    };
    for (const old of olds.values()) {
      for (const [term, tf] of parseTerms(old.terms)) {
        this.sql.run(`DELETE FROM ${POSTINGS} WHERE ns = ? AND term = ? AND tf = ? AND dl = ? AND ts = ? AND rid = ?`, [old.ns, term, tf, old.dl, old.ts, old.rid]);
        change(old.ns, term, -1);
      }
      this.sql.run(`DELETE FROM ${DOCS} WHERE rid = ?`, [old.rid]);
      grow(old.ns, -1, -old.dl);
    }
    const postings: [ns: number, term: string, tf: number, dl: number, ts: number, rid: number][] = [];
    for (const now of nows) {
      const ns = this.nsId(now.namespace, true);
      const { tf, dl } = this.stemmer.index(now.content);
      const parts: string[] = [];
      for (const [term, n] of tf) {
        postings.push([ns, term, n, dl, now.timestamp, now.rid]);
        change(ns, term, 1);
        parts.push(term, String(n));
      }
      this.sql.run(`INSERT INTO ${DOCS} (rid, ns, dl, ts, terms) VALUES (?, ?, ?, ?, ?)`, [now.rid, ns, dl, now.timestamp, parts.join(' ')]);
      grow(ns, 1, dl);
    }
    // In key order: neighbouring inserts land on the same pages.
    postings.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2] || a[3] - b[3] || b[4] - a[4] || b[5] - a[5]);
    for (const p of postings) this.sql.run(`INSERT INTO ${POSTINGS} (ns, term, tf, dl, ts, rid) VALUES (?, ?, ?, ?, ?, ?)`, p);
    for (const [key, by] of df) {
      if (by === 0) continue;
      const cut = key.indexOf(' ');
      const ns = Number(key.slice(0, cut));
      const term = key.slice(cut + 1);
      this.sql.run(`INSERT INTO ${TERMS} (ns, term, df) VALUES (?, ?, ?) ON CONFLICT (ns, term) DO UPDATE SET df = df + excluded.df`, [ns, term, by]);
      if (by < 0) this.sql.run(`DELETE FROM ${TERMS} WHERE ns = ? AND term = ? AND df <= 0`, [ns, term]);
    }
    for (const [ns, [n, dl]] of size) this.sql.run(`UPDATE ${NS} SET n = n + ?, total_dl = total_dl + ? WHERE ns = ?`, [n, dl, ns]);
    this.sql.run(`DELETE FROM ${PENDING} WHERE rid IN (SELECT value FROM json_each(?))`, [JSON.stringify(rids)]);
  }

  /** Forgets a whole namespace's index entries at once (`clear`): cheaper than one memory at a time. */
  dropNamespace(namespace: string): void {
    const ns = this.nsId(namespace, false);
    if (ns === undefined) return;
    this.sql.run(`DELETE FROM ${POSTINGS} WHERE ns = ?`, [ns]);
    this.sql.run(`DELETE FROM ${TERMS} WHERE ns = ?`, [ns]);
    this.sql.run(`DELETE FROM ${DOCS} WHERE ns = ?`, [ns]);
    this.sql.run(`UPDATE ${NS} SET n = 0, total_dl = 0 WHERE ns = ?`, [ns]);
  }

  // ------------------------------------------------------------ reading it

  /** Brings the namespace's index up to date first (queued memories), then reads its statistics. */
  async lookup(namespace: string, words: LookupWord[]): Promise<IndexLookup> {
    if (!this.sql.readonly) this.syncNamespace(namespace);
    const row = this.sql.get<{ ns: number; n: number; total_dl: number }>(`SELECT ns, n, total_dl FROM ${NS} WHERE namespace = ?`, [namespace]);
    if (!row || row.n === 0) return { n: 0, totalDl: 0, terms: words.map(() => []) };
    const terms = words.map((w) => {
      if (w.prefix) {
        const p = this.prefixStem(w.word);
        return this.sql.all<{ term: string; df: number }>(
          `SELECT term, df FROM ${TERMS} WHERE ns = ? AND term >= ? AND term < ? ORDER BY df DESC, term LIMIT ?`,
          [row.ns, p, `${p}\u{10FFFF}`, PREFIX_EXPANSIONS],
        );
      }
      const stem = this.stemmer.stem(w.word);
      const found = stem ? this.sql.get<{ df: number }>(`SELECT df FROM ${TERMS} WHERE ns = ? AND term = ?`, [row.ns, stem]) : undefined;
      return found ? [{ term: stem, df: found.df }] : [];
    });
    return { n: row.n, totalDl: row.total_dl, terms };
  }

  /**
   * Each stream's (term, tf) lists, in tf order (one seek per tf present),
   * each read shortest first to its depth:
   * ```sql
   * SELECT rid, dl FROM memories_postings WHERE ns = ? AND term = ? AND tf = ? ORDER BY dl, ts DESC, rid DESC LIMIT ?
   * ```
   * of which each term keeps its `depth` heaviest (for the request's
   * average length).
   */
  async read(namespace: string, request: ReadRequest): Promise<ReadResult<number>> {
    const ns = this.nsId(namespace, false);
    const result: ReadResult<number> = { groups: [], dropped: [], postings: [] };
    if (ns === undefined) return result;
    request.streams.forEach(({ term, depth }, stream) => {
      const finite = Number.isFinite(depth);
      const read: (KeptPosting<number> & { w: number })[] = [];
      for (let tf = 0; ; ) {
        const next = this.sql.get<{ tf: number }>(`SELECT tf FROM ${POSTINGS} WHERE ns = ? AND term = ? AND tf > ? ORDER BY tf LIMIT 1`, [ns, term, tf]);
        if (!next) break;
        tf = next.tf;
        const rows = this.sql.all<{ rid: number; dl: number }>(
          `SELECT rid, dl FROM ${POSTINGS} WHERE ns = ? AND term = ? AND tf = ? ORDER BY dl, ts DESC, rid DESC LIMIT ?`,
          [ns, term, tf, finite ? depth : -1],
        );
        result.groups.push({ term, tf, lastDl: rows.length ? rows[rows.length - 1].dl : 0, exhausted: !finite || rows.length < depth });
        for (const r of rows) read.push({ key: r.rid, stream, tf, dl: r.dl, w: termWeight(tf, r.dl, request.avgdl) });
      }
      // The term's `depth` heaviest across its tf lists (ties: the order read, shortest first in each list).
      if (finite && read.length > depth) {
        read.sort((a, b) => b.w - a.w);
        const first = read[depth];
        result.dropped.push({ term, tf: first.tf, dl: first.dl });
        read.length = depth;
      }
      for (const p of read) result.postings.push(p);
    });
    return result;
  }

  /**
   * ```sql
   * SELECT d.rid, d.dl, d.ts, d.terms, (1 AND <filter>) AS ok
   * FROM memories_docs d JOIN memories m ON m.rid = d.rid WHERE d.ns = ? AND d.rid IN (…)
   * ```
   * A memory matches when the filter holds and its words satisfy the query;
   * a query with a phrase is matched by FTS5 instead (positions). Keys FTS5
   * found (`matched`) are not tested again.
   */
  async docs(namespace: string, keys: number[], terms: string[], query: QueryNode, filter: MemoryFilter, matched = false): Promise<IndexedDoc<number>[]> {
    const ns = this.nsId(namespace, false);
    if (ns === undefined || keys.length === 0) return [];
    const f = filterSql(filter);
    const rows = this.sql.all<DocRow>(
      `SELECT d.rid, d.dl, d.ts, d.terms, (1${f.text}) AS ok, ${COLUMNS} FROM ${DOCS} d JOIN memories m ON m.rid = d.rid
       WHERE d.ns = ? AND d.rid IN (SELECT value FROM json_each(?))`,
      [...f.params, ns, JSON.stringify(keys)],
    );
    const matcher = this.matcher(query);
    const docs = rows.map((r): IndexedDoc<number> => {
      const have = parseTerms(r.terms);
      // With a phrase, FTS5 decides (below): the words alone cannot tell a phrase, nor a NOT of one.
      return { key: r.rid, dl: r.dl, ts: r.ts, seq: r.rid, tf: terms.map((t) => have.get(t) ?? 0), match: r.ok === 1 && (matched || matcher.phrases || matcher.test(have)), memory: toMemory(r) };
    });
    if (matcher.phrases && !matched) {
      const confirm = docs.filter((d) => d.match).map((d) => d.key);
      if (confirm.length > 0) {
        const kept = this.phraseMatches(namespace, query, confirm);
        for (const d of docs) d.match &&= kept.has(d.key);
      }
    }
    return docs;
  }

  /**
   * Which of `rids` FTS5 matches (a query with a phrase: positions decide).
   * A few are looked up one by one; more in one pass of the query over the
   * rowid range they span, kept when among them: a lookup by rowid costs
   * FTS5 a seek in every word's doclist (0.3-0.5 ms a memory at 1,000,000
   * memories: 300 candidates took 100 ms), the range one merge (1-3 ms).
   */
  private phraseMatches(namespace: string, query: QueryNode, rids: number[]): Set<number> {
    const match = this.matchIn(namespace, query);
    if (rids.length <= PHRASE_LOOKUPS) {
      return new Set(
        this.sql
          .all<{ rid: number }>(`SELECT value AS rid FROM json_each(?) WHERE EXISTS (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? AND rowid = value)`, [JSON.stringify(rids), match])
          .map((r) => r.rid),
      );
    }
    let lo = rids[0];
    let hi = rids[0];
    for (const rid of rids) {
      if (rid < lo) lo = rid;
      if (rid > hi) hi = rid;
    }
    const wanted = new Set(rids);
    const kept = new Set<number>();
    for (const r of this.sql.all<{ rid: number }>(`SELECT rowid AS rid FROM memories_fts WHERE memories_fts MATCH ? AND rowid BETWEEN ? AND ?`, [match, lo, hi])) {
      if (wanted.has(r.rid)) kept.add(r.rid);
    }
    return kept;
  }

  /** FTS5's rowids of the query in the namespace (its token is in the MATCH); the filter is left to docs(). */
  async matches(namespace: string, query: QueryNode, _filter: MemoryFilter, limit: number): Promise<number[]> {
    return this.sql.all<{ rid: number }>(`SELECT rowid AS rid FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?`, [this.matchIn(namespace, query), limit]).map((r) => r.rid);
  }

  /** The newest matches FTS5 finds that the caller has not seen (they score 0). */
  async recent(namespace: string, query: QueryNode, filter: MemoryFilter, exclude: number[], limit: number): Promise<IndexedDoc<number>[]> {
    const f = filterSql(filter);
    const rows = this.sql.all<{ rid: number; ts: number }>(
      `SELECT m.rid, m."timestamp" AS ts FROM memories_fts JOIN memories m ON m.rid = memories_fts.rowid
       WHERE memories_fts MATCH ? AND m.namespace = ?${f.text} AND m.rid NOT IN (SELECT value FROM json_each(?))
       ORDER BY memories_fts.rowid DESC LIMIT ?`,
      [this.matchIn(namespace, query), namespace, ...f.params, JSON.stringify(exclude), limit],
    );
    return rows.map((r) => ({ key: r.rid, dl: 0, ts: r.ts, seq: r.rid, tf: [], match: true }));
  }

  /**
   * What a prefix matches the stems of: FTS5's porter tokenizer stems the
   * prefix too (`busy*` looks for stems starting with `busi`), as
   * PostgreSQL's `to_tsquery` does.
   */
  private prefixStem(word: string): string {
    return this.stemmer.stem(word) || word;
  }

  /** Compiles the query tree to a test on indexed words (stems), as FTS5 would match them. */
  private matcher(query: QueryNode): Matcher {
    let phrases = false;
    const compile = (node: QueryNode): ((t: Map<string, number>) => boolean) => {
      switch (node.kind) {
        case 'term': {
          if (node.prefix) {
            const p = this.prefixStem(node.word);
            return (t) => {
              for (const k of t.keys()) if (k.startsWith(p)) return true;
              return false;
            };
          }
          const stem = this.stemmer.stem(node.word);
          return (t) => stem !== '' && t.has(stem);
        }
        case 'phrase': {
          phrases = true;
          const stems = this.stemmer.stems(node.words.filter((w) => !isStopWord(w))).flat();
          return (t) => stems.every((s) => t.has(s));
        }
        case 'and': {
          const parts = node.children.map(compile);
          return (t) => parts.every((p) => p(t));
        }
        case 'or': {
          const parts = node.children.map(compile);
          return (t) => parts.some((p) => p(t));
        }
        case 'not': {
          const yes = compile(node.positive);
          const no = compile(node.negative);
          return (t) => yes(t) && !no(t);
        }
      }
    };
    const test = compile(query);
    return { test, phrases };
  }
}
