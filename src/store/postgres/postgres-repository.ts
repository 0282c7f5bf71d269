/**
 * PostgreSQL implementation of {@link MemoryRepository}: Drizzle on postgres.js
 * or PGlite, full-text search through the generated `search_vector` column
 * (English `tsvector`, GIN-indexed) and `to_tsquery('english', $1)`.
 */
import { and, asc, count, countDistinct, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgresType from 'postgres';
import { AIMEMO_SCHEMA, memories, parsePgTimestamp } from '../../../drizzle/postgres';
import { appliedPostgresVersion, migratePostgres, rowsOf, type AnyPgDatabase } from '../../migrate/postgres';
import type { SchemaStatus } from '../../migrate/schema-version';
import { positiveWords, type QueryNode } from '../../search/query';
import { RANKING } from '../../search/rerank';
import { toTsquery } from '../../search/tsquery';
import type { Json, Memory, SearchResult, TableStats } from '../../types';
import { RANKED_MATCHES, type Anchor, type QueryWord, type MemoryRepository, type OptimizeParams, type OptimizeStep, type PageParams, type SearchParams, type TracedStatement } from '../repository';
import { StoreClosedError, ValidationError } from '../../errors';
import type { PostgresConnection, UseOptions } from './connect';
import { filterSql } from './filters';

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

/** Rows per upsert statement (one JSON parameter each). */
const UPSERT_CHUNK = 5000;

/** Characters of JSON per upsert parameter: far below jsonb's 256 MB, whatever the rows hold (each is under 1 MB). */
const UPSERT_CHUNK_CHARS = 16 * 2 ** 20;

/**
 * Largest `saveMany` (bytes of JSON) sent as one statement on a
 * connection the app passed in: PostgreSQL takes a message of at most 1 GB.
 */
export const MAX_SHARED_STATEMENT_BYTES = 512 * 2 ** 20;

/** Compares by code points, which is the byte order of UTF-8 (PostgreSQL's `COLLATE "C"`); UTF-16 order differs above U+FFFF. */
function byCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** `(namespace, id)` in the order every writer locks rows. */
const byKey = (a: Memory, b: Memory): number => byCodePoints(a.namespace, b.namespace) || byCodePoints(a.id, b.id);

/** The rows as JSON arrays of at most UPSERT_CHUNK rows and about UPSERT_CHUNK_CHARS characters, in order. */
function jsonChunks(rows: Memory[]): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const m of rows) {
    const row = JSON.stringify({ namespace: m.namespace, id: m.id, content: m.content, metadata: m.metadata, tags: m.tags, timestamp: m.timestamp.toISOString() });
    if (parts.length > 0 && (parts.length >= UPSERT_CHUNK || size + row.length > UPSERT_CHUNK_CHARS)) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      size = 0;
    }
    parts.push(row);
    size += row.length + 1;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}

/** Ids per `getMany` query: one parameter each, far below PostgreSQL's 65,535. */
const IDS_PER_QUERY = 10_000;

const columns = {
  id: memories.id,
  namespace: memories.namespace,
  content: memories.content,
  metadata: memories.metadata,
  tags: memories.tags,
  timestamp: memories.timestamp,
};

/** Orders text by its bytes, as SQLite does, whatever the database's collation. */
const byteOrder = (column: typeof memories.namespace): SQL => sql`${column} COLLATE "C"`;


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

const COLUMNS = sql.raw(`m.id, m.namespace, m.content, m.metadata, m.tags, m."timestamp"`);

interface MemoryRow {
  id: string;
  namespace: string;
  content: string;
  metadata: Record<string, Json> | string;
  tags: string[];
  timestamp: string | Date;
}

/** A row as postgres.js (timestamps as text, through Drizzle's parsers) or PGlite returns it. */
function toMemory(r: MemoryRow): Memory {
  return {
    id: r.id,
    namespace: r.namespace,
    content: r.content,
    metadata: typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as Record<string, Json>) : r.metadata,
    tags: r.tags,
    timestamp: parsePgTimestamp(r.timestamp),
  };
}

export class PostgresRepository implements MemoryRepository {
  readonly dialect = 'postgres' as const;
  #conn: PostgresConnection | undefined;
  readonly #stats = new Map<string, { n: number; avgdl: number; at: number }>();
  readonly #common = new Map<string, number>();
  tracer?: (statement: TracedStatement) => void;

  constructor(
    private readonly connect: () => PostgresConnection,
    private readonly options: { autoMigrate: boolean },
  ) {}

  get connection(): PostgresConnection | undefined {
    return this.#conn;
  }

