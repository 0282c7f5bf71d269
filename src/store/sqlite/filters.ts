/**
 * The conditions of a {@link MemoryFilter} as SQLite SQL on the alias `m` of
 * `memories`: text to append to a `WHERE` (each condition starts with
 * ` AND `) and its parameters, in order. The text depends only on the
 * filter's shape (how many tags, which operators on values of which types,
 * whether a time bound is given), never on its values, so statements built
 * with it stay few and are prepared once (see the statement cache in
 * sqlite-repository.ts). The one exception, paths with an expression index,
 * is explained in where-sql.ts.
 *
 * | filter | SQL |
 * | --- | --- |
 * | always | ` AND (m.expires_at IS NULL OR m.expires_at > ?)` (now, in ms) |
 * | `tags: ['a', 'b']` | ` AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = ?)` twice |
 * | `since`, `until` | ` AND m."timestamp" >= ?`, ` AND m."timestamp" < ?` (the `(namespace, timestamp)` index) |
 * | `where` | ` AND ` + {@link whereSql} |
 */
import { NO_INDEXES, type IndexedPaths } from '../metadata-index';
import type { MemoryFilter } from '../repository';
import { whereSql } from './where-sql';

export interface SqliteFilter {
  text: string;
  params: unknown[];
}

/** All-of tags: each must be an element of the JSON array in `m.tags`. */
const HAS_TAG = ' AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = ?)';

/** Not expired at `now`: a memory expiring exactly then is gone. */
export const LIVE = '(m.expires_at IS NULL OR m.expires_at > ?)';

export function filterSql(filter: MemoryFilter, indexed: IndexedPaths = NO_INDEXES): SqliteFilter {
  let text = ` AND ${LIVE}${HAS_TAG.repeat(filter.tags.length)}`;
  const params: unknown[] = [filter.now.getTime(), ...filter.tags];
  if (filter.since) {
    text += ' AND m."timestamp" >= ?';
    params.push(filter.since.getTime());
  }
  if (filter.until) {
    text += ' AND m."timestamp" < ?';
    params.push(filter.until.getTime());
  }
  if (filter.where) {
    const where = whereSql(filter.where, indexed);
    text += ` AND ${where.text}`;
    params.push(...where.params);
  }
  return { text, params };
}
