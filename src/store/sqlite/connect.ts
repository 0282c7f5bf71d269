/**
 * What `SQLiteStore` accepts as a database, and how it opens one.
 */
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { is } from 'drizzle-orm';
import { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseUnavailableError, MigrationError, ValidationError } from '../../errors';
import { describe } from '../../validate';

/**
 * A file path (`./aimemo.db`, `file:./aimemo.db`), `':memory:'`, an open
 * better-sqlite3 `Database`, or a Drizzle better-sqlite3 database.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SQLiteSource = string | BetterSqlite3.Database | BaseSQLiteDatabase<'sync', any, any>;

export interface SQLiteConnection {
  /** The better-sqlite3 handle every query goes through. */
  client: BetterSqlite3.Database;
  /** True when the store opened it, and so closes it. */
  owned: boolean;
  /** Where it is, for messages. */
  where: string;
}

/** A better-sqlite3 `Database`, recognised by shape so a second copy of the driver also works. */
function isBetterSqlite3(value: unknown): value is BetterSqlite3.Database {
  const v = value as BetterSqlite3.Database;
  return typeof v === 'object' && v !== null && typeof v.prepare === 'function' && typeof v.pragma === 'function' && typeof v.transaction === 'function';
}

/** Checks the constructor argument without opening anything. */
export function checkSQLiteSource(source: unknown): SQLiteSource {
  if (typeof source === 'string') {
    if (source.trim() === '' || source.includes('\u0000')) throw new ValidationError('path', 'must be a file path or ":memory:"', describe(source));
    return source;
  }
  if (isBetterSqlite3(source)) return source;
  if (is(source, BaseSQLiteDatabase)) {
    const client = (source as { $client?: unknown }).$client;
    if (isBetterSqlite3(client)) return source as SQLiteSource;
    throw new ValidationError('database', 'must be a Drizzle database on better-sqlite3 (other SQLite drivers are not supported)');
  }
  throw new ValidationError(
    'database',
    'must be a file path, ":memory:", a better-sqlite3 Database or a Drizzle better-sqlite3 database',
    describe(source),
  );
}

/** The file a source names (`file:` prefix removed), or null for `:memory:` and open handles. */
export function sqliteFile(source: SQLiteSource): string | null {
  if (typeof source !== 'string') return null;
  const file = source.replace(/^file:(\/\/)?/, '');
  return file === ':memory:' ? null : file;
}

/**
 * Opens (or adopts) the connection, changing nothing in the file: the caller
 * checks it (migrations, {@link refuseForeignSchema}) and only then makes the
 * lasting change, {@link useWal}. `synchronous` is a setting of this
 * connection alone; a read-only connection gets no pragma at all.
 */
export function openSQLite(source: SQLiteSource, busyTimeoutMs: number, readonly = false): SQLiteConnection {
  if (typeof source !== 'string') {
    const client = isBetterSqlite3(source) ? source : (source as unknown as { $client: BetterSqlite3.Database }).$client;
    return { client, owned: false, where: client.name };
  }
  const file = sqliteFile(source) ?? ':memory:';
  if (file !== ':memory:' && !fs.existsSync(path.dirname(path.resolve(file)))) {
    // better-sqlite3 throws a bare TypeError here, with no code to map.
    throw new DatabaseUnavailableError(`cannot open the SQLite database ${file}: the directory ${path.dirname(path.resolve(file))} does not exist`);
  }
  if (file !== ':memory:' && fs.existsSync(file) && !fs.statSync(file).isFile()) {
    throw new DatabaseUnavailableError(`cannot open the SQLite database ${file}: it is not a file`);
  }
  if (readonly && file === ':memory:') throw new ValidationError('options.readonly', 'needs a database file; an in-memory database opened read-only would be empty');
  const client = new Database(file, { timeout: busyTimeoutMs, readonly, fileMustExist: readonly });
  if (readonly) return { client, owned: true, where: file };
  try {
    client.pragma('synchronous = NORMAL'); // durable with WAL, without an fsync per commit
    // Deleted content is overwritten with zeros instead of lingering in free space
    // (https://sqlite.org/pragma.html#pragma_secure_delete): forgetting a memory removes its text from the file.
    client.pragma('secure_delete = ON');
    refuseForeignSchema(client);
  } catch (error) {
    client.close();
    throw error;
  }
  return { client, owned: true, where: file };
}

/**
 * Refuses a database that holds a `memories` table AIMemo did not make (no
 * AIMemo migrations recorded): another app's data, which migrating would
 * fail on, and which the store must not change in any way first.
 * @throws MigrationError naming the table.
 */
export function refuseForeignSchema(client: BetterSqlite3.Database): void {
  const tables = new Set(
    (client.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('memories', '__aimemo_migrations')`).all() as { name: string }[]).map((r) => r.name),
  );
  if (tables.has('memories') && !tables.has('__aimemo_migrations')) {
    throw new MigrationError('0000_init', {
      hint: 'The database already holds a table named memories that AIMemo did not create. Nothing was changed; give AIMemo a file of its own',
    });
  }
}

/** Write-ahead logging for a file the store opened, once its schema is known good (a no-op when already on). */
export function useWal(connection: SQLiteConnection, busyTimeoutMs: number): void {
  if (connection.owned && !connection.client.memory) setWal(connection.client, busyTimeoutMs);
}

/**
 * Switches a file to write-ahead logging, which lets readers run while one
 * process writes. WAL is recorded in the file, so this is a no-op on later
 * opens. On a brand-new file the switch does not wait on the busy handler
 * (several processes creating one database see SQLITE_BUSY), so retry it.
 */
function setWal(client: BetterSqlite3.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      client.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 20);
    }
  }
}
