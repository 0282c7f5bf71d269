/**
 * A checked metadata filter ({@link WhereNode}) as SQLite SQL over `m.metadata`
 * (JSON text): `json_type()` checks the JSON type, so a comparison matches only
 * values of its operand's type (`json_extract()` alone returns 1 for `true`),
 * and `json_extract()` reads the value. Text compares with SQLite's BINARY
 * collation: UTF-8 bytes, that is code points.
 *
 * | filter | SQL (P is the JSON path `$."a"."b"`, a parameter) |
 * | --- | --- |
 * | `{ a: 'x' }` | `(json_type(m.metadata, P) = 'text' AND json_extract(m.metadata, P) = ?)` |
 * | `{ n: { $gte: 2 } }` | `(json_type(m.metadata, P) IN ('integer', 'real') AND json_extract(m.metadata, P) >= ?)` |
 * | `{ ok: true }` | `(json_type(m.metadata, P) = 'true')` |
 * | `{ a: { $in: ['x', 1] } }` | the text test with `IN (SELECT value FROM json_each(?))`, OR the number test likewise |
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
import type { WhereNode, WhereScalar } from '../../filter/where';
import { indexKey, type IndexedPaths } from '../metadata-index';

export interface SqliteWhere {
  text: string;
  params: unknown[];
}

/** A JSON path for `json_extract()`: every key quoted (`$."user"."plan"`). Keys hold no `"` (checked). */
export function jsonPath(path: string[]): string {
  return `$${path.map((k) => `."${k}"`).join('')}`;
}

const NUMBER = `IN ('integer', 'real')`;

type JsonType = 'text' | 'number' | 'true' | 'false' | 'null';

function typeOf(value: WhereScalar): JsonType {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return typeof value === 'number' ? 'number' : 'text';
}

/** `= 'text'` or `IN ('integer', 'real')`: the test of `json_type()` for a type. */
const isType = (type: JsonType): string => (type === 'number' ? NUMBER : `= '${type}'`);

class Compiler {
  readonly params: unknown[] = [];

  constructor(private readonly indexed: IndexedPaths) {}

  /** The path as SQL: a parameter, or a literal where an index on (path, type) exists. */
  private path(path: string[], type: JsonType): string {
    if ((type === 'number' || type === 'text') && this.indexed.has(indexKey(type === 'number' ? 'number' : 'string', path))) {
      return `'${jsonPath(path)}'`; // keys of [A-Za-z0-9_-] only: see metadata-index.ts
    }
    this.params.push(jsonPath(path));
    return '?';
  }

  /** The value at the path is of this type, and (numbers, text) compares with `op` to a parameter. */
  private compare(path: string[], type: JsonType, op: string, value: WhereScalar): string {
    if (type !== 'number' && type !== 'text') return `(json_type(m.metadata, ${this.path(path, type)}) ${isType(type)})`;
    const p = this.path(path, type);
    const typed = `json_type(m.metadata, ${p}) ${isType(type)}`;
    const read = `json_extract(m.metadata, ${p === '?' ? this.repeat() : p})`;
    this.params.push(value);
    return `(${typed} AND ${read} ${op} ?)`;
  }

  /** Pushes the last path parameter again (a path used twice). */
  private repeat(): string {
    this.params.push(this.params[this.params.length - 1]);
    return '?';
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

  /** Strings and numbers each as one `IN (SELECT value FROM json_each(?))`; booleans and null as types. */
  private in(path: string[], values: WhereScalar[]): string {
    const parts: string[] = [];
    for (const type of ['text', 'number'] as const) {
      const of = values.filter((v) => typeOf(v) === type);
      if (of.length === 0) continue;
      const p = this.path(path, type);
      const typed = `json_type(m.metadata, ${p}) ${isType(type)}`;
      const read = `json_extract(m.metadata, ${p === '?' ? this.repeat() : p})`;
      this.params.push(JSON.stringify(of));
      parts.push(`(${typed} AND ${read} IN (SELECT value FROM json_each(?)))`);
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
