/**
 * The internal interface between the shared {@link SqlStore} template and one
 * SQL dialect. It speaks in whole operations, so each dialect keeps its own
 * transactions (better-sqlite3's must be synchronous, postgres.js's are async)
 * and its own full-text SQL. Inputs arrive validated and complete.
 */
import type { WhereNode } from '../filter/where';
import type { QueryNode, SearchMode } from '../search/query';
import type { Memory, SearchResult, TableStats } from '../types';
import type { SchemaStatus } from '../migrate/schema-version';
import type { MetadataIndexInfo } from './metadata-index';

/**
 * What narrows the memories a read sees, besides its words: every read
 * (search candidates, pages, counts, deleteMany) applies all of it, through
 * the dialect's `filters.ts`, which compiles it to conditions on the alias
 * `m` of the memories table. Extend it here and in both `filters.ts`.
 */
export interface MemoryFilter {
  /** Only memories carrying all of these tags. */
  tags: string[];
  /** Only memories whose metadata satisfies this (checked) filter. */
  where?: WhereNode;
  /** Only memories with `timestamp >= since`. */
  since?: Date;
  /** Only memories with `timestamp < until`. */
  until?: Date;
  /**
   * The time the read runs: memories whose `expires_at` is at or before it
   * are left out. Passed in (never the database's clock), so one call sees one
   * instant and both dialects agree.
   */
  now: Date;
}

export interface SearchParams extends MemoryFilter {
  namespace: string;
  limit: number;
  mode: SearchMode;
  /** Only these memories (those of them that match). */
  ids?: string[];
  /**
   * Which memories are candidates, when narrower than `query` (mode 'any'
   * leaves out words so common that ranking every memory holding them would
   * cost more than it tells); `query` still decides the score where it can.
   */
  filter?: QueryNode;
}

/** A word of a query, to count how many memories hold it. */
export interface QueryWord {
  word: string;
  prefix: boolean;
}

/** A memory whose neighbours in time are wanted. */
export interface Anchor {
  id: string;
  timestamp: Date;
}

/** A position in the list order (newest first, ties by id descending): the last memory of the previous page. */
export interface PagePosition {
  timestamp: Date;
  id: string;
}

export interface PageParams extends MemoryFilter {
  namespace: string;
  limit: number | undefined;
  offset: number;
  /** Keyset paging: only memories after this position in the list order (no OFFSET scan). */
  after?: PagePosition;
}

export interface CountParams extends MemoryFilter {
  namespace: string;
}

export interface DeleteParams extends MemoryFilter {
  namespace: string;
  /** Only memories with these ids. */
  ids?: string[];
}

/**
 * Computes the updated memory from the current one, inside the update's
 * transaction (so it reads what it replaces); it may throw, which rolls back.
 */
export type ApplyPatch = (current: Memory) => Memory;

export interface OptimizeParams {
  /** Also reclaim space: `VACUUM`. */
  vacuum: boolean;
  /** Memories expired at this time are purged first. */
  now: Date;
  /** Expired memories deleted per transaction. */
  purgeBatch: number;
}

/** One maintenance step and how long it took. */
export interface OptimizeStep {
  /** What ran, as SQL (`ANALYZE aimemo.memories`, `PRAGMA optimize`, …). */
  step: string;
  ms: number;
  /** What the step reported, when it reports anything (e.g. the WAL checkpoint's page counts). */
  result?: Record<string, number>;
}

/**
 * How many matching memories a search ranks at most: the newest ones
 * (SQLite: the most recently saved; PostgreSQL: the latest timestamps).
 * A query that matches more (a very common word in a large namespace)
 * would otherwise cost time in proportion to how common it is; with the
 * bound it costs about the same at 10,000 memories as at 1,000,000
 * (npm run bench). Below it, ranking is exact.
 */
export const RANKED_MATCHES = 1000;

/** One SQL statement as the repository sent it to the driver: text and driver-level parameters. */
export interface TracedStatement {
  sql: string;
  params: unknown[];
}

