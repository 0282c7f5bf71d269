/**
 * Online backup of a live SQLite database with SQLite's backup API
 * (https://sqlite.org/backup.html, better-sqlite3's `db.backup()`), not a file
 * copy: a file copy of a database in WAL mode can miss committed pages still in
 * the `-wal` file, or catch a page half-written.
 */
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { MEMORIES_FTS } from '../../../drizzle/sqlite';
import { BadFileError } from '../../errors';
import { checkOutputPath, SQLITE_COMPANIONS } from '../../ops/output-path';

/** Options of {@link SQLiteStore.backup}. */
export interface BackupOptions {
  /** Replace `path` when it exists (never the database itself or its -wal, -shm, -journal files). @defaultValue false */
  overwrite?: boolean;
  /**
   * Open the copy and check it (`PRAGMA quick_check` and the FTS5
   * `integrity-check`) before putting it in place.
   * @defaultValue true
   */
  verify?: boolean;
  /** Called after each step of the copy. */
  onProgress?(progress: { totalPages: number; remainingPages: number }): void;
}

/** What {@link SQLiteStore.backup} returns. */
export interface BackupResult {
  /** Absolute path of the copy. */
  path: string;
  /** Database pages copied. */
  pages: number;
  /** Size of the copy. */
  bytes: number;
  /** True when the copy passed the checks. */
  verified: boolean;
  ms: number;
}

/** Removes a file SQLite made and its companions, ignoring those that are not there. */
function removeDatabaseFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(file + suffix, { force: true });
}

/** Checks that the copy is a sound SQLite database with a sound full-text index, and makes it one self-contained file. */
function verifyCopy(file: string): void {
  const db = new Database(file);
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`quick_check reported: ${String(check)}`);
    const fts = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(MEMORIES_FTS);
    // https://sqlite.org/fts5.html#the_integrity_check_command: raises SQLITE_CORRUPT_VTAB when the index does not match the rows.
    if (fts) db.exec(`INSERT INTO ${MEMORIES_FTS}(${MEMORIES_FTS}, rank) VALUES ('integrity-check', 1)`);
    db.pragma('journal_mode = DELETE'); // no -wal/-shm files beside the copy
  } finally {
    db.close();
  }
}

/**
 * Copies the database behind `client` to `dest`, consistently, while the
 * application keeps using it: the copy is made in a temporary file next to
 * `dest`, checked, then renamed into place, so `dest` is never half-written.
 * `dest` is checked first (`ops/output-path.ts`): never the database or its
 * companions, an existing file only with `overwrite`, never a directory.
 *
 * Writes through `client` during the copy are carried into it; writes from
 * other connections restart the copy (SQLite's rule), so after the first
 * restart the rest is copied in one step.
 */
export async function backupSQLite(client: BetterSqlite3.Database, dest: string, options: BackupOptions): Promise<BackupResult> {
  const started = performance.now();
  const protect = client.memory ? [] : SQLITE_COMPANIONS.map((suffix) => client.name + suffix);
  const target = checkOutputPath(dest, { overwrite: options.overwrite ?? false, protect });
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let lastRemaining = Infinity;
  let restarted = false;
  try {
    let totalPages: number;
    try {
      ({ totalPages } = await client.backup(tmp, {
        progress: (p) => {
          options.onProgress?.(p);
          if (p.remainingPages > lastRemaining) restarted = true; // another connection wrote: copy the rest at once
          lastRemaining = p.remainingPages;
          return restarted ? 0x7fffffff : Math.max(256, Math.ceil(p.totalPages / 50));
        },
      }));
    } catch (error) {
      if (!(error instanceof Error) || !('code' in error) || !/^(E[A-Z]+|SQLITE_(CANTOPEN|IOERR|FULL|READONLY|PERM))/.test(String(error.code))) throw error;
      throw new BadFileError(target, `cannot write the backup (${String(error.code)}); nothing was written`, { cause: error });
    }
    options.onProgress?.({ totalPages, remainingPages: 0 });
    const verify = options.verify ?? true;
    if (verify) {
      try {
        verifyCopy(tmp);
      } catch (error) {
        throw new BadFileError(target, `the copy failed its check (${error instanceof Error ? error.message : String(error)}); nothing was written`, { cause: error });
      }
    }
    try {
      fs.renameSync(tmp, target);
    } catch (error) {
      throw new BadFileError(target, `cannot put the backup in place (${(error as { code?: string }).code ?? 'error'}); nothing was written`, { cause: error });
    }
    return { path: target, pages: totalPages, bytes: fs.statSync(target).size, verified: verify, ms: Math.round(performance.now() - started) };
  } finally {
    removeDatabaseFiles(tmp);
  }
}
