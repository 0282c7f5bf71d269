/**
 * The internal interface between the shared {@link SqlStore} template and one
 * SQL dialect. It speaks in whole operations, so each dialect keeps its own
 * transactions (better-sqlite3's must be synchronous, postgres.js's are async)
 * and its own full-text SQL. Inputs arrive validated and complete.
 */
import type { QueryNode, SearchMode } from '../search/query';
import type { Memory, SearchResult, TableStats } from '../types';

export interface SearchParams {
  namespace: string;
  limit: number;
  tags: string[];
  mode: SearchMode;
}

export interface PageParams {
  namespace: string;
  limit: number | undefined;
  offset: number;
  tags: string[];
}

export interface MemoryRepository {
  readonly dialect: 'sqlite' | 'postgres';
  /** Opens connections and creates or checks the schema. Called once before any other method. */
  init(): Promise<void>;
  /** Inserts or replaces (by namespace and id) every row, in one transaction. */
  upsertMany(rows: Memory[]): Promise<void>;
  get(namespace: string, id: string): Promise<Memory | null>;
  remove(namespace: string, id: string): Promise<boolean>;
  /** Ranked full-text search, best first. */
  search(query: QueryNode, params: SearchParams): Promise<SearchResult[]>;
  /** Newest first (ties: id descending). */
  page(params: PageParams): Promise<Memory[]>;
  count(namespace: string): Promise<number>;
  clear(namespace: string): Promise<number>;
  namespaces(): Promise<string[]>;
  stats(): Promise<TableStats>;
  close(): Promise<void>;
}
