/**
 * AIMemo: a memory layer for AI agents. See docs/contract.md for the contract.
 * @packageDocumentation
 * @module aimemo
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
  ReadOnlyError,
  SchemaOutdatedError,
  SchemaTooNewError,
  StoreClosedError,
  TransferVerificationError,
  ValidationError,
  type AIMemoErrorCode,
  type IncompatibleMigration,
  type NamespaceMismatch,
  type NewerMigration,
} from './errors';
export type { SchemaNewerInfo } from './migrate/schema-version';
export { PostgresStore, type PoolerMode, type PoolStatus, type PostgresSsl, type PostgresStoreOptions } from './store/postgres/postgres-store';
export { SQLiteStore, type SQLiteStoreOptions } from './store/sqlite/sqlite-store';
export type { SQLiteSource } from './store/sqlite/connect';
export type { BackupOptions, BackupResult } from './store/sqlite/backup';
export { SqlStore, type OptimizeResult, type OptimizeStep } from './store/sql-store';
export type {
  CountOptions,
  DeleteManyOptions,
  FilterOptions,
  Json,
  ListOptions,
  ListPageOptions,
  Memory,
  MemoryPage,
  MemoryPatch,
  MemoryStore,
  NewMemory,
  PrefixOption,
  SearchOptions,
  SearchResult,
  TableStats,
  Where,
  WhereOperators,
  WhereScalar,
} from './types';
export { matchesWhere, validateWhere, type RangeOp, type WhereNode } from './filter/where';
export type { MetadataIndex, MetadataIndexInfo, MetadataIndexResult } from './store/metadata-index';
export { namespacePath, parseNamespacePath } from './namespaces/path';
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
