/**
 * Issue 11, items 2, 3 and 16: nothing a caller passes as an output path
 * destroys data. On main `aimemo --db ./x.db export ./x.db` exited 0 and
 * replaced the live database with JSON Lines (the next command got
 * SQLITE_NOTADB); `backup(db + '-wal', { overwrite: true })` "succeeded" and
 * the database lost its acknowledged rows; a directory, `/` and a path with
 * NUL gave raw EISDIR, EBUSY and TypeError. Now, for export and backup alike,
 * in the API and the CLI: the database and its -wal, -shm and -journal files
 * are refused (even with overwrite, even through a symbolic or hard link);
 * an existing file only with overwrite (--force); a directory, a device or a
 * malformed path is a ValidationError; and the database keeps working.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadFileError, SQLiteStore, ValidationError, exportJsonl } from '../../src';
import { checkOutputPath } from '../../src/ops/output-path';
import { requireBuild } from '../helpers/migrations';
import { tempDir, uniqueNamespace } from '../helpers/temp';

const tmp = tempDir('output-paths');
afterAll(() => tmp.cleanup());
let n = 0;

/** A live WAL database with committed rows that sit in its -wal file, and a second connection reading it. */
async function liveDatabase(): Promise<{ file: string; store: SQLiteStore; ns: string; reader: Database.Database }> {
  const file = tmp.file(`live-${++n}.db`);
  const store = new SQLiteStore(file);
  const ns = uniqueNamespace('live');
  await store.saveMany(Array.from({ length: 600 }, (_, i) => ({ id: `m${i}`, namespace: ns, content: `acknowledged memory ${i}` })));
  const reader = new Database(file);
  return { file, store, ns, reader };
}

/** The database still opens, passes its check, and holds every row. */
function intact(file: string, ns: string, rows: number): void {
  const db = new Database(file);
  try {
    expect(db.pragma('quick_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT count(*) AS n FROM memories WHERE namespace = ?').get(ns) as { n: number }).n).toBe(rows);
  } finally {
    db.close();
  }
}

const DATABASE_FILES = ['', '-wal', '-shm', '-journal'];

describe('export and backup never write over the database', () => {
  it.each(DATABASE_FILES)('refuses the database file%s as an export target, even with overwrite', async (suffix) => {
    const { file, store, ns, reader } = await liveDatabase();
    try {
      for (const overwrite of [false, true]) {
        const error = await exportJsonl(store, file + suffix, { overwrite }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BadFileError);
        expect((error as Error).message).toMatch(/is the database itself/);
      }
      expect(await store.count(ns)).toBe(600);
      expect((reader.prepare('SELECT count(*) AS n FROM memories').get() as { n: number }).n).toBe(600);
    } finally {
      reader.close();
      await store.close();
    }
    intact(file, ns, 600);
  });

  it.each(DATABASE_FILES)('refuses the database file%s as a backup target, even with overwrite', async (suffix) => {
    const { file, store, ns, reader } = await liveDatabase();
    try {
      const error = await store.backup(file + suffix, { overwrite: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadFileError);
      expect((reader.prepare('SELECT count(*) AS n FROM memories').get() as { n: number }).n).toBe(600);
    } finally {
      reader.close();
      await store.close();
    }
    intact(file, ns, 600);
  });

  it('sees through a symbolic link and a hard link to the database', async () => {
    const { file, store, ns, reader } = await liveDatabase();
    const symlink = tmp.file(`symlink-${n}.db`);
    const hardlink = tmp.file(`hardlink-${n}.db`);
    fs.symlinkSync(file, symlink);
    fs.linkSync(file, hardlink);
    const dirLink = tmp.file(`dirlink-${n}`);
    fs.symlinkSync(tmp.dir, dirLink);
    try {
      for (const target of [symlink, hardlink, path.join(dirLink, path.basename(file)), path.join(dirLink, `${path.basename(file)}-wal`)]) {
        await expect(exportJsonl(store, target, { overwrite: true })).rejects.toThrow(/is the database itself/);
        await expect(store.backup(target, { overwrite: true })).rejects.toThrow(/is the database itself/);
      }
    } finally {
      reader.close();
      await store.close();
    }
    intact(file, ns, 600);
  });

  it('refuses an existing file unless overwrite is given, and then replaces it whole', async () => {
    const { file, store, ns, reader } = await liveDatabase();
    reader.close();
    const target = tmp.file(`existing-${n}.jsonl`);
    fs.writeFileSync(target, 'precious notes\n');
    try {
      await expect(exportJsonl(store, target)).rejects.toThrow(/already exists; pass overwrite: true/);
      expect(fs.readFileSync(target, 'utf8')).toBe('precious notes\n');
      expect((await exportJsonl(store, target, { overwrite: true, namespaces: [ns] })).count).toBe(600);
      const copy = tmp.file(`existing-${n}.db`);
      fs.writeFileSync(copy, 'precious');
      await expect(store.backup(copy)).rejects.toThrow(/already exists/);
      expect(fs.readFileSync(copy, 'utf8')).toBe('precious');
    } finally {
      await store.close();
    }
    intact(file, ns, 600);
  });

  // Only targets inside the test's own directory: run against code that does not check (main did not), a
  // device outside it would be replaced by a regular file (it happened to /dev/null once, running as root).
  it.each([
    ['a directory', () => tmp.dir],
    ['a path with NUL', () => tmp.file('a\u0000b.db')],
    ['an empty string', () => ''],
    ['a named pipe', () => {
      const fifo = tmp.file(`fifo-${++n}`);
      execFileSync('mkfifo', [fifo]);
      return fifo;
    }],
  ])('refuses %s with ValidationError (export and backup, with overwrite)', async (_what, target) => {
    const store = new SQLiteStore(tmp.file(`dirs-${++n}.db`));
    try {
      await store.save({ content: 'x' });
      const where = target();
      const exported = await exportJsonl(store, where, { overwrite: true }).catch((e: unknown) => e);
      const backedUp = await store.backup(where, { overwrite: true }).catch((e: unknown) => e);
      expect(exported).toBeInstanceOf(ValidationError);
      expect(backedUp).toBeInstanceOf(ValidationError);
      if (where.includes('fifo')) expect(fs.statSync(where).isFIFO()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('refuses the root directory and a device without touching them (checked, never written)', () => {
    for (const target of [path.parse(tmp.dir).root, '/dev/null']) {
      expect(() => checkOutputPath(target, { overwrite: true, protect: [] })).toThrow(ValidationError);
    }
    expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});

describe('aimemo export and backup (CLI)', () => {
  const BIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp.dir, env: { ...process.env, NODE_OPTIONS: '', AIMEMO_DB: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  it('refuses `--db x.db export x.db` (and its -wal, with --force), and the database keeps working', async () => {
    requireBuild();
    const { file, store, ns, reader } = await liveDatabase();
    reader.close();
    await store.close();
    for (const args of [['export', file], ['export', `${file}-wal`, '--force'], ['backup', `${file}-wal`, '--force'], ['backup', file, '--force']]) {
      const r = await run(['--db', file, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(/is the database itself/);
    }
    intact(file, ns, 600);
    const existing = tmp.file(`cli-existing-${n}.jsonl`);
    fs.writeFileSync(existing, 'keep me');
    expect((await run(['--db', file, 'export', existing])).code).toBe(1);
    expect(fs.readFileSync(existing, 'utf8')).toBe('keep me');
    expect((await run(['--db', file, 'export', existing, '--force', '-q'])).code).toBe(0);
    expect(fs.readFileSync(existing, 'utf8').split('\n').filter(Boolean)).toHaveLength(601);
  });
});
