/**
 * PostgreSQL implementation of {@link MemoryRepository}: Drizzle on postgres.js
 * or PGlite, full-text search through the generated `search_vector` column
 * (English `tsvector`, GIN-indexed) and `to_tsquery('english', $1)`.
 */
import { and, arrayContains, count, countDistinct, desc, eq, sql, type SQL } from 'drizzle-orm';
import { memories } from '../../../drizzle/postgres';
import { appliedPostgresVersion, migratePostgres, rowsOf, type AnyPgDatabase } from '../../migrate/postgres';
import type { QueryNode } from '../../search/query';
import { toTsquery } from '../../search/tsquery';
import type { Memory, SearchResult, TableStats } from '../../types';
import type { MemoryRepository, PageParams, SearchParams } from '../repository';
import type { PostgresConnection } from './connect';

/** Rows per INSERT: 6 parameters each, far below PostgreSQL's 65,535. */
const CHUNK = 1000;

const columns = {
  id: memories.id,
  namespace: memories.namespace,
  content: memories.content,
  metadata: memories.metadata,
  tags: memories.tags,
  timestamp: memories.timestamp,
};

/** Orders text by its bytes, as SQLite does, whatever the database's collation. */
const byteOrder = (column: SQL.Aliased | typeof memories.id | typeof memories.namespace): SQL => sql`${column} COLLATE "C"`;

const hasTags = (tags: string[]): SQL | undefined => (tags.length ? arrayContains(memories.tags, tags) : undefined);

/** The row as inserted. Metadata goes in as text cast to jsonb, whatever JSON serializer the client has. */
function toRow(m: Memory) {
  return {
    namespace: m.namespace,
    id: m.id,
    content: m.content,
    metadata: sql`${JSON.stringify(m.metadata)}::text::jsonb`,
    tags: m.tags,
    timestamp: m.timestamp,
  };
}

export class PostgresRepository implements MemoryRepository {
  readonly dialect = 'postgres' as const;
  #conn: PostgresConnection | undefined;

  constructor(
    private readonly connect: () => PostgresConnection,
    private readonly options: { autoMigrate: boolean },
  ) {}

  get connection(): PostgresConnection | undefined {
    return this.#conn;
  }

  private use<T>(fn: (db: AnyPgDatabase) => Promise<T>): Promise<T> {
    return this.#conn!.use(fn);
  }

  async init(): Promise<void> {
    this.#conn ??= this.connect();
    await this.use((db) => migratePostgres(db, this.options.autoMigrate));
  }

  /** Newest applied migration's `created_at`, or null. */
  async schemaVersion(): Promise<number | null> {
    return this.use((db) => appliedPostgresVersion(db));
  }

  async upsertMany(rows: Memory[]): Promise<void> {
    const write = async (db: AnyPgDatabase, chunk: Memory[]) => {
      await db
        .insert(memories)
        .values(chunk.map(toRow))
        .onConflictDoUpdate({
          target: [memories.namespace, memories.id],
          set: {
            content: sql`excluded.content`,
            metadata: sql`excluded.metadata`,
            tags: sql`excluded.tags`,
            timestamp: sql`excluded."timestamp"`,
          },
        });
    };
    await this.use(async (db) => {
      if (rows.length <= CHUNK) return write(db, rows); // one statement is atomic by itself
      await db.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += CHUNK) await write(tx as unknown as AnyPgDatabase, rows.slice(i, i + CHUNK));
      });
    });
  }

  async get(namespace: string, id: string): Promise<Memory | null> {
    const [row] = await this.use((db) =>
      db
        .select(columns)
        .from(memories)
        .where(and(eq(memories.namespace, namespace), eq(memories.id, id))),
    );
    return row ?? null;
  }

  async remove(namespace: string, id: string): Promise<boolean> {
    const rows = await this.use((db) =>
      db
        .delete(memories)
        .where(and(eq(memories.namespace, namespace), eq(memories.id, id)))
        .returning({ id: memories.id }),
    );
    return rows.length > 0;
  }

  /**
   * ```sql
   * SELECT id, …, ts_rank_cd(search_vector, to_tsquery('english', $1)) AS score
   * FROM aimemo.memories
   * WHERE namespace = $2 AND search_vector @@ to_tsquery('english', $3) [AND tags @> $4]
   * ORDER BY score DESC, "timestamp" DESC, id LIMIT $5
   * ```
   */
  async search(query: QueryNode, params: SearchParams): Promise<SearchResult[]> {
    const text = toTsquery(query);
    const tsquery = sql`to_tsquery('english'::regconfig, ${text})`;
    const score = sql<number>`ts_rank_cd(${memories.searchVector}, ${tsquery})`.mapWith(Number).as('score');
    return this.use((db) =>
      db
        .select({ ...columns, score })
        .from(memories)
        .where(and(eq(memories.namespace, params.namespace), sql`${memories.searchVector} @@ ${tsquery}`, hasTags(params.tags)))
        .orderBy(sql`"score" DESC`, desc(memories.timestamp), byteOrder(memories.id))
        .limit(params.limit),
    );
  }

  async page(params: PageParams): Promise<Memory[]> {
    return this.use((db) => {
      const query = db
        .select(columns)
        .from(memories)
        .where(and(eq(memories.namespace, params.namespace), hasTags(params.tags)))
        .orderBy(desc(memories.timestamp), desc(byteOrder(memories.id)))
        .offset(params.offset);
      return params.limit === undefined ? query : query.limit(params.limit);
    });
  }

  async count(namespace: string): Promise<number> {
    const [row] = await this.use((db) => db.select({ n: count() }).from(memories).where(eq(memories.namespace, namespace)));
    return row.n;
  }

  async clear(namespace: string): Promise<number> {
    const result = await this.use((db) =>
      db.execute(sql`WITH gone AS (DELETE FROM ${memories} WHERE ${memories.namespace} = ${namespace} RETURNING 1)
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

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.close();
  }
}
