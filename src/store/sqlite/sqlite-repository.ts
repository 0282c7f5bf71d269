/**
 * SQLite implementation of {@link MemoryRepository}: Drizzle on better-sqlite3,
 * full-text matching through the FTS5 table `memories_fts`, ranking through
 * the impact-ordered search index (search-index.ts).
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
import { DatabaseUnavailableError, StoreClosedError } from '../../errors';
import { appliedSqliteVersion, migrateSqlite } from '../../migrate/sqlite';
import type { SchemaStatus } from '../../migrate/schema-version';
import { toFts5 } from '../../search/fts5';
import type { QueryNode } from '../../search/query';
import type { DocKey } from '../../search/top-k';
import type { Memory, TableStats } from '../../types';
import { IndexCache, NO_INDEXES, parseIndexName, type IndexedPaths, type MetadataIndexInfo } from '../metadata-index';
import type { NamespaceRange } from '../../namespaces/codec';
import { newestFirst } from '../order';
import type { Anchor, ApplyPatch, CountParams, DeleteParams, KeyedMemory, MemoryFilter, MemoryRepository, OptimizeParams, OptimizeStep, PageAcrossParams, PageParams, TracedStatement } from '../repository';
import { openSQLite, sqliteFile, useWal, type SQLiteConnection, type SQLiteSource } from './connect';
import { filterSql, LIVE } from './filters';
import { COLUMNS, toMemory, type MemoryRow } from './rows';
import { SQLiteSearchIndex, type SqlRunner } from './search-index';
import { Stemmer } from './stemmer';
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

/*
 * Saving replaces: the old row (if any) goes and the new one comes with a
 * new rid, so rids follow the order of saving, which breaks timestamp ties
 * (a saveMany without timestamps shares one time) in the order the caller
 * gave. The triggers queue both rids for the search index.
 * REMOVE deletes expired rows too (they are gone either way); RETURNING tells whether it was live.
 */
const REMOVE = `DELETE FROM memories WHERE namespace = ? AND id = ? RETURNING rid, expires_at`;
const INSERT = `INSERT INTO memories (namespace, id, content, metadata, tags, "timestamp", expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING rid`;

/** Parameters: namespace, id, now. */
const GET = `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ? AND m.id = ? AND ${LIVE}`;

/** Every column an update may change, by key. */
const UPDATE = `UPDATE memories SET content = ?, metadata = ?, tags = ?, "timestamp" = ?, expires_at = ? WHERE namespace = ? AND id = ? RETURNING rid`;

/** The memories of a namespace with these ids (a JSON array), not expired: one statement however many. */
const GET_MANY = `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ? AND m.id IN (SELECT value FROM json_each(?)) AND ${LIVE}`;

/** Keyset pages in id order over `memories_ns_id_uq`. */
const scanSql = (after: boolean): string =>
  `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ?${after ? ' AND m.id > ?' : ''} AND ${LIVE} ORDER BY m.id LIMIT ?`;

/** One batch of expired memories, over `memories_expires_idx` (its `expires_at <= ?` implies the index's `IS NOT NULL`). */
const PURGE = `DELETE FROM memories WHERE rid IN (SELECT rid FROM memories WHERE expires_at <= ? LIMIT ?) RETURNING rid`;

/**
 * Newest first on `memories_ns_ts_idx`. `after`: keyset paging, only rows
 * older than the last one returned (`"timestamp" <= ?` bounds the index scan;
 * the row value breaks ties by id), so a deep page costs what the first does.
 */
const pageSql = (filter: string, after: boolean, hint = ''): string => `SELECT ${COLUMNS} FROM memories m${hint} WHERE m.namespace = ?${filter}${
  after ? ' AND m."timestamp" <= ? AND (m."timestamp", m.id) < (?, ?)' : ''
}
  ORDER BY m."timestamp" DESC, m.id DESC LIMIT ? OFFSET ?`;

