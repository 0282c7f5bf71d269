/**
 * PostgreSQL's impact-ordered search index (migrations 0004 and 0005), read
 * for the exact top-k engine (src/search/top-k.ts). The triggers of 0005
 * keep it in step with `aimemo.memories` inside each writing statement;
 * rows written before 0005 wait in `search_pending` and are indexed here, a
 * namespace's before it is searched.
 *
 * Each call is one statement (one round trip): a round's reading of the
 * lists, the facts of a batch of memories.
 */
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf } from '../../migrate/postgres';
import { B, K1 } from '../../search/bm25';
import type { QueryNode } from '../../search/query';
import { PREFIX_EXPANSIONS, type IndexedDoc, type IndexLookup, type LookupWord, type ReadRequest, type ReadResult, type ScoringIndex } from '../../search/top-k';
import { toTsquery } from '../../search/tsquery';
import type { MemoryFilter } from '../repository';
import { filterSql } from './filters';
import { COLUMNS, toMemory, type MemoryRow } from './rows';

/** Queued rows indexed per statement when a namespace is searched (or optimize() indexes everything). */
const BACKFILL_BATCH = 2000;

type Num = number | string;

/**
 * The depth that reads a whole list. A number, not `LIMIT NULL`: PGlite 0.5
 * (PostgreSQL 18) fails with "GetMemoryChunkSpace called with invalid
 * pointer" when a LATERAL subquery's LIMIT switches between NULL and a number
 * from one row to the next (tests/search/exact-ranking.test.ts found it).
 */
const ALL = 2_147_483_647;

interface DocRow extends MemoryRow {
  ts: Num;
  seq: Num;
  dl: Num;
  /** The query's terms the memory holds, and how often (same order). */
  lex: string[] | null;
  tfs: Num[] | null;
}

const toDoc = (terms: string[], r: DocRow): IndexedDoc<string> => {
  const have = new Map((r.lex ?? []).map((l, i) => [l, Number(r.tfs![i])]));
  return { key: r.id, dl: Number(r.dl), ts: Number(r.ts), seq: Number(r.seq), tf: terms.map((t) => have.get(t) ?? 0), match: true, memory: toMemory(r) };
};

export class PostgresSearchIndex implements ScoringIndex<string> {
  /** No phrase set: docs() tests the query on each row it reads anyway (`@@`, positions in the tsvector). */
  readonly phraseSet = 0;

  constructor(private readonly execute: (query: SQL) => Promise<unknown>) {}

  /** Indexes up to `limit` queued rows (of one namespace, or of any); returns how many. */
  async backfill(namespace: string | null, limit = BACKFILL_BATCH): Promise<number> {
    const [row] = rowsOf<{ n: Num }>(await this.execute(sql`SELECT aimemo.search_index_backfill(${namespace}::text, ${limit}::integer) AS n`));
    return Number(row.n);
  }

  /** How many rows wait to be indexed. */
  async pendingCount(): Promise<number> {
    return Number(rowsOf<{ n: Num }>(await this.execute(sql`SELECT count(*) AS n FROM aimemo.search_pending`))[0].n);
  }

