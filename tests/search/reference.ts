/**
 * Brute-force BM25 for the exact-ranking tests: every memory of a namespace
 * scored with the definition of docs/search.md ("BM25"), from the words the
 * backend's own full-text index holds, read here independently of the
 * library's search index:
 *
 * - SQLite: FTS5's `fts5vocab` instance table over `memories_fts` (each
 *   token's stem and offset; stop words' stems dropped);
 * - PostgreSQL: `unnest(search_vector)` (each lexeme's positions).
 *
 * Then the matches of a query (words: stems present; a phrase: consecutive
 * offsets; a prefix: a stem starting with it; tags) are scored and sorted
 * best first (score, newer timestamp, later save).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { ENGLISH_STOP_WORDS } from '../../src/search/stop-words';

export interface RefDoc {
  id: string;
  ts: number;
  /** Save order. */
  order: number;
  tags: string[];
  /** stem → offsets (positions) in the text. */
  words: Map<string, number[]>;
  dl: number;
}

export interface RefQuery {
  /** OR of these groups (mode 'any'), or AND (mode 'all'). */
  join: 'and' | 'or';
  items: ({ kind: 'word'; stem: string } | { kind: 'prefix'; prefix: string } | { kind: 'phrase'; stems: string[] })[];
  tags?: string[];
}

const K1 = 1.2;
const B = 0.75;

/** The namespace's documents, statistics and the scorer. */
export class Reference {
  readonly n: number;
  readonly avgdl: number;
  readonly df = new Map<string, number>();

  constructor(readonly docs: RefDoc[]) {
    this.n = docs.length;
    this.avgdl = docs.reduce((s, d) => s + d.dl, 0) / Math.max(1, docs.length);
    for (const d of docs) for (const stem of d.words.keys()) this.df.set(stem, (this.df.get(stem) ?? 0) + 1);
  }

  idf(stem: string): number {
    const df = this.df.get(stem) ?? 0;
    return Math.log(1 + (this.n - df + 0.5) / (df + 0.5));
  }

  weight(tf: number, dl: number): number {
    return tf === 0 ? 0 : (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * dl) / this.avgdl));
  }

  /** A prefix's scored completions: the namespace's stems that start with it, most frequent first, at most 64. */
  completions(prefix: string): string[] {
    return [...this.df.entries()]
      .filter(([s]) => s.startsWith(prefix))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, 64)
      .map(([s]) => s);
  }

  private matches(d: RefDoc, item: RefQuery['items'][number]): boolean {
    if (item.kind === 'word') return d.words.has(item.stem);
    if (item.kind === 'prefix') return [...d.words.keys()].some((s) => s.startsWith(item.prefix));
    const [first, ...rest] = item.stems;
    return (d.words.get(first) ?? []).some((at) => rest.every((s, i) => (d.words.get(s) ?? []).includes(at + i + 1)));
  }

  /** The scored units: each word and phrase word once; each prefix its completions (best of them). */
  private units(q: RefQuery): string[][] {
    const seen = new Set<string>();
    const units: string[][] = [];
    for (const item of q.items) {
      if (item.kind === 'prefix') {
        const c = this.completions(item.prefix);
        const key = `p:${c.join(',')}`;
        if (c.length && !seen.has(key)) units.push(c), seen.add(key);
        continue;
      }
      for (const stem of item.kind === 'word' ? [item.stem] : item.stems) {
        if (!seen.has(stem) && this.df.has(stem)) units.push([stem]), seen.add(stem);
      }
    }
    return units;
  }

  /** The most the query can score (what the library divides by): each unit's best idf × (k1 + 1). */
  maxScore(q: RefQuery): number {
    return this.units(q).reduce((s, u) => s + Math.max(...u.map((t) => this.idf(t))) * (K1 + 1), 0);
  }

  /** Every match with its score, best first. */
  rank(q: RefQuery): { id: string; score: number }[] {
    const units = this.units(q);
    return this.docs
      .filter((d) => (q.join === 'and' ? q.items.every((i) => this.matches(d, i)) : q.items.some((i) => this.matches(d, i))))
      .filter((d) => (q.tags ?? []).every((t) => d.tags.includes(t)))
      .map((d) => ({ d, score: units.reduce((s, u) => s + Math.max(...u.map((t) => this.idf(t) * this.weight(d.words.get(t)?.length ?? 0, d.dl))), 0) }))
      .sort((a, b) => b.score - a.score || b.d.ts - a.d.ts || b.d.order - a.d.order)
      .map(({ d, score }) => ({ id: d.id, score }));
  }
}

