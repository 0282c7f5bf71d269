/**
 * A checked metadata filter ({@link WhereNode}) as PostgreSQL SQL over
 * `m.metadata` (`jsonb`). Equality, `$in` and array `$contains` are jsonb
 * containment (`@>`), which the GIN index `memories_metadata_idx`
 * (`jsonb_path_ops`) serves and which is exact for a scalar through objects:
 * `{"a":{"b":1}} @> {"a":{"b":1}}`, while `{"a":[1]}` does not contain
 * `{"a":1}` and `1` is not `true`. Ranges read the value with `->` (text keys
 * only, so a key `"0"` never indexes into an array, as on SQLite) and check
 * its type with `jsonb_typeof`; strings compare `COLLATE "C"` (code points).
 *
 * | filter | SQL (X is `m.metadata -> $1::text -> $2::text`) |
 * | --- | --- |
 * | `{ a: 'x' }`, `{ ok: true }`, `{ a: null }` | `(m.metadata @> $1::text::jsonb)` with `{"a":"x"}` |
 * | `{ n: { $gte: 2 } }` | `(jsonb_typeof(X) = 'number' AND X >= $3::text::jsonb)` |
 * | `{ s: { $lt: 'm' } }` | `(jsonb_typeof(X) = 'string' AND (m.metadata ->> $1::text) COLLATE "C" < $2::text)` |
 * | `{ a: { $in: ['x', 1] } }` | `(m.metadata @> ANY($1::text[]::jsonb[]))` |
 * | `{ a: { $exists: true } }` | `(X IS NOT NULL)` |
 * | `{ a: { $contains: 'x' } }` | `(m.metadata @> {"a":["x"]} OR (jsonb_typeof(X) = 'string' AND strpos(…, $2::text) > 0))` |
 * | `$not: f` | `((f) IS NOT TRUE)`: a test on a missing key is NULL, and NOT NULL would drop the row |
 *
 * On a path with an expression index ({@link IndexedPaths}) a range writes
 * the keys as literals, the expression the index was built on, so the planner
 * matches it whatever plan it makes (a generic plan sees only `$1`).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Json } from '../../types';
import type { WhereNode } from '../../filter/where';
import { indexKey, type IndexedPaths } from '../metadata-index';

/** `{"a":{"b":value}}` for the path `a.b`. */
function nest(path: string[], value: Json): string {
  let doc: Json = value;
  for (let i = path.length - 1; i >= 0; i--) doc = { [path[i]]: doc };
  return JSON.stringify(doc);
}

/** `m.metadata -> 'a' -> 'b'` (last step `->>` when `text`): the keys as parameters, or as literals when `literal`. */
export function pathSql(path: string[], options: { text?: boolean; literal?: boolean; column?: SQL } = {}): SQL {
  const parts: SQL[] = [options.column ?? sql.raw('m.metadata')];
  path.forEach((key, i) => {
    const arrow = sql.raw(options.text && i === path.length - 1 ? ' ->> ' : ' -> ');
    // keys of [A-Za-z0-9_-] only when literal: see metadata-index.ts
    parts.push(arrow, options.literal ? sql.raw(`'${key}'`) : sql`${key}::text`);
  });
  return sql.join(parts);
}

const OPS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function compile(n: WhereNode, indexed: IndexedPaths): SQL {
  switch (n.kind) {
    case 'and':
    case 'or':
      if (n.children.length === 0) return sql.raw(n.kind === 'and' ? 'true' : 'false');
      return sql`(${sql.join(
        n.children.map((c) => compile(c, indexed)),
        sql.raw(n.kind === 'and' ? ' AND ' : ' OR '),
      )})`;
    case 'not':
      return sql`((${compile(n.child, indexed)}) IS NOT TRUE)`;
    case 'exists':
      return sql`(${pathSql(n.path)} IS NOT NULL)`;
    case 'eq':
      return sql`(m.metadata @> ${nest(n.path, n.value)}::text::jsonb)`;
    case 'in':
      return sql`(m.metadata @> ANY(${sql.param(n.values.map((v) => nest(n.path, v)))}::text[]::jsonb[]))`;
    case 'range': {
      const op = sql.raw(OPS[n.op]);
      const literal = indexed.has(indexKey(typeof n.value === 'number' ? 'number' : 'string', n.path));
      const typeTest = sql`jsonb_typeof(${pathSql(n.path, { literal })})`;
      if (typeof n.value === 'number') return sql`(${typeTest} = 'number' AND ${pathSql(n.path, { literal })} ${op} ${JSON.stringify(n.value)}::text::jsonb)`;
      return sql`(${typeTest} = 'string' AND (${pathSql(n.path, { literal, text: true })}) COLLATE "C" ${op} ${n.value}::text)`;
    }
    case 'contains': {
      const inArray = sql`m.metadata @> ${nest(n.path, [n.value])}::text::jsonb`;
      if (typeof n.value !== 'string') return sql`(${inArray})`;
      return sql`(${inArray} OR (jsonb_typeof(${pathSql(n.path)}) = 'string' AND strpos(${pathSql(n.path, { text: true })}, ${n.value}::text) > 0))`;
    }
  }
}

/** The filter as one parenthesised PostgreSQL condition on the alias `m`. */
export function whereSql(node: WhereNode, indexed: IndexedPaths): SQL {
  return compile(node, indexed);
}

/**
 * The SQL a `(path, type)` index is built on: the expression a range on that
 * path compiles to (with literal keys, without the alias), and the type test
 * that makes the index partial.
 */
export function indexExpression(type: 'number' | 'string', path: string[]): { expression: string; predicate: string } {
  const keys = path.map((k) => `'${k}'`); // keys of [A-Za-z0-9_-] only: see metadata-index.ts
  const value = `metadata -> ${keys.join(' -> ')}`;
  const text = `metadata${keys.map((k, i) => `${i === keys.length - 1 ? ' ->> ' : ' -> '}${k}`).join('')}`;
  return {
    expression: type === 'number' ? `(${value})` : `((${text}) COLLATE "C")`,
    predicate: `jsonb_typeof(${value}) = '${type}'`,
  };
}
