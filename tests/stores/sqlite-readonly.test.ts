/**
 * Issue 12.11: SQLite files the process may not write.
 *
 * - `readonly: true` reads (search, list, get, count), refuses every write
 *   with ReadOnlyError before SQLite sees it, never migrates (an older schema
 *   is SchemaOutdatedError) and leaves the file's bytes as they were.
 * - A missing file with `readonly: true` or `autoMigrate: false` says "no such file".
 * - Files and directories this process really may not write: run as the user
 *   `nobody` (this suite runs as root, which no permission stops) on a file in a
 *   directory only root may write. A default store fails with
 *   DatabaseUnavailableError naming `readonly: true`; `readonly: true` reads a
 *   file out of WAL mode; a WAL file there fails with a message that says why
 *   (SQLite must create the -shm file) and what to do. Skipped, with the reason
 *   printed, when not root.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseUnavailableError, ReadOnlyError, SchemaOutdatedError, SQLiteStore, ValidationError } from '../../src';
import { MIGRATIONS_TABLE } from '../../src/migrate/locate';
import { requireBuild } from '../helpers/migrations';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('sqlite-readonly');
afterAll(() => tmp.cleanup());

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A migrated file with two memories, closed (WAL checkpointed into the file). */
async function filled(name: string, journal: 'wal' | 'delete' = 'wal'): Promise<string> {
  const file = tmp.file(name);
  const store = new SQLiteStore(file);
  await store.saveMany([
    { id: 'a', namespace: 'ro', content: 'Read-only replicas serve searches', tags: ['ops'] },
    { id: 'b', namespace: 'ro', content: 'Backups are copied to read-only media' },
  ]);
  await store.close();
  if (journal === 'delete') {
    const db = new Database(file);
    db.pragma('journal_mode = DELETE');
    db.close();
  }
  return file;
}

