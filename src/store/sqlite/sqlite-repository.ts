/**
 * SQLite implementation of {@link MemoryRepository}: Drizzle on better-sqlite3,
 * full-text search through the FTS5 table `memories_fts`.
 *
 * better-sqlite3 is synchronous, so every method does its work synchronously
 * and returns a settled promise; transactions are native better-sqlite3 ones,
 * `IMMEDIATE` so a writer takes the lock before reading (deferred read-then-
 * write transactions fail across processes despite the busy timeout).
 */
import * as fs from 'node:fs';
import type { Statement } from 'better-sqlite3';
import { and, asc, count, countDistinct, eq, gt, inArray, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { MEMORIES_FTS, memories, namespaceToken } from '../../../drizzle/sqlite';
import { DatabaseUnavailableError, StoreClosedError } from '../../errors';
import { appliedSqliteVersion, migrateSqlite } from '../../migrate/sqlite';
import type { SchemaStatus } from '../../migrate/schema-version';
import { toFts5 } from '../../search/fts5';
import type { QueryNode } from '../../search/query';
import type { Json, Memory, SearchResult, TableStats } from '../../types';
import { RANKED_MATCHES, type Anchor, type QueryWord, type MemoryRepository, type OptimizeParams, type OptimizeStep, type PageParams, type SearchParams, type TracedStatement } from '../repository';
import { openSQLite, sqliteFile, useWal, type SQLiteConnection, type SQLiteSource } from './connect';
import { filterSql } from './filters';

/** Ids per `getMany` query: one parameter each, far below SQLite's 32,766. */
const CHUNK = 500;

/** Prepared statements kept per connection (the SQL texts vary only with the filter's shape or the number of anchors). */
const STATEMENT_CACHE = 200;

const FTS = sql.raw(MEMORIES_FTS);

const columns = {
  id: memories.id,
  namespace: memories.namespace,
  content: memories.content,
  metadata: memories.metadata,
  tags: memories.tags,
  timestamp: memories.timestamp,
};

/*
 * The statements of the hot paths (save, get, delete, search, list), as SQL
 * text prepared once per connection: building them with Drizzle's query
 * builder and preparing them again on every call cost more than SQLite's own
 * work for a single save (npm run bench). Column names are the schema's
 * (drizzle/sqlite.ts); the conformance suite runs every one of them.
 */
const COLUMNS = `m.id, m.namespace, m.content, m.metadata, m.tags, m."timestamp"`;

const UPSERT = `INSERT INTO memories (namespace, id, content, metadata, tags, "timestamp") VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (namespace, id) DO UPDATE SET content = excluded.content, metadata = excluded.metadata, tags = excluded.tags, "timestamp" = excluded."timestamp"`;

const GET = `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ? AND m.id = ?`;

const REMOVE = `DELETE FROM memories WHERE namespace = ? AND id = ?`;

/**
 * Ranked search. The MATCH expression names the namespace's token first
 * (`fts_ns : "…" AND content : (…)`), so FTS5 walks only that namespace's
 * entries (except in a large namespace: see `largeNamespace`);
 * `m.namespace = ?` restates it exactly. The inner query takes the
 * newest {@link RANKED_MATCHES} matches (FTS5 walks its index by rowid,
 * newest first, and stops there) and computes bm25() for those alone; the
 * outer one orders them. bm25() weighs the `fts_ns` column 0. `ids`: a JSON
 * array of ids to keep. `filter`: {@link filterSql}'s text.
 */
const searchSql = (filter: string, ids: boolean): string => `SELECT * FROM (
    SELECT ${COLUMNS}, bm25(${MEMORIES_FTS}, 1.0, 0.0) AS rank
    FROM ${MEMORIES_FTS} JOIN memories m ON m.rid = ${MEMORIES_FTS}.rowid
    WHERE ${MEMORIES_FTS} MATCH ? AND m.namespace = ?${filter}${ids ? ' AND m.id IN (SELECT value FROM json_each(?))' : ''}
    ORDER BY ${MEMORIES_FTS}.rowid DESC LIMIT ?)
  ORDER BY rank, "timestamp" DESC, id LIMIT ?`;

const pageSql = (filter: string): string => `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ?${filter}
  ORDER BY m."timestamp" DESC, m.id DESC LIMIT ? OFFSET ?`;

/** One side of an anchor's neighbours; parameters: anchor id, namespace, timestamp twice, anchor id, window. */
const neighborSide = (before: boolean): string => `SELECT ? AS anchor, id FROM (
    SELECT id FROM memories WHERE namespace = ? AND "timestamp" ${before ? '<=' : '>='} ?
      AND ("timestamp", id) ${before ? '<' : '>'} (?, ?)
    ORDER BY "timestamp" ${before ? 'DESC' : 'ASC'}, id ${before ? 'DESC' : 'ASC'} LIMIT ?)`;

/** The neighbours of `n` anchors, before and after each, in one statement; its text depends on `n` alone. */
const neighborsTexts: string[] = [];
const neighborsSql = (n: number): string =>
  (neighborsTexts[n] ??= Array.from({ length: n }, () => `${neighborSide(true)} UNION ALL ${neighborSide(false)}`).join(' UNION ALL '));

/** How many memories of a namespace hold a word, up to a cap: the index alone answers it. */
const WORD_COUNT = `SELECT count(*) AS n FROM (SELECT 1 FROM ${MEMORIES_FTS} WHERE ${MEMORIES_FTS} MATCH ? LIMIT ?)`;

/** An FTS5 MATCH expression for `node` within one namespace. */
function matchIn(namespace: string, node: QueryNode): string {
  return `fts_ns : "${namespaceToken(namespace)}" AND content : (${toFts5(node)})`;
}

/** A namespace this large, holding a tenth of the table or more, is searched without its token (see `largeNamespace`). */
const LARGE_NAMESPACE = 10_000;

/** How long a namespace's size class is reused. */
const SIZE_TTL_MS = 60_000;

interface MemoryRow {
  id: string;
  namespace: string;
  content: string;
  metadata: string;
  tags: string;
  timestamp: number;
}

function toMemory(r: MemoryRow): Memory {
  return {
    id: r.id,
    namespace: r.namespace,
    content: r.content,
    metadata: JSON.parse(r.metadata) as Record<string, Json>,
    tags: JSON.parse(r.tags) as string[],
    timestamp: new Date(r.timestamp),
  };
}

const upsertParams = (m: Memory): unknown[] => [m.namespace, m.id, m.content, JSON.stringify(m.metadata), JSON.stringify(m.tags), m.timestamp.getTime()];

export class SQLiteRepository implements MemoryRepository {
  readonly dialect = 'sqlite' as const;
  #conn: SQLiteConnection | undefined;
  #db: BetterSQLite3Database | undefined;
  readonly #statements = new Map<string, Statement>();
  readonly #large = new Map<string, { large: boolean; at: number }>();
  tracer?: (statement: TracedStatement) => void;

  constructor(
    private readonly source: SQLiteSource,
    private readonly options: { autoMigrate: boolean; busyTimeoutMs: number; readonly?: boolean },
  ) {}

  /** Opened with `readonly: true`: writes are refused before they reach SQLite. */
  get readonly(): boolean {
    return this.options.readonly === true;
  }

  /** The open connection; `init()` has run before any caller gets here. */
  get connection(): SQLiteConnection {
    return this.#conn!;
  }

  private get db(): BetterSQLite3Database {
    if (!this.#db) throw new StoreClosedError('SQLiteStore');
    return this.#db;
  }

  /** The open handle; StoreClosedError (never a TypeError) once closed. */
  private get client(): SQLiteConnection['client'] {
    if (!this.#conn) throw new StoreClosedError('SQLiteStore');
    return this.#conn.client;
  }

  async init(): Promise<SchemaStatus> {
    const file = sqliteFile(this.source);
    // autoMigrate: false (or readonly) means the schema is made elsewhere: say the file is missing, and leave no empty file behind.
    if ((!this.options.autoMigrate || this.readonly) && file && !fs.existsSync(file)) {
      throw new DatabaseUnavailableError(
        `cannot open the SQLite database ${file}: no such file (with ${this.readonly ? 'readonly: true' : 'autoMigrate: false'} the store never creates one)`,
      );
    }
    const conn = openSQLite(this.source, this.options.busyTimeoutMs, this.readonly);
    let status: SchemaStatus;
    try {
      status = migrateSqlite(conn.client, this.options.autoMigrate && !this.readonly);
      if (!this.readonly) useWal(conn, this.options.busyTimeoutMs); // only once the file is known to be AIMemo's
    } catch (error) {
      if (conn.owned) conn.client.close();
      throw error;
    }
    this.#conn = conn;
    this.#db = drizzle({ client: conn.client });
    return status;
  }

  /** The prepared statement for `text`, prepared on first use. */
  private statement(text: string): Statement {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.client.prepare(text);
      if (this.#statements.size >= STATEMENT_CACHE) this.#statements.delete(this.#statements.keys().next().value!);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  private all<T>(text: string, params: unknown[]): T[] {
    this.tracer?.({ sql: text, params });
    return this.statement(text).all(...params) as T[];
  }

  private run(text: string, params: unknown[]): number {
    this.tracer?.({ sql: text, params });
    return this.statement(text).run(...params).changes;
  }

  /** Newest applied migration's `created_at`, or null. */
  async schemaVersion(): Promise<number | null> {
    return appliedSqliteVersion(this.client);
  }

  /**
   * One prepared single-row upsert, run once per row: one row needs no
   * transaction of its own (a statement is atomic, its FTS5 trigger
   * included); several run in one `IMMEDIATE` transaction. A prepared
   * single-row statement is as fast per row as multi-row VALUES lists here
   * and needs no chunking.
   */
  async upsertMany(rows: Memory[]): Promise<void> {
    if (rows.length === 1) {
      this.run(UPSERT, upsertParams(rows[0]));
      return;
    }
    this.client
      .transaction(() => {
        for (const row of rows) this.run(UPSERT, upsertParams(row));
      })
      .immediate();
  }

  async get(namespace: string, id: string): Promise<Memory | null> {
    const [row] = this.all<MemoryRow>(GET, [namespace, id]);
    return row ? toMemory(row) : null;
  }

  async remove(namespace: string, id: string): Promise<boolean> {
    return this.run(REMOVE, [namespace, id]) > 0;
  }

  /**
   * {@link searchSql}: bm25() is lower for better matches; the score is its
   * negation. With a `filter`, the MATCH (and so bm25()) uses the filter's words.
   */
  async search(query: QueryNode, params: SearchParams): Promise<SearchResult[]> {
    const node = params.filter ?? query;
    // With ids (a few neighbours to score), the token keeps FTS5 inside the namespace: without it, it would walk
    // every match in the table looking for those few (0.5 s at 1m, npm run bench).
    const match = !params.ids && this.largeNamespace(params.namespace) ? `content : (${toFts5(node)})` : matchIn(params.namespace, node);
    const filter = filterSql(params);
    const values: unknown[] = [match, params.namespace, ...filter.params];
    if (params.ids) values.push(JSON.stringify(params.ids));
    values.push(Math.max(RANKED_MATCHES, params.limit), params.limit);
    const rows = this.all<MemoryRow & { rank: number }>(searchSql(filter.text, params.ids !== undefined), values);
    return rows.map((r) => ({ ...toMemory(r), score: -r.rank }));
  }

  /**
   * Whether a search should leave the namespace's token out of its MATCH.
   * FTS5's bm25() first counts, over the whole table, the rows holding each
   * phrase of the MATCH, the namespace's token included: for a namespace of
   * 190,000 memories that count alone took 7 ms (npm run bench at 1m). When
   * the namespace holds a tenth of the table or more, filtering the words'
   * matches by `m.namespace` (newest first, stopping at RANKED_MATCHES) costs
   * less, and returns the same memories with the same scores (the token's
   * column weighs 0). Decided from the namespace's row count against the
   * largest rid, kept a minute.
   */
  private largeNamespace(namespace: string): boolean {
    const known = this.#large.get(namespace);
    if (known && Date.now() - known.at < SIZE_TTL_MS) return known.large;
    const [row] = this.all<{ n: number; total: number | null }>(
      `SELECT (SELECT count(*) FROM memories WHERE namespace = ?) AS n, (SELECT max(rid) FROM memories) AS total`,
      [namespace],
    );
    const large = row.n >= LARGE_NAMESPACE && row.n * 10 >= (row.total ?? 0);
    if (this.#large.size > 10_000) this.#large.clear(); // many namespaces: keep memory bounded
    this.#large.set(namespace, { large, at: Date.now() });
    return large;
  }

  /**
   * Two small index range scans per anchor over `memories_ns_ts_idx`, joined by UNION ALL:
   * ```sql
   * SELECT ? AS anchor, id FROM (SELECT id FROM memories WHERE namespace = ?
   *   AND ("timestamp", id) < (?, ?) ORDER BY "timestamp" DESC, id DESC LIMIT ?)
   * UNION ALL … ("timestamp", id) > (?, ?) ORDER BY "timestamp", id LIMIT ? …
   * ```
   */
  async neighbors(namespace: string, anchors: Anchor[], window: number): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(anchors.map((a) => [a.id, []]));
    if (anchors.length === 0 || window < 1) return found;
    const params = anchors.flatMap((a) => {
      const ts = a.timestamp.getTime();
      return [a.id, namespace, ts, ts, a.id, window, a.id, namespace, ts, ts, a.id, window];
    });
    const rows = this.all<{ anchor: string; id: string }>(neighborsSql(anchors.length), params);
    for (const r of rows) found.get(r.anchor)!.push(r.id);
    return found;
  }

  async wordCounts(namespace: string, words: QueryWord[], cap: number): Promise<number[]> {
    // Counted in the namespace only: which memories a search returns must not depend on other namespaces.
    return words.map(({ word, prefix }) => this.all<{ n: number }>(WORD_COUNT, [matchIn(namespace, { kind: 'term', word, prefix }), cap])[0].n);
  }

  async page(params: PageParams): Promise<Memory[]> {
    // SQLite takes an OFFSET only after a LIMIT; -1 is no limit.
    const filter = filterSql(params);
    const rows = this.all<MemoryRow>(pageSql(filter.text), [params.namespace, ...filter.params, params.limit ?? -1, params.offset]);
    return rows.map(toMemory);
  }

  async count(namespace: string): Promise<number> {
    return this.db.select({ n: count() }).from(memories).where(eq(memories.namespace, namespace)).get()!.n;
  }

  async clear(namespace: string): Promise<number> {
    return this.db.delete(memories).where(eq(memories.namespace, namespace)).run().changes;
  }

  async namespaces(): Promise<string[]> {
    const rows = this.db.selectDistinct({ namespace: memories.namespace }).from(memories).orderBy(asc(memories.namespace)).all();
    return rows.map((r) => r.namespace);
  }

  async stats(): Promise<TableStats> {
    const row = this.db
      .select({
        totalMemories: count(),
        namespaces: countDistinct(memories.namespace),
        avgSize: sql<number | null>`avg(length(${memories.content}))`,
      })
      .from(memories)
      .get()!;
    return { totalMemories: row.totalMemories, namespaces: row.namespaces, avgSize: Number(row.avgSize ?? 0) };
  }

  async namespaceCounts(): Promise<{ namespace: string; count: number }[]> {
    return this.db
      .select({ namespace: memories.namespace, count: count() })
      .from(memories)
      .groupBy(memories.namespace)
      .orderBy(asc(memories.namespace))
      .all();
  }

  /** `WHERE namespace = ? AND id > ? ORDER BY id LIMIT ?`, on the unique index `memories_ns_id_uq` (byte order). */
  async scan(namespace: string, after: string | undefined, limit: number): Promise<Memory[]> {
    return this.db
      .select(columns)
      .from(memories)
      .where(and(eq(memories.namespace, namespace), after === undefined ? undefined : gt(memories.id, after)))
      .orderBy(asc(memories.id))
      .limit(limit)
      .all();
  }

  async getMany(namespace: string, ids: string[]): Promise<Memory[]> {
    const found: Memory[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      found.push(...this.db.select(columns).from(memories).where(and(eq(memories.namespace, namespace), inArray(memories.id, chunk))).all());
    }
    return found;
  }

  /**
   * FTS5 `optimize` (merges the index's b-trees into one:
   * https://sqlite.org/fts5.html#the_optimize_command), `PRAGMA optimize`
   * (refreshes the planner's statistics where useful), optionally `VACUUM`,
   * then a WAL checkpoint that truncates the log. Each is one short statement;
   * readers never wait (WAL), writers wait at most the busy timeout.
   */
  async optimize(params: OptimizeParams): Promise<OptimizeStep[]> {
    const client = this.client;
    const steps: OptimizeStep[] = [];
    const timed = (step: string, fn: () => Record<string, number> | void): void => {
      const started = performance.now();
      const result = fn();
      steps.push({ step, ms: Math.round(performance.now() - started), ...(result ? { result } : {}) });
    };
    timed(`INSERT INTO ${MEMORIES_FTS}(${MEMORIES_FTS}) VALUES ('optimize')`, () => {
      this.db.run(sql`INSERT INTO ${FTS}(${FTS}) VALUES ('optimize')`);
    });
    timed('PRAGMA optimize', () => {
      client.pragma('optimize');
    });
    if (params.vacuum) timed('VACUUM', () => void client.exec('VACUUM'));
    if (client.pragma('journal_mode', { simple: true }) === 'wal') {
      // busy = 1 when readers kept it from finishing; log and checkpointed are pages.
      timed('PRAGMA wal_checkpoint(TRUNCATE)', () => (client.pragma('wal_checkpoint(TRUNCATE)') as Record<string, number>[])[0]);
    }
    return steps;
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#db = undefined;
    this.#statements.clear();
    if (conn?.owned) conn.client.close();
  }
}
