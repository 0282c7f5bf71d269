/**
 * Where an operation may write a file (`exportJsonl`, `SQLiteStore#backup`,
 * the CLI's `export` and `backup`). Nothing is destroyed by accident:
 *
 * - a path that is a live database, or its `-wal`, `-shm` or `-journal`
 *   file, is refused even with `overwrite` (replacing the database with an
 *   export, or writing over its log, loses acknowledged data: the next
 *   reader gets `SQLITE_NOTADB` or `SQLITE_IOERR_SHORT_READ`); names are
 *   compared after resolving symbolic links, and an existing file also by
 *   device and inode (a hard link);
 * - an existing file is replaced only with `overwrite`;
 * - a directory, a device, a pipe or a socket is never a target, and a path
 *   that is empty or holds NUL is not a path: `ValidationError`.
 *
 * Writers then write a temporary file next to the target and rename it into
 * place, so the target is never half-written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadFileError, ValidationError } from '../errors';
import { describe } from '../validate';

/** The files SQLite keeps beside a database. */
export const SQLITE_COMPANIONS = ['', '-wal', '-shm', '-journal'];

/** The database and its companion files, for a store that has a file (`SQLiteStore#file`); none for any other store. */
export function databaseFilesOf(store: unknown): string[] {
  const file = (store as { file?: unknown } | null)?.file;
  return typeof file === 'string' ? SQLITE_COMPANIONS.map((suffix) => file + suffix) : [];
}

/** `p` with its directory's symbolic links resolved (the directory exists). */
function canonical(p: string): string {
  const resolved = path.resolve(p);
  try {
    return path.join(fs.realpathSync(path.dirname(resolved)), path.basename(resolved));
  } catch {
    return resolved;
  }
}

/** Device and inode of an existing file, following links. */
function identity(p: string): string | undefined {
  try {
    const s = fs.statSync(p);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Checks an output path before anything is written; returns it absolute.
 * @param protect - files that must never be written: the store's database and its companions.
 * @throws ValidationError for a value that is not a file path, or names a directory or a device.
 * @throws BadFileError when the directory is missing, the path is a protected file, or it exists without `overwrite`.
 */
export function checkOutputPath(value: unknown, options: { overwrite: boolean; protect: string[]; field?: string }): string {
  const field = options.field ?? 'path';
  if (typeof value !== 'string' || value.trim() === '' || value.includes('\u0000')) {
    throw new ValidationError(field, 'must be a file path (a non-empty string without NUL characters)', describe(value));
  }
  const target = path.resolve(value);
  const dir = path.dirname(target);
  if (!fs.existsSync(dir)) throw new BadFileError(target, `cannot write: the directory ${dir} does not exist`);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(target);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory() || target === path.parse(target).root) throw new ValidationError(field, 'must be a file path, not a directory');
  if (stat && !stat.isFile()) throw new ValidationError(field, 'must be a regular file, not a device, pipe or socket');
  const name = canonical(target);
  const real = stat ? fs.realpathSync(target) : name;
  const id = stat ? identity(target) : undefined;
  for (const file of options.protect) {
    const names = [canonical(file)];
    if (fs.existsSync(file)) names.push(fs.realpathSync(file));
    if (names.includes(name) || names.includes(real) || (id !== undefined && id === identity(file))) {
      throw new BadFileError(target, 'is the database itself (or its -wal, -shm or -journal file); writing there would destroy it. Choose another path');
    }
  }
  if (stat && !options.overwrite) throw new BadFileError(target, 'already exists; pass overwrite: true (CLI: --force) to replace it');
  return target;
}
