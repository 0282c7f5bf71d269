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
    return new DatabaseUnavailableError(`cannot use the SQLite database ${where}: ${code}: ${message}`, { cause });
  }
  return cause;
}
