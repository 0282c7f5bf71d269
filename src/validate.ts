/**
 * Input validation shared by every built-in store (the `SqlStore` template
 * calls it; dialects never validate). Each check throws a {@link ValidationError}
 * naming the field as the caller wrote it and the rule, never the value itself.
 */
import { ValidationError } from './errors';
import { decodePath, PATH_SEPARATOR } from './namespaces/codec';
import type { Json, NewMemory } from './types';

/** Size limits applied to every memory, on every store. */
export const LIMITS = Object.freeze({
  /** Characters of `content`. */
  contentChars: 100_000,
  /** Characters of a namespace. */
  namespaceChars: 255,
  /** Characters of an id. */
  idChars: 255,
  /** Characters of one tag. */
  tagChars: 255,
  /** Tags per memory. */
  tags: 100,
  /** Bytes of `metadata` as UTF-8 JSON. */
  metadataBytes: 65_536,
  /** Nesting of objects and arrays in `metadata` (`{ "a": { "b": 1 } }` is 2 deep). */
  metadataDepth: 64,
  /** Largest `limit` a search accepts; `offset + limit` of a search is at most this too. */
  searchLimit: 10_000,
  /** Largest `limit` of one `listPage`. */
  pageLimit: 10_000,
  /** Ids one `deleteMany` takes. */
  deleteIds: 100_000,
  /** Longest `ttl`, in seconds (100 years). */
  ttlSeconds: 3_153_600_000,
  /** Nesting of `$and`, `$or` and `$not` in a `where` filter (the filter object itself is level 1). */
  whereDepth: 8,
  /** Conditions (one per operator on a path) in one `where` filter. */
  whereConditions: 100,
  /** Values of one `$in` or `$nin`. */
  whereInValues: 1000,
  /** Characters of a `where` path (`user.plan`). */
  wherePathChars: 255,
  /** Keys in a `where` path (`a.b.c` is 3). */
  wherePathKeys: 16,
  /** Bytes of a whole `where` filter as JSON. */
  whereBytes: 65_536,
  /** Namespaces one search with `namespacePrefix` may span (each is searched on its own: docs/namespaces.md). */
  prefixSearchNamespaces: 100,
  /** Namespaces one `list` or `count` with `namespacePrefix` may span. */
  prefixNamespaces: 10_000,
});

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_SEARCH_LIMIT = 5;

/** What a value is, for messages: its type and size, never its text. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : `a string of ${value.length} characters`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? 'number' : String(value);
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'Date';
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return proto && proto !== Object.prototype && proto.constructor?.name ? proto.constructor.name : 'object';
  }
  return typeof value;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that both SQLite and PostgreSQL store unchanged: no NUL, no lone surrogates. */
export function checkText(value: string, field: string): void {
  if (value.includes('\u0000')) throw new ValidationError(field, 'must not contain NUL (\\u0000) characters');
  if (LONE_SURROGATE.test(value)) throw new ValidationError(field, 'must be well-formed Unicode (no lone surrogates)');
}

function checkName(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > max) {
    throw new ValidationError(field, `must be a string of 1-${max} characters, not only spaces`, describe(value));
  }
  checkText(value, field);
  return value;
}

/**
 * A namespace: 1-255 characters; `'default'` when undefined. Case-sensitive.
 * One that starts with U+001F is a namespace path (namespaces/codec.ts) and
 * must be well formed, so that every namespace a prefix read meets is a path.
 */
export function validateNamespace(value: unknown, field = 'namespace'): string {
  if (value === undefined) return DEFAULT_NAMESPACE;
  const name = checkName(value, field, LIMITS.namespaceChars);
  if (name.startsWith(PATH_SEPARATOR) && decodePath(name) === null) {
    throw new ValidationError(field, 'starts with U+001F, so it must be a namespace path as namespacePath() writes it (each label ended by U+001F, U+001E escaping)');
  }
  return name;
}

/** An id: 1-255 characters. */
export function validateId(value: unknown, field = 'id'): string {
  return checkName(value, field, LIMITS.idChars);
}

