/**
 * The embedded, zero-config store: SQLite through better-sqlite3, with FTS5.
 */
import type BetterSqlite3 from 'better-sqlite3';
import * as path from 'node:path';
import { ValidationError } from '../../errors';
import type { SchemaNewerInfo } from '../../migrate/schema-version';
import { checkOutputPath, databaseFilesOf } from '../../ops/output-path';
import { describe, validateOptions } from '../../validate';
import { SqlStore } from '../sql-store';
import { backupSQLite, type BackupOptions, type BackupResult } from './backup';
import { checkSQLiteSource, sqliteFile, type SQLiteSource } from './connect';
import { mapSQLiteError } from './errors';
import { SQLiteRepository } from './sqlite-repository';

/** Options of {@link SQLiteStore}. */
export interface SQLiteStoreOptions {
  /**
   * Create or upgrade the schema on first use with the migrations shipped in
   * the package. With `false`, the store refuses an older schema with a
   * `SchemaOutdatedError` that names the command to run.
   * @defaultValue true
   */
  autoMigrate?: boolean;
  /**
   * How long a write waits for another connection's write lock, in milliseconds,
   * before failing with `DatabaseUnavailableError`. Only applied to databases the
   * store opens itself.
   * @defaultValue 5000
   */
  busyTimeout?: number;
  /**
   * Open the file read-only: no migration (an older schema is refused with
   * `SchemaOutdatedError`), no WAL switch, and every write refused with
   * `ReadOnlyError` before it reaches SQLite. For files on read-only media or
   * in a directory the process may not write (SQLite then cannot create the
   * `-wal`/`-shm` files a read-write connection needs). The file must exist.
   * @defaultValue false
   */
  readonly?: boolean;
  /**
   * Called once, when the store first finds that the database holds
   * migrations this version does not know (a newer version of aimemo migrated
   * it). Without it the store emits a process warning (`AIMEMO_SCHEMA_NEWER`).
   */
  onSchemaNewer?: (info: SchemaNewerInfo) => void;
}

/** Largest `busyTimeout`: SQLite's busy timeout is a C int of milliseconds. */
const MAX_BUSY_TIMEOUT_MS = 2 ** 31 - 1;

/** The file behind a source, absolute, or null (`:memory:`, or an in-memory handle). */
function databaseFile(source: SQLiteSource): string | null {
  if (typeof source === 'string') {
    const file = sqliteFile(source);
    return file === null ? null : path.resolve(file);
  }
  const client = 'prepare' in source ? (source as BetterSqlite3.Database) : (source as unknown as { $client: BetterSqlite3.Database }).$client;
  return client.memory || client.name === '' ? null : path.resolve(client.name);
}

/**
 * A {@link MemoryStore} on SQLite.
 *
 * Databases the store opens itself use write-ahead logging (readers never wait
 * for the writer) and `synchronous = NORMAL`. WAL needs a local file system:
 * do not put the file on NFS or SMB.
 *
 * @example
 * const store = new SQLiteStore('./memory.db');          // created and migrated on first use
 * const test = new SQLiteStore(':memory:');               // gone on close()
 * const shared = new SQLiteStore(new Database('app.db')); // the app's connection; not closed by close()
 * @throws ValidationError when `source` or an option is not of an accepted kind.
 */
export class SQLiteStore extends SqlStore {
  /** @internal */
  declare protected readonly repository: SQLiteRepository;

  readonly #file: string | null;

  constructor(source: string | BetterSqlite3.Database | SQLiteSource = './aimemo.db', options?: SQLiteStoreOptions) {
    const checked = checkSQLiteSource(source);
    const opts = validateOptions(options, ['autoMigrate', 'busyTimeout', 'readonly', 'onSchemaNewer']);
    const busyTimeout = opts.busyTimeout ?? 5000;
    if (typeof busyTimeout !== 'number' || !Number.isSafeInteger(busyTimeout) || busyTimeout < 0 || busyTimeout > MAX_BUSY_TIMEOUT_MS) {
      throw new ValidationError('options.busyTimeout', `must be an integer of milliseconds from 0 to ${MAX_BUSY_TIMEOUT_MS.toLocaleString('en-US')}`, describe(busyTimeout));
    }
    const autoMigrate = opts.autoMigrate ?? true;
    if (typeof autoMigrate !== 'boolean') throw new ValidationError('options.autoMigrate', 'must be a boolean', describe(autoMigrate));
    const readonly = opts.readonly ?? false;
    if (typeof readonly !== 'boolean') throw new ValidationError('options.readonly', 'must be a boolean', describe(readonly));
    if (readonly && typeof checked !== 'string') throw new ValidationError('options.readonly', 'applies to a file the store opens; open your own connection read-only instead');
    if (opts.onSchemaNewer !== undefined && typeof opts.onSchemaNewer !== 'function') {
      throw new ValidationError('options.onSchemaNewer', 'must be a function', describe(opts.onSchemaNewer));
    }
    const where = typeof checked === 'string' ? checked : 'passed in by the application';
    const repository = new SQLiteRepository(checked, { autoMigrate, busyTimeoutMs: busyTimeout, readonly });
    super(repository, (e) => mapSQLiteError(e, where), { onSchemaNewer: opts.onSchemaNewer as SQLiteStoreOptions['onSchemaNewer'] });
    this.#file = databaseFile(checked);
  }

  /**
   * The database file (absolute), or null for `:memory:`. Export and backup
   * refuse to write to it or to its `-wal`, `-shm` and `-journal` files.
   */
  get file(): string | null {
    return this.#file;
  }

  /**
   * A consistent copy of the live database at `path`, made with SQLite's
   * online backup API while the application keeps reading and writing. The
   * copy is checked (integrity and the full-text index) before it is put in
   * place, and is one self-contained file that `new SQLiteStore(path)` opens.
   *
   * @example
   * await store.backup('/backups/aimemo-2026-01-31.db');
   * @throws BadFileError when `path` exists (without `overwrite`), its directory does not, or the copy fails its check.
   */
  async backup(path: string, options?: BackupOptions): Promise<BackupResult> {
    if (typeof path !== 'string' || path.trim() === '' || path === ':memory:' || path.includes('\u0000')) {
      throw new ValidationError('path', 'must be a file path', describe(path));
    }
    const opts = validateOptions(options, ['overwrite', 'verify', 'onProgress']);
    for (const key of ['overwrite', 'verify'] as const) {
      if (opts[key] !== undefined && typeof opts[key] !== 'boolean') throw new ValidationError(`options.${key}`, 'must be a boolean', describe(opts[key]));
    }
    if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new ValidationError('options.onProgress', 'must be a function', describe(opts.onProgress));
    checkOutputPath(path, { overwrite: opts.overwrite === true, protect: databaseFilesOf(this) }); // before the store opens anything
    return this.run(() => backupSQLite(this.repository.connection.client, path, opts as BackupOptions));
  }

  /** The better-sqlite3 handle (after the first call), for maintenance the store does not cover. */
  get client(): BetterSqlite3.Database | undefined {
    return this.repository.connection?.client;
  }
}
