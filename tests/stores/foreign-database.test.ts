/**
 * Issue 11, item 16: another app's SQLite database that holds a table named
 * `memories` was refused with MigrationError (good), but its journal mode had
 * already been switched to WAL, for good. The store now checks before it
 * changes anything: a refused file is left byte for byte as it was.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { MigrationError, SQLiteStore, SchemaOutdatedError } from '../../src';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('foreign');
afterAll(() => tmp.cleanup());
let n = 0;

/** Another app's database, in the default rollback-journal mode. */
function foreignDatabase(schema: string): string {
  const file = tmp.file(`app-${++n}.db`);
  const db = new Database(file);
  db.exec(schema);
  db.close();
  return file;
}

const hash = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const journalMode = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('journal_mode', { simple: true });
  } finally {
    db.close();
  }
};

describe('SQLiteStore on another application’s database', () => {
  it('refuses a database with its own memories table before changing anything in it', async () => {
    const file = foreignDatabase(`CREATE TABLE memories (who TEXT, what TEXT); INSERT INTO memories VALUES ('ann', 'her own data');`);
    const before = hash(file);
    const store = new SQLiteStore(file);
    const error = await store.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/already holds a table named memories that AIMemo did not create. Nothing was changed/);
    await store.close();
    expect(journalMode(file)).toBe('delete');
    expect(hash(file)).toBe(before);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('with autoMigrate: false, refuses an un-migrated database without switching it to WAL', async () => {
    const file = foreignDatabase(`CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL);`);
    const before = hash(file);
    const store = new SQLiteStore(file, { autoMigrate: false });
    await expect(store.count()).rejects.toBeInstanceOf(SchemaOutdatedError);
    await store.close();
    expect(journalMode(file)).toBe('delete');
    expect(hash(file)).toBe(before);
  });

  it('adopts a database without a memories table (its own tables untouched), and only then uses WAL', async () => {
    const file = foreignDatabase(`CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders VALUES (1, 9.5);`);
    const store = new SQLiteStore(file);
    await store.save({ content: 'a memory beside the orders' });
    await store.close();
    expect(journalMode(file)).toBe('wal');
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT total FROM orders').all()).toEqual([{ total: 9.5 }]);
    db.close();
  });
});
