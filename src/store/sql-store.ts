/**
 * The template every built-in store runs on: it validates input, applies the
 * defaults (namespace `'default'`, limit 5, UUID v7 ids, the time of saving),
 * parses search queries once, calls the dialect's repository and turns driver
 * errors into AIMemo errors. Dialects never validate, so both backends refuse
 * exactly the same input with exactly the same error.
 */
import { ReadOnlyError, StoreClosedError, ValidationError, type SchemaTooNewError } from '../errors';
import { validateFilter, type CheckedFilter } from '../filter/options';
import { newerSchemaMessage, tooNewError, type SchemaNewerInfo, type SchemaStatus } from '../migrate/schema-version';
import { parseQuery } from '../search/query';
import type {
  CountOptions,
  DeleteManyOptions,
  ListOptions,
  ListPageOptions,
  Memory,
  MemoryPage,
  MemoryPatch,
  MemoryStore,
  NewMemory,
  PrefixOption,
  SearchOptions,
  SearchResult,
  TableStats,
} from '../types';
import { uuidv7 } from '../uuid';
import {
  DEFAULT_SEARCH_LIMIT,
  describe,
  isPlainObject,
  LIMITS,
  validateId,
  validateLimit,
  validateMode,
  validateNamespace,
  validateNewMemory,
  validateOffset,
  validateOptions,
  validateQuery,
  type CheckedMemory,
} from '../validate';
import { decodeCursor, encodeCursor } from './cursor';
import { validateMetadataIndex, type MetadataIndex, type MetadataIndexInfo, type MetadataIndexResult } from './metadata-index';
import { applyPatch, validatePatch } from './patch';
import type { MemoryRepository, OptimizeStep, SearchParams } from './repository';
import { searchAll, searchAny } from './search';
import { namespacesUnder, searchAcross } from './prefix';
import { validateNamespacePrefix } from '../namespaces/path';

export type { OptimizeStep } from './repository';

/** What {@link SqlStore.optimize} returns: each step run, with its duration. */
export interface OptimizeResult {
  dialect: 'sqlite' | 'postgres';
  steps: OptimizeStep[];
}

/** Largest batch `iterate` reads at once. */
const MAX_BATCH = 100_000;

/** Expired memories deleted per transaction by `purgeExpired` (writers get their turn between batches). */
const PURGE_BATCH = 5000;

/** Memories per `listPage` when no limit is given. */
const DEFAULT_PAGE = 100;

/** Turns a driver error into an AIMemo error, or returns it unchanged when unknown. */
export type ErrorMapper = (error: unknown) => unknown;

/** The keys each method's options may hold (anything else is refused: see `validateOptions`). */
const FILTER_OPTIONS = ['tags', 'where', 'since', 'until'] as const;
const SEARCH_OPTIONS = ['namespace', 'namespacePrefix', 'limit', 'offset', 'mode', ...FILTER_OPTIONS] as const;
const LIST_OPTIONS = ['namespace', 'namespacePrefix', 'limit', 'offset', ...FILTER_OPTIONS] as const;
const LIST_PAGE_OPTIONS = ['namespace', 'limit', 'cursor', ...FILTER_OPTIONS] as const;
const COUNT_OPTIONS = ['namespace', 'namespacePrefix', ...FILTER_OPTIONS] as const;
const DELETE_MANY_OPTIONS = ['namespace', 'ids', ...FILTER_OPTIONS] as const;

/** Options the shared template takes from either store. */
export interface SqlStoreOptions {
  /** See `SQLiteStoreOptions.onSchemaNewer`. */
  onSchemaNewer?: (info: SchemaNewerInfo) => void;
}

export abstract class SqlStore implements MemoryStore {
  #ready: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Calls that have started and not yet settled: `close()` waits for them. */
  readonly #inFlight = new Set<Promise<unknown>>();

  #reported = false;
  /** Set when the database holds a newer migration marked incompatible with this version: writes get it. */
  #tooNew: SchemaTooNewError | undefined;

  protected constructor(
    protected readonly repository: MemoryRepository,
    private readonly mapError: ErrorMapper,
    private readonly storeOptions: SqlStoreOptions = {},
  ) {}

