/**
 * Turns better-sqlite3 errors into AIMemo errors.
 * Result codes: https://sqlite.org/rescode.html
 */
import { AIMemoError, DatabaseUnavailableError } from '../../errors';
import { unwrapDriverError, withoutUserData } from '../driver-error';

/** Codes that mean "this database cannot be used right now", not "this query is wrong". */
const UNAVAILABLE = new Set([
  'SQLITE_CANTOPEN', // no such directory, no permission
  'SQLITE_NOTADB', // the file is not an SQLite database
  'SQLITE_BUSY', // another connection held the write lock for longer than the busy timeout
  'SQLITE_LOCKED',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_PERM',
  'SQLITE_AUTH',
]);

/**
 * Maps a driver error; anything unknown comes back with its class and code,
 * unwrapped from Drizzle's wrapper and without user data (see `driver-error.ts`).
 */
export function mapSQLiteError(error: unknown, where: string): unknown {
  if (error instanceof AIMemoError) return withoutUserData(error);
  const cause = withoutUserData(unwrapDriverError(error));
  const code = (cause as { code?: unknown })?.code;
  const primary = typeof code === 'string' ? /^SQLITE_[A-Z]+/.exec(code)?.[0] : undefined; // SQLITE_IOERR_WRITE -> SQLITE_IOERR
  if (primary && UNAVAILABLE.has(primary)) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return new DatabaseUnavailableError(`cannot use the SQLite database ${where}: ${code}: ${message}${readOnlyHint(code as string)}`, { cause });
  }
  return cause;
}

/**
 * What to do about a file (or directory) this process may not write. A
 * read-write connection switches the file to WAL and needs its -wal and -shm
 * files; even a read-only connection needs the -shm file of a WAL database
 * (https://sqlite.org/wal.html#readonly), which a read-only directory cannot
 * hold.
 */
function readOnlyHint(code: string): string {
  if (code === 'SQLITE_READONLY_DIRECTORY') {
    return (
      '. The file is in WAL mode, and SQLite must create its -shm file beside it even to read it, which this directory does not allow: ' +
      'make the directory writable for this process, or switch the file out of WAL once (PRAGMA journal_mode = DELETE, as a user who may write it) ' +
      'and open it with new SQLiteStore(path, { readonly: true })'
    );
  }
  if (code.startsWith('SQLITE_READONLY')) return '. To read a file this process may not write, open it with new SQLiteStore(path, { readonly: true })';
  return '';
}

