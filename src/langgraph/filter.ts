/**
 * LangGraph's `search(…, { filter })` on value fields, as AIMemo's `where`
 * language on `metadata.value` (docs/queries.md, docs/langgraph.md):
 *
 * | LangGraph filter | where |
 * | --- | --- |
 * | `{ status: 'active' }` | `{ 'value.status': 'active' }` (`$eq`) |
 * | `{ score: { $gt: 4.99 } }` | `{ 'value.score': { $gt: 4.99 } }`; also `$eq $ne $gte $lt $lte $in $nin $exists` |
 * | `{ author: { name: 'Ada' } }` (an object, no operators) | `{ 'value.author.name': 'Ada' }`: containment, key by key |
 * | `{ tags: ['a', 'b'] }` (an array) | `{ 'value.tags': { $contains: 'a' } }` and the same for `'b'` |
 * | `$and`, `$or`, `$not` | the same, over mapped filters |
 *
 * Comparisons are typed, as in LangGraph's InMemoryStore (`1` is not `'1'`;
 * LangGraph's PostgresStore compares text). A `.` in a key reads a nested
 * field. An operator AIMemo does not know is refused, never ignored.
 */
import { ValidationError } from '../errors';
import { describe } from '../validate';

type Filter = Record<string, unknown>;
const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);
const LOGICAL = new Set(['$and', '$or', '$not']);

const isObject = (v: unknown): v is Filter => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** The conditions on one value field at `path` (keys joined by dots). */
function field(path: string, want: unknown, at: string): Filter[] {
  if (Array.isArray(want)) {
    if (want.length === 0) throw new ValidationError(at, 'must not be an empty array (it would match every array)');
    return want.map((element, i) => {
      if (isObject(element) || Array.isArray(element)) throw new ValidationError(`${at}[${i}]`, 'must be a string, number, boolean or null (an array matches arrays holding each element)', describe(element));
      return { [`value.${path}`]: { $contains: element } };
    });
  }
  if (isObject(want)) {
    const keys = Object.keys(want);
    if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) {
      const unknown = keys.find((k) => !OPERATORS.has(k));
      if (unknown) throw new ValidationError(`${at}.${unknown}`, `is not a filter operator (${[...OPERATORS].join(' ')})`);
      return [{ [`value.${path}`]: want }];
    }
    if (keys.some((k) => k.startsWith('$'))) throw new ValidationError(at, 'must hold operators ($eq, $gt, …) or fields, not both');
    if (keys.length === 0) throw new ValidationError(at, 'must not be an empty object (it would match anything)');
    return keys.flatMap((k) => field(`${path}.${k}`, want[k], `${at}.${k}`));
  }
  return [{ [`value.${path}`]: want }];
}

/**
 * A LangGraph filter as a `where` on the item's value, or `undefined` for no
 * filter (`undefined`, `null`, `{}`).
 * @throws ValidationError for an unknown operator or a value no condition can hold, naming its path (`operations[0].filter.score.$gtt`).
 */
export function filterToWhere(filter: unknown, at: string): Filter | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (!isObject(filter)) throw new ValidationError(at, 'must be an object of value fields and conditions', describe(filter));
  const parts: Filter[] = [];
  for (const [key, want] of Object.entries(filter)) {
    if (LOGICAL.has(key)) {
      if (key === '$not') {
        parts.push({ $not: filterToWhere(want, `${at}.$not`) ?? {} });
        continue;
      }
      if (!Array.isArray(want)) throw new ValidationError(`${at}.${key}`, 'must be an array of filters', describe(want));
      parts.push({ [key]: want.map((f, i) => filterToWhere(f, `${at}.${key}[${i}]`) ?? {}) });
    } else if (key.startsWith('$')) {
      throw new ValidationError(`${at}.${key}`, 'is not a filter operator here ($and, $or and $not combine filters; the others go on a field)');
    } else parts.push(...field(key, want, `${at}.${key}`));
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { $and: parts };
}