/** A positive integer, or `fallback` when undefined. */
export function validateLimit(value: unknown, field: string, fallback: number | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new ValidationError(field, `must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` of at most ${max}` : ''}`, describe(value));
  }
  return value;
}

/** A non-negative integer, 0 when undefined. */
export function validateOffset(value: unknown, field = 'offset'): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(field, 'must be a non-negative integer', describe(value));
  }
  return value;
}

/** Tags: an array of non-empty strings; order kept, duplicates dropped. */
export function validateTags(value: unknown, field = 'tags'): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of non-empty strings', describe(value));
  if (value.length > LIMITS.tags) throw new ValidationError(field, `must hold at most ${LIMITS.tags} tags`, `${value.length}`);
  const seen = new Set<string>();
  value.forEach((tag, i) => {
    const at = `${field}[${i}]`;
    if (typeof tag !== 'string' || tag.trim().length === 0) throw new ValidationError(at, 'must be a non-empty string', describe(tag));
    if (tag.length > LIMITS.tagChars) throw new ValidationError(at, `must be at most ${LIMITS.tagChars} characters`, `${tag.length}`);
    checkText(tag, at);
    seen.add(tag);
  });
  return [...seen];
}

/** `'all'` (default) or `'any'`. */
export function validateMode(value: unknown, field = 'mode'): 'all' | 'any' {
  if (value === undefined) return 'all';
  if (value !== 'all' && value !== 'any') throw new ValidationError(field, "must be 'all' or 'any'", describe(value));
  return value;
}

/**
 * An options argument: `undefined` (none) or a plain object holding only
 * `keys`. Anything else where options belong (`search('apple', 'victim')`,
 * `null`, an array) and a key the method does not know (`{ namesapce: … }`)
 * are refused, not ignored: either would silently fall back to defaults,
 * such as the `'default'` namespace.
 */
export function validateOptions<K extends string>(value: unknown, keys: readonly K[], field = 'options'): { [P in K]?: unknown } {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new ValidationError(field, `must be an object (with ${keys.join(', ')})`, describe(value));
  for (const key of Object.keys(value)) {
    if ((keys as readonly string[]).includes(key)) continue;
    // The key comes from the caller's code; still, only a short identifier-like one is repeated.
    const named = /^[A-Za-z_$][\w$]{0,39}$/.test(key) ? `${field}.${key}` : field;
    throw new ValidationError(named, `is not an option here (expected ${keys.join(', ')})`);
  }
  return value as { [P in K]?: unknown };
}

/**
 * Longest time a timer option may name, in seconds: Node's timers hold at most
 * 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms instead.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A number of seconds in `[min, max]` (fractions allowed), or `fallback` when undefined. */
export function validateSeconds(value: unknown, field: string, fallback: number, min: number, max = MAX_TIMER_SECONDS): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ValidationError(field, `must be a number of seconds from ${min} to ${max.toLocaleString('en-US')}`, describe(value));
  }
  return value;
}

/** A search query: any string (an empty one finds nothing). */
export function validateQuery(value: unknown, field = 'query'): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string', describe(value));
  return value;
}

/**
 * `{…}` or `Object.create(null)`, from this realm or another (a worker, a vm
 * context, jest's sandbox): its prototype is some realm's `Object.prototype`,
 * whose own prototype is null. Class instances, Maps, Dates and arrays are not.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** One value still to check: where it is, how deep, and the containers above it (to find cycles). */
interface JsonFrame {
  value: unknown;
  field: string;
  depth: number;
  parent: JsonFrame | undefined;
}

const NOT_JSON = 'must be JSON: only plain objects, arrays, strings, finite numbers, booleans and null';

/**
 * Checks a JSON value without recursion (an explicit stack, visiting in the
 * order a recursive walk would, so the first problem found is the same), and
 * stops at {@link LIMITS.metadataDepth} before going deeper: no input can
 * exhaust the call stack here or in any later reader.
 */
