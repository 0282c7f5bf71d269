/**
 * The conditions of a {@link MemoryFilter} as PostgreSQL SQL on the alias `m`
 * of `aimemo.memories`: a fragment to append to a `WHERE` (each condition
 * starts with ` AND `).
 *
 * | filter | SQL |
 * | --- | --- |
 * | always | ` AND (m.expires_at IS NULL OR m.expires_at > $1::timestamptz)` (now) |
 * | `tags: ['a', 'b']` | ` AND m.tags @> $1::text[]` (GIN `(namespace, tags)`) |
 * | `since`, `until` | ` AND m."timestamp" >= $1::timestamptz`, ` AND m."timestamp" < $2::timestamptz` (btree `(namespace, timestamp, id)`) |
 * | `where` | ` AND ` + {@link whereSql} (GIN on `metadata` for equality and containment) |
 */
import { sql, type SQL } from 'drizzle-orm';
import { NO_INDEXES, type IndexedPaths } from '../metadata-index';
import type { MemoryFilter } from '../repository';
import { whereSql } from './where-sql';

/** Not expired at `now`: a memory expiring exactly then is gone. */
export function liveSql(now: Date): SQL {
  return sql`(m.expires_at IS NULL OR m.expires_at > ${now.toISOString()}::timestamptz)`;
}

export function filterSql(filter: MemoryFilter, indexed: IndexedPaths = NO_INDEXES): SQL {
  const parts: SQL[] = [sql` AND ${liveSql(filter.now)}`];
  if (filter.tags.length) parts.push(sql` AND m.tags @> ${sql.param(filter.tags)}::text[]`);
  if (filter.since) parts.push(sql` AND m."timestamp" >= ${filter.since.toISOString()}::timestamptz`);
  if (filter.until) parts.push(sql` AND m."timestamp" < ${filter.until.toISOString()}::timestamptz`);
  if (filter.where) parts.push(sql` AND ${whereSql(filter.where, indexed)}`);
  return sql.join(parts);
}