/**
 * The first namespace in `[from, end)` by bytes (`>=` from, or `>` after it),
 * one seek of `memories_ns_id_uq`, and whether it holds a memory not expired
 * at `now`; parameters: from, end, now.
 */
const nextNamespace = (inclusive: boolean): string => `SELECT n.namespace, EXISTS (SELECT 1 FROM memories m WHERE m.namespace = n.namespace AND ${LIVE}) AS live
  FROM (SELECT namespace FROM memories WHERE namespace ${inclusive ? '>=' : '>'} ? AND namespace < ? ORDER BY namespace LIMIT 1) n`;
const FIRST_NAMESPACE = nextNamespace(true);
const NEXT_NAMESPACE = nextNamespace(false);

/** One side of an anchor's neighbours; parameters: anchor rid, namespace, now, timestamp twice, anchor rid, window. */
const neighborSide = (before: boolean): string => `SELECT ? AS anchor, rid FROM (
    SELECT rid FROM memories WHERE namespace = ? AND (expires_at IS NULL OR expires_at > ?) AND "timestamp" ${before ? '<=' : '>='} ?
      AND ("timestamp", rid) ${before ? '<' : '>'} (?, ?)
    ORDER BY "timestamp" ${before ? 'DESC' : 'ASC'}, rid ${before ? 'DESC' : 'ASC'} LIMIT ?)`;

/** The neighbours of `n` anchors, before and after each, in one statement; its text depends on `n` alone. */
const neighborsTexts: string[] = [];
const neighborsSql = (n: number): string =>
  (neighborsTexts[n] ??= Array.from({ length: n }, () => `${neighborSide(true)} UNION ALL ${neighborSide(false)}`).join(' UNION ALL '));

/** An FTS5 MATCH expression for `node` within one namespace. */
function matchIn(namespace: string, node: QueryNode): string {
  return `fts_ns : "${namespaceToken(namespace)}" AND content : (${toFts5(node)})`;
}

