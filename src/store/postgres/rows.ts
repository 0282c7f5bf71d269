/** A memory's columns as PostgreSQL returns them, and the memory they make. */
import { sql } from 'drizzle-orm';
import { parsePgTimestamp } from '../../../drizzle/postgres';
import type { Json, Memory } from '../../types';

/** The columns of a memory, over the alias `m`. */
export const COLUMNS = sql.raw(`m.id, m.namespace, m.content, m.metadata, m.tags, m."timestamp", m.expires_at`);

export interface MemoryRow {
  id: string;
  namespace: string;
  content: string;
  metadata: Record<string, Json> | string;
  tags: string[];
  timestamp: string | Date;
  expires_at: string | Date | null;
}

/** A row as postgres.js (timestamps as text, through Drizzle's parsers) or PGlite returns it. */
export function toMemory(r: MemoryRow): Memory {
  const memory: Memory = {
    id: r.id,
    namespace: r.namespace,
    content: r.content,
    metadata: typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as Record<string, Json>) : r.metadata,
    tags: r.tags,
    timestamp: parsePgTimestamp(r.timestamp),
  };
  if (r.expires_at !== null && r.expires_at !== undefined) memory.expiresAt = parsePgTimestamp(r.expires_at);
  return memory;
}
