/**
 * The internal interface between the shared {@link SqlStore} template and one
 * SQL dialect. It speaks in whole operations, so each dialect keeps its own
 * transactions (better-sqlite3's must be synchronous, postgres.js's are async)
 * and its own full-text SQL. Inputs arrive validated and complete.
 */
import type { QueryNode, SearchMode } from '../search/query';
import type { Memory, SearchResult, TableStats } from '../types';
import type { SchemaStatus } from '../migrate/schema-version';

/**
 * What narrows the memories a read sees, besides its words: every read
 * (search candidates, pages, counts) applies all of it, through the
 * dialect's `filters.ts`, which compiles it to conditions on the alias `m`
 * of the memories table. Extend it here and in both `filters.ts`.
 */
export interface MemoryFilter {
  /** Only memories carrying all of these tags. */
  tags: string[];
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

export interface PageParams extends MemoryFilter {
  namespace: string;
  limit: number | undefined;
  offset: number;
}

export interface OptimizeParams {
  /** Also reclaim space: `VACUUM`. */
  vacuum: boolean;
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
  get(namespace: string, id: string): Promise<Memory | null>;
  remove(namespace: string, id: string): Promise<boolean>;
  /** Ranked full-text search, best first. */
  search(query: QueryNode, params: SearchParams): Promise<SearchResult[]>;
  /**
   * For each anchor, the ids of up to `window` memories saved just before it
   * and `window` just after it in the namespace (ordered by timestamp, then id
   * by bytes), in one round trip.
   */
  neighbors(namespace: string, anchors: Anchor[], window: number): Promise<Map<string, string[]>>;
  /**
   * How many memories of the namespace hold each word, counting no further
   * than `cap` (so the cost stays bounded). Both dialects count in the
   * namespace: which memories a search returns must not depend on other
   * namespaces (SQLite's `bm25()` scores still take table-wide statistics).
   */
  wordCounts(namespace: string, words: QueryWord[], cap: number): Promise<number[]>;
  /** Newest first (ties: id descending). */
  page(params: PageParams): Promise<Memory[]>;
  count(namespace: string): Promise<number>;
  clear(namespace: string): Promise<number>;
  namespaces(): Promise<string[]>;
  /** Every namespace with how many memories it holds, in namespace order. */
  namespaceCounts(): Promise<{ namespace: string; count: number }[]>;
  stats(): Promise<TableStats>;
  /**
   * Up to `limit` memories of the namespace whose id sorts after `after` (from
   * the start when undefined), in id order: keyset pagination over the
   * `(namespace, id)` key index, so every page costs the same however deep.
   * The order is the key index's own (SQLite: bytes; PostgreSQL: the
   * database's collation); callers only pass back ids this method returned.
   */
  scan(namespace: string, after: string | undefined, limit: number): Promise<Memory[]>;
  /** The memories of the namespace with these ids (any order; missing ids are left out). */
  getMany(namespace: string, ids: string[]): Promise<Memory[]>;
  /** Maintenance that is safe while the application works; returns what it did. */
  optimize(params: OptimizeParams): Promise<OptimizeStep[]>;
  close(): Promise<void>;
}
