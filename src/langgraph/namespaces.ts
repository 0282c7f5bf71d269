/**
 * LangGraph's `listNamespaces`: the namespace tuples under the literal part
 * of the prefix (the labels before its first `*`), read from an index range
 * by `getAllNamespaces({ namespacePrefix })`, then matched against every
 * condition (`*` matches any one label), cut to `maxDepth` labels (and the
 * duplicates that makes dropped), sorted, and paged.
 */
import type { ListNamespacesOperation, MatchCondition } from '@langchain/langgraph-checkpoint';
import { ValidationError } from '../errors';
import { parseNamespacePath } from '../namespaces/path';
import { compareBytes } from '../store/order';
import type { MemoryStore } from '../types';
import { describe } from '../validate';

/** Does `path` match a condition: its first (prefix) or last (suffix) labels, `*` matching any? */
function matches(condition: MatchCondition, path: string[]): boolean {
  const want = condition.path;
  if (want.length > path.length) return false;
  const start = condition.matchType === 'suffix' ? path.length - want.length : 0;
  return want.every((label, i) => label === '*' || path[start + i] === label);
}

/** Tuples label by label (bytes), a shorter one before its extensions. */
function compareTuples(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareBytes(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function checkConditions(conditions: unknown): MatchCondition[] {
  if (conditions === undefined || conditions === null) return [];
  if (!Array.isArray(conditions)) throw new ValidationError('matchConditions', 'must be an array of { matchType, path }', describe(conditions));
  conditions.forEach((c: MatchCondition, i) => {
    if (c?.matchType !== 'prefix' && c?.matchType !== 'suffix') throw new ValidationError(`matchConditions[${i}].matchType`, "must be 'prefix' or 'suffix'", describe(c?.matchType));
    if (!Array.isArray(c.path) || c.path.some((l) => typeof l !== 'string')) throw new ValidationError(`matchConditions[${i}].path`, 'must be an array of string labels', describe(c.path));
  });
  return conditions;
}

const count = (value: unknown, field: string, fallback: number, min: number): number => {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new ValidationError(field, `must be an integer of at least ${min}`, describe(value));
  return value;
};

export async function listNamespaces(store: MemoryStore, op: ListNamespacesOperation): Promise<string[][]> {
  const conditions = checkConditions(op.matchConditions);
  const maxDepth = op.maxDepth === undefined || op.maxDepth === null ? undefined : count(op.maxDepth, 'maxDepth', 0, 1);
  const limit = count(op.limit, 'limit', 100, 0);
  const offset = count(op.offset, 'offset', 0, 0);
  // The literal labels every match starts with: an index range instead of every namespace.
  const prefixes = conditions.filter((c) => c.matchType === 'prefix').map((c) => {
    const wildcard = c.path.indexOf('*');
    return wildcard < 0 ? c.path : c.path.slice(0, wildcard);
  });
  const literal = prefixes.reduce<string[]>((longest, p) => (p.length > longest.length ? p : longest), []);
  const names = await store.getAllNamespaces({ namespacePrefix: literal });
  let paths = names.map(parseNamespacePath).filter((p): p is string[] => p !== null && conditions.every((c) => matches(c, p)));
  if (maxDepth !== undefined) paths = [...new Map(paths.map((p) => p.slice(0, maxDepth)).map((p) => [JSON.stringify(p), p])).values()];
  return paths.sort(compareTuples).slice(offset, offset + limit);
}
