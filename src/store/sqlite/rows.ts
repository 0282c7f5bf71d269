/** A memory's columns as SQLite returns them, and the memory they make. */
import type { Json, Memory } from '../../types';

/** The columns of a memory, over the alias `m`. */
export const COLUMNS = `m.id, m.namespace, m.content, m.metadata, m.tags, m."timestamp", m.expires_at`;

export interface MemoryRow {
  id: string;
  namespace: string;
  content: string;
  metadata: string;
  tags: string;
  timestamp: number;
  expires_at: number | null;
}

export function toMemory(r: MemoryRow): Memory {
  const memory: Memory = {
    id: r.id,
    namespace: r.namespace,
    content: r.content,
    metadata: JSON.parse(r.metadata) as Record<string, Json>,
    tags: JSON.parse(r.tags) as string[],
    timestamp: new Date(r.timestamp),
  };
  if (r.expires_at !== null) memory.expiresAt = new Date(r.expires_at);
  return memory;
}
