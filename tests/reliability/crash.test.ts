/**
 * Issue #6.3: a process killed with SIGKILL in the middle of a stream of
 * saveMany batches. After reopening, the database passes its integrity checks
 * and every batch is either all there or not there at all; every batch the
 * process was told had been saved is there (SQLite: WAL with synchronous =
 * NORMAL loses nothing on a process crash, only possibly on power loss).
 *
 * SQLite: the writer process is the database engine, killed mid-transaction.
 * PostgreSQL (server): the client process is killed mid-transaction; the
 * server must roll back what it had not committed. (A server crash, an
 * immediate shutdown mid-write, is in postgres-restart.test.ts.)
 *
 * CI: 3 kills per backend. `npm run test:stress`: 30.
 */
import { afterAll, describe, expect, it, test } from '@jest/globals';
import * as fs from 'node:fs';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore, type MemoryStore } from '../../src';
import { requireBuild } from '../helpers/migrations';
import { PG_URL, createTestDatabase } from '../helpers/postgres';
import { BTREE_CHECK, eventually, prng, report, scale, seed, sleep, sqliteIntegrity, startChild, whenReady, withSqlite } from '../helpers/reliability';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('reliability-crash');
afterAll(() => tmp.cleanup());

const KILLS = scale(3, 30);

interface Progress {
  /** Batch number → size, for every batch the writer began. */
  started: Map<number, number>;
  /** Batches saveMany acknowledged. */
  done: Set<number>;
  errors: string[];
}

function readProgress(file: string): Progress {
  const progress: Progress = { started: new Map(), done: new Set(), errors: [] };
  if (!fs.existsSync(file)) return progress;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [kind, b, rest] = line.split(' ');
    if (kind === 'start') progress.started.set(Number(b), Number(rest));
    else if (kind === 'done') progress.done.add(Number(b));
    else if (kind === 'error') progress.errors.push(line);
  }
  return progress;
}

/** How many rows each batch has in the database, from the ids `b<batch>-<i>`. */
function rowsPerBatch(ids: string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of ids) {
    const b = Number(/^b(\d+)-\d+$/.exec(id)![1]);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return counts;
}

interface Backend {
  name: string;
  dialect: 'sqlite' | 'postgres';
  target: string;
  maxBatch: number;
  /** Every id in namespace 'crash', once the killed writer can no longer change anything. */
  ids(): Promise<string[]>;
  /** Integrity checks of the database itself; throws on a finding. */
  integrity(): Promise<void>;
  open(): MemoryStore;
}

/**
 * Kills the writer `KILLS` times, each time at a random moment after it has
 * finished a random number of batches, and checks the database after each kill.
 */
async function crashLoop(backend: Backend): Promise<void> {
  requireBuild();
  const runSeed = seed();
  const rand = prng(runSeed);
  const progressFile = tmp.file(`${backend.name}-progress.log`);
  let next = 0;
  const outcome = { inFlightAbsent: 0, inFlightPresent: 0, betweenBatches: 0 };
  for (let kill = 0; kill < KILLS; kill++) {
    const child = startChild('batch-writer', [backend.dialect, backend.target, progressFile, String(next), String(runSeed + kill), String(backend.maxBatch)]);
    await whenReady(child);
    const doneBefore = readProgress(progressFile).done.size;
    const wanted = doneBefore + 1 + Math.floor(rand() * 3);
    await eventually(() => readProgress(progressFile).done.size >= wanted || child.exitCode !== null, 60_000, `${wanted} batches`);
    await sleep(rand() * 40); // land anywhere in the next batch
    child.kill('SIGKILL');
    const exit = await child.output;
    const progress = readProgress(progressFile);
    expect(progress.errors).toEqual([]);
    expect({ signal: exit.signal, stderr: exit.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });

    const counts = rowsPerBatch(await backend.ids());
    const inFlight = [...progress.started.keys()].filter((b) => b >= next && !progress.done.has(b)); // this writer's unfinished batch
    expect(inFlight.length).toBeLessThanOrEqual(1);
    for (const [b, size] of progress.started) {
      const n = counts.get(b) ?? 0;
      if (progress.done.has(b)) expect({ batch: b, rows: n }).toEqual({ batch: b, rows: size });
      else expect({ batch: b, allOrNothing: n === 0 || n === size }).toEqual({ batch: b, allOrNothing: true });
    }
    for (const b of counts.keys()) expect(progress.started.has(b)).toBe(true);
    if (inFlight.length === 0) outcome.betweenBatches++;
    else if ((counts.get(inFlight[0]) ?? 0) === 0) outcome.inFlightAbsent++;
    else outcome.inFlightPresent++;
    await backend.integrity();
    next = Math.max(-1, ...progress.started.keys()) + 1;
  }

  // Reopened, the store reads, searches and writes as before.
  const progress = readProgress(progressFile);
  const counts = rowsPerBatch(await backend.ids());
  const rows = [...counts.values()].reduce((a, b) => a + b, 0);
  const store = backend.open();
  try {
    expect(await store.count('crash')).toBe(rows);
    const sample = [...progress.done].slice(-3);
    for (const b of sample) {
      const hits = await store.search(`crashb${b}`, { namespace: 'crash', limit: 10_000 });
      expect(hits.length).toBe(progress.started.get(b));
    }
    await store.save({ id: 'after', namespace: 'crash', content: 'saved after the last crash' });
    expect((await store.search('after last crash', { namespace: 'crash' })).map((m) => m.id)).toEqual(['after']);
  } finally {
    await store.close();
  }
  await backend.integrity();
  report(`crash ${backend.name}`, {
    seed: runSeed,
    kills: KILLS,
    batchesAcknowledged: progress.done.size,
    rows,
    killedMidBatch: outcome.inFlightAbsent + outcome.inFlightPresent,
    inFlightBatchRolledBack: outcome.inFlightAbsent,
    inFlightBatchCommitted: outcome.inFlightPresent,
    killedBetweenBatches: outcome.betweenBatches,
    halfWrittenBatches: 0,
    errors: progress.errors.length,
  });
}