export interface MemoryRepository {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * When set, called with every statement before it runs. Internal: the
   * benchmark (`npm run bench`) records what an operation sent and replays it
   * on the raw driver, to measure what the library adds.
   */
  tracer?: (statement: TracedStatement) => void;
  /**
   * Opens connections and creates or checks the schema. Called once before
   * any other method. Says whether the database holds newer migrations.
   */
  init(): Promise<SchemaStatus | void>;
  /** Writes are refused (a SQLite file opened with `readonly: true`). @defaultValue false */
  readonly readonly?: boolean;
  /** Inserts or replaces (by namespace and id) every row, in one transaction. */
  upsertMany(rows: Memory[]): Promise<void>;
  /** The memory, unless absent or expired at `now`. */
  get(namespace: string, id: string, now: Date): Promise<Memory | null>;
  /** Deletes the memory (expired or not); true when it was there and not expired at `now`. */
  remove(namespace: string, id: string, now: Date): Promise<boolean>;
  /**
   * In one transaction: reads the memory (absent or expired at `now`: null,
   * nothing written), computes the new one with `apply`, writes every column
   * (the full-text index follows), returns it.
   */
  update(namespace: string, id: string, now: Date, apply: ApplyPatch): Promise<Memory | null>;
  /** Deletes the memories matching every condition, in one transaction; returns how many. */
  deleteMany(params: DeleteParams): Promise<number>;
  /**
   * Deletes memories whose `expires_at` is at or before `now`, at most
   * `batch` per transaction (writers get their turn between batches), over
   * the `expires_at` index; returns how many.
   */
  purgeExpired(now: Date, batch: number): Promise<number>;
  /** Ranked full-text search, best first. */
  search(query: QueryNode, params: SearchParams): Promise<SearchResult[]>;
  /**
   * For each anchor, the ids of up to `window` memories saved just before it
   * and `window` just after it in the namespace (ordered by timestamp, then id
   * by bytes), in one round trip. Memories expired at `now` are not neighbours.
   */
  neighbors(namespace: string, anchors: Anchor[], window: number, now: Date): Promise<Map<string, string[]>>;
  /**
   * How many memories of the namespace hold each word, counting no further
   * than `cap` (so the cost stays bounded). Both dialects count in the
   * namespace: which memories a search returns must not depend on other
   * namespaces (SQLite's `bm25()` scores still take table-wide statistics).
   */
  wordCounts(namespace: string, words: QueryWord[], cap: number): Promise<number[]>;
  /** Newest first (ties: id descending). */
  page(params: PageParams): Promise<Memory[]>;
  count(params: CountParams): Promise<number>;
  /** Deletes every memory of the namespace (expired ones too); returns how many were not expired at `now`. */
  clear(namespace: string, now: Date): Promise<number>;
  /** The namespaces holding a memory not expired at `now`. */
  namespaces(now: Date): Promise<string[]>;
  /** Every namespace with how many memories (not expired at `now`) it holds, in namespace order. */
  namespaceCounts(now: Date): Promise<{ namespace: string; count: number }[]>;
  /** Counted over the memories not expired at `now`. */
  stats(now: Date): Promise<TableStats>;
  /**
   * Up to `limit` memories of the namespace whose id sorts after `after` (from
   * the start when undefined), in id order: keyset pagination over the
   * `(namespace, id)` key index, so every page costs the same however deep.
   * The order is the key index's own (SQLite: bytes; PostgreSQL: the
   * database's collation); callers only pass back ids this method returned.
   */
  scan(namespace: string, after: string | undefined, limit: number, now: Date): Promise<Memory[]>;
  /** The memories of the namespace with these ids (any order; missing and expired ones are left out). */
  getMany(namespace: string, ids: string[], now: Date): Promise<Memory[]>;
  /** The metadata expression indexes the database holds (see metadata-index.ts). */
  metadataIndexes(): Promise<MetadataIndexInfo[]>;
  /** Creates one (if not there); false when it existed. */
  createMetadataIndex(type: 'number' | 'string', path: string[], name: string): Promise<boolean>;
  /** Drops one; false when there was none. */
  dropMetadataIndex(name: string): Promise<boolean>;
  /** Maintenance that is safe while the application works; returns what it did. */
  optimize(params: OptimizeParams): Promise<OptimizeStep[]>;
  close(): Promise<void>;
}
