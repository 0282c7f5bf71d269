/**
 * The embedded, zero-config store: SQLite through better-sqlite3, with FTS5.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { ValidationError } from '../../errors';
import type { SchemaNewerInfo } from '../../migrate/schema-version';
import { describe } from '../../validate';
import { SqlStore } from '../sql-store';
import { backupSQLite, type BackupOptions, type BackupResult } from './backup';
import { checkSQLiteSource, type SQLiteSource } from './connect';
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

  constructor(source: string | BetterSqlite3.Database | SQLiteSource = './aimemo.db', options: SQLiteStoreOptions = {}) {
    const checked = checkSQLiteSource(source);
    const busyTimeout = options.busyTimeout ?? 5000;
    if (!Number.isSafeInteger(busyTimeout) || busyTimeout < 0) {
      throw new ValidationError('options.busyTimeout', 'must be a non-negative integer of milliseconds', describe(busyTimeout));
    }
    const readonly = options.readonly ?? false;
    if (typeof readonly !== 'boolean') throw new ValidationError('options.readonly', 'must be a boolean', describe(readonly));
    if (readonly && typeof checked !== 'string') throw new ValidationError('options.readonly', 'applies to a file the store opens; open your own connection read-only instead');
    const where = typeof checked === 'string' ? checked : 'passed in by the application';
    const repository = new SQLiteRepository(checked, { autoMigrate: options.autoMigrate ?? true, busyTimeoutMs: busyTimeout, readonly });
    super(repository, (e) => mapSQLiteError(e, where), { onSchemaNewer: options.onSchemaNewer });
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
  async backup(path: string, options: BackupOptions = {}): Promise<BackupResult> {
    if (typeof path !== 'string' || path.trim() === '' || path === ':memory:') {
      throw new ValidationError('path', 'must be a file path', describe(path));
    }
    return this.run(() => backupSQLite(this.repository.connection.client, path, options ?? {}));
  }

  /** The better-sqlite3 handle (after the first call), for maintenance the store does not cover. */
  get client(): BetterSqlite3.Database | undefined {
    return this.repository.connection?.client;
  }
}
