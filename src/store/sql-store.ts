/**
 * The template every built-in store runs on: it validates input, applies the
 * defaults (namespace `'default'`, limit 5, UUID v7 ids, the time of saving),
 * parses search queries once, calls the dialect's repository and turns driver
 * errors into AIMemo errors. Dialects never validate, so both backends refuse
 * exactly the same input with exactly the same error.
 */
import { ReadOnlyError, StoreClosedError, type SchemaTooNewError } from '../errors';
import { newerSchemaMessage, tooNewError, type SchemaNewerInfo, type SchemaStatus } from '../migrate/schema-version';
import { parseQuery } from '../search/query';
import type { ListOptions, Memory, MemoryStore, NewMemory, SearchOptions, SearchResult, TableStats } from '../types';
import { uuidv7 } from '../uuid';
import {
  DEFAULT_SEARCH_LIMIT,
  describe,
  LIMITS,
  validateId,
  validateLimit,
  validateMode,
  validateNamespace,
  validateNewMemory,
  validateOffset,
  validateOptions,
  validateQuery,
  validateTags,
  type CheckedMemory,
} from '../validate';
import { ValidationError } from '../errors';
import type { MemoryRepository, OptimizeStep } from './repository';
import { searchAll, searchAny } from './search';

export type { OptimizeStep } from './repository';

/** What {@link SqlStore.optimize} returns: each step run, with its duration. */
export interface OptimizeResult {
  dialect: 'sqlite' | 'postgres';
  steps: OptimizeStep[];
}

/** Largest batch `iterate` reads at once. */
const MAX_BATCH = 100_000;

/** Turns a driver error into an AIMemo error, or returns it unchanged when unknown. */
export type ErrorMapper = (error: unknown) => unknown;

/** The keys each method's options may hold (anything else is refused: see `validateOptions`). */
const SEARCH_OPTIONS = ['namespace', 'limit', 'tags', 'mode'] as const;
const LIST_OPTIONS = ['namespace', 'limit', 'offset', 'tags'] as const;

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

  async get(id: string, namespace?: string): Promise<Memory | null> {
    const key = validateId(id);
    const ns = validateNamespace(namespace);
    return this.run(() => this.repository.get(ns, key));
  }

  async delete(id: string, namespace?: string): Promise<boolean> {
    const key = validateId(id);
    const ns = validateNamespace(namespace);
    return this.write('delete', () => this.repository.remove(ns, key));
  }

  async search(query: string, options?: SearchOptions): Promise<SearchResult[]> {
    const text = validateQuery(query);
    const opts = validateOptions(options, SEARCH_OPTIONS);
    const namespace = validateNamespace(opts.namespace, 'options.namespace');
    const limit = validateLimit(opts.limit, 'options.limit', DEFAULT_SEARCH_LIMIT, LIMITS.searchLimit)!;
    const tags = validateTags(opts.tags, 'options.tags');
    const mode = validateMode(opts.mode, 'options.mode');
    const tree = parseQuery(text, mode);
    if (!tree) return this.run(async () => []);
    const params = { namespace, limit, tags, mode };
    return this.run(() => (mode === 'all' ? searchAll(this.repository, tree, params) : searchAny(this.repository, tree, params)));
  }

  async list(options?: ListOptions): Promise<Memory[]> {
    const opts = validateOptions(options, LIST_OPTIONS);
    const namespace = validateNamespace(opts.namespace, 'options.namespace');
    const limit = validateLimit(opts.limit, 'options.limit', undefined);
    const offset = validateOffset(opts.offset, 'options.offset');
    const tags = validateTags(opts.tags, 'options.tags');
    return this.run(() => this.repository.page({ namespace, limit, offset, tags }));
  }

  async count(namespace?: string): Promise<number> {
    const ns = validateNamespace(namespace);
    return this.run(() => this.repository.count(ns));
  }

  async clear(namespace: string): Promise<number> {
    if (namespace === undefined) throw new ValidationError('namespace', 'is required: clear removes one namespace at a time');
    const ns = validateNamespace(namespace);
    return this.write('clear', () => this.repository.clear(ns));
  }

  async getAllNamespaces(): Promise<string[]> {
    return this.run(() => this.repository.namespaces());
  }

  async getAllMemories(namespace: string): Promise<Memory[]> {
    if (namespace === undefined) throw new ValidationError('namespace', 'is required');
    const ns = validateNamespace(namespace);
    return this.run(() => this.repository.page({ namespace: ns, limit: undefined, offset: 0, tags: [] }));
  }

  async getTableStats(): Promise<TableStats> {
    return this.run(() => this.repository.stats());
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
      const batch = await this.run(() => this.repository.scan(ns, after, batchSize));
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
    const found = await this.run(() => this.repository.getMany(ns, [...new Set(keys)]));
    const byId = new Map(found.map((m) => [m.id, m]));
    return keys.flatMap((id) => byId.get(id) ?? []);
  }

  /** Every namespace with how many memories it holds, in namespace order (one query). */
  async countByNamespace(): Promise<{ namespace: string; count: number }[]> {
    return this.run(() => this.repository.namespaceCounts());
  }

  /**
   * Routine maintenance, safe while the application keeps reading and writing.
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
    const steps = await this.write('optimize', () => this.repository.optimize({ vacuum }));
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

  /** Fills in the generated id and the time of saving. */
  private complete(checked: CheckedMemory[]): Memory[] {
    const now = Date.now();
    return checked.map((m) => ({
      id: m.id ?? uuidv7(now),
      content: m.content,
      metadata: m.metadata,
      tags: m.tags,
      namespace: m.namespace,
      timestamp: m.timestamp ?? new Date(now),
    }));
  }
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