  /**
   * Runs `fn` once the schema is ready, mapping driver errors. A call that
   * starts after `close()` fails with StoreClosedError; one already running
   * keeps its connection until it settles (`close()` waits for it), so no
   * call ever meets a torn-down connection.
   */
  protected run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreClosedError(this.constructor.name));
    const call = this.#run(fn);
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    return call;
  }

  async #run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      // A failed start (server down, say) is retried by the next call.
      this.#ready ??= this.repository.init().then(
        (status) => this.schemaChecked(status ?? undefined),
        (e) => {
          this.#ready = undefined;
          throw e;
        },
      );
      await this.#ready;
      return await fn();
    } catch (error) {
      throw this.mapError(error);
    }
  }

  /**
   * Runs a write: refused with ReadOnlyError on a read-only store, and with
   * SchemaTooNewError when a newer version of aimemo marked the schema
   * incompatible with this one.
   */
  protected async write<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.repository.readonly && !this.#closed) throw new ReadOnlyError(this.constructor.name, operation);
    return this.run(() => {
      if (this.#tooNew) throw this.#tooNew;
      return fn();
    });
  }

  /** Reports a newer schema once (the `onSchemaNewer` hook, or a process warning) and remembers whether writes must stop. */
  private schemaChecked(status: SchemaStatus | undefined): void {
    this.#tooNew = tooNewError(status);
    if (!status || status.newer.length === 0 || this.#reported) return;
    this.#reported = true;
    if (this.storeOptions.onSchemaNewer) this.storeOptions.onSchemaNewer(status);
    else process.emitWarning(`aimemo: ${newerSchemaMessage(status)}`, { type: 'AIMemoWarning', code: 'AIMEMO_SCHEMA_NEWER' });
  }

  /** Which SQL dialect the store speaks. */
  get dialect(): 'sqlite' | 'postgres' {
    return this.repository.dialect;
  }

  /**
   * Creates or upgrades the schema now instead of on first use (a no-op when
   * done). Useful at application start, to fail early.
   */
  async ready(): Promise<void> {
    await this.run(async () => undefined);
  }

  async save(memory: NewMemory): Promise<Memory> {
    const [row] = this.complete([validateNewMemory(memory)]);
    await this.write('save', () => this.repository.upsertMany([row]));
    return row;
  }

  async saveMany(memories: NewMemory[]): Promise<Memory[]> {
    if (!Array.isArray(memories)) throw new ValidationError('memories', 'must be an array of memories');
    const rows = this.complete(memories.map((m, i) => validateNewMemory(m, `memories[${i}].`)));
    if (rows.length === 0) return [];
    await this.write('saveMany', () => this.repository.upsertMany(dedupe(rows)));
    return rows;
  }

  /** The memory, or null when there is none (or it has expired). */
  async get(id: string, namespace?: string): Promise<Memory | null> {
    const key = validateId(id);
    const ns = validateNamespace(namespace);
    return this.run(() => this.repository.get(ns, key, new Date()));
  }

  /** Deletes one memory; true when it was there (an expired one is deleted too, and counts as absent). */
  async delete(id: string, namespace?: string): Promise<boolean> {
    const key = validateId(id);
    const ns = validateNamespace(namespace);
    return this.write('delete', () => this.repository.remove(ns, key, new Date()));
  }

  /**
   * Ranked full-text search. The filter options (`tags`, `where`, `since`,
   * `until`) narrow which memories can match; `offset` skips the best
   * results (a next page; `offset + limit` at most 10,000).
   *
   * @example
   * await store.search('deadline', { namespace: 'u1', where: { priority: { $gte: 2 } }, since: '2026-01-01', limit: 10, offset: 10 });
   */
  async search(query: string, options?: SearchOptions): Promise<SearchResult[]> {
    const text = validateQuery(query);
    const opts = validateOptions(options, SEARCH_OPTIONS) as SearchOptions;
    const prefix = prefixOf(opts);
    const namespace = validateNamespace(opts.namespace, 'options.namespace');
    const limit = validateLimit(opts.limit, 'options.limit', DEFAULT_SEARCH_LIMIT, LIMITS.searchLimit)!;
    const offset = validateOffset(opts.offset, 'options.offset');
    if (offset + limit > LIMITS.searchLimit) throw new ValidationError('options.offset', `plus options.limit must be at most ${LIMITS.searchLimit}`, `${offset + limit}`);
    const filter = validateFilter(opts);
    const mode = validateMode(opts.mode, 'options.mode');
    const tree = parseQuery(text, mode);
    if (!tree) return this.run(async () => []);
    const now = new Date();
    if (prefix) {
      return this.run(async () => {
        const namespaces = await namespacesUnder(this.repository, prefix, LIMITS.prefixSearchNamespaces, 'options.namespacePrefix', 'a search', now);
        return (await searchAcross(this.repository, tree, { limit: offset + limit, mode, ...filter, now }, namespaces)).slice(offset);
      });
    }
    const params: SearchParams = { namespace, limit: offset + limit, mode, ...filter, now };
    return this.run(async () => (await (mode === 'all' ? searchAll(this.repository, tree, params) : searchAny(this.repository, tree, params))).slice(offset));
  }

  /** Newest first (ties: id descending), narrowed by the filter options. */
  async list(options?: ListOptions): Promise<Memory[]> {
    const opts = validateOptions(options, LIST_OPTIONS) as ListOptions;
    const prefix = prefixOf(opts);
    const namespace = validateNamespace(opts.namespace, 'options.namespace');
    const limit = validateLimit(opts.limit, 'options.limit', undefined);
    const offset = validateOffset(opts.offset, 'options.offset');
    const filter = validateFilter(opts);
    const now = new Date();
    if (prefix) {
      return this.run(async () => {
        const namespaces = await namespacesUnder(this.repository, prefix, LIMITS.prefixNamespaces, 'options.namespacePrefix', 'a list', now);
        return this.repository.pageAcross(namespaces, { limit, offset, ...filter, now });
      });
    }
    return this.run(() => this.repository.page({ namespace, limit, offset, ...filter, now }));
  }

  /**
   * The list (newest first, ties by id descending) a page at a time. The
   * cursor is the position after the page's last memory (keyset paging, no
   * OFFSET): every page costs the same however deep, and a memory saved
   * meanwhile never shifts a page (a newer one is not seen by pages already
   * past its place, an older one is). Pass the same filter options with the
   * cursor; `cursor` is null after the last page.
   *
   * @example
   * let page = await store.listPage({ namespace: 'u1', limit: 100, where: { source: 'chat' } });
   * while (page.cursor) page = await store.listPage({ namespace: 'u1', limit: 100, where: { source: 'chat' }, cursor: page.cursor });
   * @throws ValidationError for bad options or a cursor that listPage did not return.
   */
  async listPage(options?: ListPageOptions): Promise<MemoryPage> {
    const opts = validateOptions(options, LIST_PAGE_OPTIONS) as ListPageOptions;
    const namespace = validateNamespace(opts.namespace, 'options.namespace');
    const limit = validateLimit(opts.limit, 'options.limit', DEFAULT_PAGE, LIMITS.pageLimit)!;
    const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, 'options.cursor');
    const filter = validateFilter(opts);
    const rows = await this.run(() => this.repository.page({ namespace, limit: limit + 1, offset: 0, after, ...filter, now: new Date() }));
    const memories = rows.slice(0, limit);
    return { memories, cursor: rows.length > limit ? encodeCursor(memories[limit - 1]) : null };
  }

  /**
   * How many memories a namespace holds (`count('u1')`, `count()` for
   * `'default'`), or how many match (`count({ namespace, where, since, until, tags })`).
   */
  async count(namespaceOrOptions?: string | CountOptions): Promise<number> {
    if (namespaceOrOptions === undefined || typeof namespaceOrOptions === 'string' || !isPlainObject(namespaceOrOptions)) {
      const ns = validateNamespace(namespaceOrOptions);
      return this.run(() => this.repository.count({ namespace: ns, tags: [], now: new Date() }));
    }
    const opts = validateOptions(namespaceOrOptions, COUNT_OPTIONS) as CountOptions;
    const prefix = prefixOf(opts);
    const namespace = validateNamespace(opts.namespace, 'options.namespace');
    const filter = validateFilter(opts);
    const now = new Date();
    if (prefix) {
      return this.run(async () => {
        const namespaces = await namespacesUnder(this.repository, prefix, LIMITS.prefixNamespaces, 'options.namespacePrefix', 'a count', now);
        return this.repository.countAcross(namespaces, { ...filter, now });
      });
    }
    return this.run(() => this.repository.count({ namespace, ...filter, now }));
  }

  /**
   * Changes a memory in place, in one transaction: `content`, `tags`,
   * `metadata` (merged: keys given are set, `null` deletes one), `timestamp`
   * (kept unless given; `'now'` refreshes it), `expiresAt`/`ttl`. The
   * full-text index follows in the same transaction. Returns the new memory,
   * or null when there is none (or it has expired); nothing is written then,
   * nor when the patch is refused.
   *
   * @example
   * await store.update(id, { metadata: { status: 'done', draft: null }, timestamp: 'now' }, 'u1');
   * @throws ValidationError for a bad id, namespace or patch (also when the merged metadata exceeds 64 KiB).
   */
  async update(id: string, patch: MemoryPatch, namespace?: string): Promise<Memory | null> {
    const key = validateId(id);
    const checked = validatePatch(patch);
    const ns = validateNamespace(namespace);
    return this.write('update', () => {
      const now = new Date();
      return this.repository.update(ns, key, now, (current) => applyPatch(current, checked, now));
    });
  }

  /**
   * Deletes the memories of one namespace that match every selector given
   * (`ids`, `where`, `since`, `until`, `tags`), in one transaction; returns
   * how many. At least one selector is required: removing a whole namespace
   * is `clear`.
   *
   * @example
   * await store.deleteMany({ namespace: 'u1', where: { project: 'x' } });   // "forget everything about project X"
   * await store.deleteMany({ namespace: 'u1', until: '2025-01-01' });
   * @throws ValidationError for bad options or no selector.
   */
  async deleteMany(options: DeleteManyOptions): Promise<number> {
    if (!isPlainObject(options)) throw new ValidationError('options', 'must be an object with a namespace and ids, where, since, until or tags', describe(options));
    validateOptions(options, DELETE_MANY_OPTIONS); // a misspelt namespace would delete in 'default'
    const namespace = validateNamespace(options.namespace, 'options.namespace');
    const filter = validateFilter(options);
    const ids = validateIds(options.ids, 'options.ids');
    if (ids === undefined && !selects(filter)) {
      throw new ValidationError('options', 'must select memories: give ids, where, since, until or tags (to remove a whole namespace, use clear)');
    }
    if (ids?.length === 0) return this.write('deleteMany', async () => 0);
    return this.write('deleteMany', () => this.repository.deleteMany({ namespace, ...filter, ids, now: new Date() }));
  }

  /**
   * Deletes every expired memory, in every namespace, with its full-text
   * entries; returns how many. Runs in batches (writers wait at most one
   * batch). `optimize()` runs it too. Expired memories are already invisible
   * to every read: purging frees their space and removes their text.
   */
  async purgeExpired(): Promise<number> {
    return this.write('purgeExpired', () => this.repository.purgeExpired(new Date(), PURGE_BATCH));
  }

  async clear(namespace: string): Promise<number> {
    if (namespace === undefined) throw new ValidationError('namespace', 'is required: clear removes one namespace at a time');
    const ns = validateNamespace(namespace);
    return this.write('clear', () => this.repository.clear(ns, new Date()));
  }

  async getAllNamespaces(options?: PrefixOption): Promise<string[]> {
    const prefix = prefixOf(validateOptions(options, ['namespacePrefix']) as PrefixOption);
    const now = new Date();
    if (prefix) return this.run(() => namespacesUnder(this.repository, prefix, undefined, 'options.namespacePrefix', 'a listing', now));
    return this.run(() => this.repository.namespaces(now));
  }

  async getAllMemories(namespace: string): Promise<Memory[]> {
    if (namespace === undefined) throw new ValidationError('namespace', 'is required');
    const ns = validateNamespace(namespace);
    return this.run(() => this.repository.page({ namespace: ns, limit: undefined, offset: 0, tags: [], now: new Date() }));
  }

  async getTableStats(): Promise<TableStats> {
    return this.run(() => this.repository.stats(new Date()));
  }

  /**
   * Reads a whole namespace in batches of at most `batchSize` memories, in id
   * order, one query per batch (keyset pagination on the `(namespace, id)`
   * index): memory stays flat however large the namespace, and every batch
   * costs the same. For small namespaces `getAllMemories` is simpler.
   *
   * Not a snapshot: on a live store, memories saved or deleted while iterating
   * may or may not be seen, but none is returned twice.
   *
   * @defaultValue `batchSize` 1000
   * @throws ValidationError for a bad namespace or a batch size outside 1-100,000.
   * @example
   * for await (const batch of store.iterate('user_123', { batchSize: 5000 })) {
   *   for (const memory of batch) console.log(memory.id);
   * }
   */
  async *iterate(namespace: string, options?: { batchSize?: number }): AsyncGenerator<Memory[], void, undefined> {
    if (namespace === undefined) throw new ValidationError('namespace', 'is required');
    const ns = validateNamespace(namespace);
    const batchSize = validateLimit(validateOptions(options, ['batchSize']).batchSize, 'options.batchSize', 1000, MAX_BATCH)!;
    let after: string | undefined;
    for (;;) {
      const batch = await this.run(() => this.repository.scan(ns, after, batchSize, new Date()));
      if (batch.length > 0) yield batch;
      if (batch.length < batchSize) return;
      after = batch[batch.length - 1].id;
    }
  }

  /**
   * The memories of one namespace with these ids, in the order of `ids`;
   * ids that are not there are left out.
   * @throws ValidationError for a bad id or namespace.
   */
  async getMany(ids: string[], namespace?: string): Promise<Memory[]> {
    if (!Array.isArray(ids)) throw new ValidationError('ids', 'must be an array of ids', describe(ids));
    const keys = ids.map((id, i) => validateId(id, `ids[${i}]`));
    const ns = validateNamespace(namespace);
    if (keys.length === 0) return [];
    const found = await this.run(() => this.repository.getMany(ns, [...new Set(keys)], new Date()));
    const byId = new Map(found.map((m) => [m.id, m]));
    return keys.flatMap((id) => byId.get(id) ?? []);
  }

  /** Every namespace with how many memories it holds, in namespace order (one query). */
  async countByNamespace(): Promise<{ namespace: string; count: number }[]> {
    return this.run(() => this.repository.namespaceCounts(new Date()));
  }

  /**
   * Routine maintenance, safe while the application keeps reading and writing.
   * First, on both: expired memories are purged (see `purgeExpired`).
   * SQLite: FTS5 `optimize`, `PRAGMA optimize`, a WAL checkpoint (`TRUNCATE`).
   * PostgreSQL: `ANALYZE`. With `vacuum: true` also `VACUUM` (SQLite: rewrites
   * the file and blocks writers while it runs; PostgreSQL: `VACUUM (ANALYZE)`,
   * which blocks nobody).
   *
   * @example
   * const { steps } = await store.optimize();
   * for (const s of steps) console.log(`${s.step}: ${s.ms} ms`);
   */
  async optimize(options?: { vacuum?: boolean }): Promise<OptimizeResult> {
    const vacuum = validateOptions(options, ['vacuum']).vacuum ?? false;
    if (typeof vacuum !== 'boolean') throw new ValidationError('options.vacuum', 'must be a boolean', describe(vacuum));
    const steps = await this.write('optimize', () => this.repository.optimize({ vacuum, now: new Date(), purgeBatch: PURGE_BATCH }));
    return { dialect: this.repository.dialect, steps };
  }

  /**
   * Indexes for search every memory waiting in the search index's queue:
   * after the upgrade that created the index every existing memory waits
   * there (a namespace is otherwise indexed before its first search), and on
   * SQLite so do memories an older version wrote. `aimemo migrate` runs it.
   * Each batch is its own transaction; readers never wait.
   *
   * @returns how many memories it indexed.
   * @example
   * await store.indexQueued((done) => console.log(`${done} indexed`));
   */
  async indexQueued(onProgress?: (done: number) => void): Promise<number> {
    return this.write('indexQueued', () => this.repository.indexQueued(onProgress));
  }

  /**
   * Declares an expression index for range filters on one metadata path
   * (`{ priority: { $gte: 2 } }`, `{ 'due': { $lt: '2026-02-01' } }`): an index
   * over `(namespace, the value at the path)` holding the rows whose value
   * there is of `type`. Idempotent: call it at start-up, as any index. The
   * index is not part of AIMemo's migrations (drizzle-kit never sees it),
   * and stores pick it up within a minute (this one at once).
   *
   * PostgreSQL builds it `CONCURRENTLY` (reads and writes go on; a build that
   * failed is dropped and started again). SQLite builds it in one statement,
   * during which writers wait (about 1 s per million memories).
   *
   * @example
   * await store.createMetadataIndex({ path: 'priority', type: 'number' });
   * await store.list({ namespace: 'u1', where: { priority: { $gte: 2, $lt: 5 } } });
   * @throws ValidationError for a path of other characters than letters, digits, `_`, `-` and dots, or longer than 40.
   */
  async createMetadataIndex(index: MetadataIndex): Promise<MetadataIndexResult> {
    const { type, path, name } = validateMetadataIndex(index);
    const started = performance.now();
    const created = await this.write('createMetadataIndex', () => this.repository.createMetadataIndex(type, path, name));
    return { name, type, path: path.join('.'), created, ms: Math.round(performance.now() - started) };
  }

  /** Drops an index `createMetadataIndex` made; false when there was none. */
  async dropMetadataIndex(index: MetadataIndex): Promise<boolean> {
    const { name } = validateMetadataIndex(index);
    return this.write('dropMetadataIndex', () => this.repository.dropMetadataIndex(name));
  }

  /** The metadata indexes the database holds (made by `createMetadataIndex`, by this process or another). */
  async metadataIndexes(): Promise<MetadataIndexInfo[]> {
    const found = await this.run(() => this.repository.metadataIndexes());
    return found.map(({ name, type, path }) => ({ name, type, path }));
  }

  /**
   * Releases what the store opened; connections the app passed in stay open.
   * Calls already running finish first (each within the store's timeouts);
   * calls made after `close()` fail with StoreClosedError. Idempotent: every
   * call returns the same promise.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    const ready = this.#ready;
    this.#ready = undefined;
    if (ready) await ready.catch(() => undefined); // let a start in flight settle before closing
    try {
      await this.repository.close();
    } catch (error) {
      throw this.mapError(error);
    }
  }

  /** Fills in the generated id, the time of saving and the expiry a `ttl` gives. */
  private complete(checked: CheckedMemory[]): Memory[] {
    const now = Date.now();
    return checked.map((m) => {
      const memory: Memory = {
        id: m.id ?? uuidv7(now),
        content: m.content,
        metadata: m.metadata,
        tags: m.tags,
        namespace: m.namespace,
        timestamp: m.timestamp ?? new Date(now),
      };
      const expiresAt = m.ttl !== undefined ? new Date(now + m.ttl * 1000) : m.expiresAt;
      if (expiresAt) memory.expiresAt = expiresAt;
      return memory;
    });
  }
}

