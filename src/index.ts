/**
 * AIMemo: a memory layer for AI agents. See SPEC.md for the contract.
 * @packageDocumentation
 */
export { AIMemo, type AIMemoOptions, type AddOptions, type ContextOptions } from './aimemo';
export {
  AIMemoError,
  DatabaseUnavailableError,
  MigrationError,
  PoolTimeoutError,
  SchemaOutdatedError,
  StoreClosedError,
  ValidationError,
  type AIMemoErrorCode,
} from './errors';
export { PostgresStore, type PoolStatus, type PostgresStoreOptions } from './store/postgres/postgres-store';
export { SQLiteStore, type SQLiteStoreOptions } from './store/sqlite/sqlite-store';
export { SqlStore } from './store/sql-store';
export type { Json, ListOptions, Memory, MemoryStore, NewMemory, SearchOptions, SearchResult, TableStats } from './types';
export { LIMITS } from './validate';
export { parseQuery, type QueryNode, type SearchMode } from './search/query';
