/**
 * A checked metadata filter ({@link WhereNode}) as PostgreSQL SQL over
 * `m.metadata` (`jsonb`). Equality, `$in` and array `$contains` are jsonb
 * containment (`@>`), which the GIN index `memories_metadata_idx`
 * (`jsonb_path_ops`) serves and which is exact for a scalar through objects:
 * `{"a":{"b":1}} @> {"a":{"b":1}}`, while `{"a":[1]}` does not contain
 * `{"a":1}` and `1` is not `true`. Ranges compare the *typed value* at a path
 * ({@link typedValue}): the number (as `numeric`) or the text (`COLLATE "C"`:
 * code points) when the value there is of that JSON type, else NULL, read
 * with `->` (text keys only, so a key `"0"` never indexes into an array, as on
 * SQLite). One expression, not a type test beside a comparison: an index on
 * it gives the planner statistics for the comparison, where a separate
 * `jsonb_typeof(…) = 'number'` would be estimated blind (0.5 % of the rows)
 * and misplan wide ranges.
 *
 * | filter | SQL (X is `m.metadata -> $1::text -> $2::text`) |
 * | --- | --- |
 * | `{ a: 'x' }`, `{ ok: true }`, `{ a: null }` | `(m.metadata @> $1::text::jsonb)` with `{"a":"x"}` |
 * | `{ n: { $gte: 2 } }` | `(CASE WHEN jsonb_typeof(X) = 'number' THEN (X)::numeric END >= $3::numeric)` |
 * | `{ s: { $lt: 'm' } }` | `((CASE WHEN jsonb_typeof(X) = 'string' THEN m.metadata ->> $3::text END) COLLATE "C" < $4::text)` |
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
      const type = typeof n.value === 'number' ? 'number' : 'string';
      const value = typedValue(type, n.path, { literal: indexed.has(indexKey(type, n.path)) });
      const operand = type === 'number' ? sql`${String(n.value)}::numeric` : sql`${n.value}::text`;
      return sql`(${value} ${sql.raw(OPS[n.op])} ${operand})`;
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
 * The value at a path when it is of `type`, else NULL:
 * `CASE WHEN jsonb_typeof(X) = 'number' THEN (X)::numeric END`, or for text
 * `(CASE WHEN jsonb_typeof(X) = 'string' THEN <X as text> END) COLLATE "C"`.
 * The cast sits inside the CASE, so it never meets a value of another type.
 */
export function typedValue(type: 'number' | 'string', path: string[], options: { literal?: boolean; column?: SQL } = {}): SQL {
  const value = pathSql(path, options);
  if (type === 'number') return sql`CASE WHEN jsonb_typeof(${value}) = 'number' THEN (${pathSql(path, options)})::numeric END`;
  return sql`(CASE WHEN jsonb_typeof(${value}) = 'string' THEN ${pathSql(path, { ...options, text: true })} END) COLLATE "C"`;
}

/** The SQL expression a `(path, type)` index is built on: {@link typedValue} with literal keys, without the alias. */
export function indexExpression(type: 'number' | 'string', path: string[]): string {
  const keys = path.map((k) => `'${k}'`); // keys of [A-Za-z0-9_-] only: see metadata-index.ts
  const value = `metadata -> ${keys.join(' -> ')}`;
  const text = `metadata${keys.map((k, i) => `${i === keys.length - 1 ? ' ->> ' : ' -> '}${k}`).join('')}`;
  return type === 'number'
    ? `(CASE WHEN jsonb_typeof(${value}) = 'number' THEN (${value})::numeric END)`
    : `((CASE WHEN jsonb_typeof(${value}) = 'string' THEN ${text} END) COLLATE "C")`;
}
