/**
 * The facade most apps use: one namespace, add and search, and prompt-ready context.
 */
import { parseQuery } from './search/query';
import { SQLiteStore } from './store/sqlite/sqlite-store';
import type { DeleteManyOptions, Json, ListOptions, Memory, MemoryPatch, MemoryStore, NewMemory, SearchOptions, SearchResult } from './types';
import { ValidationError } from './errors';
import { describe, validateLimit, validateNamespace, validateOptions, validateQuery } from './validate';

/** Options of {@link AIMemo}. */
export interface AIMemoOptions {
  /**
   * Where memories live.
   * @defaultValue `new SQLiteStore(process.env.AIMEMO_DB_PATH ?? './aimemo.db')`
   */
  store?: MemoryStore;
  /** The namespace every call uses (one user, one agent, one session). @defaultValue `'default'` */
  namespace?: string;
}

/** Options of {@link AIMemo.add}. */
export interface AddOptions {
  metadata?: Record<string, Json>;
  tags?: string[];
  id?: string;
  timestamp?: Date;
  /** When the memory expires (`null`: never). */
  expiresAt?: Date | null;
  /** Seconds from now until the memory expires ("keep scratch notes for a day": 86400). */
  ttl?: number;
}

/** Options of {@link AIMemo.getContext}. */
export interface ContextOptions {
  /** Most memories to include. @defaultValue 5 */
  limit?: number;
  /** Most characters to return; memories that do not fit whole are left out. @defaultValue 2000 */
  maxChars?: number;
}

/**
 * Memory for one agent or user, with sensible defaults.
 *
 * @example
 * const memo = new AIMemo();                       // ./aimemo.db, created and migrated on first use
 * await memo.add('User is building a FastAPI project', { tags: ['project'] });
 * await memo.search('fastapi');                    // ranked, limit 5
 * await memo.getContext('How do I add authentication?');
 * await memo.close();
 */
export class AIMemo {
  /** The store behind this facade. */
  readonly store: MemoryStore;
  /** The namespace every call uses. */
  readonly namespace: string;

  constructor(options?: AIMemoOptions) {
    const opts = validateOptions(options, ['store', 'namespace']);
    this.namespace = validateNamespace(opts.namespace, 'options.namespace');
    const store = opts.store as MemoryStore | undefined;
    if (store !== undefined && (typeof store !== 'object' || store === null || typeof store.search !== 'function' || typeof store.save !== 'function')) {
      throw new ValidationError('options.store', 'must be a MemoryStore (an SQLiteStore, a PostgresStore or a custom store)', describe(store));
    }
    this.store = store ?? new SQLiteStore(process.env.AIMEMO_DB_PATH || './aimemo.db');
  }

  /** Saves a memory in this namespace. @throws ValidationError for bad input (nothing is written). */
  async add(content: string, options?: AddOptions): Promise<Memory> {
    const opts = validateOptions(options, ['metadata', 'tags', 'id', 'timestamp', 'expiresAt', 'ttl']);
    return this.store.save({ ...opts, content, namespace: this.namespace } as NewMemory);
  }

  /** Full-text search in this namespace; see docs/search.md for the syntax. */
  async search(query: string, options?: Omit<SearchOptions, 'namespace'>): Promise<SearchResult[]> {
    const opts = validateOptions(options, ['limit', 'offset', 'mode', 'tags', 'where', 'since', 'until']);
    return this.store.search(query, { ...opts, namespace: this.namespace } as SearchOptions);
  }

  /** One memory by id, or null. */
  get(id: string): Promise<Memory | null> {
    return this.store.get(id, this.namespace);
  }

  /** Deletes one memory; true when it existed. */
  delete(id: string): Promise<boolean> {
    return this.store.delete(id, this.namespace);
  }

  /** Newest first; `where`, `since`, `until` and `tags` narrow it. */
  async list(options?: Omit<ListOptions, 'namespace'>): Promise<Memory[]> {
    const opts = validateOptions(options, ['limit', 'offset', 'tags', 'where', 'since', 'until']);
    return this.store.list({ ...opts, namespace: this.namespace } as ListOptions);
  }

  /** Changes a memory in place (see `MemoryStore.update`); null when there is none. */
  update(id: string, patch: MemoryPatch): Promise<Memory | null> {
    return this.store.update(id, patch, this.namespace);
  }

  /** Deletes this namespace's memories matching every selector given; returns how many (see `MemoryStore.deleteMany`). */
  async deleteMany(options: Omit<DeleteManyOptions, 'namespace'>): Promise<number> {
    if (options === undefined) throw new ValidationError('options', 'must be an object with ids, where, since, until or tags');
    const opts = validateOptions(options, ['ids', 'tags', 'where', 'since', 'until']);
    return this.store.deleteMany({ ...opts, namespace: this.namespace } as DeleteManyOptions);
  }

  /**
   * The memories most relevant to what a user typed (natural language,
   * punctuation and all), as a block for an LLM prompt: best match first, one
   * per line, each with its date. Searches in mode `'any'`; `''` when nothing
   * matches.
   *
   * @example
   * await memo.getContext('How do I add authentication?');
   * // "Relevant memories:\n- [2026-11-02] User is building a FastAPI project\n…"
   */
  async getContext(query: string, options?: ContextOptions): Promise<string> {
    validateQuery(query);
    const opts = validateOptions(options, ['limit', 'maxChars']);
    const limit = validateLimit(opts.limit, 'options.limit', 5)!;
    const maxChars = validateLimit(opts.maxChars, 'options.maxChars', 2000)!;
    if (!parseQuery(query, 'any')) return '';
    const hits = await this.search(query, { limit, mode: 'any' });
    const header = 'Relevant memories:';
    const lines: string[] = [];
    let used = header.length;
    for (const hit of hits) {
      const line = `- [${hit.timestamp.toISOString().slice(0, 10)}] ${hit.content.replace(/\s+/g, ' ').trim()}`;
      if (used + 1 + line.length > maxChars) continue;
      lines.push(line);
      used += 1 + line.length;
    }
    return lines.length ? [header, ...lines].join('\n') : '';
  }

  /** Removes every memory of this namespace (or of `namespace`); returns how many. */
  clear(namespace?: string): Promise<number> {
    return this.store.clear(namespace ?? this.namespace);
  }

  /** Closes the store. */
  close(): Promise<void> {
    return this.store.close();
  }
}