describe('crash safety: SIGKILL during saveMany batches', () => {
  it(`SQLite file: ${KILLS} kills, every batch all or nothing, integrity checks pass`, async () => {
    const file = tmp.file('crash.db');
    const ids = async () => withSqlite(file, (db) => (db.prepare(`SELECT id FROM memories WHERE namespace = 'crash'`).all() as { id: string }[]).map((r) => r.id));
    await crashLoop({
      name: 'sqlite',
      dialect: 'sqlite',
      target: file,
      maxBatch: 3000,
      ids,
      integrity: async () => {
        sqliteIntegrity(file);
        withSqlite(file, (db) => {
          const [memories, fts] = [db.prepare('SELECT count(*) AS n FROM memories').get(), db.prepare('SELECT count(*) AS n FROM memories_fts').get()];
          expect(fts).toEqual(memories);
        });
      },
      open: () => new SQLiteStore(file),
    });
  }, scale(60_000, 600_000));

  if (PG_URL) {
    it(`PostgreSQL server: ${KILLS} kills of the client, every batch all or nothing, indexes check out`, async () => {
      const db = await createTestDatabase('crash');
      const admin = postgres(db.url, { max: 1, onnotice: () => undefined });
      try {
        await admin`CREATE EXTENSION IF NOT EXISTS amcheck`;
        await crashLoop({
          name: 'postgres',
          dialect: 'postgres',
          target: db.url,
          maxBatch: 4000, // above 1,000 rows saveMany runs several INSERTs in one transaction
          ids: async () => {
            // The server notices the dead client and rolls back (or finishes a lone INSERT): wait for that.
            await eventually(
              async () => (await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aimemo'`)[0].n === 0,
              10_000,
              'the killed client’s sessions to end',
            );
            return (await admin`SELECT id FROM aimemo.memories WHERE namespace = 'crash'`).map((r) => r.id as string);
          },
          integrity: async () => {
            // amcheck: every B-tree index of the schema agrees with the table (heapallindexed).
            await admin.unsafe(BTREE_CHECK);
            const [row] = await admin`SELECT count(*)::int AS n, count(*) FILTER (WHERE search_vector @@ to_tsquery('english', 'crash'))::int AS fts FROM aimemo.memories WHERE namespace = 'crash'`;
            expect(row.fts).toBe(row.n);
          },
          open: () => new PostgresStore(db.url, { poolSize: 2, maxOverflow: 0 }),
        });
      } finally {
        await admin.end({ timeout: 5 });
        await db.drop();
      }
    }, scale(90_000, 900_000));
  } else {
    test.skip('PostgreSQL server crash test: set AIMEMO_TEST_PG_URL to run', () => undefined);
  }
});
