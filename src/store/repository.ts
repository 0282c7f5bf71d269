/**
 * The internal interface between the shared {@link SqlStore} template and one
 * SQL dialect. It speaks in whole operations, so each dialect keeps its own
 * transactions (better-sqlite3's must be synchronous, postgres.js's are async)
 * and its own full-text SQL. Inputs arrive validated and complete.
 */
import type { SearchMode } from '../search/query';
import type { DocKey, ScoringIndex } from '../search/top-k';
import type { Memory, TableStats } from '../types';
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
}

/** A memory whose neighbours in time are wanted: its index key and place in time. */
export interface Anchor {
  key: DocKey;
  /** Timestamp, ms. */
  ts: number;
  seq: number;
}

/** A memory with the key and save order the search index knows it by. */
export interface KeyedMemory {
  key: DocKey;
  seq: number;
  memory: Memory;
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
  /** The impact-ordered search index the exact top-k engine reads (src/search/top-k.ts); available after `init()`. */
  readonly index: ScoringIndex<DocKey>;
  /**
   * Indexes every memory waiting in the search index's queue (the backfill
   * after the upgrade that created it; writes by an older version on SQLite),
   * in batches of one transaction each; returns how many.
   */
  indexQueued(onBatch?: (done: number) => void): Promise<number>;
  /** The memories of the namespace with these index keys (any order; missing ones left out). */
  fetch(namespace: string, keys: DocKey[]): Promise<KeyedMemory[]>;
  /**
   * For each anchor, the keys of up to `window` memories saved just before
   * it and `window` just after it in the namespace (ordered by timestamp,
   * then save order), in one round trip.
   */
  neighbors(namespace: string, anchors: Anchor[], window: number): Promise<Map<DocKey, DocKey[]>>;
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
