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
import { PREFIX_EXPANSIONS, type IndexedDoc, type IndexLookup, type LookupWord, type RoundRequest, type RoundResult, type ScoringIndex, type StreamGroup } from '../../search/top-k';
import type { MemoryFilter } from '../repository';
import { filterSql } from './filters';
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

interface DocRow {
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

/** A query tree as a test on a memory's indexed words, and whether FTS5 must confirm it (phrases). */
interface Matcher {
  test(terms: Map<string, number>): boolean;
  phrases: boolean;
}

export class SQLiteSearchIndex implements ScoringIndex<number> {
  readonly #nsIds = new Map<string, number>();

  constructor(
    private readonly sql: SqlRunner,
    private readonly stemmer: Stemmer,
    private readonly matchIn: MatchIn,
  ) {}

  // ------------------------------------------------------------ keeping it in step

  /** Whether any memory waits to be indexed. */
  hasPending(): boolean {
    return this.sql.get(`SELECT 1 AS x FROM ${PENDING} LIMIT 1`, []) !== undefined;
  }

  /** How many memories wait to be indexed. */
  pendingCount(): number {
    return this.sql.get<{ n: number }>(`SELECT count(*) AS n FROM ${PENDING}`, [])!.n;
  }

  /** Indexes every queued memory, in the caller's transaction. */
  sync(): void {
    for (;;) {
      const rids = this.sql.all<{ rid: number }>(`SELECT rid FROM ${PENDING} ORDER BY rid LIMIT ?`, [SYNC_BATCH]).map((r) => r.rid);
      if (rids.length === 0) return;
      this.index(rids);
    }
  }

  /**
   * Indexes the queued memories of one namespace (and queued removals of its
   * memories), each batch its own transaction, so other writers interleave.
   * Used before a search when the namespace has queued memories.
   */
  syncNamespace(namespace: string): void {
    const ns = this.nsId(namespace, false);
    for (;;) {
      const rids = this.sql
        .all<{ rid: number }>(
          `SELECT p.rid FROM ${PENDING} p JOIN memories m ON m.rid = p.rid WHERE m.namespace = ?
           UNION SELECT p.rid FROM ${PENDING} p JOIN ${DOCS} d ON d.rid = p.rid WHERE d.ns = ? LIMIT ?`,
          [namespace, ns ?? -1, SYNC_BATCH],
        )
        .map((r) => r.rid);
      if (rids.length === 0) return;
      this.sql.transaction(() => this.index(rids));
    }
  }

  /** Indexes everything queued, in batches of one transaction each; returns how many memories it indexed. */
  syncAll(onBatch?: (done: number) => void): number {
    let done = 0;
    for (;;) {
      const rids = this.sql.all<{ rid: number }>(`SELECT rid FROM ${PENDING} ORDER BY rid LIMIT ?`, [SYNC_BATCH]).map((r) => r.rid);
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
    for (const now of nows) {
      const ns = this.nsId(now.namespace, true);
      const { tf, dl } = this.stemmer.index(now.content);
      const parts: string[] = [];
      for (const [term, n] of tf) {
        this.sql.run(`INSERT INTO ${POSTINGS} (ns, term, tf, dl, ts, rid) VALUES (?, ?, ?, ?, ?, ?)`, [ns, term, n, dl, now.timestamp, now.rid]);
        change(ns, term, 1);
        parts.push(term, String(n));
      }
      this.sql.run(`INSERT INTO ${DOCS} (rid, ns, dl, ts, terms) VALUES (?, ?, ?, ?, ?)`, [now.rid, ns, dl, now.timestamp, parts.join(' ')]);
      grow(ns, 1, dl);
    }
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
    if (!this.sql.readonly && this.hasPending()) this.syncNamespace(namespace);
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
   * then the memories met, as {@link docs} describes them.
   */
  async round(namespace: string, request: RoundRequest<number>): Promise<RoundResult<number>> {
    const ns = this.nsId(namespace, false);
    if (ns === undefined) return { groups: [], docs: [] };
    const known = new Set(request.known);
    const met = new Set<number>();
    const groups: StreamGroup[] = [];
    for (const { term, depth } of request.streams) {
      const finite = Number.isFinite(depth);
      for (let tf = 0; ; ) {
        const next = this.sql.get<{ tf: number }>(`SELECT tf FROM ${POSTINGS} WHERE ns = ? AND term = ? AND tf > ? ORDER BY tf LIMIT 1`, [ns, term, tf]);
        if (!next) break;
        tf = next.tf;
        const rows = this.sql.all<{ rid: number; dl: number }>(
          `SELECT rid, dl FROM ${POSTINGS} WHERE ns = ? AND term = ? AND tf = ? ORDER BY dl, ts DESC, rid DESC LIMIT ?`,
          [ns, term, tf, finite ? depth : -1],
        );
        groups.push({ term, tf, lastDl: rows.length ? rows[rows.length - 1].dl : 0, exhausted: !finite || rows.length < depth });
        for (const r of rows) if (!known.has(r.rid)) met.add(r.rid);
      }
    }
    return { groups, docs: await this.docs(namespace, [...met], request.terms, request.query, request.filter) };
  }

  /**
   * ```sql
   * SELECT d.rid, d.dl, d.ts, d.terms, (1 AND <filter>) AS ok
   * FROM memories_docs d JOIN memories m ON m.rid = d.rid WHERE d.ns = ? AND d.rid IN (…)
   * ```
   * A memory matches when the filter holds and its words satisfy the query;
   * a query with a phrase is matched by FTS5 instead (positions).
   */
  async docs(namespace: string, keys: number[], terms: string[], query: QueryNode, filter: MemoryFilter): Promise<IndexedDoc<number>[]> {
    const ns = this.nsId(namespace, false);
    if (ns === undefined || keys.length === 0) return [];
    const f = filterSql(filter);
    const rows = this.sql.all<DocRow>(
      `SELECT d.rid, d.dl, d.ts, d.terms, (1${f.text}) AS ok FROM ${DOCS} d JOIN memories m ON m.rid = d.rid
       WHERE d.ns = ? AND d.rid IN (SELECT value FROM json_each(?))`,
      [...f.params, ns, JSON.stringify(keys)],
    );
    const matcher = this.matcher(query);
    const docs = rows.map((r): IndexedDoc<number> => {
      const have = parseTerms(r.terms);
      // With a phrase, FTS5 decides (below): the words alone cannot tell a phrase, nor a NOT of one.
      return { key: r.rid, dl: r.dl, ts: r.ts, seq: r.rid, tf: terms.map((t) => have.get(t) ?? 0), match: r.ok === 1 && (matcher.phrases || matcher.test(have)) };
    });
    if (matcher.phrases) {
      const confirm = docs.filter((d) => d.match).map((d) => d.key);
      if (confirm.length > 0) {
        const kept = new Set(
          this.sql
            .all<{ rid: number }>(
              `SELECT value AS rid FROM json_each(?) WHERE EXISTS (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? AND rowid = value)`,
              [JSON.stringify(confirm), this.matchIn(namespace, query)],
            )
            .map((r) => r.rid),
        );
        for (const d of docs) d.match &&= kept.has(d.key);
      }
    }
    return docs;
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