function checkJson(root: unknown, rootField: string): void {
  const stack: JsonFrame[] = [{ value: root, field: rootField, depth: 0, parent: undefined }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value, field } = frame;
    switch (typeof value) {
      case 'string':
        checkText(value, field);
        continue;
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(value)) throw new ValidationError(field, 'must be JSON: numbers must be finite', describe(value));
        continue;
      case 'object': {
        if (value === null) continue;
        for (let up = frame.parent; up; up = up.parent) {
          if (up.value === value) throw new ValidationError(field, 'must be JSON: it refers to itself (a cycle)');
        }
        if (frame.depth >= LIMITS.metadataDepth) {
          throw new ValidationError(field, `must be JSON nested at most ${LIMITS.metadataDepth} objects or arrays deep`, `more than ${LIMITS.metadataDepth}`);
        }
        const children: JsonFrame[] = [];
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) children.push({ value: value[i], field: `${field}[${i}]`, depth: frame.depth + 1, parent: frame });
        } else {
          if (!isPlainObject(value)) throw new ValidationError(field, NOT_JSON, describe(value));
          for (const [key, v] of Object.entries(value)) {
            checkText(key, `${field} key`);
            children.push({ value: v, field: `${field}.${key}`, depth: frame.depth + 1, parent: frame });
          }
        }
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
        continue;
      }
      default:
        throw new ValidationError(field, NOT_JSON, describe(value));
    }
  }
}

/**
 * Metadata: a plain JSON object of at most 64 KiB, nested at most 64 deep;
 * `{}` when undefined. Returns a deep copy.
 */
export function validateMetadata(value: unknown, field = 'metadata'): Record<string, Json> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new ValidationError(field, 'must be a plain JSON object', describe(value));
  checkJson(value, field);
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.metadataBytes) throw new ValidationError(field, `must be at most ${LIMITS.metadataBytes} bytes as JSON`, `${bytes} bytes`);
  return JSON.parse(text) as Record<string, Json>;
}

/** A memory's text: 1-100,000 characters, not only white space. */
export function validateContent(value: unknown, field = 'content'): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'must be a non-empty string', describe(value));
  if (value.trim().length === 0) throw new ValidationError(field, 'must not be blank', 'only white space');
  if (value.length > LIMITS.contentChars) throw new ValidationError(field, `must be at most ${LIMITS.contentChars} characters`, `${value.length}`);
  checkText(value, field);
  return value;
}

/** A valid `Date`, or `undefined` (the store uses the time of saving). */
export function validateTimestamp(value: unknown, field = 'timestamp'): Date | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new ValidationError(field, 'must be a valid Date', describe(value));
  const year = value.getUTCFullYear();
  if (year < 1 || year > 9999) throw new ValidationError(field, 'must fall in the years 1-9999', `${year}`);
  return new Date(value.getTime());
}

/**
 * When a memory expires, given as `expiresAt` (a `Date`, or `null` for never)
 * or as `ttl` (whole seconds from now, up to 100 years), not both. `prefix`
 * names the object holding them (`memories[2]`).
 */
export function validateExpiry(expiresAt: unknown, ttl: unknown, prefix = ''): { expiresAt?: Date; ttl?: number } {
  const at = (name: string) => (prefix ? `${prefix}.${name}` : name);
  if (ttl !== undefined) {
    if (expiresAt !== undefined && expiresAt !== null) throw new ValidationError(at('ttl'), 'cannot be given with expiresAt: give one of them');
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1 || ttl > LIMITS.ttlSeconds) {
      throw new ValidationError(at('ttl'), `must be a whole number of seconds from 1 to ${LIMITS.ttlSeconds} (100 years)`, describe(ttl));
    }
    return { ttl };
  }
  if (expiresAt === undefined || expiresAt === null) return {};
  return { expiresAt: validateTimestamp(expiresAt, at('expiresAt')) };
}

