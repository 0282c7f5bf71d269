/**
 * Orders that reads across several namespaces share on every dialect, so
 * that SQLite (merging in JavaScript) and PostgreSQL (ordering in SQL, with
 * `COLLATE "C"`) return the same memories in the same order.
 */
import type { Memory } from '../types';

/**
 * Strings by their UTF-8 bytes (= by code point), as SQLite's binary
 * collation and PostgreSQL's `COLLATE "C"` compare them. JavaScript's `<`
 * compares UTF-16 code units, which differs for characters beyond U+FFFF.
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Newest first; ties by id, then by namespace, both descending by bytes (a total order). */
export function newestFirst(a: Memory, b: Memory): number {
  return b.timestamp.getTime() - a.timestamp.getTime() || compareBytes(b.id, a.id) || compareBytes(b.namespace, a.namespace);
}
