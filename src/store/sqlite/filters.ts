/**
 * The conditions of a {@link MemoryFilter} as SQLite SQL on the alias `m` of
 * `memories`: text to append to a `WHERE` (each condition starts with
 * ` AND `) and its parameters, in order. The text depends only on the
 * filter's shape (how many tags), never on its values, so statements built
 * with it stay few and are prepared once (see the statement cache in
 * sqlite-repository.ts).
 *
 * | filter | SQL |
 * | --- | --- |
 * | `tags: ['a', 'b']` | ` AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = ?)` twice |
 */
import type { MemoryFilter } from '../repository';

export interface SqliteFilter {
  text: string;
  params: unknown[];
}

/** All-of tags: each must be an element of the JSON array in `m.tags`. */
const HAS_TAG = ' AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = ?)';

export function filterSql(filter: MemoryFilter): SqliteFilter {
  return { text: HAS_TAG.repeat(filter.tags.length), params: [...filter.tags] };
}
