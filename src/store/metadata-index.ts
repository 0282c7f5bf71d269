/**
 * Expression indexes an app declares on a metadata path it filters by range
 * often (`{ priority: { $gte: 2 } }`), through `SqlStore.createMetadataIndex`.
 *
 * One index per path and type, over `(namespace, <the value at the path>)`
 * where the value is that typed value (a number, or a string) and NULL for
 * every other row: not a partial index, so the planner matches it to the
 * very expression a range compiles to. Its name says what it indexes (`memories_meta_number_priority`),
 * so the stores find their indexes in the catalog (no table of their own that
 * an app's drizzle-kit could see) and each dialect compiles a range on that
 * path to the exact expression the index was built on.
 *
 * The indexes are not part of AIMemo's migrations: creating one is idempotent
 * (`IF NOT EXISTS`), online on PostgreSQL (`CONCURRENTLY`), and an app
 * declares the ones it needs at start-up, as it would any index.
 */
import { ValidationError } from '../errors';
import { parsePath } from '../filter/where';
import { describe } from '../validate';

/** A metadata path and the JSON type whose ranges an index serves. */
export interface MetadataIndex {
  /** A dotted path into `metadata` (`priority`, `user.joined`): keys of letters, digits, `_` and `-`, 40 characters at most. */
  path: string;
  /** `'number'` serves numeric ranges, `'string'` string ranges (ISO dates, say). */
  type: 'number' | 'string';
}

/** An index found in the database. */
export interface MetadataIndexInfo extends MetadataIndex {
  /** Its name in the database. */
  name: string;
}

/** What `createMetadataIndex` did. */
export interface MetadataIndexResult extends MetadataIndexInfo {
  /** False when it existed already. */
  created: boolean;
  ms: number;
}

/** `(type, path)` keys of the paths that have an index: what the filter compilers read. */
export type IndexedPaths = ReadonlySet<string>;

export const NO_INDEXES: IndexedPaths = new Set<string>();

/** Every index name starts with this. */
export const INDEX_PREFIX = 'memories_meta_';

/** Longest indexed path: the name must fit PostgreSQL's 63 bytes. */
const MAX_PATH = 40;

const SAFE_KEY = /^[A-Za-z0-9_-]+$/;

/** The key of {@link IndexedPaths} for a path. */
export function indexKey(type: 'number' | 'string', path: string[]): string {
  return `${type}:${path.join('.')}`;
}

/** The name of the index on `(type, path)`. */
export function indexName(type: 'number' | 'string', path: string[]): string {
  return `${INDEX_PREFIX}${type}_${path.join('.')}`;
}

/** Checks an index declaration; returns the keys of its path. */
export function validateMetadataIndex(value: unknown, field = 'index'): { type: 'number' | 'string'; path: string[]; name: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(field, "must be { path, type: 'number' | 'string' }", describe(value));
  const { path, type } = value as Partial<MetadataIndex>;
  if (type !== 'number' && type !== 'string') throw new ValidationError(`${field}.type`, "must be 'number' or 'string'", describe(type));
  if (typeof path !== 'string') throw new ValidationError(`${field}.path`, 'must be a dotted metadata path, like "priority"', describe(path));
  const keys = parsePath(path, `${field}.path`);
  if (path.length > MAX_PATH || !keys.every((k) => SAFE_KEY.test(k))) {
    throw new ValidationError(`${field}.path`, `must be keys of letters, digits, _ and - separated by dots, at most ${MAX_PATH} characters`);
  }
  return { type, path: keys, name: indexName(type, keys) };
}

/** The declaration an index name stands for, or undefined for another index. */
export function parseIndexName(name: string): MetadataIndexInfo | undefined {
  const m = new RegExp(`^${INDEX_PREFIX}(number|string)_([A-Za-z0-9_.-]+)$`).exec(name);
  if (!m) return undefined;
  return { name, type: m[1] as 'number' | 'string', path: m[2] };
}

/**
 * The indexed paths a store knows, refreshed from the catalog at most once a
 * minute (an index another process declares is used within a minute; one this
 * store declares, at once).
 */
export class IndexCache {
  #paths: IndexedPaths = NO_INDEXES;
  #at = -Infinity;

  static readonly TTL_MS = 60_000;

  /** Whether the catalog should be read again. */
  get stale(): boolean {
    return Date.now() - this.#at > IndexCache.TTL_MS;
  }

  get paths(): IndexedPaths {
    return this.#paths;
  }

  set(indexes: MetadataIndexInfo[]): void {
    this.#paths = new Set(indexes.map((i) => indexKey(i.type, i.path.split('.'))));
    this.#at = Date.now();
  }

  /** Forces a read on next use. */
  invalidate(): void {
    this.#at = -Infinity;
  }
}
