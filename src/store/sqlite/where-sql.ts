/**
 * A checked metadata filter ({@link WhereNode}) as SQLite SQL over `m.metadata`
 * (JSON text). A comparison reads the *typed value* at a path ({@link typedValue}):
 * the value when `json_type()` says it is of the operand's JSON type, else
 * NULL (which compares as false), so a comparison matches only values of its
 * operand's type (`json_extract()` alone returns 1 for `true`). Text compares
 * with SQLite's BINARY collation: UTF-8 bytes, that is code points.
 *
 * | filter | SQL (P is the JSON path `$."a"."b"`, a parameter) |
 * | --- | --- |
 * | `{ a: 'x' }` | `(CASE WHEN json_type(m.metadata, P) = 'text' THEN json_extract(m.metadata, P) END = ?)` |
 * | `{ n: { $gte: 2 } }` | `(CASE WHEN json_type(m.metadata, P) IN ('integer', 'real') THEN json_extract(m.metadata, P) END >= ?)` |
 * | `{ ok: true }` | `(json_type(m.metadata, P) = 'true')` |
 * | `{ a: { $in: ['x', 1] } }` | the text value `IN (SELECT value FROM json_each(?))`, OR the number value likewise |
 * | `{ a: { $exists: true } }` | `(json_type(m.metadata, P) IS NOT NULL)` |
 * | `{ a: { $contains: 'x' } }` | an array holding it (`json_type = 'array' AND EXISTS (SELECT 1 FROM json_each(m.metadata, P) …)`) OR `instr()` on a string |
 * | `$not: f` | `((f) IS NOT TRUE)`: a test on a missing key is NULL, and NOT NULL would drop the row |
 *
 * The text depends only on the filter's shape (paths and values are
 * parameters), so statements stay few and are prepared once. Except on an
 * indexed path ({@link IndexedPaths}): there the path is written into the text
 * (a key of letters, digits, `_` and `-` only, checked when the index was
 * declared), as SQLite uses an expression index only for the very expression
 * it was built on, never for one with a parameter in it.
 */
import type { RangeOp, WhereNode, WhereScalar } from '../../filter/where';
import { indexKey, indexName, type IndexedPaths } from '../metadata-index';

export interface SqliteWhere {
  text: string;
  params: unknown[];
}

/** A JSON path for `json_extract()`: every key quoted (`$."user"."plan"`). Keys hold no `"` (checked). */
export function jsonPath(path: string[]): string {
  return `$${path.map((k) => `."${k}"`).join('')}`;
}

type JsonType = 'text' | 'number' | 'true' | 'false' | 'null';

function typeOf(value: WhereScalar): JsonType {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return typeof value === 'number' ? 'number' : 'text';
}

/** `= 'text'` or `IN ('integer', 'real')`: the test of `json_type()` for a type. */
const isType = (type: JsonType): string => (type === 'number' ? `IN ('integer', 'real')` : `= '${type}'`);

/**
 * The value at a JSON path when it is of `type`, else NULL:
 * `CASE WHEN json_type(<column>, <path>) IN ('integer', 'real') THEN json_extract(<column>, <path>) END`.
 * A metadata index (metadata-index.ts) is built on exactly this expression
 * with the path as a literal, so SQLite matches it and keeps statistics on it.
 */
export function typedValue(column: string, type: 'number' | 'text', path: string): string {
  return `CASE WHEN json_type(${column}, ${path}) ${isType(type)} THEN json_extract(${column}, ${path}) END`;
}

class Compiler {
  readonly params: unknown[] = [];

  constructor(private readonly indexed: IndexedPaths) {}

  /** {@link typedValue} on `m.metadata`: the path a parameter (pushed twice) or, on an indexed path, a literal. */
  private typed(path: string[], type: 'number' | 'text'): string {
    if (this.indexed.has(indexKey(type === 'number' ? 'number' : 'string', path))) {
      return typedValue('m.metadata', type, `'${jsonPath(path)}'`); // keys of [A-Za-z0-9_-] only: see metadata-index.ts
    }
    this.params.push(jsonPath(path), jsonPath(path));
    return typedValue('m.metadata', type, '?');
  }

  /** Numbers and text: the typed value compared with `op` to a parameter. The other types: a type test. */
  private compare(path: string[], type: JsonType, op: string, value: WhereScalar): string {
    if (type !== 'number' && type !== 'text') {
      this.params.push(jsonPath(path));
      return `(json_type(m.metadata, ?) ${isType(type)})`;
    }
    const typed = this.typed(path, type);
    this.params.push(value);
    return `(${typed} ${op} ?)`;
  }

