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
}

/** What `save` accepts: everything but `content` is optional. */
export type NewMemory = Partial<Memory> & { content: string };

/** A search hit. `score` is higher for better matches, comparable within one result list only. */
export interface SearchResult extends Memory {
  score: number;
}

/**
 * Reads across a namespace path prefix (opt-in): every namespace whose path
 * (`namespacePath(['users', '123'])`) starts with these labels. Without it a
 * read sees one namespace, as always. Give `namespace` or `namespacePrefix`,
 * not both. See docs/namespaces.md.
 */
export interface PrefixOption {
  /**
   * Labels of a namespace path; `[]` is every path namespace. Plain
   * namespaces (`'user_123'`) are never under a prefix.
   */
  namespacePrefix?: string[];
}

/** Options of {@link MemoryStore.search}. */
export interface SearchOptions extends PrefixOption {
  /** @defaultValue `'default'` */
  namespace?: string;
  /** @defaultValue 5 */
  limit?: number;
  /** Only memories carrying all of these tags. */
  tags?: string[];
  /**
   * `'all'`: every term must match (boolean semantics).
   * `'any'`: memories matching any term, ranked by how well they match.
   * @defaultValue `'all'`
   */
  mode?: 'all' | 'any';
}

/** Options of {@link MemoryStore.list}. */
export interface ListOptions extends PrefixOption {
  /** @defaultValue `'default'` */
  namespace?: string;
  /** @defaultValue no limit */
  limit?: number;
  /** @defaultValue 0 */
  offset?: number;
  /** Only memories carrying all of these tags. */
  tags?: string[];
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
  count(namespace?: string): Promise<number>;
  /** Removes every memory of the namespace; returns how many. */
  clear(namespace: string): Promise<number>;
  /** Every namespace that holds memories (with `namespacePrefix`: those under it), in byte order. */
  getAllNamespaces(options?: PrefixOption): Promise<string[]>;
  getAllMemories(namespace: string): Promise<Memory[]>;
  getTableStats(): Promise<TableStats>;
  close(): Promise<void>;
}
