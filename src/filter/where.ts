/**
 * The metadata filter language (`where`), checked once and turned into a
 * small tree ({@link WhereNode}) that each dialect compiles to SQL
 * (`store/sqlite/where-sql.ts`, `store/postgres/where-sql.ts`) and that
 * {@link matchesWhere} evaluates in JavaScript, with the same meaning.
 *
 * ```ts
 * { source: 'chat', priority: { $gte: 2 }, 'user.plan': { $in: ['pro', 'team'] }, $or: [{ pinned: true }, { score: { $gt: 0.5 } }] }
 * ```
 *
 * - A key is a path into `metadata`: `'user.plan'` is `metadata.user.plan`.
 *   Several keys, and several operators on one key, must all hold (AND).
 * - A plain value means `$eq`. Operators: `$eq $ne $gt $gte $lt $lte $in
 *   $nin $exists $contains`, `$not` on a key (`{ n: { $not: { $gt: 5 } } }`),
 *   and `$and $or $not` over whole filters.
 * - Types are strict: a comparison matches only values of its operand's JSON
 *   type (`true` is not `1`, `'2'` is not `2`); numbers compare as numbers
 *   (`1` equals `1.0`), strings by Unicode code point.
 * - A missing key matches nothing positive; `$ne`, `$nin`, `$exists: false`
 *   and `$not` are exact negations, so they match it.
 *
 * Anything else is refused with a {@link ValidationError} naming the path
 * (`options.where.$or[1].priority.$gte`), before any SQL runs.
 */
import { ValidationError } from '../errors';
import type { Json } from '../types';
import { checkText, describe, isPlainObject, LIMITS } from '../validate';

/** A value a filter compares with: a JSON scalar. */
export type WhereScalar = string | number | boolean | null;

/** The operators one metadata path takes. */
export interface WhereOperators {
  /** Equal, type included (`1` is not `'1'` nor `true`). */
  $eq?: WhereScalar;
  /** Not equal, or missing (exactly `$not: { $eq }`). */
  $ne?: WhereScalar;
  /** Greater than: numbers with numbers, strings with strings (by code point). */
  $gt?: number | string;
  $gte?: number | string;
  $lt?: number | string;
  $lte?: number | string;
  /** Equal to one of these (each compared as `$eq`). */
  $in?: WhereScalar[];
  /** Equal to none of these, or missing. */
  $nin?: WhereScalar[];
  /** `true`: the key is present (even with `null`); `false`: it is not. */
  $exists?: boolean;
  /** An array holding this element, or (for a string operand) a string holding this text, case-sensitive. */
  $contains?: WhereScalar;
  /** None of these operators hold (or the key is missing). */
  $not?: WhereOperators;
}

/**
 * A filter over `metadata`: paths with a value (`$eq`) or operators, and
 * `$and`, `$or`, `$not` over filters. See docs/queries.md.
 *
 * @example
 * { source: 'chat', priority: { $gte: 2 }, 'user.plan': { $in: ['pro', 'team'] } }
 * { $or: [{ pinned: true }, { tags: { $contains: 'urgent' } }] }
 */
export interface Where {
  $and?: Where[];
  $or?: Where[];
  $not?: Where;
  [path: string]: WhereScalar | WhereOperators | Where | Where[] | undefined;
}

/** A comparison operator of a range. */
export type RangeOp = 'gt' | 'gte' | 'lt' | 'lte';

/**
 * A checked filter. `and` of no children is true, `or` of none is false.
 * `$ne`, `$nin`, `$exists: false` and `$not` are all `not`.
 */
export type WhereNode =
  | { kind: 'and' | 'or'; children: WhereNode[] }
  | { kind: 'not'; child: WhereNode }
  | { kind: 'eq'; path: string[]; value: WhereScalar }
  | { kind: 'range'; path: string[]; op: RangeOp; value: number | string }
  | { kind: 'in'; path: string[]; values: WhereScalar[] }
  | { kind: 'exists'; path: string[] }
  | { kind: 'contains'; path: string[]; value: WhereScalar };