/** A memory with every field checked and copied; `id`, `timestamp` and expiry may still be missing. */
export interface CheckedMemory {
  id: string | undefined;
  content: string;
  metadata: Record<string, Json>;
  tags: string[];
  namespace: string;
  timestamp: Date | undefined;
  /** Given as a date. */
  expiresAt: Date | undefined;
  /** Given as seconds from the time of saving. */
  ttl: number | undefined;
}

/** Checks one `NewMemory`; `prefix` is how the caller names it (`''` or `memories[2].`). */
export function validateNewMemory(value: unknown, prefix = ''): CheckedMemory {
  if (!isPlainObject(value)) throw new ValidationError(prefix ? prefix.slice(0, -1) : 'memory', 'must be an object with a content string', describe(value));
  const m = value as Partial<NewMemory>;
  const expiry = validateExpiry(m.expiresAt, m.ttl, prefix.slice(0, -1));
  return {
    expiresAt: expiry.expiresAt,
    ttl: expiry.ttl,
    content: validateContent(m.content, `${prefix}content`),
    id: m.id === undefined ? undefined : validateId(m.id, `${prefix}id`),
    namespace: validateNamespace(m.namespace, `${prefix}namespace`),
    metadata: validateMetadata(m.metadata, `${prefix}metadata`),
    tags: validateTags(m.tags, `${prefix}tags`),
    timestamp: validateTimestamp(m.timestamp, `${prefix}timestamp`),
  };
}

/** ISO 8601 date and time with a zone: `2026-01-31T09:30:00.000Z`, `…+02:00`; seconds and fractions optional. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

/**
 * An ISO 8601 timestamp string with a time zone (`Z` or an offset), as JSON
 * Lines files hold them. Fractions beyond milliseconds are dropped.
 */
export function validateIsoTimestamp(value: unknown, field = 'timestamp'): Date {
  const rule = 'must be an ISO 8601 date and time with a time zone, like 2026-01-31T09:30:00.000Z';
  if (typeof value !== 'string') throw new ValidationError(field, rule, describe(value));
  const m = ISO_8601.exec(value);
  if (!m) throw new ValidationError(field, rule, describe(value)); // never the text itself: it is the file's data
  const [year, month, day, hour, minute, second, offH, offM] = m.slice(1).map((p) => (p === undefined ? 0 : Number(p)));
  const daysInMonth = new Date(Date.UTC(2000 + (year % 400), month, 0)).getUTCDate(); // leap years repeat every 400
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) {
    throw new ValidationError(field, `${rule} (no such date or time)`, describe(value));
  }
  return validateTimestamp(new Date(value), field)!;
}

/** The fields a memory record in a file may have (JSON Lines, format version 2: version 1 had no `expiresAt`). */
const RECORD_FIELDS = new Set(['id', 'namespace', 'content', 'metadata', 'tags', 'timestamp', 'expiresAt']);

/**
 * One memory as a file holds it (a JSON Lines line, already parsed): the
 * fields of {@link NewMemory} with `timestamp` and `expiresAt` as ISO 8601
 * strings, and no other fields. Checked with the same rules as `save`.
 */
export function validateMemoryRecord(value: unknown): CheckedMemory {
  if (!isPlainObject(value)) throw new ValidationError('memory', 'must be a JSON object with a content string', describe(value));
  const unknown = Object.keys(value).filter((k) => !RECORD_FIELDS.has(k));
  if (unknown.length > 0) {
    // The key is the file's data, not ours: counted, never quoted.
    throw new ValidationError('memory', `must have only the fields ${[...RECORD_FIELDS].join(', ')}`, `${unknown.length} other field${unknown.length === 1 ? '' : 's'}`);
  }
  const { timestamp, expiresAt, ...rest } = value;
  return validateNewMemory({
    ...rest,
    timestamp: timestamp === undefined ? undefined : validateIsoTimestamp(timestamp),
    expiresAt: expiresAt === undefined || expiresAt === null ? undefined : validateIsoTimestamp(expiresAt, 'expiresAt'),
  });
}
