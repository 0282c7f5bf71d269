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
import { and, asc, count, countDistinct, eq, gt, inArray, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { MEMORIES_FTS, memories, namespaceToken } from '../../../drizzle/sqlite';
import { DatabaseUnavailableError, StoreClosedError } from '../../errors';
import { appliedSqliteVersion, migrateSqlite } from '../../migrate/sqlite';
import type { SchemaStatus } from '../../migrate/schema-version';
import { toFts5 } from '../../search/fts5';
import type { QueryNode } from '../../search/query';
import type { Json, Memory, TableStats } from '../../types';
import type { DocKey } from '../../search/top-k';
import type { Anchor, KeyedMemory, MemoryRepository, OptimizeParams, OptimizeStep, PageParams, TracedStatement } from '../repository';
import { openSQLite, sqliteFile, useWal, type SQLiteConnection, type SQLiteSource } from './connect';
import { filterSql } from './filters';
import { SQLiteSearchIndex, type SqlRunner } from './search-index';
import { Stemmer } from './stemmer';

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

/*
 * Saving replaces: the old row (if any) goes and the new one comes with a
 * new rid, so rids follow the order of saving, which breaks timestamp ties
 * (a saveMany without timestamps shares one time) in the order the caller
 * gave. The triggers queue both rids for the search index.
 */
const REMOVE = `DELETE FROM memories WHERE namespace = ? AND id = ?`;
const INSERT = `INSERT INTO memories (namespace, id, content, metadata, tags, "timestamp") VALUES (?, ?, ?, ?, ?, ?)`;

const GET = `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ? AND m.id = ?`;

const pageSql = (filter: string): string => `SELECT ${COLUMNS} FROM memories m WHERE m.namespace = ?${filter}
  ORDER BY m."timestamp" DESC, m.id DESC LIMIT ? OFFSET ?`;

/** One side of an anchor's neighbours; parameters: anchor rid, namespace, timestamp twice, anchor rid, window. */
const neighborSide = (before: boolean): string => `SELECT ? AS anchor, rid FROM (
    SELECT rid FROM memories WHERE namespace = ? AND "timestamp" ${before ? '<=' : '>='} ?
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
  #index: SQLiteSearchIndex | undefined;
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
   * takes the queued rows. Prepared single-row statements are as fast per
   * row as multi-row VALUES lists here and need no chunking.
   */
  async upsertMany(rows: Memory[]): Promise<void> {
    this.write(() => {
      for (const row of rows) {
        this.run(REMOVE, [row.namespace, row.id]);
        this.run(INSERT, upsertParams(row));
      }
      this.index.sync();
    });
  }

  async get(namespace: string, id: string): Promise<Memory | null> {
    const [row] = this.all<MemoryRow>(GET, [namespace, id]);
    return row ? toMemory(row) : null;
  }

  async remove(namespace: string, id: string): Promise<boolean> {
    return this.write(() => {
      const removed = this.run(REMOVE, [namespace, id]) > 0;
      this.index.sync();
      return removed;
    });
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
  async neighbors(namespace: string, anchors: Anchor[], window: number): Promise<Map<DocKey, DocKey[]>> {
    const found = new Map<DocKey, DocKey[]>(anchors.map((a) => [a.key, []]));
    if (anchors.length === 0 || window < 1) return found;
    const params = anchors.flatMap((a) => [a.key, namespace, a.ts, a.ts, a.key, window, a.key, namespace, a.ts, a.ts, a.key, window]);
    const rows = this.all<{ anchor: number; rid: number }>(neighborsSql(anchors.length), params);
    for (const r of rows) found.get(r.anchor)!.push(r.rid);
    return found;
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
    return this.write(() => {
      this.index.dropNamespace(namespace);
      const removed = this.db.delete(memories).where(eq(memories.namespace, namespace)).run().changes;
      this.index.sync(); // the queued rids are gone from both sides: only the queue empties
      return removed;
    });
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