  private use<T>(fn: (db: AnyPgDatabase, client?: postgresType.Sql) => Promise<T>, options?: UseOptions): Promise<T> {
    const conn = this.#conn;
    if (!conn) return Promise.reject(new StoreClosedError('PostgresStore'));
    return conn.use(fn, options);
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
    // Unbounded: an index build in a migration may outlast statementTimeout.
    return this.use((db) => migratePostgres(db, this.options.autoMigrate, undefined, { session }), { bounded: false });
  }

  /** Newest applied migration's `created_at`, or null. */
  async schemaVersion(): Promise<number | null> {
    return this.use((db) => appliedPostgresVersion(db));
  }

  /**
   * ```sql
   * INSERT INTO aimemo.memories (namespace, id, content, metadata, tags, "timestamp")
   * SELECT … FROM jsonb_to_recordset($1::text::jsonb) AS r(namespace text, id text, content text, metadata jsonb, tags text[], "timestamp" timestamptz)
   * ORDER BY r.namespace COLLATE "C", r.id COLLATE "C"
   * ON CONFLICT (namespace, id) DO UPDATE SET content = excluded.content, …
   * ```
   * The rows travel as JSON parameters rather than six parameters per row:
   * PostgreSQL parses and plans one small statement instead of one with
   * thousands of placeholders, and the client serializes one string.
   *
   * - **Lock order.** Rows are written in one global order, `(namespace,
   *   id)` by bytes, in every statement and across chunks, so two
   *   `saveMany` calls over the same ids (in any order) never deadlock: one
   *   waits for the other (PostgreSQL's advice on deadlocks).
   * - **Atomic, without `sql.begin`.** One chunk (up to 5,000 rows and 64 MiB)
   *   is one statement, atomic by itself. More run in one transaction on the
   *   store's own connection (see `session.ts`), or, on a connection the app
   *   passed in, as one statement with a parameter per chunk (at most
   *   {@link MAX_SHARED_STATEMENT_BYTES}).
   */
  async upsertMany(rows: Memory[]): Promise<void> {
    const chunks = jsonChunks([...rows].sort(byKey));
    const upsert = (json: string[]) => {
      const source = sql.join(
        json.map((chunk) => sql`SELECT * FROM jsonb_to_recordset(${chunk}::text::jsonb)
          AS r("namespace" text, "id" text, "content" text, "metadata" jsonb, "tags" text[], "timestamp" timestamptz)`),
        sql` UNION ALL `,
      );
      return sql`
        INSERT INTO ${memories} ("namespace", "id", "content", "metadata", "tags", "timestamp")
        SELECT r."namespace", r."id", r."content", r."metadata", r."tags", r."timestamp" FROM (${source}) r
        ORDER BY r."namespace" COLLATE "C", r."id" COLLATE "C"
        ON CONFLICT ("namespace", "id") DO UPDATE SET
          "content" = excluded."content", "metadata" = excluded."metadata", "tags" = excluded."tags", "timestamp" = excluded."timestamp"`;
    };
    if (chunks.length === 1) {
      await this.execute(upsert(chunks)); // one statement is atomic by itself
      return;
    }
    await this.use(async (db, client) => {
      if (client) {
        // The store's own connection: its transactions are safe (session.ts), and each statement stays small.
        await db.transaction(async (tx) => {
          for (const chunk of chunks) await tx.execute(this.trace(upsert([chunk])));
        });
        return;
      }
      // The app's connection may be a postgres.js client, whose sql.begin can crash the process: one statement instead.
      const bytes = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
      if (bytes > MAX_SHARED_STATEMENT_BYTES) {
        throw new ValidationError('memories', `must be at most ${MAX_SHARED_STATEMENT_BYTES / 2 ** 20} MiB as JSON in one saveMany on a PostgreSQL connection passed in by the application; split the batch, or open the store from a URL`, `about ${Math.ceil(bytes / 2 ** 20)} MiB`);
      }
      await db.execute(this.trace(upsert(chunks)));
    });
  }

  async get(namespace: string, id: string): Promise<Memory | null> {
    const rows = rowsOf<MemoryRow>(await this.execute(sql`SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = ${namespace} AND m.id = ${id}`));
    return rows.length ? toMemory(rows[0]) : null;
  }

