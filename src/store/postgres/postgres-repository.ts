/**
 * PostgreSQL implementation of {@link MemoryRepository}: Drizzle on postgres.js
 * or PGlite, full-text matching through the generated `search_vector` column
 * (English `tsvector`, GIN-indexed) and `to_tsquery('english', $1)`, ranking
 * through the impact-ordered search index (search-index.ts).
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgresType from 'postgres';
import { AIMEMO_SCHEMA, memories } from '../../../drizzle/postgres';
import { appliedPostgresVersion, migratePostgres, rowsOf, type AnyPgDatabase } from '../../migrate/postgres';
import type { SchemaStatus } from '../../migrate/schema-version';
import type { DocKey } from '../../search/top-k';
import type { Memory, TableStats } from '../../types';
import type { NamespaceRange } from '../../namespaces/codec';
import { IndexCache, parseIndexName, type IndexedPaths, type MetadataIndexInfo } from '../metadata-index';
import type { Anchor, ApplyPatch, CountParams, DeleteParams, KeyedMemory, MemoryFilter, MemoryRepository, OptimizeParams, OptimizeStep, PageAcrossParams, PageParams, TracedStatement } from '../repository';
import { StoreClosedError, ValidationError } from '../../errors';
import type { PostgresConnection, UseOptions } from './connect';
import { filterSql, liveSql } from './filters';
import { COLUMNS, toMemory, type MemoryRow } from './rows';
import { PostgresSearchIndex } from './search-index';
import { indexExpression } from './where-sql';

/** Rows per upsert statement (one JSON parameter each). */
const UPSERT_CHUNK = 5000;

/**
 * The depth that reads a whole namespace in a LATERAL subquery: a number, not
 * `LIMIT NULL` (PGlite 0.5 mishandles a LATERAL LIMIT NULL; see search-index.ts).
 */
const ALL_ROWS = 2_147_483_647;

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

/** Rows per sequence value: seq = value × 2^20 + place (1 … 2^20 − 1), as migration 0003_save-order lays it out. */
const SEQ_BLOCK = 1_048_575;

/**
 * The rows, sorted by key, as JSON arrays of at most UPSERT_CHUNK rows and
 * about UPSERT_CHUNK_CHARS characters; each row carries its place in the
 * caller's order (`blk`, `place`: which sequence value, and where under it).
 */
