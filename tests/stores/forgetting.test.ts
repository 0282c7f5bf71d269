/**
 * "Forgetting means gone" (issue 13.7): after a memory is deleted, purged or
 * rewritten, its words are not readable anywhere the engine lets us clean.
 *
 * SQLite: FTS5 `secure-delete` (migration 0005_fts5-secure-delete) removes the
 * words from the index's segments at once, and `PRAGMA secure_delete` (set on
 * connections the store opens) zeroes the freed row; after a WAL checkpoint
 * (`optimize()` runs one) the text is in neither the file nor the log.
 *
 * PostgreSQL: a deleted row is a dead tuple, invisible to every query at
 * once; VACUUM (autovacuum, or `optimize({ vacuum: true })`) frees it and its
 * index entries, but PostgreSQL never zeroes the bytes: they stay in the page
 * until the space is reused. The server test shows both facts with
 * pageinspect, as docs/queries.md states them.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore } from '../../src';
import { PG_URL, createTestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('forgetting');
afterAll(() => tmp.cleanup());

/** A word no other memory shares a prefix with: FTS5 stores terms prefix-compressed, so the test looks for its tail. */
const WORD = 'qqxylophonezz';
const TAIL = 'xylophonezz';

/** Every byte of the database file and its WAL. */
function fileBytes(file: string): Buffer {
  return Buffer.concat(['', '-wal'].filter((s) => fs.existsSync(file + s)).map((s) => fs.readFileSync(file + s)));
}

function vocabulary(store: SQLiteStore): { row: number; instance: number; blocks: number } {
  const db = store.client!;
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab_row USING fts5vocab(main, memories_fts, 'row')`);
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab_instance USING fts5vocab(main, memories_fts, 'instance')`);
  return {
    row: (db.prepare(`SELECT count(*) AS n FROM temp.vocab_row WHERE term = ?`).get(WORD) as { n: number }).n,
    instance: (db.prepare(`SELECT count(*) AS n FROM temp.vocab_instance WHERE term = ?`).get(WORD) as { n: number }).n,
    // the index's own pages, where a delete marker alone would leave the term in place
    blocks: (db.prepare(`SELECT count(*) AS n FROM memories_fts_data WHERE instr(block, ?) > 0`).get(Buffer.from(TAIL)) as { n: number }).n,
  };
}

describe('SQLite: forgetting leaves no trace of the words', () => {
  const ways: [string, (store: SQLiteStore, ns: string) => Promise<unknown>][] = [
    ['delete', (s, ns) => s.delete('secret', ns)],
    ['deleteMany', (s, ns) => s.deleteMany({ namespace: ns, where: { kind: 'secret' } })],
    ['clear', (s, ns) => s.clear(ns)],
    ['update of the content', (s, ns) => s.update('secret', { content: 'nothing to see here' }, ns)],
    [
      'expiry and purgeExpired',
      async (s, ns) => {
        await s.update('secret', { expiresAt: new Date(Date.now() - 1000) }, ns);
        expect(await s.purgeExpired()).toBe(1);
      },
    ],
  ];

  it.each(ways)('after %s: not in fts5vocab, not in the index pages, not in the file after a checkpoint', async (label, forget) => {
    const file = tmp.file(`${label.replace(/\W+/g, '-')}.db`);
    const store = new SQLiteStore(file);
    const ns = 'forget';
    await store.saveMany(Array.from({ length: 200 }, (_, i) => ({ namespace: ns, content: `ordinary memory number ${i} about lunch` })));
    await store.save({ id: 'secret', namespace: ns, content: `the password hint is ${WORD}`, metadata: { kind: 'secret' } });
    await store.optimize(); // the word is in a merged segment and the main file
    expect(vocabulary(store)).toEqual({ row: 1, instance: 1, blocks: expect.any(Number) });
    expect(vocabulary(store).blocks).toBeGreaterThan(0);
    expect(fileBytes(file).includes(TAIL)).toBe(true);

    await forget(store, ns);
    expect(await store.search(WORD, { namespace: ns })).toEqual([]);
    expect(vocabulary(store)).toEqual({ row: 0, instance: 0, blocks: 0 });
    await store.optimize(); // WAL checkpoint (TRUNCATE): the log's old page images go
    expect(fileBytes(file).includes(TAIL)).toBe(false);
    store.client!.exec(`INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)`);
    await store.close();
  });

  it('an application connection keeps its own secure_delete setting (the store sets it only on connections it opens)', async () => {
    const file = tmp.file('app-connection.db');
    const db = new Database(file);
    const store = new SQLiteStore(db);
    await store.ready();
    expect(db.pragma('secure_delete', { simple: true })).toBe(0);
    await store.close();
    db.close();
    const owned = new SQLiteStore(file);
    await owned.ready();
    expect(owned.client!.pragma('secure_delete', { simple: true })).toBe(1);
    await owned.close();
  });
});

(PG_URL ? describe : describe.skip)('PostgreSQL: a deleted row is a dead tuple until VACUUM, and its bytes stay until reused', () => {
  it('shows what docs/queries.md says (pageinspect)', async () => {
    const db = await createTestDatabase('forgetting');
    const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
    const store = new PostgresStore(db.url, { poolSize: 1 });
    try {
      await store.saveMany(Array.from({ length: 20 }, (_, i) => ({ namespace: 'forget', content: `ordinary memory ${i}` })));
      await store.save({ id: 'secret', namespace: 'forget', content: `the password hint is ${WORD}` });
      await store.delete('secret', 'forget');
      expect(await store.search(WORD, { namespace: 'forget' })).toEqual([]);
      await sql`CREATE EXTENSION IF NOT EXISTS pageinspect`;
      const items = async () =>
        (await sql`SELECT count(*)::int AS n FROM heap_page_items(get_raw_page('aimemo.memories', 0)) WHERE position(${Buffer.from(TAIL)}::bytea IN t_data) > 0`)[0].n;
      const raw = async () => (await sql`SELECT position(${Buffer.from(TAIL)}::bytea IN get_raw_page('aimemo.memories', 0)) > 0 AS found`)[0].found;
      expect(await items()).toBe(1); // the dead tuple
      await store.optimize({ vacuum: true });
      expect(await items()).toBe(0); // no tuple holds it: unreachable, its index entries gone
      expect(await raw()).toBe(true); // but the bytes are still in the page
    } finally {
      await store.close();
      await sql.end();
      await db.drop();
    }
  });
});