const RANGE: Record<string, RangeOp> = { $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte' };
const FIELD_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$contains', '$not'];
const LOGICAL = ['$and', '$or', '$not'];

/**
 * Characters a path key may not hold: `"` and `\` (SQLite reads a JSON path
 * key as written, while JSON text escapes them, so such a key could never
 * match there) and control characters, which JSON escapes too. A `.` always
 * separates keys.
 */
// eslint-disable-next-line no-control-regex
const BAD_KEY = /["\\\u0000-\u001f]/;

function isScalar(value: unknown): value is WhereScalar {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function scalar(value: unknown, field: string): WhereScalar {
  if (!isScalar(value)) throw new ValidationError(field, 'must be a string, a finite number, a boolean or null', describe(value));
  if (typeof value === 'string') checkText(value, field);
  return value;
}

/** A path as written (`'user.plan'`) split into keys, checked. */
export function parsePath(path: string, field: string): string[] {
  if (path.length === 0) throw new ValidationError(field, 'must name a metadata key: an empty path matches nothing');
  if (path.length > LIMITS.wherePathChars) throw new ValidationError(field, `must be a path of at most ${LIMITS.wherePathChars} characters`, `${path.length}`);
  const keys = path.split('.');
  if (keys.length > LIMITS.wherePathKeys) throw new ValidationError(field, `must be a path of at most ${LIMITS.wherePathKeys} keys`, `${keys.length}`);
  if (keys.some((k) => k.length === 0)) throw new ValidationError(field, "must be keys separated by single dots (no empty key, no leading or trailing '.')");
  if (keys.some((k) => BAD_KEY.test(k))) throw new ValidationError(field, 'must not contain double quotes, backslashes or control characters');
  checkText(path, field);
  return keys;
}

class Parser {
  conditions = 0;

  private count(field: string): void {
    if (++this.conditions > LIMITS.whereConditions) throw new ValidationError(field, `makes the filter hold more than ${LIMITS.whereConditions} conditions`);
  }

  private depth(level: number, field: string): void {
    if (level > LIMITS.whereDepth) throw new ValidationError(field, `nests $and/$or/$not deeper than ${LIMITS.whereDepth} levels`);
  }

  /** A filter object: every key must hold. */
  filter(value: unknown, field: string, level: number): WhereNode {
    this.depth(level, field);
    if (!isPlainObject(value)) throw new ValidationError(field, 'must be a filter object, like { source: "chat" }', describe(value));
    const children: WhereNode[] = [];
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue; // as JSON.stringify would: an optional key left unset
      if (key === '$and' || key === '$or') {
        const at = `${field}.${key}`;
        if (!Array.isArray(v) || v.length === 0) throw new ValidationError(at, 'must be a non-empty array of filter objects', describe(v));
        const parts = v.map((f, i) => this.filter(f, `${at}[${i}]`, level + 1));
        children.push({ kind: key === '$and' ? 'and' : 'or', children: parts });
      } else if (key === '$not') {
        children.push({ kind: 'not', child: this.filter(v, `${field}.$not`, level + 1) });
      } else if (key.startsWith('$')) {
        throw new ValidationError(`${field}.${key.slice(0, 40)}`, `is not a filter operator (at this level: ${LOGICAL.join(', ')}; a metadata key cannot start with $)`);
      } else {
        const at = `${field}.${key.slice(0, 255)}`;
        children.push(this.condition(parsePath(key, at), v, at, level));
      }
    }
    return children.length === 1 ? children[0] : { kind: 'and', children };
  }

  /** The value of a path: a scalar (`$eq`) or an object of operators. */
  private condition(path: string[], value: unknown, field: string, level: number): WhereNode {
    if (isPlainObject(value)) return this.operators(path, value, field, level);
    if (Array.isArray(value)) throw new ValidationError(field, 'must be a value or an operator object; to match one of several values use $in, an array element $contains', 'array');
    this.count(field);
    return { kind: 'eq', path, value: scalar(value, field) };
  }

  private operators(path: string[], ops: Record<string, unknown>, field: string, level: number): WhereNode {
    const keys = Object.keys(ops).filter((k) => ops[k] !== undefined);
    if (keys.length === 0) throw new ValidationError(field, 'must hold at least one operator, like { $gte: 2 }');
    const children: WhereNode[] = [];
    for (const op of keys) {
      const at = `${field}.${op.slice(0, 40)}`;
      const v = ops[op];
      if (!op.startsWith('$')) {
        throw new ValidationError(at, `is not an operator (${FIELD_OPERATORS.join(' ')}); for a nested key write the dotted path, like "${field.split('.').pop()}.${op.slice(0, 40)}"`);
      }
      if (op === '$not') {
        this.depth(level + 1, at);
        if (!isPlainObject(v)) throw new ValidationError(at, 'must be an operator object, like { $gt: 5 } (for "not equal" use $ne)', describe(v));
        children.push({ kind: 'not', child: this.operators(path, v, at, level + 1) });
        continue;
      }
      this.count(at);
      if (op === '$eq' || op === '$ne') {
        const eq: WhereNode = { kind: 'eq', path, value: scalar(v, at) };
        children.push(op === '$eq' ? eq : { kind: 'not', child: eq });
      } else if (op in RANGE) {
        if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
          throw new ValidationError(at, 'must be a finite number or a string (a range compares numbers with numbers, strings with strings)', describe(v));
        }
        if (typeof v === 'string') checkText(v, at);
        children.push({ kind: 'range', path, op: RANGE[op], value: v });
      } else if (op === '$in' || op === '$nin') {
        if (!Array.isArray(v)) throw new ValidationError(at, 'must be an array of strings, numbers, booleans or nulls', describe(v));
        if (v.length > LIMITS.whereInValues) throw new ValidationError(at, `must hold at most ${LIMITS.whereInValues} values`, `${v.length}`);
        const values = v.map((x, i) => scalar(x, `${at}[${i}]`));
        const node: WhereNode = { kind: 'in', path, values: dedupeScalars(values) };
        children.push(op === '$in' ? node : { kind: 'not', child: node });
      } else if (op === '$exists') {
        if (typeof v !== 'boolean') throw new ValidationError(at, 'must be true or false', describe(v));
        const node: WhereNode = { kind: 'exists', path };
        children.push(v ? node : { kind: 'not', child: node });
      } else if (op === '$contains') {
        children.push({ kind: 'contains', path, value: scalar(v, at) });
      } else {
        throw new ValidationError(at, `is not an operator (${FIELD_OPERATORS.join(' ')})`);
      }
    }
    return children.length === 1 ? children[0] : { kind: 'and', children };
  }
}

/** `$in` values without repeats (`1` and `1.0` are one number). */
function dedupeScalars(values: WhereScalar[]): WhereScalar[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Checks a `where` filter and returns its tree, or `undefined` when there is
 * no condition (`undefined` or `{}`).
 * @throws ValidationError naming the path of the first problem, never its value.
 */
export function validateWhere(value: unknown, field = 'where'): WhereNode | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new ValidationError(field, 'must be a filter object, like { source: "chat" }', describe(value));
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    throw new ValidationError(field, 'must be plain JSON (it refers to itself, or holds a BigInt)');
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.whereBytes) throw new ValidationError(field, `must be at most ${LIMITS.whereBytes} bytes as JSON`, `${bytes} bytes`);
  const node = new Parser().filter(value, field, 1);
  return node.kind === 'and' && node.children.length === 0 ? undefined : node;
}