describe('SQLiteStore with readonly: true', () => {
  it('reads, and refuses every write with ReadOnlyError, leaving the file as it was', async () => {
    const file = await filled('reads.db');
    const before = sha(file);
    const store = new SQLiteStore(file, { readonly: true });
    try {
      expect((await store.search('read-only', { namespace: 'ro' })).map((m) => m.id).sort()).toEqual(['a', 'b']);
      expect((await store.list({ namespace: 'ro', tags: ['ops'] })).map((m) => m.id)).toEqual(['a']);
      expect(await store.get('a', 'ro')).toMatchObject({ content: 'Read-only replicas serve searches' });
      expect(await store.count('ro')).toBe(2);
      const writes: [string, () => Promise<unknown>][] = [
        ['save', () => store.save({ namespace: 'ro', content: 'must not be written' })],
        ['saveMany', () => store.saveMany([{ namespace: 'ro', content: 'must not be written' }])],
        ['delete', () => store.delete('a', 'ro')],
        ['clear', () => store.clear('ro')],
        ['optimize', () => store.optimize()],
      ];
      for (const [operation, write] of writes) {
        const error = await write().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ReadOnlyError);
        expect((error as ReadOnlyError).code).toBe('READ_ONLY');
        expect((error as Error).message).toBe(`SQLiteStore was opened with readonly: true; ${operation} writes, so it is refused`);
      }
      expect(await store.count('ro')).toBe(2);
    } finally {
      await store.close();
    }
    expect(sha(file)).toBe(before);
  });

  it('never migrates: an older schema is refused with SchemaOutdatedError', async () => {
    const file = await filled('older.db');
    const db = new Database(file);
    db.prepare(`DELETE FROM "${MIGRATIONS_TABLE}" WHERE created_at = (SELECT max(created_at) FROM "${MIGRATIONS_TABLE}")`).run();
    db.close();
    const before = sha(file);
    const store = new SQLiteStore(file, { readonly: true });
    await expect(store.search('read', { namespace: 'ro' })).rejects.toBeInstanceOf(SchemaOutdatedError);
    await store.close();
    expect(sha(file)).toBe(before);
  });

  it.each([
    ['readonly: true', { readonly: true }],
    ['autoMigrate: false', { autoMigrate: false }],
  ])('a missing file with %s: "no such file", and no file is created', async (label, options) => {
    const file = tmp.file(`missing-${label.replace(/\W+/g, '_')}.db`);
    const store = new SQLiteStore(file, options);
    const error = await store.search('anything').catch((e: unknown) => e);
    await store.close();
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toBe(`cannot open the SQLite database ${file}: no such file (with ${label} the store never creates one)`);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('is refused for :memory:, for an app connection and for a non-boolean', () => {
    expect(() => new SQLiteStore(':memory:', { readonly: true })).not.toThrow(); // checked when opened
    expect(() => new SQLiteStore(new Database(':memory:'), { readonly: true })).toThrow(ValidationError);
    expect(() => new SQLiteStore(tmp.file('x.db'), { readonly: 'yes' as unknown as boolean })).toThrow(/options.readonly must be a boolean/);
  });

  it(':memory: with readonly: true is a ValidationError when opened', async () => {
    const store = new SQLiteStore(':memory:', { readonly: true });
    await expect(store.count()).rejects.toThrow(/options.readonly needs a database file/);
    await store.close();
  });
});

/** Runs a store operation in a child process as the user nobody; prints `{ ok, ids }` or `{ name, code, message }`. */
function asNobody(file: string, options: Record<string, unknown>): Promise<{ ok?: boolean; ids?: string[]; name?: string; code?: string; message?: string }> {
  const script = `
    const { SQLiteStore } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'src', 'index.js'))});
    (async () => {
      const store = new SQLiteStore(process.argv[1], JSON.parse(process.argv[2]));
      try {
        const hits = await store.search('read-only', { namespace: 'ro' });
        console.log(JSON.stringify({ ok: true, ids: hits.map((h) => h.id).sort() }));
      } catch (e) {
        console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message }));
      } finally {
        await store.close().catch(() => undefined);
      }
    })();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, file, JSON.stringify(options)], {
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!));
      } catch {
        reject(new Error(`child printed no result\n${out}\n${err}`));
      }
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  // eslint-disable-next-line no-console
  console.warn('sqlite-readonly: the read-only directory tests need root (to run a child as nobody); skipped');
}

(isRoot ? describe : describe.skip)('a directory this process may not write (a child running as nobody)', () => {
  /** A directory only root may write, holding the file; readable by everyone. */
  async function lockedDir(name: string, journal: 'wal' | 'delete'): Promise<string> {
    requireBuild();
    const dir = tmp.file(name);
    fs.mkdirSync(dir);
    const file = path.join(dir, 'memory.db');
    fs.renameSync(await filled(`${name}.db`, journal), file);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(file, 0o644);
    fs.chmodSync(tmp.dir, 0o755);
    return file;
  }

  it('a default store fails with DatabaseUnavailableError naming readonly: true; readonly: true reads the file', async () => {
    const file = await lockedDir('locked-delete', 'delete');
    const failed = await asNobody(file, {});
    expect(failed).toMatchObject({ name: 'DatabaseUnavailableError', code: 'DATABASE_UNAVAILABLE' });
    expect(failed.message).toContain('SQLITE_READONLY');
    expect(failed.message).toContain('new SQLiteStore(path, { readonly: true })');
    expect(await asNobody(file, { readonly: true })).toEqual({ ok: true, ids: ['a', 'b'] });
  }, 30_000);

  it('a WAL file there fails even read-only, saying SQLite must create the -shm file and what to do', async () => {
    const file = await lockedDir('locked-wal', 'wal');
    const failed = await asNobody(file, { readonly: true });
    expect(failed).toMatchObject({ name: 'DatabaseUnavailableError', code: 'DATABASE_UNAVAILABLE' });
    expect(failed.message).toContain('SQLITE_READONLY_DIRECTORY');
    expect(failed.message).toContain('must create its -shm file');
    expect(failed.message).toContain('PRAGMA journal_mode = DELETE');
  }, 30_000);
});