/** A range on an indexed path holding fewer memories of the namespace than this is read through its index (see `page`). */
const NARROW_RANGE = 1000;


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
  #index: SQLiteSearchIndex | undefined;
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
    const sqlRunner: SqlRunner = {
      all: (text, params) => this.all(text, params),
      get: (text, params) => this.all(text, params)[0] as never,
      run: (text, params) => this.run(text, params),
      statement: (text) => this.statement(text),
      transaction: (fn) => this.write(fn),
      inTransaction: () => conn.client.inTransaction,
      readonly: this.readonly,
    };
    this.#index = new SQLiteSearchIndex(sqlRunner, new Stemmer(conn.client), matchIn);
    return status;
  }

  /** The search index; `init()` has made it. */
  get index(): SQLiteSearchIndex {
    if (!this.#index) throw new StoreClosedError('SQLiteStore');
    return this.#index;
  }

  async indexQueued(onBatch?: (done: number) => void): Promise<number> {
    return this.index.syncAll(onBatch);
  }

  /** Runs `fn` in an IMMEDIATE transaction, or in a savepoint of the one open. */
  private write<T>(fn: () => T): T {
    const client = this.client;
    const tx = client.transaction(fn);
    return client.inTransaction ? tx() : tx.immediate();
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
   * One `IMMEDIATE` transaction: each row replaces its key's old one (a
   * prepared DELETE and INSERT, in the order given), then the search index
   * takes the rows written (the ones replaced and the new ones). Prepared
   * single-row statements are as fast per row as multi-row VALUES lists
   * here and need no chunking.
   */
  async upsertMany(rows: Memory[]): Promise<void> {
    this.write(() => {
      const rids: number[] = [];
      for (const row of rows) {
        for (const old of this.all<{ rid: number }>(REMOVE, [row.namespace, row.id])) rids.push(old.rid);
        rids.push(this.all<{ rid: number }>(INSERT, upsertParams(row))[0].rid);
      }
      this.index.take(rids);
    });
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
    return this.write(() => {
      const [row] = this.all<{ rid: number; expires_at: number | null }>(REMOVE, [namespace, id]);
      if (row) this.index.take([row.rid]);
      return row !== undefined && (row.expires_at === null || row.expires_at > now.getTime());
    });
  }

  /** Read, apply and write in one `IMMEDIATE` transaction: no other writer gets in between; the search index follows. */
  async update(namespace: string, id: string, now: Date, apply: ApplyPatch): Promise<Memory | null> {
    return this.write(() => {
      const [row] = this.all<MemoryRow>(GET, [namespace, id, now.getTime()]);
      if (!row) return null;
      const next = apply(toMemory(row));
      const [, , content, metadata, tags, timestamp, expiresAt] = upsertParams(next);
      this.index.take(this.all<{ rid: number }>(UPDATE, [content, metadata, tags, timestamp, expiresAt, namespace, id]).map((r) => r.rid));
      return next;
    });
  }

  /** One `DELETE` (atomic, the FTS5 trigger included), and the search index, in one transaction. */
  async deleteMany(params: DeleteParams): Promise<number> {
    const filter = filterSql(params, this.indexed());
    const ids = params.ids === undefined ? '' : ' AND m.id IN (SELECT value FROM json_each(?))';
    const values = [params.namespace, ...filter.params, ...(params.ids === undefined ? [] : [JSON.stringify(params.ids)])];
    return this.write(() => {
      const deleted = this.all<{ rid: number }>(`DELETE FROM memories AS m WHERE m.namespace = ?${filter.text}${ids} RETURNING rid`, values).map((r) => r.rid);
      this.index.take(deleted);
      return deleted.length;
    });
  }

  async purgeExpired(now: Date, batch: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = this.write(() => {
        const gone = this.all<{ rid: number }>(PURGE, [now.getTime(), batch]).map((r) => r.rid);
        this.index.take(gone);
        return gone.length;
      });
      deleted += n;
      if (n < batch) return deleted;
      await breather();
    }
  }

  /** ```sql SELECT rid, … FROM memories m WHERE m.namespace = ? AND m.rid IN (…) ``` */
  async fetch(namespace: string, keys: DocKey[]): Promise<KeyedMemory[]> {
    if (keys.length === 0) return [];
    const rows = this.all<MemoryRow & { rid: number }>(`SELECT m.rid, ${COLUMNS} FROM memories m WHERE m.namespace = ? AND m.rid IN (SELECT value FROM json_each(?))`, [
      namespace,
      JSON.stringify(keys),
    ]);
    return rows.map((r) => ({ key: r.rid, seq: r.rid, memory: toMemory(r) }));
  }

  /**
   * Two small index range scans per anchor over `memories_ns_ts_idx` (whose
   * entries end in the rid: save order breaks timestamp ties), joined by UNION ALL:
   * ```sql
   * SELECT ? AS anchor, rid FROM (SELECT rid FROM memories WHERE namespace = ?
   *   AND ("timestamp", rid) < (?, ?) ORDER BY "timestamp" DESC, rid DESC LIMIT ?)
   * UNION ALL … ("timestamp", rid) > (?, ?) ORDER BY "timestamp", rid LIMIT ? …
   * ```
   */
  async neighbors(namespace: string, anchors: Anchor[], window: number, now: Date): Promise<Map<DocKey, DocKey[]>> {
    const found = new Map<DocKey, DocKey[]>(anchors.map((a) => [a.key, []]));
    if (anchors.length === 0 || window < 1) return found;
    const params = anchors.flatMap((a) => {
      const side = [a.key, namespace, now.getTime(), a.ts, a.ts, a.key, window];
      return [...side, ...side];
    });
    const rows = this.all<{ anchor: number; rid: number }>(neighborsSql(anchors.length), params);
    for (const r of rows) found.get(r.anchor)!.push(r.rid);
    return found;
  }

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

  /** Counts the live memories, then deletes every row, in one `IMMEDIATE` transaction (the search index's entries at once). */
  async clear(namespace: string, now: Date): Promise<number> {
    return this.write(() => {
      const [{ n }] = this.all<{ n: number }>(`SELECT count(*) AS n FROM memories m WHERE m.namespace = ? AND ${LIVE}`, [namespace, now.getTime()]);
      this.index.dropNamespace(namespace);
      this.run('DELETE FROM memories WHERE namespace = ?', [namespace]);
      this.index.forgetQueue(namespace); // its memories are gone from both sides
      return n;
    });
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

  /**
   * A loose index scan: one seek per namespace in the range (the next one
   * after the last found), however many memories each holds, until `limit`
   * live ones are found. SQLite runs in process, so each step is a prepared
   * statement call of a few microseconds.
   */
  async namespacesIn(range: NamespaceRange, limit: number | undefined, now: Date): Promise<string[]> {
    const found: string[] = [];
    let row = this.all<{ namespace: string; live: number }>(FIRST_NAMESPACE, [now.getTime(), range.start, range.end])[0];
    while (row && (limit === undefined || found.length < limit)) {
      if (row.live) found.push(row.namespace);
      row = this.all<{ namespace: string; live: number }>(NEXT_NAMESPACE, [now.getTime(), row.namespace, range.end])[0];
    }
    return found;
  }

  /**
   * Each namespace's newest `offset + limit` (the `page` statement, on
   * `memories_ns_ts_idx`), merged in JavaScript: the cost follows the
   * namespaces and the page, never the memories they hold.
   */
  async pageAcross(namespaces: string[], params: PageAcrossParams): Promise<Memory[]> {
    const each = params.limit === undefined ? undefined : params.limit + params.offset;
    const rows: Memory[] = [];
    for (const namespace of namespaces) rows.push(...(await this.page({ ...params, namespace, limit: each, offset: 0 })));
    rows.sort(newestFirst);
    return rows.slice(params.offset, params.limit === undefined ? undefined : params.offset + params.limit);
  }

  /** One count per namespace (each on its own indexes, as `count` reads it). */
  async countAcross(namespaces: string[], filter: MemoryFilter): Promise<number> {
    let total = 0;
    for (const namespace of namespaces) total += await this.count({ ...filter, namespace });
    return total;
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
      this.client.exec(`CREATE INDEX IF NOT EXISTS "${name}" ON memories (namespace, ${value})`);
      // Statistics of the new index, samples included (sqlite_stat4): without them SQLite took the index for a
      // range holding most of a namespace (200 ms at 1,000,000 memories, where walking the newest rows takes
      // 0.2 ms); PRAGMA optimize's approximate analysis does not take samples.
      this.client.exec(`ANALYZE "${name}"`);
    }
    this.#indexes.invalidate(); // statements prepared before are planned again by SQLite (the schema changed)
    return !exists;
  }

  async dropMetadataIndex(name: string): Promise<boolean> {
    const exists = this.readIndexes().some((i) => i.name === name);
    if (exists) this.client.exec(`DROP INDEX IF EXISTS "${name}"`);
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
    const client = this.client;
    const steps: OptimizeStep[] = [];
    const timed = (step: string, fn: () => Record<string, number> | void): void => {
      const started = performance.now();
      const result = fn();
      steps.push({ step, ms: Math.round(performance.now() - started), ...(result ? { result } : {}) });
    };
    const purged = performance.now();
    const deleted = await this.purgeExpired(params.now, params.purgeBatch);
    steps.push({ step: 'DELETE FROM memories WHERE expires_at <= ? (expired memories)', ms: Math.round(performance.now() - purged), result: { deleted } });
    timed('index queued memories (memories_pending)', () => ({ indexed: this.index.syncAll() }));
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