  async remove(namespace: string, id: string): Promise<boolean> {
    return rowsOf(await this.execute(sql`DELETE FROM ${memories} WHERE namespace = ${namespace} AND id = ${id} RETURNING 1`)).length > 0;
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
    const filters = sql`m.namespace = ${ns} AND m.search_vector @@ to_tsquery('english'::regconfig, ${candidates})${filterSql(params)}${
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
  async neighbors(namespace: string, anchors: Anchor[], window: number): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(anchors.map((a) => [a.id, []]));
    if (anchors.length === 0 || window < 1) return found;
    const side = (a: Anchor, before: boolean) => {
      const dir = sql.raw(before ? 'DESC' : 'ASC');
      return sql`(SELECT ${a.id}::text AS anchor, ${memories.id} AS id FROM ${memories}
        WHERE ${memories.namespace} = ${namespace}
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

  /** Newest first, on `memories_ns_ts_id_idx` (ids by bytes); `LIMIT NULL` is no limit. */
  async page(params: PageParams): Promise<Memory[]> {
    const rows = rowsOf<MemoryRow>(
      await this.execute(sql`SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = ${params.namespace}${filterSql(params)}
        ORDER BY m."timestamp" DESC, m.id COLLATE "C" DESC LIMIT ${params.limit ?? null} OFFSET ${params.offset}`),
    );
    return rows.map(toMemory);
  }

  async count(namespace: string): Promise<number> {
    const [row] = await this.use((db) => db.select({ n: count() }).from(memories).where(eq(memories.namespace, namespace)));
    return row.n;
  }

  /**
   * Deletes the namespace, locking its rows in the order every writer uses
   * (ids by bytes, as `upsertMany`), so a `clear` racing a `saveMany` waits
   * instead of deadlocking:
   * ```sql
   * WITH locked AS MATERIALIZED (SELECT id FROM aimemo.memories WHERE namespace = $1 ORDER BY id COLLATE "C" FOR UPDATE),
   *      gone AS (DELETE FROM aimemo.memories m USING locked l WHERE m.namespace = $1 AND m.id = l.id RETURNING 1)
   * SELECT count(*)::int AS n FROM gone
   * ```
   */
  async clear(namespace: string): Promise<number> {
    const result = await this.use((db) =>
      db.execute(sql`WITH locked AS MATERIALIZED (
                       SELECT ${memories.id} AS id FROM ${memories} WHERE ${memories.namespace} = ${namespace} ORDER BY ${memories.id} COLLATE "C" FOR UPDATE),
                     gone AS (DELETE FROM ${memories} m USING locked l WHERE m.namespace = ${namespace} AND m.id = l.id RETURNING 1)
                     SELECT count(*)::int AS n FROM gone`),
    );
    return rowsOf<{ n: number }>(result)[0].n;
  }

  async namespaces(): Promise<string[]> {
    const rows = await this.use((db) =>
      db.select({ namespace: memories.namespace }).from(memories).groupBy(memories.namespace).orderBy(byteOrder(memories.namespace)),
    );
    return rows.map((r) => r.namespace);
  }

  async stats(): Promise<TableStats> {
    const [row] = await this.use((db) =>
      db
        .select({
          totalMemories: count(),
          namespaces: countDistinct(memories.namespace),
          avgSize: sql<string | null>`avg(length(${memories.content}))`,
        })
        .from(memories),
    );
    return { totalMemories: row.totalMemories, namespaces: row.namespaces, avgSize: Number(row.avgSize ?? 0) };
  }

  async namespaceCounts(): Promise<{ namespace: string; count: number }[]> {
    return this.use((db) =>
      db
        .select({ namespace: memories.namespace, count: count() })
        .from(memories)
        .groupBy(memories.namespace)
        .orderBy(byteOrder(memories.namespace)),
    );
  }

  /**
   * `WHERE namespace = $1 AND id > $2 ORDER BY id LIMIT $3`, an index scan of
   * the primary key `(namespace, id)`. Deliberately in the column's own
   * collation, not `COLLATE "C"`: the key index is built in that collation,
   * and PostgreSQL uses an index only for its own collation (with `COLLATE
   * "C"` every page would read and sort the whole namespace, even when the
   * database's collation is C.UTF-8).
   */
  async scan(namespace: string, after: string | undefined, limit: number): Promise<Memory[]> {
    return this.use((db) =>
      db
        .select(columns)
        .from(memories)
        .where(and(eq(memories.namespace, namespace), after === undefined ? undefined : gt(memories.id, after)))
        .orderBy(asc(memories.id))
        .limit(limit),
    );
  }

  async getMany(namespace: string, ids: string[]): Promise<Memory[]> {
    const found: Memory[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY);
      found.push(...(await this.use((db) => db.select(columns).from(memories).where(and(eq(memories.namespace, namespace), inArray(memories.id, chunk))))));
    }
    return found;
  }

  /**
   * `ANALYZE aimemo.memories` (fresh planner statistics), or with `vacuum`
   * `VACUUM (ANALYZE) aimemo.memories` (also marks dead rows' space reusable).
   * Neither blocks reads or writes; `VACUUM FULL`, which would, is never run.
   */
  async optimize(params: OptimizeParams): Promise<OptimizeStep[]> {
    const statement = `${params.vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE'} "${AIMEMO_SCHEMA}"."memories"`;
    const started = performance.now();
    await this.use((db) => db.execute(sql.raw(statement)), { bounded: false }); // a VACUUM may outlast statementTimeout
    return [{ step: statement, ms: Math.round(performance.now() - started) }];
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.close();
  }
}