function jsonChunks(rows: Memory[]): string[] {
  const order = rows.map((m, i) => ({ m, i })).sort((a, b) => byKey(a.m, b.m));
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const { m, i } of order) {
    const row = JSON.stringify({
      namespace: m.namespace,
      id: m.id,
      content: m.content,
      metadata: m.metadata,
      tags: m.tags,
      timestamp: m.timestamp.toISOString(),
      expires_at: m.expiresAt?.toISOString() ?? null,
      blk: Math.floor(i / SEQ_BLOCK),
      place: (i % SEQ_BLOCK) + 1,
    });
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


/** Renders statements to text and parameters. */
const dialect = new PgDialect();


/** Lets other work run between two batches of a long purge. */
const breather = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class PostgresRepository implements MemoryRepository {
  readonly dialect = 'postgres' as const;
  #conn: PostgresConnection | undefined;
  readonly index = new PostgresSearchIndex((query) => this.execute(query));
  /** The same index for maintenance (backfill, fold): not bounded by statementTimeout, as migrations and VACUUM are not. */
  readonly #maintenance = new PostgresSearchIndex((query) => this.execute(query, { bounded: false }));
  readonly #indexes = new IndexCache();
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
  private execute(query: SQL, options?: UseOptions): Promise<unknown> {
    return this.use((db, client) => {
      if (!client) return db.execute(this.trace(query)); // Drizzle renders it
      const rendered = dialect.sqlToQuery(query);
      this.tracer?.({ sql: rendered.sql, params: rendered.params });
      return client.unsafe(rendered.sql, rendered.params as never[], { prepare: client.options.prepare !== false });
    }, options);
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
   * INSERT INTO aimemo.memories (namespace, id, content, metadata, tags, "timestamp", expires_at, seq)
   * SELECT … FROM jsonb_to_recordset($1::text::jsonb) AS r(namespace text, id text, content text, metadata jsonb, tags text[], "timestamp" timestamptz, expires_at timestamptz, …)
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
   * - **Atomic, without `sql.begin`.** One chunk (up to 5,000 rows and 16 Mi characters of JSON)
   *   is one statement, atomic by itself. More run in one transaction on the
   *   store's own connection (see `session.ts`), or, on a connection the app
   *   passed in, as one statement with a parameter per chunk (at most
   *   {@link MAX_SHARED_STATEMENT_BYTES}).
   */
  async upsertMany(rows: Memory[]): Promise<void> {
    const chunks = jsonChunks(rows);
    // seq: save order follows the caller's order (a row's place in the call, on a sequence value taken once per
    // call), while rows are written, and locked, in key order in every statement and across statements.
    const upsert = (json: string[], bases: SQL) => {
      const source = sql.join(
        json.map((chunk) => sql`SELECT * FROM jsonb_to_recordset(${chunk}::text::jsonb)
          AS r("namespace" text, "id" text, "content" text, "metadata" jsonb, "tags" text[], "timestamp" timestamptz, "expires_at" timestamptz, "blk" int, "place" int)`),
        sql` UNION ALL `,
      );
      return sql`
        WITH b AS (${bases})
        INSERT INTO ${memories} ("namespace", "id", "content", "metadata", "tags", "timestamp", "expires_at", "seq")
        SELECT r."namespace", r."id", r."content", r."metadata", r."tags", r."timestamp", r."expires_at", b.bases[r.blk + 1] * 1048576 + r.place
        FROM (${source}) r, b
        ORDER BY r."namespace" COLLATE "C", r."id" COLLATE "C"
        ON CONFLICT ("namespace", "id") DO UPDATE SET
          "content" = excluded."content", "metadata" = excluded."metadata", "tags" = excluded."tags", "timestamp" = excluded."timestamp",
          "expires_at" = excluded."expires_at", "seq" = excluded."seq"`;
    };
    // One sequence value per SEQ_BLOCK rows of the call, taken in order (a sequence only grows): seq grows with the place.
    const blocks = Math.ceil(rows.length / SEQ_BLOCK);
    const taken = sql`SELECT ARRAY(SELECT nextval('aimemo.memories_seq') FROM generate_series(1, ${blocks}::int) ORDER BY 1) AS bases`;
    if (chunks.length === 1) {
      await this.execute(upsert(chunks, taken)); // one statement is atomic by itself
      return;
    }
    await this.use(async (db, client) => {
      if (client) {
        // The store's own connection: its transactions are safe (session.ts), and each statement stays small.
        await db.transaction(async (tx) => {
          const [{ bases }] = rowsOf<{ bases: (string | number)[] }>(await tx.execute(this.trace(taken)));
          const given = sql`SELECT ${sql.param(bases.map(String))}::bigint[] AS bases`;
          for (const chunk of chunks) await tx.execute(this.trace(upsert([chunk], given)));
        });
        return;
      }
      // The app's connection may be a postgres.js client, whose sql.begin can crash the process: one statement instead.
      const bytes = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
      if (bytes > MAX_SHARED_STATEMENT_BYTES) {
        throw new ValidationError('memories', `must be at most ${MAX_SHARED_STATEMENT_BYTES / 2 ** 20} MiB as JSON in one saveMany on a PostgreSQL connection passed in by the application; split the batch, or open the store from a URL`, `about ${Math.ceil(bytes / 2 ** 20)} MiB`);
      }
      await db.execute(this.trace(upsert(chunks, taken)));
    });
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
  /** Locks the selected rows in the order every writer uses (ids by bytes: see `clear`), then deletes them. */
  async deleteMany(params: DeleteParams): Promise<number> {
    const ids = params.ids === undefined ? sql`` : sql` AND m.id = ANY(${sql.param(params.ids)}::text[])`;
    const rows = rowsOf<{ n: number }>(
      await this.execute(sql`WITH locked AS MATERIALIZED (
          SELECT m.id FROM ${memories} m WHERE m.namespace = ${params.namespace}${filterSql(params, await this.indexed())}${ids}
          ORDER BY m.id COLLATE "C" FOR UPDATE),
        gone AS (DELETE FROM ${memories} m USING locked l WHERE m.namespace = ${params.namespace} AND m.id = l.id RETURNING 1)
        SELECT count(*)::int AS n FROM gone`),
    );
    return Number(rows[0].n);
  }

  /**
   * Batches of `DELETE … WHERE (namespace, id) IN (SELECT … WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
   * over `memories_expires_idx`; rows another transaction holds are left for the next purge.
   */
  /** `bounded: false` from `optimize()`: maintenance is not limited by statementTimeout. */
  async purgeExpired(now: Date, batch: number, bounded = true): Promise<number> {
    let deleted = 0;
    for (;;) {
      const rows = rowsOf<{ n: number }>(
        await this.execute(sql`WITH gone AS (DELETE FROM ${memories} WHERE (namespace, id) IN (
            SELECT namespace, id FROM ${memories} WHERE expires_at <= ${now.toISOString()}::timestamptz LIMIT ${batch} FOR UPDATE SKIP LOCKED)
          RETURNING 1)
          SELECT count(*)::int AS n FROM gone`, { bounded }),
      );
      const n = Number(rows[0].n);
      deleted += n;
      if (n < batch) return deleted;
      await breather();
    }
  }

  async indexQueued(onBatch?: (done: number) => void): Promise<number> {
    let done = 0;
    for (let n; (n = await this.#maintenance.backfill(null)) > 0; ) onBatch?.((done += n));
    return done;
  }

  /** The memories of the namespace with these ids (the index's keys), with their save order. */
  async fetch(namespace: string, keys: DocKey[]): Promise<KeyedMemory[]> {
    if (keys.length === 0) return [];
    const rows = rowsOf<MemoryRow & { seq: number | string }>(
      await this.execute(sql`SELECT ${COLUMNS}, coalesce(m.seq, 0) AS seq FROM ${memories} m WHERE m.namespace = ${namespace} AND m.id = ANY(${sql.param(keys.map(String))}::text[])`),
    );
    return rows.map((r) => ({ key: r.id, seq: Number(r.seq), memory: toMemory(r) }));
  }

  /**
   * Two small index range scans per anchor over `memories_ns_ts_seq_idx`
   * (migration 0006: save order breaks timestamp ties), one statement whose
   * text does not depend on the number of anchors:
   * ```sql
   * SELECT a.anchor, n.id FROM unnest($1::text[], $2::timestamptz[], $3::bigint[]) AS a(anchor, ts, seq), LATERAL (
   *   (SELECT id FROM aimemo.memories m WHERE namespace = $4 AND ("timestamp", seq) < (a.ts, a.seq) … ORDER BY "timestamp" DESC, seq DESC LIMIT $6)
   *   UNION ALL (… > (a.ts, a.seq) … ORDER BY "timestamp", seq LIMIT $6)) n
   * ```
   * Rows saved before 0003_save-order have no seq: among them a timestamp tie is no neighbour.
   */
  async neighbors(namespace: string, anchors: Anchor[], window: number, now: Date): Promise<Map<DocKey, DocKey[]>> {
    const found = new Map<DocKey, DocKey[]>(anchors.map((a) => [a.key, []]));
    if (anchors.length === 0 || window < 1) return found;
    const live = sql`(m.expires_at IS NULL OR m.expires_at > ${now.toISOString()}::timestamptz)`;
    const rows = rowsOf<{ anchor: string; id: string }>(
      await this.execute(sql`
        SELECT a.anchor, n.id
        FROM unnest(${sql.param(anchors.map((a) => String(a.key)))}::text[], ${sql.param(anchors.map((a) => new Date(a.ts).toISOString()))}::text[]::timestamptz[],
                    ${sql.param(anchors.map((a) => String(a.seq)))}::text[]::bigint[]) AS a(anchor, ts, seq),
        LATERAL (
          (SELECT m.id FROM ${memories} m WHERE m.namespace = ${namespace} AND (m."timestamp", m.seq) < (a.ts, a.seq) AND ${live}
           ORDER BY m."timestamp" DESC, m.seq DESC LIMIT ${window})
          UNION ALL
          (SELECT m.id FROM ${memories} m WHERE m.namespace = ${namespace} AND (m."timestamp", m.seq) > (a.ts, a.seq) AND ${live}
           ORDER BY m."timestamp", m.seq LIMIT ${window})) n`),
    );
    for (const r of rows) found.get(r.anchor)!.push(r.id);
    return found;
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

  /**
   * One statement. It locks the namespace's memories first, in the order
   * every writer uses (ids by bytes, as `upsertMany`), so a `clear` racing a
   * `saveMany` waits instead of deadlocking; then deletes them, then the
   * namespace's search index (its row in search_namespaces included, so the
   * delete trigger finds nothing left to unindex row by row); returns how
   * many were live:
   * ```sql
   * WITH locked AS MATERIALIZED (SELECT id FROM aimemo.memories WHERE namespace = $1 ORDER BY id COLLATE "C" FOR UPDATE),
   *      gone AS (DELETE FROM aimemo.memories m USING locked l WHERE m.namespace = $1 AND m.id = l.id RETURNING <live>),
   *      s AS (DELETE FROM aimemo.search_namespaces WHERE namespace = $1 AND (SELECT count(*) FROM gone) >= 0 RETURNING ns), …
   * SELECT count(*) FILTER (WHERE live)::int AS n FROM gone
   * ```
   */
  async clear(namespace: string, now: Date): Promise<number> {
    const rows = rowsOf<{ n: number }>(
      await this.execute(sql`
        WITH locked AS MATERIALIZED (SELECT m.id FROM ${memories} m WHERE m.namespace = ${namespace} ORDER BY m.id COLLATE "C" FOR UPDATE),
        gone AS (DELETE FROM ${memories} m USING locked l WHERE m.namespace = ${namespace} AND m.id = l.id RETURNING ${liveSql(now)} AS live),
        -- The index only after the memories: a writer holding memories waits on no index row clear holds.
        s AS (DELETE FROM aimemo.search_namespaces WHERE namespace = ${namespace} AND (SELECT count(*) FROM gone) >= 0 RETURNING ns),
        p AS (DELETE FROM aimemo.search_postings WHERE ns IN (SELECT ns FROM s) RETURNING 1),
        t AS (DELETE FROM aimemo.search_terms WHERE ns IN (SELECT ns FROM s) RETURNING 1),
        l AS (DELETE FROM aimemo.search_log WHERE ns IN (SELECT ns FROM s) RETURNING 1),
        q AS (DELETE FROM aimemo.search_pending WHERE namespace = ${namespace} RETURNING 1)
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

  /**
   * The registry of namespaces (`search_namespaces`, kept by the index
   * triggers) read on its `COLLATE "C"` index (migration
   * 0009_namespace-prefix-index), plus rows still queued from before the
   * search index (an upgrade's backlog; the queue is empty otherwise), each
   * kept when it holds a memory not expired at `now` (a namespace emptied by
   * deletes keeps its registry row):
   * ```sql
   * SELECT c.namespace FROM (SELECT namespace FROM aimemo.search_namespaces WHERE namespace COLLATE "C" >= $1 AND namespace COLLATE "C" < $2
   *   UNION SELECT namespace FROM aimemo.search_pending WHERE …) c
   * WHERE EXISTS (SELECT 1 FROM aimemo.memories m WHERE m.namespace = c.namespace AND <live>)
   * ORDER BY c.namespace COLLATE "C" LIMIT $3
   * ```
   */
  async namespacesIn(range: NamespaceRange, limit: number | undefined, now: Date): Promise<string[]> {
    const inRange = (column: SQL) => sql`${column} COLLATE "C" >= ${range.start} AND ${column} COLLATE "C" < ${range.end}`;
    const rows = rowsOf<{ namespace: string }>(
      await this.execute(sql`
        SELECT c.namespace FROM (
          SELECT r.namespace FROM aimemo.search_namespaces r WHERE ${inRange(sql.raw('r.namespace'))}
          UNION
          SELECT q.namespace FROM aimemo.search_pending q WHERE ${inRange(sql.raw('q.namespace'))}
        ) c
        WHERE EXISTS (SELECT 1 FROM ${memories} m WHERE m.namespace = c.namespace AND ${liveSql(now)})
        ORDER BY c.namespace COLLATE "C" LIMIT ${limit ?? null}`),
    );
    return rows.map((r) => r.namespace);
  }

  /**
   * Each namespace's newest `offset + limit` on `memories_ns_ts_id_idx` (a
   * LATERAL subquery per namespace), merged by the outer ORDER BY:
   * ```sql
   * SELECT … FROM unnest($1::text[]) n(ns) CROSS JOIN LATERAL (SELECT … FROM aimemo.memories m
   *   WHERE m.namespace = n.ns AND <filter> ORDER BY m."timestamp" DESC, m.id COLLATE "C" DESC LIMIT $2) x
   * ORDER BY x."timestamp" DESC, x.id COLLATE "C" DESC, x.namespace COLLATE "C" DESC LIMIT $3 OFFSET $4
   * ```
   */
  async pageAcross(namespaces: string[], params: PageAcrossParams): Promise<Memory[]> {
    if (namespaces.length === 0) return [];
    const each = params.limit === undefined ? ALL_ROWS : Math.min(ALL_ROWS, params.limit + params.offset);
    const rows = rowsOf<MemoryRow>(
      await this.execute(sql`
        SELECT x.* FROM unnest(${sql.param(namespaces)}::text[]) AS n(ns) CROSS JOIN LATERAL (
          SELECT ${COLUMNS} FROM ${memories} m WHERE m.namespace = n.ns${filterSql(params, await this.indexed())}
          ORDER BY m."timestamp" DESC, m.id COLLATE "C" DESC LIMIT ${each}) x
        ORDER BY x."timestamp" DESC, x.id COLLATE "C" DESC, x.namespace COLLATE "C" DESC
        LIMIT ${params.limit ?? null} OFFSET ${params.offset}`),
    );
    return rows.map(toMemory);
  }

  async countAcross(namespaces: string[], filter: MemoryFilter): Promise<number> {
    if (namespaces.length === 0) return 0;
    const rows = rowsOf<{ n: number | string }>(
      await this.execute(sql`SELECT count(*) AS n FROM ${memories} m WHERE m.namespace = ANY(${sql.param(namespaces)}::text[])${filterSql(filter, await this.indexed())}`),
    );
    return Number(rows[0].n);
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
    const steps: OptimizeStep[] = [];
    const timed = async (step: string, fn: () => Promise<Record<string, number> | void>) => {
      const started = performance.now();
      const result = await fn();
      steps.push({ step, ms: Math.round(performance.now() - started), ...(result ? { result } : {}) });
    };
    await timed(`DELETE FROM "${AIMEMO_SCHEMA}"."memories" WHERE expires_at <= $1 (expired memories)`, async () => ({ deleted: await this.purgeExpired(params.now, params.purgeBatch, false) }));
    await timed('SELECT aimemo.search_index_backfill(NULL, 2000) -- until none is queued', async () => ({ indexed: await this.indexQueued() }));
    await timed('SELECT aimemo.search_fold()', () => this.#maintenance.fold());
    for (const table of ['memories', 'search_postings', 'search_terms', 'search_namespaces']) {
      const statement = `${params.vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE'} "${AIMEMO_SCHEMA}"."${table}"`;
      // Unbounded: a VACUUM may outlast statementTimeout.
      await timed(statement, async () => void (await this.use((db) => db.execute(sql.raw(statement)), { bounded: false })));
    }
    return steps;
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.close();
  }
}
