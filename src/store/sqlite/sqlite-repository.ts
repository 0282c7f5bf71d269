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
import { sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { MEMORIES_FTS, namespaceToken } from '../../../drizzle/sqlite';
import { appliedSqliteVersion, migrateSqlite } from '../../migrate/sqlite';
import type { SchemaStatus } from '../../migrate/schema-version';
import { DatabaseUnavailableError } from '../../errors';
import { toFts5 } from '../../search/fts5';
import type { QueryNode } from '../../search/query';
import type { Json, Memory, SearchResult, TableStats } from '../../types';
import { IndexCache, NO_INDEXES, parseIndexName, type IndexedPaths, type MetadataIndexInfo } from '../metadata-index';
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
import { openSQLite, sqliteFile, type SQLiteConnection, type SQLiteSource } from './connect';
import { filterSql, LIVE } from './filters';
import { indexedRange, jsonPath, typedValue } from './where-sql';

/** Prepared statements kept per connection (the SQL texts vary only with the filter's shape or the number of anchors). */
const STATEMENT_CACHE = 200;

const FTS = sql.raw(MEMORIES_FTS);

/*
 * The statements of the hot paths (save, get, delete, search, list), as SQL
 * text prepared once per connection: building them with Drizzle's query
 * builder and preparing them again on every call cost more than SQLite's own
 * work for a single save (npm run bench). Column names are the schema's
 * (drizzle/sqlite.ts); the conformance suite runs every one of them.
 */
const COLUMNS = `m.id, m.namespace, m.content, m.metadata, m.tags, m."timestamp", m.expires_at`;

const UPSERT = `INSERT INTO memories (namespace, id, content, metadata, tags, "timestamp", expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (namespace, id) DO UPDATE SET content = excluded.content, metadata = excluded.metadata, tags = excluded.tags,
    "timestamp" = excluded."timestamp", expires_at = excluded.expires_at`;

/** Parameters: namespace, id, now. */
const GET = `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ? AND m.id = ? AND ${LIVE}`;

/** Deletes expired rows too (they are gone either way); RETURNING tells whether it was live. */
const REMOVE = `DELETE FROM memories WHERE namespace = ? AND id = ? RETURNING expires_at`;

/** Every column an update may change, by key. */
const UPDATE = `UPDATE memories SET content = ?, metadata = ?, tags = ?, "timestamp" = ?, expires_at = ? WHERE namespace = ? AND id = ?`;

/** The memories of a namespace with these ids (a JSON array), not expired: one statement however many. */
const GET_MANY = `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ? AND m.id IN (SELECT value FROM json_each(?)) AND ${LIVE}`;

/** Keyset pages in id order over `memories_ns_id_uq`. */
const scanSql = (after: boolean): string =>
  `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ?${after ? ' AND m.id > ?' : ''} AND ${LIVE} ORDER BY m.id LIMIT ?`;

/** One batch of expired memories, over `memories_expires_idx` (its `expires_at <= ?` implies the index's `IS NOT NULL`). */
const PURGE = `DELETE FROM memories WHERE rid IN (SELECT rid FROM memories WHERE expires_at <= ? LIMIT ?)`;

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

/**
 * Newest first on `memories_ns_ts_idx`. `after`: keyset paging, only rows
 * older than the last one returned (`"timestamp" <= ?` bounds the index scan;
 * the row value breaks ties by id), so a deep page costs what the first does.
 */
const pageSql = (filter: string, after: boolean, hint = ''): string => `SELECT ${COLUMNS} FROM memories m${hint} WHERE m.namespace = ?${filter}${
  after ? ' AND m."timestamp" <= ? AND (m."timestamp", m.id) < (?, ?)' : ''
}
  ORDER BY m."timestamp" DESC, m.id DESC LIMIT ? OFFSET ?`;

/** One side of an anchor's neighbours; parameters: anchor id, namespace, now, timestamp twice, anchor id, window. */
const neighborSide = (before: boolean): string => `SELECT ? AS anchor, id FROM (
    SELECT id FROM memories WHERE namespace = ? AND (expires_at IS NULL OR expires_at > ?) AND "timestamp" ${before ? '<=' : '>='} ?
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

/** A range on an indexed path holding fewer memories of the namespace than this is read through its index (see `page`). */
const NARROW_RANGE = 1000;

/** How long a namespace's size class is reused. */
const SIZE_TTL_MS = 60_000;

interface MemoryRow {
  id: string;
  namespace: string;
  content: string;
  metadata: string;
  tags: string;
  timestamp: number;
  expires_at: number | null;
}

function toMemory(r: MemoryRow): Memory {
  const memory: Memory = {
    id: r.id,
    namespace: r.namespace,
    content: r.content,
    metadata: JSON.parse(r.metadata) as Record<string, Json>,
    tags: JSON.parse(r.tags) as string[],
    timestamp: new Date(r.timestamp),
  };
  if (r.expires_at !== null) memory.expiresAt = new Date(r.expires_at);
  return memory;
}

const upsertParams = (m: Memory): unknown[] => [
  m.namespace,
  m.id,
  m.content,
  JSON.stringify(m.metadata),
  JSON.stringify(m.tags),
  m.timestamp.getTime(),
  m.expiresAt?.getTime() ?? null,
];

/** Lets other work run between two batches of a long purge. */
const breather = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SQLiteRepository implements MemoryRepository {
  readonly dialect = 'sqlite' as const;
  #conn: SQLiteConnection | undefined;
  #db: BetterSQLite3Database | undefined;
  readonly #statements = new Map<string, Statement>();
  readonly #large = new Map<string, { large: boolean; at: number }>();
  readonly #indexes = new IndexCache();
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
    return this.#db!;
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
      statement = this.connection.client.prepare(text);
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
    return appliedSqliteVersion(this.connection.client);
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
    this.connection.client
      .transaction(() => {
        for (const row of rows) this.run(UPSERT, upsertParams(row));
      })
      .immediate();
  }

  /** The paths with a metadata expression index, read from the catalog at most once a minute. */
  private indexed(): IndexedPaths {
    if (this.#indexes.stale) this.#indexes.set(this.readIndexes());
    return this.#indexes.paths;
  }

  private readIndexes(): MetadataIndexInfo[] {
    const rows = this.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'memories'`, []);
    return rows.flatMap((r) => parseIndexName(r.name) ?? []);
  }

  async get(namespace: string, id: string, now: Date): Promise<Memory | null> {
    const [row] = this.all<MemoryRow>(GET, [namespace, id, now.getTime()]);
    return row ? toMemory(row) : null;
  }

  async remove(namespace: string, id: string, now: Date): Promise<boolean> {
    const [row] = this.all<{ expires_at: number | null }>(REMOVE, [namespace, id]);
    return row !== undefined && (row.expires_at === null || row.expires_at > now.getTime());
  }

  /** Read, apply and write in one `IMMEDIATE` transaction: no other writer gets in between. */
  async update(namespace: string, id: string, now: Date, apply: ApplyPatch): Promise<Memory | null> {
    return this.connection.client
      .transaction(() => {
        const [row] = this.all<MemoryRow>(GET, [namespace, id, now.getTime()]);
        if (!row) return null;
        const next = apply(toMemory(row));
        const [, , content, metadata, tags, timestamp, expiresAt] = upsertParams(next);
        this.run(UPDATE, [content, metadata, tags, timestamp, expiresAt, namespace, id]);
        return next;
      })
      .immediate();
  }

  /** One `DELETE`: atomic, the FTS5 trigger included. */
  async deleteMany(params: DeleteParams): Promise<number> {
    const filter = filterSql(params, this.indexed());
    const ids = params.ids === undefined ? '' : ' AND m.id IN (SELECT value FROM json_each(?))';
    const values = [params.namespace, ...filter.params, ...(params.ids === undefined ? [] : [JSON.stringify(params.ids)])];
    return this.run(`DELETE FROM memories AS m WHERE m.namespace = ?${filter.text}${ids}`, values);
  }

  async purgeExpired(now: Date, batch: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = this.run(PURGE, [now.getTime(), batch]);
      deleted += n;
      if (n < batch) return deleted;
      await breather();
    }
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
    const filter = filterSql(params, this.indexed());
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
  async neighbors(namespace: string, anchors: Anchor[], window: number, now: Date): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(anchors.map((a) => [a.id, []]));
    if (anchors.length === 0 || window < 1) return found;
    const params = anchors.flatMap((a) => {
      const ts = a.timestamp.getTime();
      const side = [a.id, namespace, now.getTime(), ts, ts, a.id, window];
      return [...side, ...side];
    });
    const rows = this.all<{ anchor: string; id: string }>(neighborsSql(anchors.length), params);
    for (const r of rows) found.get(r.anchor)!.push(r.id);
    return found;
  }

  async wordCounts(namespace: string, words: QueryWord[], cap: number): Promise<number[]> {
    // Counted in the namespace only: which memories a search returns must not depend on other namespaces.
    return words.map(({ word, prefix }) => this.all<{ n: number }>(WORD_COUNT, [matchIn(namespace, { kind: 'term', word, prefix }), cap])[0].n);
  }

  /**
   * {@link pageSql}. With a range on an indexed metadata path, the index or
   * the newest-first walk is chosen by counting, through the index, the
   * namespace's memories in the range (up to {@link NARROW_RANGE}): SQLite's
   * own estimate (24 samples per index) cannot tell 50 matches from 100,000,
   * and took the wrong one either way (300 ms instead of 0.1 ms at 1,000,000
   * memories). A narrow range reads its few rows through the index and sorts
   * them; a wide one walks the newest rows, which soon holds a page.
   */
  async page(params: PageParams): Promise<Memory[]> {
    let indexed = this.indexed();
    let hint = '';
    const range = indexedRange(params.where, indexed);
    if (range) {
      const limit = params.limit === undefined ? undefined : params.limit + params.offset;
      const narrow = limit === undefined || this.all<{ n: number }>(`SELECT count(*) AS n FROM (${range.text} LIMIT ?)`, [params.namespace, ...range.params, NARROW_RANGE])[0].n < NARROW_RANGE;
      if (narrow) hint = ` INDEXED BY "${range.name}"`;
      else indexed = NO_INDEXES; // the path as a parameter: no index matches it
    }
    const filter = filterSql(params, indexed);
    const after = params.after ? [params.after.timestamp.getTime(), params.after.timestamp.getTime(), params.after.id] : [];
    // SQLite takes an OFFSET only after a LIMIT; -1 is no limit.
    const rows = this.all<MemoryRow>(pageSql(filter.text, params.after !== undefined, hint), [
      params.namespace,
      ...filter.params,
      ...after,
      params.limit ?? -1,
      params.offset,
    ]);
    return rows.map(toMemory);
  }

  async count(params: CountParams): Promise<number> {
    const filter = filterSql(params, this.indexed());
    return this.all<{ n: number }>(`SELECT count(*) AS n FROM memories m WHERE m.namespace = ?${filter.text}`, [params.namespace, ...filter.params])[0].n;
  }

  /** Counts the live memories, then deletes every row, in one `IMMEDIATE` transaction. */
  async clear(namespace: string, now: Date): Promise<number> {
    return this.connection.client
      .transaction(() => {
        const [{ n }] = this.all<{ n: number }>(`SELECT count(*) AS n FROM memories m WHERE m.namespace = ? AND ${LIVE}`, [namespace, now.getTime()]);
        this.run('DELETE FROM memories WHERE namespace = ?', [namespace]);
        return n;
      })
      .immediate();
  }

  /**
   * The namespaces from the key index (`memories_ns_id_uq` covers them), each
   * kept when one of its memories is live: a probe that stops at the first,
   * instead of reading every row for `expires_at`.
   */
  async namespaces(now: Date): Promise<string[]> {
    const rows = this.all<{ namespace: string }>(
      `SELECT n.namespace FROM (SELECT DISTINCT namespace FROM memories) n
        WHERE EXISTS (SELECT 1 FROM memories m WHERE m.namespace = n.namespace AND ${LIVE}) ORDER BY n.namespace`,
      [now.getTime()],
    );
    return rows.map((r) => r.namespace);
  }

  async stats(now: Date): Promise<TableStats> {
    const [row] = this.all<{ totalMemories: number; namespaces: number; avgSize: number | null }>(
      `SELECT count(*) AS totalMemories, count(DISTINCT m.namespace) AS namespaces, avg(length(m.content)) AS avgSize FROM memories m WHERE ${LIVE}`,
      [now.getTime()],
    );
    return { totalMemories: row.totalMemories, namespaces: row.namespaces, avgSize: Number(row.avgSize ?? 0) };
  }

  async namespaceCounts(now: Date): Promise<{ namespace: string; count: number }[]> {
    return this.all<{ namespace: string; count: number }>(
      `SELECT m.namespace, count(*) AS count FROM memories m WHERE ${LIVE} GROUP BY m.namespace ORDER BY m.namespace`,
      [now.getTime()],
    );
  }

  /** `WHERE namespace = ? AND id > ? ORDER BY id LIMIT ?`, on the unique index `memories_ns_id_uq` (byte order). */
  async scan(namespace: string, after: string | undefined, limit: number, now: Date): Promise<Memory[]> {
    const params = after === undefined ? [namespace, now.getTime(), limit] : [namespace, after, now.getTime(), limit];
    return this.all<MemoryRow>(scanSql(after !== undefined), params).map(toMemory);
  }

  async getMany(namespace: string, ids: string[], now: Date): Promise<Memory[]> {
    return this.all<MemoryRow>(GET_MANY, [namespace, JSON.stringify(ids), now.getTime()]).map(toMemory);
  }

  async metadataIndexes(): Promise<MetadataIndexInfo[]> {
    return this.readIndexes();
  }

  /**
   * `CREATE INDEX IF NOT EXISTS "memories_meta_number_p" ON memories (namespace,
   * CASE WHEN json_type(metadata, '$."p"') IN ('integer', 'real') THEN json_extract(metadata, '$."p"') END)`
   * (strings: `= 'text'`): the very typed value where-sql.ts compares on that path. Builds by reading the
   * table, then analyzes the index; writers wait meanwhile (about 1.3 s at 1,000,000 memories).
   */
  async createMetadataIndex(type: 'number' | 'string', path: string[], name: string): Promise<boolean> {
    const exists = this.readIndexes().some((i) => i.name === name);
    if (!exists) {
      const value = typedValue('metadata', type === 'number' ? 'number' : 'text', `'${jsonPath(path)}'`); // keys of [A-Za-z0-9_-] only
      this.connection.client.exec(`CREATE INDEX IF NOT EXISTS "${name}" ON memories (namespace, ${value})`);
      // Statistics of the new index, samples included (sqlite_stat4): without them SQLite took the index for a
      // range holding most of a namespace (200 ms at 1,000,000 memories, where walking the newest rows takes
      // 0.2 ms); PRAGMA optimize's approximate analysis does not take samples.
      this.connection.client.exec(`ANALYZE "${name}"`);
    }
    this.#indexes.invalidate(); // statements prepared before are planned again by SQLite (the schema changed)
    return !exists;
  }

  async dropMetadataIndex(name: string): Promise<boolean> {
    const exists = this.readIndexes().some((i) => i.name === name);
    if (exists) this.connection.client.exec(`DROP INDEX IF EXISTS "${name}"`);
    this.#indexes.invalidate();
    return exists;
  }

  /**
   * FTS5 `optimize` (merges the index's b-trees into one:
   * https://sqlite.org/fts5.html#the_optimize_command), `PRAGMA optimize`
   * (refreshes the planner's statistics where useful), optionally `VACUUM`,
   * then a WAL checkpoint that truncates the log. Each is one short statement;
   * readers never wait (WAL), writers wait at most the busy timeout.
   */
  async optimize(params: OptimizeParams): Promise<OptimizeStep[]> {
    const client = this.connection.client;
    const steps: OptimizeStep[] = [];
    const timed = (step: string, fn: () => Record<string, number> | void): void => {
      const started = performance.now();
      const result = fn();
      steps.push({ step, ms: Math.round(performance.now() - started), ...(result ? { result } : {}) });
    };
    const purged = performance.now();
    const deleted = await this.purgeExpired(params.now, params.purgeBatch);
    steps.push({ step: 'DELETE FROM memories WHERE expires_at <= ? (expired memories)', ms: Math.round(performance.now() - purged), result: { deleted } });
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
