/**
 * LangGraph.js's `BaseStore` on an AIMemo {@link MemoryStore}
 * (docs/langgraph.md). An item is one memory:
 *
 * | item | memory |
 * | --- | --- |
 * | `namespace` (a tuple of labels) | `namespace`: `namespacePath(labels)` |
 * | `key` | `id` |
 * | `value` | `metadata.value` (the object, as given) |
 * | `createdAt` | `metadata.createdAt` (ISO 8601) |
 * | `updatedAt` | `timestamp` |
 * | the strings at the index fields | `content` (the searchable text) |
 *
 * A value with no text (`{ n: 3 }`, or `index: false`) is stored with
 * {@link NO_TEXT} as its content: a lone punctuation mark, which both
 * full-text indexes skip, so such an item is never a search hit and every
 * read returns it unchanged.
 */
import { BaseStore, InvalidNamespaceError } from '@langchain/langgraph-checkpoint';
import type { GetOperation, Item, ListNamespacesOperation, Operation, OperationResults, PutOperation, SearchItem, SearchOperation } from '@langchain/langgraph-checkpoint';
import { ValidationError } from '../errors';
import { namespacePath, parseNamespacePath, validateNamespacePrefix } from '../namespaces/path';
import type { Json, Memory, MemoryStore, NewMemory, Where } from '../types';
import { validateWhere } from '../filter/where';
import { filterToWhere } from './filter';
import { describe, LIMITS, validateId, validateMetadata, validateOffset } from '../validate';
import { listNamespaces } from './namespaces';
import { searchText } from './text';

/** The content of an item with no searchable text: a punctuation mark, which no full-text index keeps as a word. */
export const NO_TEXT = '-';

/** Options of {@link AIMemoStore}. */
export interface AIMemoStoreOptions {
  /** How values become searchable text. */
  index?: {
    /**
     * The fields whose strings are searched, in LangGraph's path syntax
     * (`'text'`, `'metadata.title'`, `'chapters[*].content'`), as
     * LangGraph's `index.fields`; `put(…, index)` overrides it per item.
     * @defaultValue `['$']`: every string in the value
     */
    fields?: string[];
  };
}

/** What the value of a memory's metadata holds for an item. */
interface StoredItem {
  value: Record<string, Json>;
  createdAt: string;
}

/** A LangGraph search or list page is at most this long (AIMemo's search limit). */
const MAX_PAGE = LIMITS.searchLimit;

const isGet = (op: Operation): op is GetOperation => 'key' in op && 'namespace' in op && !('value' in op);
const isPut = (op: Operation): op is PutOperation => 'key' in op && 'namespace' in op && 'value' in op;
const isSearch = (op: Operation): op is SearchOperation => 'namespacePrefix' in op;
const isList = (op: Operation): op is ListNamespacesOperation => 'matchConditions' in op || ('limit' in op && 'offset' in op && !('namespacePrefix' in op));

/**
 * A LangGraph.js store on AIMemo: `get`, `put`, `delete`, `search` (full-text
 * search ranked by BM25 across a namespace prefix, value filters) and
 * `listNamespaces`, on SQLite or PostgreSQL.
 *
 * @example
 * import { SQLiteStore } from 'aimemo';
 * import { AIMemoStore } from 'aimemo/langgraph';
 * const store = new AIMemoStore(new SQLiteStore('./memory.db'));
 * await store.put(['users', '123', 'memories'], 'm1', { text: 'Prefers dark mode' });
 * const hits = await store.search(['users', '123'], { query: 'dark mode' });
 * // graph.compile({ store })
 */
export class AIMemoStore extends BaseStore {
  readonly #fields: string[];

  /**
   * @param memoryStore - where items live; the app closes it (`stop()` leaves it open).
   * @throws ValidationError for index fields that are not an array of non-empty strings.
   */
  constructor(
    readonly memoryStore: MemoryStore,
    options: AIMemoStoreOptions = {},
  ) {
    super();
    if (!memoryStore || typeof memoryStore.search !== 'function') throw new ValidationError('memoryStore', 'must be an AIMemo MemoryStore (SQLiteStore, PostgresStore or your own)', describe(memoryStore));
    this.#fields = checkFields(options?.index?.fields ?? ['$'], 'options.index.fields');
  }

