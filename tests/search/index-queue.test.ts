/**
 * SQLite's search index queue (`memories_pending`): rows written around the
 * store (plain SQL, an older version still running, the rows a migration
 * queued) wait there, and the store indexes them
 * - before it searches their namespace, so they are found, scored as if the
 *   store had written them;
 * - never inside one of its own writes: a save indexes the rows it wrote and
 *   nothing else, so no write waits for another writer's backlog.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from '@jest/globals';
import { SQLiteStore } from '../../src';

const pending = (db: Database.Database, namespace: string) =>
  (db.prepare('SELECT count(*) AS n FROM memories_pending WHERE namespace = ?').get(namespace) as { n: number }).n;

/** Writes rows the way another program would: plain SQL, the store not involved. */
function insertAround(db: Database.Database, namespace: string, rows: { id: string; content: string }[]): void {
  const insert = db.prepare(`INSERT INTO memories (namespace, id, content, metadata, tags, "timestamp") VALUES (?, ?, ?, '{}', '[]', ?)`);
  db.transaction(() => rows.forEach((r, i) => insert.run(namespace, r.id, r.content, 1_700_000_000_000 + i)))();
}

describe('SQLite: memories written around the store', () => {
  let db: Database.Database;
  let store: SQLiteStore;
  afterEach(async () => {
    await store.close();
    db.close();
  });

  const rows = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, content: `${i % 4 === 0 ? 'walnut walnut' : 'walnut'} tree number ${i} ${i % 3 ? 'orchard' : 'garden'}` }));

  it('are indexed before their namespace is searched, and score as if the store had saved them', async () => {
    db = new Database(':memory:');
    store = new SQLiteStore(db);
    await store.count({ namespace: 'warm' }); // migrates
    insertAround(db, 'around', rows);
    expect(pending(db, 'around')).toBe(40);
    await store.saveMany(rows.map((r, i) => ({ ...r, namespace: 'saved', timestamp: new Date(1_700_000_000_000 + i) })));

    for (const query of ['walnut', 'walnut garden', '"tree number"', 'orch*']) {
      const around = await store.search(query, { namespace: 'around', limit: 10 });
      const saved = await store.search(query, { namespace: 'saved', limit: 10 });
      expect(around.length).toBeGreaterThan(0);
      expect(around.map((r) => [r.id, r.score])).toEqual(saved.map((r) => [r.id, r.score]));
    }
    expect(pending(db, 'around')).toBe(0);
  });

  it("a write indexes its own rows only: another namespace's backlog stays queued until that namespace is searched", async () => {
    db = new Database(':memory:');
    store = new SQLiteStore(db);
    await store.count({ namespace: 'warm' });
    insertAround(db, 'backlog', rows);

    await store.save({ namespace: 'mine', id: 'm1', content: 'a walnut of my own' });
    await store.saveMany([{ namespace: 'mine', id: 'm2', content: 'another walnut' }]);
    await store.update('m1', { content: 'a walnut, updated' }, 'mine');
    await store.delete('m2', 'mine');
    expect(pending(db, 'mine')).toBe(0);
    expect(pending(db, 'backlog')).toBe(40);
    expect((await store.search('walnut', { namespace: 'mine' })).map((r) => r.id)).toEqual(['m1']);

    expect(await store.indexQueued()).toBe(40);
    expect(pending(db, 'backlog')).toBe(0);
    expect((await store.search('walnut', { namespace: 'backlog', limit: 50 })).length).toBe(40);
  });

  it('clear forgets the namespace, its queue included; other queues stay', async () => {
    db = new Database(':memory:');
    store = new SQLiteStore(db);
    await store.count({ namespace: 'warm' });
    insertAround(db, 'gone', rows);
    insertAround(db, 'kept', rows.slice(0, 5));
    expect(await store.clear('gone')).toBe(40);
    expect(pending(db, 'gone')).toBe(0);
    expect(pending(db, 'kept')).toBe(5);
    expect(await store.search('walnut', { namespace: 'gone' })).toEqual([]);
    expect((await store.search('walnut', { namespace: 'kept' })).length).toBe(5);
  });
});
