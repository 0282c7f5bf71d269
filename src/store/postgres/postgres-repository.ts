/**
 * PostgreSQL implementation of {@link MemoryRepository}: Drizzle on postgres.js
 * or PGlite, full-text search through the generated `search_vector` column
 * (English `tsvector`, GIN-indexed) and `to_tsquery('english', $1)`.
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgresType from 'postgres';
import { AIMEMO_SCHEMA, memories, parsePgTimestamp } from '../../../drizzle/postgres';
import { appliedPostgresVersion, migratePostgres, rowsOf, type AnyPgDatabase } from '../../migrate/postgres';
import type { SchemaStatus } from '../../migrate/schema-version';
import { positiveWords, type QueryNode } from '../../search/query';
import { RANKING } from '../../search/rerank';
import { toTsquery } from '../../search/tsquery';
import type { Json, Memory, SearchResult, TableStats } from '../../types';
import { IndexCache, parseIndexName, type IndexedPaths, type MetadataIndexInfo } from '../metadata-index';
import {
  RANKED_MATCHES,
  type Anchor,
  type ApplyPatch,
  type CountParams,
  type DeleteParams,
  type MemoryRepository,
  type OptimizeParams,
  type OptimizeStep,
  type PageParams,
  type QueryWord,
  type SearchParams,
  type TracedStatement,
} from '../repository';
import type { PostgresConnection } from './connect';
import { filterSql, liveSql } from './filters';
import { indexExpression } from './where-sql';

/**
 * Candidates that BM25 (computed in SQL, about 10 µs a row) scores: the best
 * by `ts_rank` (in C, about 1 µs a row). Bounds the cost of a query whose
 * words many memories hold; the mode-'any' pool is 20 of these.
 */
const PRESCORE = 200;

/** How long a namespace's BM25 statistics (size, average length) are reused. */
const STATS_TTL_MS = 60_000;

/** A word held by this many memories of the namespace or more adds nothing to BM25 (see RANKING.commonWord). */
const COMMON = RANKING.commonWord;

/** Rows per upsert statement (one JSON parameter each): a few MB at most. */
const UPSERT_CHUNK = 5000;


/** A word as the common-word cache and the search statement name it: `word`, or `word*` for a prefix. */
const commonKey = (w: QueryWord): string => (w.prefix ? `${w.word}*` : w.word);

/** Whether a memory must hold every positive word of the query to match it (no OR). */
function conjunctive(node: QueryNode): boolean {
  if (node.kind === 'or') return false;
  if (node.kind === 'and') return node.children.every(conjunctive);
  if (node.kind === 'not') return conjunctive(node.positive);
  return true;
}

/** Renders statements to text and parameters. */
const dialect = new PgDialect();

const COLUMNS = sql.raw(`m.id, m.namespace, m.content, m.metadata, m.tags, m."timestamp", m.expires_at`);

interface MemoryRow {
  id: string;
  namespace: string;
  content: string;
  metadata: Record<string, Json> | string;
  tags: string[];
  timestamp: string | Date;
  expires_at: string | Date | null;
}

/** A row as postgres.js (timestamps as text, through Drizzle's parsers) or PGlite returns it. */
function toMemory(r: MemoryRow): Memory {
  const memory: Memory = {
    id: r.id,
    namespace: r.namespace,
    content: r.content,
    metadata: typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as Record<string, Json>) : r.metadata,
    tags: r.tags,
    timestamp: parsePgTimestamp(r.timestamp),
  };
  if (r.expires_at !== null && r.expires_at !== undefined) memory.expiresAt = parsePgTimestamp(r.expires_at);
  return memory;
}

