/**
 * The conditions of a {@link MemoryFilter} as PostgreSQL SQL on the alias `m`
 * of `aimemo.memories`: a fragment to append to a `WHERE` (each condition
 * starts with ` AND `), empty when the filter is.
 *
 * | filter | SQL |
 * | --- | --- |
 * | `tags: ['a', 'b']` | ` AND m.tags @> $1::text[]` (GIN `(namespace, tags)`) |
 */
import { sql, type SQL } from 'drizzle-orm';
import type { MemoryFilter } from '../repository';

export function filterSql(filter: MemoryFilter): SQL {
  const parts: SQL[] = [];
  if (filter.tags.length) parts.push(sql` AND m.tags @> ${sql.param(filter.tags)}::text[]`);
  return sql.join(parts);
}
