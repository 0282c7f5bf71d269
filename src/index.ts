/**
 * AIMemo: a memory layer for AI agents. See docs/contract.md for the contract.
 * @packageDocumentation
 */
export { AIMemo, type AIMemoOptions, type AddOptions, type ContextOptions } from './aimemo';
export {
  AIMemoError,
  BadFileError,
  DatabaseUnavailableError,
  MigrationError,
  OperationAbortedError,
  PoolTimeoutError,
  QueryTimeoutError,
  SchemaOutdatedError,
  StoreClosedError,
  TransferVerificationError,
  ValidationError,
  type AIMemoErrorCode,
  type NamespaceMismatch,
} from './errors';
export { PostgresStore, type PoolerMode, type PoolStatus, type PostgresStoreOptions } from './store/postgres/postgres-store';
export { SQLiteStore, type SQLiteStoreOptions } from './store/sqlite/sqlite-store';
export type { BackupOptions, BackupResult } from './store/sqlite/backup';
export { SqlStore, type OptimizeResult, type OptimizeStep } from './store/sql-store';
export type { Json, ListOptions, Memory, MemoryStore, NewMemory, SearchOptions, SearchResult, TableStats } from './types';
export { LIMITS } from './validate';
export { parseQuery, type QueryNode, type SearchMode } from './search/query';
export { transfer, type NamespaceTransfer, type TransferOptions, type TransferProgress, type TransferResult } from './ops/transfer';
export {
  exportJsonl,
  importJsonl,
  memoryToJsonl,
  JSONL_FORMAT,
  JSONL_VERSION,
  type ExportOptions,
  type ExportResult,
  type ImportLineError,
  type ImportOptions,
  type ImportResult,
  type JsonlHeader,
  type JsonlInput,
  type JsonlMemory,
  type JsonlOutput,
} from './ops/jsonl';
export { checksumNamespace, canonicalMemory, MemoryChecksum, type NamespaceChecksum } from './ops/checksum';
