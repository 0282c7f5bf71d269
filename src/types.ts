import type { FilterOptions } from './filter/options';

/** A JSON value. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** One stored memory. `(namespace, id)` identifies it. */
export interface Memory {
  /** Given, or generated (time-ordered UUID v7). */
  id: string;
  /** Non-empty text. */
  content: string;
  /** `{}` when none. */
  metadata: Record<string, Json>;
  /** `[]` when none; order kept, duplicates dropped. */
  tags: string[];
  /** `'default'` when none. */
  namespace: string;
  /** Given, or the time of saving. */
  timestamp: Date;
  /**
   * When the memory expires; present only on memories that do. From that
   * moment no read returns it, and `purgeExpired()` or `optimize()` deletes it.
   */
  expiresAt?: Date;
}

/**
 * What `save` accepts: everything but `content` is optional. `ttl` (seconds
 * from now) is another way to give `expiresAt`; give one of them at most.
 */
export type NewMemory = Partial<Omit<Memory, 'expiresAt'>> & {
  content: string;
  /** When the memory expires; `null` or absent: never. */
  expiresAt?: Date | null;
  /** Seconds from now until the memory expires (a whole number, 1 to 100 years' worth). */
  ttl?: number;
};

/** A search hit. `score` is higher for better matches, comparable within one result list only. */
export interface SearchResult extends Memory {
  score: number;
}

export type { FilterOptions } from './filter/options';
export type { Where, WhereOperators, WhereScalar } from './filter/where';

/** Options of {@link MemoryStore.search}: the filter options narrow which memories can match. */
export interface SearchOptions extends FilterOptions {
  /** @defaultValue `'default'` */
  namespace?: string;
  /** @defaultValue 5 */
  limit?: number;
  /** Results to skip (the next page of a ranking); `offset + limit` is at most 10,000. @defaultValue 0 */
  offset?: number;
  /**
   * `'all'`: every term must match (boolean semantics).
   * `'any'`: memories matching any term, ranked by how well they match.
   * @defaultValue `'all'`
   */
  mode?: 'all' | 'any';
}

/** Options of {@link MemoryStore.list}. */
export interface ListOptions extends FilterOptions {
  /** @defaultValue `'default'` */
  namespace?: string;
  /** @defaultValue no limit */
  limit?: number;
  /** @defaultValue 0 */
  offset?: number;
}

/** Options of {@link MemoryStore.listPage}. */
export interface ListPageOptions extends FilterOptions {
  /** @defaultValue `'default'` */
  namespace?: string;
  /** Memories per page, 1-10,000. @defaultValue 100 */
  limit?: number;
  /** Where to continue: the `cursor` of the previous page, with the same options. */
  cursor?: string;
}

/** One page of {@link MemoryStore.listPage}. */
export interface MemoryPage {
  /** Newest first (ties: id descending), as `list`. */
  memories: Memory[];
  /** Pass it back to get the next page; `null` after the last one. */
  cursor: string | null;
}

/** Options of the options form of {@link MemoryStore.count}. */
export interface CountOptions extends FilterOptions {
  /** @defaultValue `'default'` */
  namespace?: string;
}

/**
 * What {@link MemoryStore.deleteMany} deletes: the memories of one namespace
 * that match every selector given. At least one of `ids`, `where`, `since`,
 * `until`, `tags` is required (removing a whole namespace is `clear`).
 */
export interface DeleteManyOptions extends FilterOptions {
  /** @defaultValue `'default'` */
  namespace?: string;
  /** Only memories with these ids (at most 100,000). */
  ids?: string[];
}

/** What {@link MemoryStore.update} changes; fields left out stay as they are. */
export interface MemoryPatch {
  /** The new text; the full-text index follows in the same transaction. */
  content?: string;
  /** The new tags (replacing the old ones). */
  tags?: string[];
  /**
   * Merged into the metadata as a JSON Merge Patch (RFC 7396): keys given are
   * set, objects merge key by key, `null` deletes a key.
   */
  metadata?: Record<string, Json>;
  /** `'now'` refreshes it, a `Date` sets it. @defaultValue kept */
  timestamp?: Date | 'now';
  /** When the memory expires; `null` makes it never expire. */
  expiresAt?: Date | null;
  /** Seconds from now until the memory expires (instead of `expiresAt`). */
  ttl?: number;
}

/** What {@link MemoryStore.getTableStats} returns. */
export interface TableStats {
  totalMemories: number;
  namespaces: number;
  /** Average content length, in characters (0 when empty). */
  avgSize: number;
}

/**
 * The contract every store fulfils, built-in or custom. All methods are async.
 * A custom store can be checked with the conformance suite in `tests/conformance`.
 * No read returns an expired memory.
 */
export interface MemoryStore {
  save(memory: NewMemory): Promise<Memory>;
  /** One transaction: all or nothing. */
  saveMany(memories: NewMemory[]): Promise<Memory[]>;
  get(id: string, namespace?: string): Promise<Memory | null>;
  delete(id: string, namespace?: string): Promise<boolean>;
  search(query: string, options?: SearchOptions): Promise<SearchResult[]>;
  /** Newest first. */
  list(options?: ListOptions): Promise<Memory[]>;
  /** Newest first, a page at a time, with a keyset cursor (stable under concurrent inserts). */
  listPage(options?: ListPageOptions): Promise<MemoryPage>;
  /** How many memories a namespace holds (`count('ns')`), or how many match (`count({ namespace, where, since, until })`). */
  count(namespaceOrOptions?: string | CountOptions): Promise<number>;
  /** Changes a memory in place (one transaction); the new memory, or `null` when there is none. */
  update(id: string, patch: MemoryPatch, namespace?: string): Promise<Memory | null>;
  /** Deletes the memories matching every selector, in one transaction; returns how many. */
  deleteMany(options: DeleteManyOptions): Promise<number>;
  /** Deletes every expired memory (all namespaces); returns how many. */
  purgeExpired(): Promise<number>;
  /** Removes every memory of the namespace; returns how many. */
  clear(namespace: string): Promise<number>;
  getAllNamespaces(): Promise<string[]>;
  getAllMemories(namespace: string): Promise<Memory[]>;
  getTableStats(): Promise<TableStats>;
  close(): Promise<void>;
}