/** Whether a checked filter selects anything narrower than a whole namespace. */
function selects(filter: CheckedFilter): boolean {
  return filter.where !== undefined || filter.since !== undefined || filter.until !== undefined || filter.tags.length > 0;
}

/** An optional array of ids (at most `LIMITS.deleteIds`), without repeats. */
function validateIds(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of ids', describe(value));
  if (value.length > LIMITS.deleteIds) throw new ValidationError(field, `must hold at most ${LIMITS.deleteIds} ids`, `${value.length}`);
  return [...new Set(value.map((id, i) => validateId(id, `${field}[${i}]`)))];
}

/** The checked `namespacePrefix` of read options, or undefined; refused beside `namespace`. */
function prefixOf(options: PrefixOption & { namespace?: string }): string[] | undefined {
  if (options.namespacePrefix === undefined) return undefined;
  if (options.namespace !== undefined) {
    throw new ValidationError('options.namespacePrefix', 'cannot be given with options.namespace: a read sees one namespace or the namespaces under a prefix');
  }
  return validateNamespacePrefix(options.namespacePrefix, 'options.namespacePrefix');
}

/** Within one batch the last memory with a given (namespace, id) wins, as if saved one by one. */
function dedupe(rows: Memory[]): Memory[] {
  const byKey = new Map<string, Memory>();
  for (const row of rows) {
    const key = JSON.stringify([row.namespace, row.id]);
    byKey.delete(key);
    byKey.set(key, row);
  }
  return byKey.size === rows.length ? rows : [...byKey.values()];
}
