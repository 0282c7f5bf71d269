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
import { and, asc, count, countDistinct, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { MEMORIES_FTS, memories } from '../../../drizzle/sqlite';
import { appliedSqliteVersion, migrateSqlite, schemaMissingError } from '../../migrate/sqlite';
import { toFts5 } from '../../search/fts5';
import type { QueryNode } from '../../search/query';
import type { Json, Memory, SearchResult, TableStats } from '../../types';
import type { Anchor, QueryWord, MemoryRepository, OptimizeParams, OptimizeStep, PageParams, SearchParams } from '../repository';
import { openSQLite, sqliteFile, type SQLiteConnection, type SQLiteSource } from './connect';

/** Rows per INSERT: 7 parameters each, far below SQLite's 32,766. */
const CHUNK = 500;

const FTS = sql.raw(MEMORIES_FTS);

const columns = {
  id: memories.id,
  namespace: memories.namespace,
  content: memories.content,
  metadata: memories.metadata,
  tags: memories.tags,
  timestamp: memories.timestamp,
};

/** All-of tags filter: each tag must be an element of the JSON array in `tags`. */
function hasTags(tags: string[]): SQL | undefined {
  if (tags.length === 0) return undefined;
  return and(...tags.map((tag) => sql`EXISTS (SELECT 1 FROM json_each(${memories.tags}) WHERE json_each.value = ${tag})`));
}

export class SQLiteRepository implements MemoryRepository {
  readonly dialect = 'sqlite' as const;
  #conn: SQLiteConnection | undefined;
  #db: BetterSQLite3Database | undefined;

  constructor(
    private readonly source: SQLiteSource,
    private readonly options: { autoMigrate: boolean; busyTimeoutMs: number },
  ) {}

  /** The open connection; `init()` has run before any caller gets here. */
  get connection(): SQLiteConnection {
    return this.#conn!;
  }

  private get db(): BetterSQLite3Database {
    return this.#db!;
  }

  async init(): Promise<void> {
    const file = sqliteFile(this.source);
    // autoMigrate: false means the schema is made elsewhere: say so, and leave no empty file behind.
    if (!this.options.autoMigrate && file && !fs.existsSync(file)) throw schemaMissingError();
    const conn = openSQLite(this.source, this.options.busyTimeoutMs);
    try {
      migrateSqlite(conn.client, this.options.autoMigrate);
    } catch (error) {
      if (conn.owned) conn.client.close();
      throw error;
    }
    this.#conn = conn;
    this.#db = drizzle({ client: conn.client });
  }

  /** Newest applied migration's `created_at`, or null. */
  async schemaVersion(): Promise<number | null> {
    return appliedSqliteVersion(this.connection.client);
  }

  async upsertMany(rows: Memory[]): Promise<void> {
    this.db.transaction(
      (tx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          tx.insert(memories)
            .values(rows.slice(i, i + CHUNK))
            .onConflictDoUpdate({
              target: [memories.namespace, memories.id],
              set: {
                content: sql`excluded.content`,
                metadata: sql`excluded.metadata`,
                tags: sql`excluded.tags`,
                timestamp: sql`excluded."timestamp"`,
              },
            })
            .run();
        }
      },
      { behavior: 'immediate' },
    );
  }

  async get(namespace: string, id: string): Promise<Memory | null> {
    const row = this.db
      .select(columns)
      .from(memories)
      .where(and(eq(memories.namespace, namespace), eq(memories.id, id)))
      .get();
    return row ?? null;
  }

  async remove(namespace: string, id: string): Promise<boolean> {
    const result = this.db.delete(memories).where(and(eq(memories.namespace, namespace), eq(memories.id, id))).run();
    return result.changes > 0;
  }

  /**
   * ```sql
   * SELECT m.id, …, bm25(memories_fts) AS rank
   * FROM memories_fts JOIN memories m ON m.rid = memories_fts.rowid
   * WHERE memories_fts MATCH ? AND m.namespace = ? [AND EXISTS (… json_each(m.tags) …)]
   * ORDER BY rank, m."timestamp" DESC, m.id LIMIT ?
   * ```
   * bm25() is lower for better matches; the score is its negation. With a
   * `filter`, the MATCH (and so bm25()) uses the filter's words.
   */
  async search(query: QueryNode, params: SearchParams): Promise<SearchResult[]> {
    const rows = this.db.all<{
      id: string;
      namespace: string;
      content: string;
      metadata: string;
      tags: string;
      timestamp: number;
      rank: number;
    }>(sql`
      SELECT ${memories.id} AS id, ${memories.namespace} AS namespace, ${memories.content} AS content,
             ${memories.metadata} AS metadata, ${memories.tags} AS tags, ${memories.timestamp} AS "timestamp",
             bm25(${FTS}) AS rank
      FROM ${FTS} JOIN ${memories} ON ${memories.rid} = ${FTS}.rowid
      WHERE ${FTS} MATCH ${toFts5(params.filter ?? query)} AND ${memories.namespace} = ${params.namespace} ${
        params.tags.length ? sql`AND ${hasTags(params.tags)}` : sql``
      } ${params.ids ? sql`AND ${inArray(memories.id, params.ids)}` : sql``}
      ORDER BY rank, ${memories.timestamp} DESC, ${memories.id}
      LIMIT ${params.limit}`);
    return rows.map((r) => ({
      id: r.id,
      namespace: r.namespace,
      content: r.content,
      metadata: JSON.parse(r.metadata) as Record<string, Json>,
      tags: JSON.parse(r.tags) as string[],
      timestamp: new Date(r.timestamp),
      score: -r.rank,
    }));
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
    const side = (a: Anchor, before: boolean) => sql`SELECT ${a.id} AS anchor, id FROM (
        SELECT ${memories.id} AS id FROM ${memories}
        WHERE ${memories.namespace} = ${namespace}
          AND ${memories.timestamp} ${sql.raw(before ? '<=' : '>=')} ${a.timestamp.getTime()}
          AND (${memories.timestamp}, ${memories.id}) ${sql.raw(before ? '<' : '>')} (${a.timestamp.getTime()}, ${a.id})
        ORDER BY ${memories.timestamp} ${sql.raw(before ? 'DESC' : 'ASC')}, ${memories.id} ${sql.raw(before ? 'DESC' : 'ASC')}
        LIMIT ${window})`;
    const parts = anchors.flatMap((a) => [side(a, true), side(a, false)]);
    const rows = this.db.all<{ anchor: string; id: string }>(sql.join(parts, sql` UNION ALL `));
    for (const r of rows) found.get(r.anchor)!.push(r.id);
    return found;
  }

  async wordCounts(namespace: string, words: QueryWord[], cap: number): Promise<number[]> {
    // Counted in the namespace only: which memories a search returns must not depend on other namespaces.
    return words.map(
      ({ word, prefix }) =>
        this.db.get<{ n: number }>(
          sql`SELECT count(*) AS n FROM (SELECT 1 FROM ${FTS} JOIN ${memories} ON ${memories.rid} = ${FTS}.rowid
              WHERE ${FTS} MATCH ${toFts5({ kind: 'term', word, prefix })} AND ${memories.namespace} = ${namespace} LIMIT ${cap})`,
        )!.n,
    );
  }

  async page(params: PageParams): Promise<Memory[]> {
    return this.db
      .select(columns)
      .from(memories)
      .where(and(eq(memories.namespace, params.namespace), hasTags(params.tags)))
      .orderBy(desc(memories.timestamp), desc(memories.id))
      .limit(params.limit ?? Number.MAX_SAFE_INTEGER) // SQLite takes an OFFSET only after a LIMIT
      .offset(params.offset)
      .all();
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
    const client = this.connection.client;
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
    if (conn?.owned) conn.client.close();
  }
}