/** Porter stems FTS5 makes of words, from a scratch FTS5 table on `db`. */
export function sqliteStems(db: BetterSqlite3.Database, words: string[]): string[] {
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.ref_stem USING fts5(w, tokenize='porter unicode61 remove_diacritics 0')`);
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.ref_stem_v USING fts5vocab(temp, ref_stem, instance)`);
  db.exec(`DELETE FROM temp.ref_stem`);
  const insert = db.prepare(`INSERT INTO temp.ref_stem (rowid, w) VALUES (?, ?)`);
  words.forEach((w, i) => insert.run(i + 1, w));
  const stems = new Map((db.prepare(`SELECT doc, term FROM temp.ref_stem_v`).all() as { doc: number; term: string }[]).map((r) => [r.doc, r.term]));
  return words.map((_, i) => stems.get(i + 1) ?? '');
}

/** A namespace of a SQLite database as FTS5 indexed it. `order` is the rid (save order). */
export function sqliteReference(db: BetterSqlite3.Database, namespace: string): Reference {
  const stopStems = new Set(sqliteStems(db, [...ENGLISH_STOP_WORDS]));
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.ref_v USING fts5vocab(main, memories_fts, instance)`);
  const rows = db
    .prepare(
      `SELECT m.rid, m.id, m."timestamp" AS ts, m.tags, v.term, v."offset" FROM memories m JOIN temp.ref_v v ON v.doc = m.rid
       WHERE m.namespace = ? AND v.col = 'content'`,
    )
    .all(namespace) as { rid: number; id: string; ts: number; tags: string; term: string; offset: number }[];
  const all = db.prepare(`SELECT rid, id, "timestamp" AS ts, tags FROM memories WHERE namespace = ?`).all(namespace) as { rid: number; id: string; ts: number; tags: string }[];
  const docs = new Map<number, RefDoc>(all.map((r) => [r.rid, { id: r.id, ts: r.ts, order: r.rid, tags: JSON.parse(r.tags), words: new Map(), dl: 0 }]));
  for (const r of rows) {
    if (stopStems.has(r.term)) continue;
    const d = docs.get(r.rid)!;
    if (!d.words.has(r.term)) d.words.set(r.term, []);
    d.words.get(r.term)!.push(r.offset);
    d.dl++;
  }
  return new Reference([...docs.values()]);
}

/** The rows PostgreSQL gives for {@link postgresReference}: one per (memory, lexeme). */
export const POSTGRES_REFERENCE_SQL = `
  SELECT m.id, (extract(epoch FROM m."timestamp") * 1000)::bigint AS ts, coalesce(m.seq, 0) AS seq, m.tags, u.lexeme, u.positions
  FROM aimemo.memories m LEFT JOIN LATERAL unnest(m.search_vector) u ON true WHERE m.namespace = $1`;

/** A namespace of a PostgreSQL database as its tsvector holds it. */
export function postgresReference(rows: { id: string; ts: string | number; seq: string | number; tags: string[]; lexeme: string | null; positions: number[] | string | null }[]): Reference {
  const docs = new Map<string, RefDoc>();
  for (const r of rows) {
    let d = docs.get(r.id);
    if (!d) docs.set(r.id, (d = { id: r.id, ts: Number(r.ts), order: Number(r.seq), tags: r.tags, words: new Map(), dl: 0 }));
    if (r.lexeme === null) continue;
    const positions = typeof r.positions === 'string' ? r.positions.replace(/[{}]/g, '').split(',').filter(Boolean).map(Number) : (r.positions ?? [1]);
    d.words.set(r.lexeme, positions.length ? positions : [1]);
    d.dl += Math.max(1, positions.length);
  }
  return new Reference([...docs.values()]);
}