  node(n: WhereNode): string {
    switch (n.kind) {
      case 'and':
      case 'or':
        if (n.children.length === 0) return n.kind === 'and' ? '1' : '0';
        return `(${n.children.map((c) => this.node(c)).join(n.kind === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `((${this.node(n.child)}) IS NOT TRUE)`;
      case 'exists':
        this.params.push(jsonPath(n.path));
        return '(json_type(m.metadata, ?) IS NOT NULL)';
      case 'eq':
        return this.compare(n.path, typeOf(n.value), '=', n.value);
      case 'range':
        return this.compare(n.path, typeOf(n.value), { gt: '>', gte: '>=', lt: '<', lte: '<=' }[n.op], n.value);
      case 'in':
        return this.in(n.path, n.values);
      case 'contains':
        return this.contains(n.path, n.value);
    }
  }

  /** Strings and numbers each as one `IN (SELECT value FROM json_each(?))` of the typed value; booleans and null as types. */
  private in(path: string[], values: WhereScalar[]): string {
    const parts: string[] = [];
    for (const type of ['text', 'number'] as const) {
      const of = values.filter((v) => typeOf(v) === type);
      if (of.length === 0) continue;
      const typed = this.typed(path, type);
      this.params.push(JSON.stringify(of));
      parts.push(`(${typed} IN (SELECT value FROM json_each(?)))`);
    }
    const flags = (['true', 'false', 'null'] as const).filter((t) => values.some((v) => typeOf(v) === t));
    if (flags.length) {
      this.params.push(jsonPath(path));
      parts.push(`(json_type(m.metadata, ?) IN (${flags.map((f) => `'${f}'`).join(', ')}))`);
    }
    return parts.length === 0 ? '0' : `(${parts.join(' OR ')})`;
  }

  /** An array holding the element (type included), or, for a text operand, a string holding the text. */
  private contains(path: string[], value: WhereScalar): string {
    const type = typeOf(value);
    // json_each() of a scalar yields that scalar, of an object its values: only an array counts.
    this.params.push(jsonPath(path), jsonPath(path));
    const element = type === 'number' || type === 'text' ? `e.type ${isType(type)} AND e.value = ?` : `e.type = '${type}'`;
    if (type === 'number' || type === 'text') this.params.push(value);
    const inArray = `(json_type(m.metadata, ?) = 'array' AND EXISTS (SELECT 1 FROM json_each(m.metadata, ?) e WHERE ${element}))`;
    if (type !== 'text') return `(${inArray})`;
    this.params.push(jsonPath(path), jsonPath(path), value);
    return `(${inArray} OR (json_type(m.metadata, ?) = 'text' AND instr(json_extract(m.metadata, ?), ?) > 0))`;
  }
}

/**
 * The filter as one parenthesised SQLite condition on the alias `m`, with its
 * parameters in order.
 */
export function whereSql(node: WhereNode, indexed: IndexedPaths): SqliteWhere {
  const compiler = new Compiler(indexed);
  const text = compiler.node(node);
  return { text, params: compiler.params };
}

/** The ranges on one indexed path among the conditions a filter requires (its top-level AND). */
export interface IndexedRange {
  /** The index serving them. */
  name: string;
  /** `SELECT 1 FROM memories m INDEXED BY … WHERE m.namespace = ? AND <ranges>`, parameters after the namespace. */
  text: string;
  params: unknown[];
}

const OPS: Record<RangeOp, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** The first indexed path with ranges among the conditions every match must satisfy, or undefined. */
export function indexedRange(node: WhereNode | undefined, indexed: IndexedPaths): IndexedRange | undefined {
  const required = (n: WhereNode): WhereNode[] => (n.kind === 'and' ? n.children.flatMap(required) : [n]);
  const ranges = node ? required(node).filter((n): n is Extract<WhereNode, { kind: 'range' }> => n.kind === 'range') : [];
  for (const first of ranges) {
    const type = typeof first.value === 'number' ? 'number' : 'string';
    if (!indexed.has(indexKey(type, first.path))) continue;
    const same = ranges.filter((r) => typeof r.value === typeof first.value && r.path.join('.') === first.path.join('.'));
    const name = indexName(type, first.path);
    const value = typedValue('m.metadata', type === 'number' ? 'number' : 'text', `'${jsonPath(first.path)}'`); // keys of [A-Za-z0-9_-] only
    return {
      name,
      text: `SELECT 1 FROM memories m INDEXED BY "${name}" WHERE m.namespace = ?${same.map((r) => ` AND ${value} ${OPS[r.op]} ?`).join('')}`,
      params: same.map((r) => r.value),
    };
  }
  return undefined;
}