/** Lets other work run between two batches of a long purge. */
const breather = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class PostgresRepository implements MemoryRepository {
  readonly dialect = 'postgres' as const;
  #conn: PostgresConnection | undefined;
  readonly #stats = new Map<string, { n: number; avgdl: number; at: number }>();
  readonly #common = new Map<string, number>();
  readonly #indexes = new IndexCache();
  tracer?: (statement: TracedStatement) => void;

  constructor(
    private readonly connect: () => PostgresConnection,
    private readonly options: { autoMigrate: boolean },
  ) {}

  get connection(): PostgresConnection | undefined {
    return this.#conn;
  }

  private use<T>(fn: (db: AnyPgDatabase, client?: postgresType.Sql) => Promise<T>): Promise<T> {
    return this.#conn!.use(fn);
  }

  /**
   * Runs one statement (a `sql` fragment), telling the tracer first. On the
   * store's own pool it goes straight to postgres.js as a prepared statement
   * (parsed once per connection, planned for its values: see connect.ts):
   * Drizzle's `execute` sends every statement unprepared, which cost more than
   * the work of a `get` at 10,000 memories (npm run bench). The app's own
   * connection goes through Drizzle, as the app set it up.
   */
  private execute(query: SQL): Promise<unknown> {
    return this.use((db, client) => {
      if (!client) return db.execute(this.trace(query)); // Drizzle renders it
      const rendered = dialect.sqlToQuery(query);
      this.tracer?.({ sql: rendered.sql, params: rendered.params });
      return client.unsafe(rendered.sql, rendered.params as never[], { prepare: client.options.prepare !== false });
    });
  }

  /** Tells the tracer about a statement that Drizzle runs (the app's connection, or a Drizzle transaction). */
  private trace(query: SQL): SQL {
    if (this.tracer) {
      const { sql: text, params } = dialect.sqlToQuery(query);
      this.tracer({ sql: text, params });
    }
    return query;
  }

  async init(): Promise<SchemaStatus> {
    this.#conn ??= this.connect();
    const session = this.#conn.pinned === true; // online migrations need every statement on one server session
    return this.use((db) => migratePostgres(db, this.options.autoMigrate, undefined, { session }));
  }

  /** Newest applied migration's `created_at`, or null. */
  async schemaVersion(): Promise<number | null> {
    return this.use((db) => appliedPostgresVersion(db));
  }

  /**
   * ```sql
   * INSERT INTO aimemo.memories (namespace, id, content, metadata, tags, "timestamp", expires_at)
   * SELECT … FROM jsonb_to_recordset($1::text::jsonb) AS r(namespace text, id text, content text, metadata jsonb, tags text[], "timestamp" timestamptz, expires_at timestamptz)
   * ON CONFLICT (namespace, id) DO UPDATE SET content = excluded.content, …
   * ```
   * The rows travel as one JSON parameter rather than six parameters per row:
   * PostgreSQL parses and plans one small statement instead of one with
   * thousands of placeholders, and the client serializes one string.
   */
  async upsertMany(rows: Memory[]): Promise<void> {
    const upsert = (chunk: Memory[]) => {
      const json = JSON.stringify(
        chunk.map((m) => ({
          namespace: m.namespace,
          id: m.id,
          content: m.content,
          metadata: m.metadata,
          tags: m.tags,
          timestamp: m.timestamp.toISOString(),
          expires_at: m.expiresAt?.toISOString() ?? null,
        })),
      );
      return sql`
        INSERT INTO ${memories} ("namespace", "id", "content", "metadata", "tags", "timestamp", "expires_at")
        SELECT r."namespace", r."id", r."content", r."metadata", r."tags", r."timestamp", r."expires_at"
        FROM jsonb_to_recordset(${json}::text::jsonb)
          AS r("namespace" text, "id" text, "content" text, "metadata" jsonb, "tags" text[], "timestamp" timestamptz, "expires_at" timestamptz)
        ON CONFLICT ("namespace", "id") DO UPDATE SET
          "content" = excluded."content", "metadata" = excluded."metadata", "tags" = excluded."tags", "timestamp" = excluded."timestamp",
          "expires_at" = excluded."expires_at"`;
    };
    if (rows.length <= UPSERT_CHUNK) {
      await this.execute(upsert(rows)); // one statement is atomic by itself
      return;
    }
    await this.use((db) =>
      db.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += UPSERT_CHUNK) await tx.execute(this.trace(upsert(rows.slice(i, i + UPSERT_CHUNK))));
      }),
    );
  }

  /** The paths with a metadata expression index, read from the catalog at most once a minute. */
  private async indexed(): Promise<IndexedPaths> {
    if (this.#indexes.stale) this.#indexes.set((await this.metadataIndexes()).filter((i) => i.valid));
    return this.#indexes.paths;
  }

  async get(namespace: string, id: string, now: Date): Promise<Memory | null> {
    const rows = rowsOf<MemoryRow>(await this.execute(sql`SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = ${namespace} AND m.id = ${id} AND ${liveSql(now)}`));
    return rows.length ? toMemory(rows[0]) : null;
  }

  /** Deletes expired rows too (they are gone either way); RETURNING tells whether it was live. */
  async remove(namespace: string, id: string, now: Date): Promise<boolean> {
    const rows = rowsOf<{ live: boolean }>(
      await this.execute(sql`DELETE FROM ${memories} m WHERE m.namespace = ${namespace} AND m.id = ${id} RETURNING ${liveSql(now)} AS live`),
    );
    return rows.length > 0 && rows[0].live;
  }

  /**
   * In one transaction: `SELECT … FOR UPDATE` (a concurrent update of the
   * same memory waits for this one, then reads its result), the patch, and an
   * `UPDATE` of every column; the generated `search_vector` follows.
   */
  async update(namespace: string, id: string, now: Date, apply: ApplyPatch): Promise<Memory | null> {
    return this.use((db) =>
      db.transaction(async (tx) => {
        const rows = rowsOf<MemoryRow>(
          await tx.execute(this.trace(sql`SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = ${namespace} AND m.id = ${id} AND ${liveSql(now)} FOR UPDATE`)),
        );
        if (rows.length === 0) return null;
        const next = apply(toMemory(rows[0]));
        await tx.execute(
          this.trace(sql`UPDATE ${memories} SET content = ${next.content}, metadata = ${JSON.stringify(next.metadata)}::text::jsonb,
            tags = ${sql.param(next.tags)}::text[], "timestamp" = ${next.timestamp.toISOString()}::timestamptz,
            expires_at = ${next.expiresAt?.toISOString() ?? null}::timestamptz
            WHERE namespace = ${namespace} AND id = ${id}`),
        );
        return next;
      }),
    );
  }

  /** One `DELETE`: atomic. */
  async deleteMany(params: DeleteParams): Promise<number> {
    const ids = params.ids === undefined ? sql`` : sql` AND m.id = ANY(${sql.param(params.ids)}::text[])`;
    const rows = rowsOf<{ n: number }>(
      await this.execute(sql`WITH gone AS (DELETE FROM ${memories} m WHERE m.namespace = ${params.namespace}${filterSql(params, await this.indexed())}${ids} RETURNING 1)
        SELECT count(*)::int AS n FROM gone`),
    );
    return Number(rows[0].n);
  }

  /**
   * Batches of `DELETE … WHERE (namespace, id) IN (SELECT … WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
   * over `memories_expires_idx`; rows another transaction holds are left for the next purge.
   */
  async purgeExpired(now: Date, batch: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const rows = rowsOf<{ n: number }>(
        await this.execute(sql`WITH gone AS (DELETE FROM ${memories} WHERE (namespace, id) IN (
            SELECT namespace, id FROM ${memories} WHERE expires_at <= ${now.toISOString()}::timestamptz LIMIT ${batch} FOR UPDATE SKIP LOCKED)
          RETURNING 1)
          SELECT count(*)::int AS n FROM gone`),
      );
      const n = Number(rows[0].n);
      deleted += n;
      if (n < batch) return deleted;
      await breather();
    }
  }

  /**
   * BM25 over the `tsvector`, with the constants of SQLite's FTS5 `bm25()`
   * (k1 = 1.2, b = 0.75, idf = ln((N - df + 0.5) / (df + 0.5)), at least 1e-6),
   * so both backends rank alike; `ts_rank_cd` ignores how rare a word is.
   * N and the average length (distinct lexemes) are the namespace's (cached a
   * minute), each term's df is counted in the namespace up to 1,000: a word
   * held by more memories scores 0 (BM25 gives it almost nothing where most
   * memories hold it), which bounds the work; tf is the lexeme's positions.
   * ```sql
   * WITH terms AS (lexemes of the query's words, stemmed by to_tsvector('english', …), with df capped at 1,000),
   *      stats AS (SELECT $n, $avgdl),   -- cached; else counted here: SELECT count(*), avg(length(search_vector)) … WHERE namespace = $ns
   *      recent AS (SELECT … WHERE namespace = $ns AND search_vector @@ to_tsquery('english', $q) ORDER BY "timestamp" DESC, id DESC LIMIT 1000),
   *      hits  AS (the best 200 of recent by ts_rank)
   * SELECT hits.*, (SELECT sum(idf · tf·(k1+1) / (tf + k1·(1 - b + b·dl/avgdl))) FROM unnest(search_vector) JOIN terms …) AS score
   * FROM hits, stats ORDER BY score DESC, "timestamp" DESC, id COLLATE "C" LIMIT $limit
   * ```
   */
  async search(query: QueryNode, params: SearchParams): Promise<SearchResult[]> {
    const scored = [...new Map(positiveWords(query).map((w) => [commonKey(w), w])).values()];
    // Every scored word is required: when the newest matches already number 1,000 (recent is capped there,
    // RANKED_MATCHES >= COMMON), each word is held by 1,000 memories or more, and none needs counting.
    const required = params.filter === undefined && conjunctive(query);
    const candidates = toTsquery(params.filter ?? query);
    const ns = params.namespace;
    const known = this.cachedStats(ns);
    // Unknown (or small) namespace: the statement counts it itself, saving a round trip, and returns the figures.
    const stats = known
      ? sql`SELECT ${known.n}::float8 AS n, ${known.avgdl}::float8 AS avgdl`
      : sql`SELECT count(*)::float8 AS n, coalesce(nullif(avg(length(x.search_vector)), 0), 1)::float8 AS avgdl FROM ${memories} x WHERE x.namespace = ${ns}`;
    const filters = sql`m.namespace = ${ns} AND m.search_vector @@ to_tsquery('english'::regconfig, ${candidates})${filterSql(params, await this.indexed())}${
      params.ids ? sql` AND m.id = ANY(${sql.param(params.ids)}::text[])` : sql``
    }`;
    const result = await this.execute(sql`
        WITH words AS (
          SELECT w.word, w.prefix, w.common, v.lexeme
          FROM unnest(${sql.param(scored.map((w) => w.word))}::text[],
                      -- booleans travel as text: postgres.js types a boolean array parameter as one boolean
                      ${sql.param(scored.map((w) => String(w.prefix)))}::text[]::bool[],
                      ${sql.param(scored.map((w) => String(this.knownCommon(ns, w))))}::text[]::bool[]) AS w(word, prefix, common),
               unnest(to_tsvector('english'::regconfig, w.word)) v
        ),
        stats AS MATERIALIZED (${stats}),
        recent AS MATERIALIZED (
          SELECT m.id, m.namespace, m.content, m.metadata, m.tags, m."timestamp", m.search_vector FROM ${memories} m WHERE ${filters}
          ORDER BY m."timestamp" DESC, m.id COLLATE "C" DESC
          LIMIT ${Math.max(RANKED_MATCHES, params.limit)}
        ),
        inferred AS MATERIALIZED (SELECT ${String(required)}::text::bool AND count(*) >= ${COMMON} AS common FROM recent),
        terms AS MATERIALIZED (
          SELECT k.lexeme, k.prefix, d.df,
                 CASE WHEN d.df >= ${COMMON} THEN 0 ELSE greatest(ln((greatest(stats.n, d.df) - d.df + 0.5) / (d.df + 0.5)), 1e-6) END AS idf
          FROM (SELECT lexeme, prefix, bool_or(common) AS common FROM words GROUP BY lexeme, prefix) k, stats, inferred,
            LATERAL (SELECT k.common OR inferred.common AS known) g,
            LATERAL (
              -- NOT g.known gates the count (a one-time filter): a known common word reads no index at all
              SELECT CASE WHEN g.known THEN ${COMMON}::float8 ELSE count(*)::float8 END AS df FROM (
                SELECT 1 FROM ${memories} x
                WHERE NOT g.known AND x.namespace = ${ns}
                  AND x.search_vector @@ (quote_literal(k.lexeme) || CASE WHEN k.prefix THEN ':*' ELSE '' END)::tsquery
                LIMIT ${COMMON}) c
            ) d
        ),
        hits AS (
          SELECT * FROM recent
          ORDER BY ts_rank(recent.search_vector, to_tsquery('english'::regconfig, ${candidates})) DESC
          LIMIT ${Math.max(PRESCORE, params.limit)}
        )
        SELECT hits.id, hits.namespace, hits.content, hits.metadata, hits.tags, hits."timestamp", stats.n AS stats_n, stats.avgdl AS stats_avgdl,
          ARRAY(SELECT w.word || CASE WHEN w.prefix THEN '*' ELSE '' END FROM words w JOIN terms t USING (lexeme, prefix)
                GROUP BY w.word, w.prefix HAVING bool_and(t.df >= ${COMMON})) AS common_words,
          coalesce((
            SELECT sum(t.idf * tf.n * 2.2 / (tf.n + 1.2 * (0.25 + 0.75 * length(hits.search_vector) / stats.avgdl)))
            FROM unnest(hits.search_vector) u
            JOIN terms t ON u.lexeme = t.lexeme OR (t.prefix AND starts_with(u.lexeme, t.lexeme))
            CROSS JOIN LATERAL (SELECT coalesce(array_length(u.positions, 1), 1)::float8 AS n) tf
          ), 0) AS score
        FROM hits, stats
        ORDER BY score DESC, hits."timestamp" DESC, hits.id COLLATE "C"
        LIMIT ${params.limit}`);
    const rows = rowsOf<MemoryRow & { score: number | string; stats_n: number | string; stats_avgdl: number | string; common_words: string[] }>(result);
    if (!known && rows.length > 0) this.rememberStats(ns, Number(rows[0].stats_n), Number(rows[0].stats_avgdl));
    if (rows.length > 0) for (const key of rows[0].common_words) this.rememberCommon(ns, key);
    return rows.map((r) => ({ ...toMemory(r), score: Number(r.score) }));
  }

  /**
   * Two small index range scans per anchor over `memories_ns_ts_id_idx` (migration 0001), joined by UNION ALL;
   * ids compare by bytes (COLLATE "C"), as on SQLite:
   * ```sql
   * SELECT $1 AS anchor, id FROM (SELECT id FROM aimemo.memories WHERE namespace = $2 AND "timestamp" <= $3
   *   AND ("timestamp", id COLLATE "C") < ($3, $4) ORDER BY "timestamp" DESC, id COLLATE "C" DESC LIMIT $5) …
   * ```
   * The plain `"timestamp" <= $3` lets the scan start at the anchor: PostgreSQL
   * cannot use the row comparison (with its collation) as an index bound.
   */
  async neighbors(namespace: string, anchors: Anchor[], window: number, now: Date): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(anchors.map((a) => [a.id, []]));
    if (anchors.length === 0 || window < 1) return found;
    const side = (a: Anchor, before: boolean) => {
      const dir = sql.raw(before ? 'DESC' : 'ASC');
      return sql`(SELECT ${a.id}::text AS anchor, ${memories.id} AS id FROM ${memories}
        WHERE ${memories.namespace} = ${namespace}
          AND (${memories.expiresAt} IS NULL OR ${memories.expiresAt} > ${now.toISOString()}::timestamptz)
          AND ${memories.timestamp} ${sql.raw(before ? '<=' : '>=')} ${a.timestamp.toISOString()}::timestamptz
          AND (${memories.timestamp}, ${memories.id} COLLATE "C") ${sql.raw(before ? '<' : '>')} (${a.timestamp.toISOString()}::timestamptz, ${a.id}::text)
        ORDER BY ${memories.timestamp} ${dir}, ${memories.id} COLLATE "C" ${dir}
        LIMIT ${window})`;
    };
    const parts = anchors.flatMap((a) => [side(a, true), side(a, false)]);
    const rows = rowsOf<{ anchor: string; id: string }>(await this.execute(sql.join(parts, sql` UNION ALL `)));
    for (const r of rows) found.get(r.anchor)!.push(r.id);
    return found;
  }

  /**
   * The namespace's size and average length (distinct lexemes) for BM25, when
   * known. Counting reads every tsvector of the namespace, so the figures of a
   * namespace of 1,000 memories or more are kept a minute (they move slowly);
   * a smaller one is counted by each search, as a cached count would go stale fast.
   */
  private cachedStats(namespace: string): { n: number; avgdl: number } | undefined {
    const known = this.#stats.get(namespace);
    return known && Date.now() - known.at < STATS_TTL_MS ? known : undefined;
  }

  /**
   * Whether the word was found held by {@link COMMON} memories of the
   * namespace or more within the last minute. Counting that takes the GIN
   * index's whole posting list of the word in the namespace (30 ms for a word
   * in 110,000 memories, npm run bench at 1m), and such a word scores 0
   * anyway; a common word rarely stops being common within a minute. Only
   * that verdict is kept: a rarer word's count is cheap and exact each time.
   */
  private knownCommon(namespace: string, word: QueryWord): boolean {
    const at = this.#common.get(`${namespace}\u0000${commonKey(word)}`);
    return at !== undefined && Date.now() - at < STATS_TTL_MS;
  }

  private rememberCommon(namespace: string, key: string): void {
    if (this.#common.size > 100_000) this.#common.clear(); // keep memory bounded
    this.#common.set(`${namespace}\u0000${key}`, Date.now());
  }

  private rememberStats(namespace: string, n: number, avgdl: number): void {
    if (n < COMMON) return;
    if (this.#stats.size > 10_000) this.#stats.clear(); // many namespaces: keep memory bounded
    this.#stats.set(namespace, { n, avgdl, at: Date.now() });
  }

  /** Counts words not known to be common (see `knownCommon`), in one round trip; none when all are known. */
  async wordCounts(namespace: string, words: QueryWord[], cap: number): Promise<number[]> {
    const counts = words.map((w) => (cap <= COMMON && this.knownCommon(namespace, w) ? cap : -1));
    const asked = words.flatMap((w, i) => (counts[i] < 0 ? [i] : []));
    if (asked.length === 0) return counts;
    // One row per word: a column per word fails past PostgreSQL's 1,664 columns (a long query in mode 'any').
    const queries = asked.map((i) => toTsquery({ kind: 'term', word: words[i].word, prefix: words[i].prefix }));
    const rows = rowsOf<{ i: number | string; n: number }>(
      await this.execute(sql`SELECT w.i, (SELECT count(*)::int FROM (SELECT 1 FROM ${memories} WHERE ${memories.namespace} = ${namespace}
        AND ${memories.searchVector} @@ to_tsquery('english'::regconfig, w.q) LIMIT ${cap}) s) AS n
        FROM unnest(${sql.param(queries)}::text[]) WITH ORDINALITY AS w(q, i)`),
    );
    for (const i of asked) counts[i] = 0;
    for (const r of rows) {
      const i = asked[Number(r.i) - 1];
      counts[i] = Number(r.n);
      if (cap >= COMMON && counts[i] >= COMMON) this.rememberCommon(namespace, commonKey(words[i]));
    }
    return counts;
  }

  /**
   * Newest first, on `memories_ns_ts_id_idx` (ids by bytes); `LIMIT NULL` is no
   * limit. `after`: keyset paging, `"timestamp" <= $ts` bounds the index scan
   * (PostgreSQL cannot use the row comparison, with its collation, as a bound)
   * and the row comparison breaks ties by id.
   */
  async page(params: PageParams): Promise<Memory[]> {
    const after = params.after
      ? sql` AND m."timestamp" <= ${params.after.timestamp.toISOString()}::timestamptz
          AND (m."timestamp", m.id COLLATE "C") < (${params.after.timestamp.toISOString()}::timestamptz, ${params.after.id}::text)`
      : sql``;
    const rows = rowsOf<MemoryRow>(
      await this.execute(sql`SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = ${params.namespace}${filterSql(params, await this.indexed())}${after}
        ORDER BY m."timestamp" DESC, m.id COLLATE "C" DESC LIMIT ${params.limit ?? null} OFFSET ${params.offset}`),
    );
    return rows.map(toMemory);
  }

  async count(params: CountParams): Promise<number> {
    const rows = rowsOf<{ n: number }>(
      await this.execute(sql`SELECT count(*)::int AS n FROM ${memories} m WHERE m.namespace = ${params.namespace}${filterSql(params, await this.indexed())}`),
    );
    return Number(rows[0].n);
  }

  async clear(namespace: string, now: Date): Promise<number> {
    const rows = rowsOf<{ n: number }>(
      await this.execute(sql`WITH gone AS (DELETE FROM ${memories} m WHERE m.namespace = ${namespace} RETURNING ${liveSql(now)} AS live)
        SELECT count(*) FILTER (WHERE live)::int AS n FROM gone`),
    );
    return Number(rows[0].n);
  }

  /** Namespaces in byte order (`COLLATE "C"`), as SQLite orders them; each kept when a live memory holds it (a probe that stops at the first). */
  async namespaces(now: Date): Promise<string[]> {
    const rows = rowsOf<{ namespace: string }>(
      await this.execute(sql`SELECT n.namespace FROM (SELECT DISTINCT namespace FROM ${memories}) n
        WHERE EXISTS (SELECT 1 FROM ${memories} m WHERE m.namespace = n.namespace AND ${liveSql(now)}) ORDER BY n.namespace COLLATE "C"`),
    );
    return rows.map((r) => r.namespace);
  }

  async stats(now: Date): Promise<TableStats> {
    const [row] = rowsOf<{ total: number | string; namespaces: number | string; avg: number | string | null }>(
      await this.execute(sql`SELECT count(*) AS total, count(DISTINCT m.namespace) AS namespaces, avg(length(m.content)) AS avg FROM ${memories} m WHERE ${liveSql(now)}`),
    );
    return { totalMemories: Number(row.total), namespaces: Number(row.namespaces), avgSize: Number(row.avg ?? 0) };
  }

  async namespaceCounts(now: Date): Promise<{ namespace: string; count: number }[]> {
    const rows = rowsOf<{ namespace: string; count: number | string }>(
      await this.execute(sql`SELECT m.namespace, count(*) AS count FROM ${memories} m WHERE ${liveSql(now)} GROUP BY m.namespace ORDER BY m.namespace COLLATE "C"`),
    );
    return rows.map((r) => ({ namespace: r.namespace, count: Number(r.count) }));
  }

  /**
   * `WHERE namespace = $1 AND id > $2 ORDER BY id LIMIT $3`, an index scan of
   * the primary key `(namespace, id)`. Deliberately in the column's own
   * collation, not `COLLATE "C"`: the key index is built in that collation,
   * and PostgreSQL uses an index only for its own collation (with `COLLATE
   * "C"` every page would read and sort the whole namespace, even when the
   * database's collation is C.UTF-8).
   */
  async scan(namespace: string, after: string | undefined, limit: number, now: Date): Promise<Memory[]> {
    const rows = rowsOf<MemoryRow>(
      await this.execute(sql`SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = ${namespace}${after === undefined ? sql`` : sql` AND m.id > ${after}`}
        AND ${liveSql(now)} ORDER BY m.id LIMIT ${limit}`),
    );
    return rows.map(toMemory);
  }

  /** One statement, the ids as one array parameter. */
  async getMany(namespace: string, ids: string[], now: Date): Promise<Memory[]> {
    const rows = rowsOf<MemoryRow>(
      await this.execute(sql`SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = ${namespace} AND m.id = ANY(${sql.param(ids)}::text[]) AND ${liveSql(now)}`),
    );
    return rows.map(toMemory);
  }

  /** The `memories_meta_*` indexes of `aimemo.memories`, with whether each is valid (a failed `CONCURRENTLY` build leaves an invalid one). */
  async metadataIndexes(): Promise<(MetadataIndexInfo & { valid: boolean })[]> {
    const rows = rowsOf<{ name: string; valid: boolean }>(
      await this.execute(sql`SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = ${AIMEMO_SCHEMA} AND t.relname = 'memories'`),
    );
    return rows.flatMap((r) => {
      const info = parseIndexName(r.name);
      return info ? [{ ...info, valid: r.valid }] : [];
    });
  }

  /**
   * `CREATE INDEX CONCURRENTLY IF NOT EXISTS "memories_meta_number_p" ON aimemo.memories (namespace,
   * (CASE WHEN jsonb_typeof(metadata -> 'p') = 'number' THEN (metadata -> 'p')::numeric END))` (strings: the
   * text, `COLLATE "C"`): the very typed value where-sql.ts compares on that path. Not partial: PostgreSQL
   * keeps statistics on the expression of an index only when it covers every row, and without them a
   * range is estimated blind. CONCURRENTLY: reads and writes go on while it builds. An invalid index
   * left by a failed build is dropped and built again. Then `ANALYZE`, for those statistics.
   */
  async createMetadataIndex(type: 'number' | 'string', path: string[], name: string): Promise<boolean> {
    const existing = (await this.metadataIndexes()).find((i) => i.name === name);
    if (existing?.valid) return false;
    if (existing) await this.ddl(`DROP INDEX CONCURRENTLY IF EXISTS "${AIMEMO_SCHEMA}"."${name}"`);
    await this.ddl(`CREATE INDEX CONCURRENTLY IF NOT EXISTS "${name}" ON "${AIMEMO_SCHEMA}"."memories" (namespace, ${indexExpression(type, path)})`);
    await this.ddl(`ANALYZE "${AIMEMO_SCHEMA}"."memories"`);
    this.#indexes.invalidate();
    return true;
  }

  async dropMetadataIndex(name: string): Promise<boolean> {
    const existing = (await this.metadataIndexes()).find((i) => i.name === name);
    if (existing) await this.ddl(`DROP INDEX CONCURRENTLY IF EXISTS "${AIMEMO_SCHEMA}"."${name}"`);
    this.#indexes.invalidate();
    return existing !== undefined;
  }

  /** A statement that must run outside a transaction (`CONCURRENTLY`), unprepared. */
  private ddl(text: string): Promise<unknown> {
    this.tracer?.({ sql: text, params: [] });
    return this.use((db, client) => (client ? client.unsafe(text) : db.execute(sql.raw(text))));
  }

  /**
   * `ANALYZE aimemo.memories` (fresh planner statistics), or with `vacuum`
   * `VACUUM (ANALYZE) aimemo.memories` (also marks dead rows' space reusable).
   * Neither blocks reads or writes; `VACUUM FULL`, which would, is never run.
   */
  async optimize(params: OptimizeParams): Promise<OptimizeStep[]> {
    const purged = performance.now();
    const deleted = await this.purgeExpired(params.now, params.purgeBatch);
    const purge: OptimizeStep = { step: `DELETE FROM "${AIMEMO_SCHEMA}"."memories" WHERE expires_at <= $1 (expired memories)`, ms: Math.round(performance.now() - purged), result: { deleted } };
    const statement = `${params.vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE'} "${AIMEMO_SCHEMA}"."memories"`;
    const started = performance.now();
    await this.use((db) => db.execute(sql.raw(statement)));
    return [purge, { step: statement, ms: Math.round(performance.now() - started) }];
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.close();
  }
}