  /**
   * Runs the operations in order (reads see the writes before them). Every
   * operation is checked first: a bad one fails the batch before anything
   * is written. Consecutive writes go to the store together, puts in one
   * `saveMany` (one transaction).
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    if (!Array.isArray(operations)) throw new ValidationError('operations', 'must be an array of operations', describe(operations));
    const checked = operations.map((op, i) => checkOperation(op, `operations[${i}]`, this.#fields));
    const results: unknown[] = new Array(operations.length).fill(undefined);
    for (let i = 0; i < checked.length; ) {
      const op = checked[i];
      if (op.kind === 'write') {
        let end = i;
        while (end < checked.length && checked[end].kind === 'write') end += 1;
        await this.write(checked.slice(i, end) as CheckedWrite[]);
        i = end;
        continue;
      }
      results[i] = op.kind === 'get' ? await this.getItem(op) : op.kind === 'search' ? await this.searchItems(op) : await listNamespaces(this.memoryStore, op.op);
      i += 1;
    }
    return results as OperationResults<Op>;
  }

  private async getItem(op: CheckedGet): Promise<Item | null> {
    const memory = await this.memoryStore.get(op.key, op.namespace);
    return memory ? toItem(memory) : null;
  }

  /**
   * With a query: AIMemo's search (mode `any`: natural-language questions
   * rank by how well their words match) across the prefix. Without one:
   * the items under the prefix, most recently updated first.
   */
  private async searchItems(op: CheckedSearch): Promise<SearchItem[]> {
    const { prefix, query, limit, offset, where } = op;
    if (query) {
      const hits = await this.memoryStore.search(query, { namespacePrefix: prefix, mode: 'any', limit, offset, where });
      return hits.map((hit) => ({ ...toItem(hit), score: hit.score }));
    }
    const memories = await this.memoryStore.list({ namespacePrefix: prefix, limit, offset, where });
    return memories.map(toItem);
  }

  /** Consecutive puts and deletes, applied as if one by one: the last write to a key wins. */
  private async write(ops: CheckedWrite[]): Promise<void> {
    const last = new Map<string, { op: CheckedWrite; deletedBefore: boolean }>();
    for (const op of ops) {
      const id = JSON.stringify([op.namespace, op.key]);
      const before = last.get(id);
      last.set(id, { op, deletedBefore: before !== undefined && (before.deletedBefore || before.op.value === null) });
    }
    const finals = [...last.values()];
    for (const { op } of finals) if (op.value === null) await this.memoryStore.delete(op.key, op.namespace);
    const puts = finals.filter((f) => f.op.value !== null);
    if (puts.length === 0) return;
    const existing = await this.existing(puts.filter((f) => !f.deletedBefore).map((f) => f.op));
    const now = Date.now();
    const memories: NewMemory[] = puts.map(({ op }) => {
      const old = existing.get(JSON.stringify([op.namespace, op.key]));
      // updatedAt moves forward on every write, even two in one millisecond.
      const updatedAt = old ? Math.max(now, old.timestamp.getTime() + 1) : now;
      const createdAt = old ? (storedOf(old)?.createdAt ?? old.timestamp.toISOString()) : new Date(now).toISOString();
      const stored: StoredItem = { value: op.value!, createdAt };
      return { id: op.key, namespace: op.namespace, content: op.text.trim() ? op.text : NO_TEXT, metadata: stored as unknown as Record<string, Json>, timestamp: new Date(updatedAt) };
    });
    await this.memoryStore.saveMany(memories);
  }

  /** The memories these puts replace, by `[namespace, key]`. */
  private async existing(ops: CheckedWrite[]): Promise<Map<string, Memory>> {
    const byNamespace = new Map<string, string[]>();
    for (const op of ops) byNamespace.set(op.namespace, [...(byNamespace.get(op.namespace) ?? []), op.key]);
    const found = new Map<string, Memory>();
    const store = this.memoryStore as MemoryStore & { getMany?(ids: string[], namespace?: string): Promise<Memory[]> };
    for (const [namespace, keys] of byNamespace) {
      const memories = store.getMany ? await store.getMany(keys, namespace) : (await Promise.all(keys.map((k) => store.get(k, namespace)))).filter((m): m is Memory => m !== null);
      for (const m of memories) found.set(JSON.stringify([namespace, m.id]), m);
    }
    return found;
  }
}

/** The item a memory holds; a memory saved through AIMemo's own API shows as `{ content }`. */
function toItem(memory: Memory): Item {
  const stored = storedOf(memory);
  return {
    namespace: parseNamespacePath(memory.namespace) ?? [memory.namespace],
    key: memory.id,
    value: stored ? stored.value : { content: memory.content },
    createdAt: stored ? new Date(stored.createdAt) : memory.timestamp,
    updatedAt: memory.timestamp,
  };
}

function storedOf(memory: Memory): StoredItem | undefined {
  const { value, createdAt } = memory.metadata as Partial<Record<keyof StoredItem, Json>>;
  const valid = typeof value === 'object' && value !== null && !Array.isArray(value) && typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt));
  return valid ? { value: value as Record<string, Json>, createdAt: createdAt as string } : undefined;
}

// ----------------------------------------------------------------- checking operations