// ---------------------------------------------------------------- evaluation

/** The value at `path` in `metadata`, through objects only; `undefined` when missing. */
function lookup(metadata: Record<string, Json>, path: string[]): Json | undefined {
  let current: Json | undefined = metadata;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, Json>)[key];
  }
  return current;
}

/** Strings by code point (JavaScript's `<` compares UTF-16 code units, which orders astral characters differently). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function sameScalar(a: Json | undefined, b: WhereScalar): boolean {
  if (a === undefined || (a !== null && typeof a === 'object')) return false;
  return typeof a === typeof b && a === b;
}

/**
 * Whether a memory's metadata satisfies a checked filter, with exactly the
 * meaning the databases give it. Useful to a custom store, and the reference
 * the tests compare both backends with.
 *
 * @example
 * const node = validateWhere({ priority: { $gte: 2 } });
 * memories.filter((m) => matchesWhere(node, m.metadata));
 */
export function matchesWhere(node: WhereNode | undefined, metadata: Record<string, Json>): boolean {
  if (!node) return true;
  switch (node.kind) {
    case 'and':
      return node.children.every((c) => matchesWhere(c, metadata));
    case 'or':
      return node.children.some((c) => matchesWhere(c, metadata));
    case 'not':
      return !matchesWhere(node.child, metadata);
    case 'exists':
      return lookup(metadata, node.path) !== undefined;
    case 'eq':
      return sameScalar(lookup(metadata, node.path), node.value);
    case 'in': {
      const v = lookup(metadata, node.path);
      return node.values.some((x) => sameScalar(v, x));
    }
    case 'range': {
      const v = lookup(metadata, node.path);
      if (typeof v !== typeof node.value) return false;
      const d = typeof v === 'number' ? v - (node.value as number) : compareCodePoints(v as string, node.value as string);
      return node.op === 'gt' ? d > 0 : node.op === 'gte' ? d >= 0 : node.op === 'lt' ? d < 0 : d <= 0;
    }
    case 'contains': {
      const v = lookup(metadata, node.path);
      if (Array.isArray(v)) return v.some((e) => sameScalar(e, node.value));
      return typeof v === 'string' && typeof node.value === 'string' && v.includes(node.value);
    }
  }
}

