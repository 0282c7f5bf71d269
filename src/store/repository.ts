/**
 * The internal interface between the shared {@link SqlStore} template and one
 * SQL dialect. It speaks in whole operations, so each dialect keeps its own
 * transactions (better-sqlite3's must be synchronous, postgres.js's are async)
 * and its own full-text SQL. Inputs arrive validated and complete.
 */
import type { WhereNode } from '../filter/where';
import type { SearchMode } from '../search/query';
import type { DocKey, ScoringIndex } from '../search/top-k';
import type { Memory, TableStats } from '../types';
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
   * (the full-text and search indexes follow), returns it.
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
   * then save order), in one round trip. Memories expired at `now` are not
   * neighbours.
   */
  neighbors(namespace: string, anchors: Anchor[], window: number, now: Date): Promise<Map<DocKey, DocKey[]>>;
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
