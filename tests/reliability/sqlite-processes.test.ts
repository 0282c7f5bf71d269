/**
 * Issue #6.1: several processes writing to one SQLite file at once.
 *
 * Four writer processes start together on a brand-new file (so they also race
 * to create and migrate it), then each saves its share of memories, one by one
 * and in saveMany batches, mixed with searches, reads and counts. No error may
 * reach a caller (no SQLITE_BUSY: WAL, a 5 s busy timeout and IMMEDIATE write
 * transactions are the defaults), every row must be there, SQLite's and FTS5's
 * integrity checks must pass and every memory must be found by its own word.
 *
 * CI: 4 × 300 saves. `npm run test:stress`: 4 × 2,500.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { DatabaseUnavailableError, SQLiteStore } from '../../src';
import { requireBuild } from '../helpers/migrations';
import { report, scale, seed, sqliteIntegrity, startChild, whenReady, withSqlite } from '../helpers/reliability';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('reliability-sqlite');
afterAll(() => tmp.cleanup());

const PROCESSES = 4;
const SAVES = scale(300, 2_500);

interface WriterResult {
  writer: number;
  /** Memories w<writer>-0 … w<writer>-(ids-1) were written. */
  ids: number;
  saved: number;
  saves: number;
  batches: number;
  searches: number;
  reads: number;
  misses: number[];
  failedIds: string[];
  errors: { op: string; name: string; code: string; message: string }[];
  ms: number;
}

describe('SQLiteStore: many processes on one file', () => {
  it(
    `${PROCESSES} writer processes × ${SAVES} saves (plus saveMany batches and searches): no error, every row present and searchable, integrity checks pass`,
    async () => {
      requireBuild();
      const file = tmp.file('writers.db');
      const runSeed = seed();
      const started = Date.now();
      const children = Array.from({ length: PROCESSES }, (_, w) => startChild('sqlite-writer', [file, String(w), String(SAVES), String(runSeed)]));
      await Promise.all(children.map(whenReady));
      for (const child of children) if (child.connected) child.send('go');
      const outputs = await Promise.all(children.map((c) => c.output));
      const ms = Date.now() - started;

      const results: WriterResult[] = outputs.map((o, w) => {
        const line = o.stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (o.code !== 0 || !line) throw new Error(`writer ${w} exited ${o.code}: ${o.stderr}`);
        return JSON.parse(line.slice('RESULT '.length)) as WriterResult;
      });
      const errors = results.flatMap((r) => r.errors);
      const figures = {
        seed: runSeed,
        processes: PROCESSES,
        savesPerProcess: SAVES,
        rows: results.reduce((n, r) => n + r.saved, 0),
        saveCalls: results.reduce((n, r) => n + r.saves, 0),
        saveManyBatches: results.reduce((n, r) => n + r.batches, 0),
        searches: results.reduce((n, r) => n + r.searches, 0),
        reads: results.reduce((n, r) => n + r.reads, 0),
        errors: errors.length,
        searchMisses: results.reduce((n, r) => n + r.misses.length, 0),
        ms,
      };
      report('sqlite 4 processes', figures);
      expect(errors).toEqual([]);
      expect(results.map((r) => r.misses)).toEqual(results.map(() => []));
      expect(results.map((r) => r.saves)).toEqual(Array(PROCESSES).fill(SAVES));
      expect(results.map((r) => r.saved)).toEqual(results.map((r) => r.ids));

      // The file itself: both integrity checks, WAL, every row exactly once.
      sqliteIntegrity(file);
      const expected = results.flatMap((r) => Array.from({ length: r.ids }, (_, n) => `w${r.writer}-${n}`)).sort();
      withSqlite(file, (db) => {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        const ids = (db.prepare('SELECT id FROM memories').all() as { id: string }[]).map((r) => r.id).sort();
        expect(ids).toEqual(expected);
        expect(db.prepare('SELECT count(*) AS n FROM memories_fts').get()).toEqual({ n: expected.length });
      });

      // Every memory is found by its own word, in its own namespace only.
      const store = new SQLiteStore(file);
      try {
        await store.ready();
        expect(store.client!.pragma('busy_timeout', { simple: true })).toBe(5000);
        const missing: string[] = [];
        for (const { writer: w, ids } of results) {
          for (let n = 0; n < ids; n++) {
            const hits = await store.search(`w${w}n${n}`, { namespace: `writers-${w % 2}`, limit: 10 });
            if (hits.length !== 1 || hits[0].id !== `w${w}-${n}`) missing.push(`w${w}-${n}`);
          }
        }
        expect(missing).toEqual([]);
        expect((await store.getTableStats()).totalMemories).toBe(expected.length);
      } finally {
        await store.close();
      }
    },
    scale(120_000, 900_000),
  );

  it('a write waits for another connection\'s lock up to busyTimeout, then fails with DatabaseUnavailableError (never a raw SQLITE_BUSY)', async () => {
    const file = tmp.file('locked.db');
    const store = new SQLiteStore(file, { busyTimeout: 300 });
    await store.save({ id: 'before', namespace: 'locked', content: 'saved before the lock' });
    const holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE'); // another writer holds the write lock
    try {
      const started = Date.now();
      const error = await store.save({ id: 'blocked', namespace: 'locked', content: 'waits for the lock' }).catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as Error).message).toMatch(/SQLITE_BUSY/);
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(3000);
      // Reads go on while the lock is held (WAL).
      expect((await store.get('before', 'locked'))?.content).toBe('saved before the lock');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await store.save({ id: 'after', namespace: 'locked', content: 'saved once the lock is gone' });
    expect(await store.get('blocked', 'locked')).toBeNull();
    expect(await store.count('locked')).toBe(2);
    await store.close();
  });
});