  /**
   * The namespace's statistics and each word's indexed terms, in one
   * statement (its queued rows first indexed, when it has any). Every
   * figure is the folded one plus what `search_log` holds for it:
   * ```sql
   * n, total_dl: search_namespaces + sum(search_log where term = '')
   * a word: its lexemes (to_tsvector('english', word)); a prefix: the words of search_terms and search_log
   *   in [stem, stem || U+10FFFF) (the prefix stemmed), the 64 with the largest df
   * df: search_terms.df + sum(search_log.delta), kept when above 0
   * ```
   */
  async lookup(namespace: string, words: LookupWord[]): Promise<IndexLookup> {
    for (;;) {
      const rows = rowsOf<{ pending: boolean; n: Num | null; total_dl: Num | null; ord: Num | null; term: string | null; df: Num | null }>(
        await this.execute(sql`
          WITH s AS (SELECT ns, n, total_dl FROM aimemo.search_namespaces WHERE namespace = ${namespace}),
          tot AS (
            SELECT s.n + coalesce(sum(l.delta), 0) AS n, s.total_dl + coalesce(sum(l.dl_delta), 0) AS total_dl
            FROM s LEFT JOIN aimemo.search_log l ON l.ns = s.ns AND l.term = '' GROUP BY s.ns, s.n, s.total_dl
          ),
          w0 AS (SELECT w.word, w.prefix, w.ord FROM unnest(${sql.param(words.map((x) => x.word))}::text[],
                  -- booleans travel as text: postgres.js types a boolean array parameter as one boolean
                  ${sql.param(words.map((x) => String(x.prefix)))}::text[]::bool[]) WITH ORDINALITY AS w(word, prefix, ord)),
          -- A prefix is stemmed as to_tsquery stems it ('busy:*' looks for lexemes starting with 'busi').
          w AS (SELECT w0.word, w0.prefix, w0.ord,
                  coalesce((SELECT v.lexeme FROM unnest(to_tsvector('english'::regconfig, w0.word)) v LIMIT 1), w0.word) AS stem FROM w0),
          c AS (
            SELECT w.ord, v.lexeme COLLATE "C" AS term FROM w, unnest(to_tsvector('english'::regconfig, w.word)) v WHERE NOT w.prefix
            UNION
            SELECT w.ord, t.term FROM w, s, aimemo.search_terms t
            WHERE w.prefix AND t.ns = s.ns AND t.term >= w.stem COLLATE "C" AND t.term < (w.stem || chr(1114111)) COLLATE "C"
            UNION
            SELECT w.ord, l.term FROM w, s, aimemo.search_log l
            WHERE w.prefix AND l.ns = s.ns AND l.term >= w.stem COLLATE "C" AND l.term < (w.stem || chr(1114111)) COLLATE "C"
          ),
          d AS MATERIALIZED (
            SELECT c.ord, c.term,
              coalesce((SELECT t.df FROM aimemo.search_terms t WHERE t.ns = s.ns AND t.term = c.term), 0)
              + coalesce((SELECT sum(l.delta) FROM aimemo.search_log l WHERE l.ns = s.ns AND l.term = c.term), 0) AS df
            FROM c, s
          ),
          r AS (SELECT d.ord, d.term, d.df, row_number() OVER (PARTITION BY d.ord ORDER BY d.df DESC, d.term) AS rn FROM d WHERE d.df > 0)
          SELECT EXISTS (SELECT 1 FROM aimemo.search_pending WHERE namespace = ${namespace}) AS pending,
                 tot.n, tot.total_dl, r.ord, r.term, r.df
          FROM (SELECT 1) one LEFT JOIN tot ON true LEFT JOIN r ON r.rn <= ${PREFIX_EXPANSIONS}`),
      );
      if (rows[0]?.pending) {
        while ((await this.backfill(namespace)) > 0);
        continue;
      }
      const terms = words.map((): { term: string; df: number }[] => []);
      for (const r of rows) if (r.term !== null) terms[Number(r.ord) - 1].push({ term: r.term, df: Number(r.df) });
      for (const list of terms) list.sort((a, b) => b.df - a.df || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0));
      const first = rows[0];
      return { n: Number(first?.n ?? 0), totalDl: Number(first?.total_dl ?? 0), terms };
    }
  }

  /** Moves `search_log` into the folded statistics now (unless another session is folding). */
  async fold(): Promise<void> {
    await this.execute(sql`SELECT aimemo.search_fold()`);
  }

  /**
   * One statement: each stream's (term, tf) lists (the tf values found by a
   * loose index scan), each read shortest first to its depth on the index
   * `search_postings_uq`, of which each term keeps its `depth` heaviest (for
   * the request's average length); what was read per list, the heaviest
   * posting dropped per term, and the postings kept.
   */
  async read(namespace: string, request: ReadRequest): Promise<ReadResult<string>> {
    const weight = sql`r.tf::float8 * ${K1 + 1}::float8 / (r.tf::float8 + ${K1}::float8 * (${1 - B}::float8 + ${B}::float8 * r.dl::float8 / ${request.avgdl}::float8))`;
    const rows = rowsOf<{ kind: 'g' | 'x' | 'p'; stream: Num; tf: Num; dl: Num; exhausted: boolean | null; id: string | null }>(
      await this.execute(sql`
        WITH s AS (SELECT ns FROM aimemo.search_namespaces WHERE namespace = ${namespace}),
        req AS (SELECT r.term COLLATE "C" AS term, r.depth, r.stream - 1 AS stream FROM unnest(${sql.param(request.streams.map((x) => x.term))}::text[],
                  ${sql.param(request.streams.map((x) => Math.min(x.depth, ALL)))}::integer[]) WITH ORDINALITY AS r(term, depth, stream)),
        g AS (
          SELECT req.term, req.depth, req.stream, x.tf FROM req, s, LATERAL (
            WITH RECURSIVE t(tf) AS (
              SELECT min(p.tf) FROM aimemo.search_postings p WHERE p.ns = s.ns AND p.term = req.term
              UNION ALL
              SELECT (SELECT min(p.tf) FROM aimemo.search_postings p WHERE p.ns = s.ns AND p.term = req.term AND p.tf > t.tf) FROM t WHERE t.tf IS NOT NULL
            ) SELECT t.tf FROM t WHERE t.tf IS NOT NULL) x
        ),
        r AS (
          SELECT g.stream, g.tf, g.depth, q.id, q.dl FROM g, s, LATERAL (
            SELECT p.id, p.dl FROM aimemo.search_postings p WHERE p.ns = s.ns AND p.term = g.term AND p.tf = g.tf
            ORDER BY p.dl, p.ts DESC NULLS LAST, p.seq DESC NULLS LAST, p.id
            LIMIT g.depth) q
        ),
        ranked AS MATERIALIZED (SELECT r.*, row_number() OVER (PARTITION BY r.stream ORDER BY ${weight} DESC, r.dl) AS rk FROM r)
        SELECT 'g' AS kind, r.stream, r.tf, max(r.dl) AS dl, count(*) < r.depth AS exhausted, NULL::text AS id
        FROM r GROUP BY r.stream, r.tf, r.depth
        UNION ALL
        SELECT CASE WHEN k.rk <= k.depth THEN 'p' ELSE 'x' END, k.stream, k.tf, k.dl, NULL, k.id FROM ranked k WHERE k.rk <= k.depth::bigint + 1`),
    );
    const result: ReadResult<string> = { groups: [], dropped: [], postings: [] };
    for (const r of rows) {
      const stream = Number(r.stream);
      const term = request.streams[stream].term;
      if (r.kind === 'g') result.groups.push({ term, tf: Number(r.tf), lastDl: Number(r.dl), exhausted: r.exhausted === true });
      else if (r.kind === 'x') result.dropped.push({ term, tf: Number(r.tf), dl: Number(r.dl) });
      else result.postings.push({ key: r.id!, stream, tf: Number(r.tf), dl: Number(r.dl) });
    }
    return result;
  }

  /**
   * The memories with their facts: one pass over each one's tsvector gives
   * its length (the positions of all its lexemes) and its tf of the query's
   * terms; time in ms, save order and its columns (the caller needs no
   * second fetch). Only the memories that match the query and pass the
   * filter: the others are left out before their words are read. Each key
   * is its own primary-key lookup (a LATERAL the planner cannot flatten):
   * as `id = ANY(keys)`, right after a load, while the statistics still
   * described a small table, it was planned as a scan of the whole namespace
   * (20 ms at 10,000 memories, for 137 keys).
   */
  async docs(namespace: string, keys: string[], terms: string[], query: QueryNode, filter: MemoryFilter): Promise<IndexedDoc<string>[]> {
    if (keys.length === 0) return [];
    const rows = rowsOf<DocRow>(
      await this.execute(sql`
        SELECT ${COLUMNS}, (extract(epoch FROM m."timestamp") * 1000)::bigint AS ts, coalesce(m.seq, 0) AS seq, f.dl, f.lex, f.tfs
        FROM unnest(${sql.param(keys)}::text[]) AS k(id)
        CROSS JOIN LATERAL (
          SELECT m.* FROM aimemo.memories m
          WHERE m.namespace = ${namespace} AND m.id = k.id
            AND m.search_vector @@ to_tsquery('english'::regconfig, ${toTsquery(query)})${filterSql(filter)}
          LIMIT 1) m
        CROSS JOIN LATERAL (
          SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)::integer AS dl,
                 array_agg(u.lexeme) FILTER (WHERE u.lexeme = ANY(${sql.param(terms)}::text[])) AS lex,
                 array_agg(coalesce(array_length(u.positions, 1), 1)) FILTER (WHERE u.lexeme = ANY(${sql.param(terms)}::text[])) AS tfs
          FROM unnest(m.search_vector) u) f`),
    );
    return rows.map((r) => toDoc(terms, r));
  }

  async matches(namespace: string, query: QueryNode, filter: MemoryFilter, limit: number): Promise<string[]> {
    const rows = rowsOf<{ id: string }>(
      await this.execute(sql`
        SELECT m.id FROM aimemo.memories m
        WHERE m.namespace = ${namespace} AND m.search_vector @@ to_tsquery('english'::regconfig, ${toTsquery(query)})${filterSql(filter)}
        LIMIT ${limit}`),
    );
    return rows.map((r) => r.id);
  }

  async recent(namespace: string, query: QueryNode, filter: MemoryFilter, exclude: string[], limit: number): Promise<IndexedDoc<string>[]> {
    const rows = rowsOf<{ id: string; ts: Num; seq: Num }>(
      await this.execute(sql`
        SELECT m.id, (extract(epoch FROM m."timestamp") * 1000)::bigint AS ts, coalesce(m.seq, 0) AS seq FROM aimemo.memories m
        WHERE m.namespace = ${namespace} AND m.search_vector @@ to_tsquery('english'::regconfig, ${toTsquery(query)})${filterSql(filter)}
          AND NOT (m.id = ANY(${sql.param(exclude)}::text[]))
        ORDER BY m."timestamp" DESC, m.seq DESC NULLS LAST, m.id COLLATE "C" LIMIT ${limit}`),
    );
    return rows.map((r) => ({ key: r.id, dl: 0, ts: Number(r.ts), seq: Number(r.seq), tf: [], match: true }));
  }
}
