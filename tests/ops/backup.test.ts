/**
 * SQLiteStore#backup: a consistent, checked copy of a live database, made
 * with SQLite's online backup API while this process and another one write.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { BadFileError, SQLiteStore } from '../../src';
import { tempDir, uniqueNamespace } from '../helpers/temp';
import { sampleMemories } from './backends';

const tmp = tempDir('backup');
afterAll(() => tmp.cleanup());

/** Another process that inserts memories into `file`, one small transaction at a time, until killed. */
function startWriterProcess(file: string) {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Database(process.argv[1], { timeout: 5000 });
    const insert = db.prepare("INSERT INTO memories (namespace, id, content, metadata, tags, timestamp) VALUES ('other-process', ?, ?, '{}', '[]', ?)");
    let i = 0;
    process.stdout.write('ready\\n');
    const tick = () => { for (let k = 0; k < 20; k++, i++) insert.run('p' + i, 'written by another process ' + i, Date.now()); setImmediate(tick); };
    tick();`;
  const child = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  const ready = new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { ready, stop: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill(); }) };
}

/** Opens a copy and runs the checks a restore would. */
function checkCopy(file: string) {
  const db = new Database(file);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(() => db.exec(`INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)`)).not.toThrow();
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    return (db.prepare('SELECT count(*) AS n FROM memories').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SQLiteStore#backup', () => {
  it('copies a database while this process and another one write to it, and the copy passes the FTS integrity check', async () => {
    const file = tmp.file('live.db');
    const store = new SQLiteStore(file);
    const ns = uniqueNamespace('live');
    for (let i = 0; i < 20; i++) await store.saveMany(sampleMemories(ns, 1000, i * 1000));
    const before = await store.count(ns);

    const other = startWriterProcess(file);
    await other.ready;
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await store.save({ namespace: ns, content: `written during the backup ${written++}` });
        await new Promise((r) => setImmediate(r));
      }
    })();
    const progress: number[] = [];
    const result = await store.backup(tmp.file('copy.db'), { onProgress: (p) => progress.push(p.remainingPages) });
    writing = false;
    await writer;
    await other.stop();

    expect(result).toMatchObject({ path: tmp.file('copy.db'), verified: true });
    expect(result.bytes).toBe(fs.statSync(result.path).size);
    expect(progress[progress.length - 1]).toBe(0);
    expect(written).toBeGreaterThan(0);
    const copied = checkCopy(result.path);
    expect(copied).toBeGreaterThanOrEqual(before);
    expect(fs.existsSync(`${result.path}-wal`)).toBe(false);

    // The copy is a working store: search finds what was there.
    const restored = new SQLiteStore(result.path);
    expect(await restored.count(ns)).toBeGreaterThanOrEqual(before);
    expect((await restored.search('fastapi deploys', { namespace: ns, limit: 3 })).length).toBe(3);
    await restored.close();
    await store.close();
  }, 120_000);

  it('refuses to replace a file unless asked, and never writes over the database itself', async () => {
    const file = tmp.file('guard.db');
    const store = new SQLiteStore(file);
    await store.save({ content: 'one' });
    const target = tmp.file('guard-copy.db');
    await store.backup(target);
    await expect(store.backup(target)).rejects.toThrow(/already exists; pass overwrite: true/);
    await store.save({ content: 'two' });
    await store.backup(target, { overwrite: true });
    expect(checkCopy(target)).toBe(2);
    await expect(store.backup(file, { overwrite: true })).rejects.toThrow(/is the database itself/);
    await expect(store.backup(tmp.file('no/such/dir/copy.db'))).rejects.toBeInstanceOf(BadFileError);
    await expect(store.backup('')).rejects.toThrow(/path must be a file path/);
    expect(fs.readdirSync(tmp.dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await store.close();
  });

  it('copies an in-memory database to a file', async () => {
    const store = new SQLiteStore(':memory:');
    await store.saveMany(sampleMemories('mem', 50));
    const result = await store.backup(tmp.file('from-memory.db'));
    expect(checkCopy(result.path)).toBe(50);
    await store.close();
  });
});