interface CheckedGet {
  kind: 'get';
  namespace: string;
  key: string;
}
interface CheckedWrite {
  kind: 'write';
  namespace: string;
  key: string;
  /** `null`: delete. */
  value: Record<string, Json> | null;
  text: string;
}
interface CheckedSearch {
  kind: 'search';
  prefix: string[];
  where: Where | undefined;
  query: string | undefined;
  limit: number;
  offset: number;
}
interface CheckedList {
  kind: 'list';
  op: ListNamespacesOperation;
}
type CheckedOperation = CheckedGet | CheckedWrite | CheckedSearch | CheckedList;

/** The size of the metadata around a value: `{"value":…,"createdAt":"…"}`. */
const WRAPPER_BYTES = Buffer.byteLength(JSON.stringify({ value: {}, createdAt: new Date(0).toISOString() })) - 2;

function checkFields(fields: unknown, field: string): string[] {
  if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string' || f.trim() === '')) {
    throw new ValidationError(field, 'must be an array of field paths (non-empty strings)', describe(fields));
  }
  return fields as string[];
}

/**
 * A namespace tuple as LangGraph's stores take it (an array of string
 * labels, at least one), as an AIMemo namespace. Labels LangGraph's `put`
 * refuses (`.`, `:`, empty) are its own check; `batch` stores them.
 */
function checkNamespace(namespace: unknown, field: string): string {
  if (!Array.isArray(namespace)) throw new ValidationError(field, 'must be an array of string labels', describe(namespace));
  if (namespace.length === 0) throw new InvalidNamespaceError('Namespace cannot be empty.');
  const bad = namespace.findIndex((label) => typeof label !== 'string');
  if (bad >= 0) throw new InvalidNamespaceError(`Invalid namespace label at index ${bad}: namespace labels must be strings, but got ${typeof namespace[bad]}.`);
  try {
    return namespacePath(namespace);
  } catch (error) {
    throw renamed(error, 'path', field);
  }
}

/** A ValidationError about `from` (or `from[i]`), renamed to the caller's `to`. */
function renamed(error: unknown, from: string, to: string): unknown {
  if (!(error instanceof ValidationError) || !error.field.startsWith(from)) return error;
  const renamedError = new ValidationError(to + error.field.slice(from.length), error.rule);
  renamedError.message = error.message.replace(error.field, renamedError.field);
  return renamedError;
}

function checkCount(value: unknown, field: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_PAGE) {
    throw new ValidationError(field, `must be a positive integer of at most ${MAX_PAGE}`, describe(value));
  }
  return value;
}

function checkOperation(op: Operation, field: string, fields: string[]): CheckedOperation {
  if (typeof op !== 'object' || op === null) throw new ValidationError(field, 'must be a get, put, search or listNamespaces operation', describe(op));
  if (isSearch(op)) {
    const prefix = validateNamespacePrefix(op.namespacePrefix, `${field}.namespacePrefix`);
    if (op.query !== undefined && op.query !== null && typeof op.query !== 'string') throw new ValidationError(`${field}.query`, 'must be a string', describe(op.query));
    const where = filterToWhere(op.filter, `${field}.filter`) as Where | undefined;
    if (where) validateWhere(where, `${field}.filter`); // refused here, before any operation of the batch runs
    const limit = checkCount(op.limit, `${field}.limit`, 10);
    const offset = validateOffset(op.offset ?? 0, `${field}.offset`);
    if (offset + limit > MAX_PAGE) throw new ValidationError(`${field}.offset`, `plus limit must be at most ${MAX_PAGE}`, `${offset + limit}`);
    return { kind: 'search', prefix, where, query: op.query || undefined, limit, offset };
  }
  if (isPut(op)) {
    const namespace = checkNamespace(op.namespace, `${field}.namespace`);
    const key = validateId(op.key, `${field}.key`);
    if (op.value === null) return { kind: 'write', namespace, key, value: null, text: '' };
    const value = validateMetadata(op.value, `${field}.value`);
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if (bytes + WRAPPER_BYTES > LIMITS.metadataBytes) throw new ValidationError(`${field}.value`, `must be at most ${LIMITS.metadataBytes - WRAPPER_BYTES} bytes as JSON`, `${bytes} bytes`);
    if (op.index !== undefined && op.index !== false) checkFields(op.index, `${field}.index`);
    const text = op.index === false ? '' : searchText(value, op.index ?? fields);
    return { kind: 'write', namespace, key, value, text: text.slice(0, LIMITS.contentChars) };
  }
  if (isGet(op)) return { kind: 'get', namespace: checkNamespace(op.namespace, `${field}.namespace`), key: validateId(op.key, `${field}.key`) };
  if (isList(op)) return { kind: 'list', op };
  throw new ValidationError(field, 'must be a get, put, search or listNamespaces operation');
}
