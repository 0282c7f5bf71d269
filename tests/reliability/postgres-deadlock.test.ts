/**
 * Issue 11, item 4: writers that race over the same memories never deadlock.
 * On main, `Promise.all([a.saveMany(rows), b.saveMany([...rows].reverse())])`
 * over 300 shared ids failed with `40P01 deadlock detected` in 30 of 30
 * rounds: each INSERT … ON CONFLICT locked rows in the order it was given.
 * Now every writer locks in one global order, (namespace, id) by bytes, in
 * every statement and across the statements of a large batch, and `clear`
 * locks its rows in the same order (PostgreSQL's own advice:
 * https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-DEADLOCKS).
 *
 * Two stores, each with its own pool, on the server (PGlite has one
 * connection: nothing can interleave there). CI: 30 rounds of 300 rows,
 * 3 rounds of 6,000, 10 rounds each of clear and deleteMany against
 * saveMany. Stress: 10× the rounds, and 12,000 rows.
 */
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import postgres from 'postgres';
import { PostgresStore, type NewMemory } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { report, scale } from '../helpers/reliability';
import { uniqueNamespace } from '../helpers/temp';

const ROUNDS = scale(30, 300);
const BIG_ROUNDS = scale(3, 30);
/** Rows of the large rounds: more than one statement's worth (5,000), so chunk boundaries matter. */
const BIG_ROWS = scale(6_000, 12_000);
const CLEAR_ROUNDS = scale(10, 100);

/** `n` memories over shared ids, with content that changes every round (so every row is rewritten). */
function rows(ns: string, n: number, round: number): NewMemory[] {
  return Array.from({ length: n }, (_, i) => ({ id: `shared-${i}`, namespace: ns, content: `round ${round} version of shared memory ${i}`, metadata: { round } }));
}

/** Runs both writers at once; returns the errors (none expected). */
async function race(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<unknown[]> {
  const outcomes = await Promise.allSettled([a(), b()]);
  return outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
}

const describeError = (e: unknown) => `${(e as Error).name}: ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`;

if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('deadlock tests skipped: AIMEMO_TEST_PG_URL is not set (PGlite runs one statement at a time)');
  test.skip('concurrent writers: set AIMEMO_TEST_PG_URL to run', () => undefined);
} else {
  describe('PostgreSQL: concurrent writers over the same memories never deadlock', () => {
    let db: TestDatabase;
    let a: PostgresStore;
    let b: PostgresStore;
    beforeAll(async () => {
      db = await createTestDatabase('deadlock');
      a = new PostgresStore(db.url, { poolSize: 2 });
      b = new PostgresStore(db.url, { poolSize: 2 });
      await a.ready();
      await b.ready();
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
    });

    it(`saveMany of 300 shared ids, forwards against reversed: ${ROUNDS} rounds without an error`, async () => {
      const ns = uniqueNamespace('deadlock');
      const errors: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const batch = rows(ns, 300, round);
        errors.push(...(await race(() => a.saveMany(batch), () => b.saveMany([...batch].reverse()))).map(describeError));
      }
      expect(errors).toEqual([]);
      expect(await a.count(ns)).toBe(300);
      report('concurrent reversed saveMany', { rounds: ROUNDS, rows: 300, errors: errors.length });
    }, scale(60_000, 600_000));

    it(`saveMany of ${BIG_ROWS} shared ids (several statements in one transaction), forwards against reversed: ${BIG_ROUNDS} rounds`, async () => {
      const ns = uniqueNamespace('deadlock-big');
      const errors: string[] = [];
      for (let round = 0; round < BIG_ROUNDS; round++) {
        const batch = rows(ns, BIG_ROWS, round);
        // Interleaved halves too: chunk boundaries fall on different ids in each writer's input order.
        const shuffled = [...batch.filter((_, i) => i % 2), ...batch.filter((_, i) => !(i % 2))];
        errors.push(...(await race(() => a.saveMany(shuffled), () => b.saveMany([...batch].reverse()))).map(describeError));
      }
      expect(errors).toEqual([]);
      expect(await a.count(ns)).toBe(BIG_ROWS);
    }, scale(120_000, 1_200_000));

    it(`clear racing saveMany over the same namespace: ${CLEAR_ROUNDS} rounds without an error`, async () => {
      const ns = uniqueNamespace('deadlock-clear');
      const errors: string[] = [];
      for (let round = 0; round < CLEAR_ROUNDS; round++) {
        const batch = rows(ns, 500, round);
        await a.saveMany(batch);
        errors.push(...(await race(() => a.clear(ns), () => b.saveMany([...batch].reverse()))).map(describeError));
      }
      expect(errors).toEqual([]);
    }, scale(60_000, 600_000));

    it(`deleteMany racing saveMany over the same ids: ${CLEAR_ROUNDS} rounds without an error`, async () => {
      const ns = uniqueNamespace('deadlock-delete-many');
      const errors: string[] = [];
      for (let round = 0; round < CLEAR_ROUNDS; round++) {
        const batch = rows(ns, 500, round);
        await a.saveMany(batch);
        const ids = batch.map((m) => m.id!).reverse();
        errors.push(...(await race(() => a.deleteMany({ namespace: ns, ids }), () => b.saveMany([...batch].reverse()))).map(describeError));
      }
      expect(errors).toEqual([]);
    }, scale(60_000, 600_000));

    it("the app's own postgres.js clients (one statement per saveMany) race without an error too", async () => {
      const clients = [postgres(db.url, { max: 2, onnotice: () => undefined }), postgres(db.url, { max: 2, onnotice: () => undefined })];
      const [x, y] = clients.map((c) => new PostgresStore(c));
      try {
        const ns = uniqueNamespace('deadlock-app');
        const errors: string[] = [];
        for (let round = 0; round < scale(10, 100); round++) {
          const batch = rows(ns, round % 3 === 0 ? 6_000 : 300, round);
          errors.push(...(await race(() => x.saveMany(batch), () => y.saveMany([...batch].reverse()))).map(describeError));
        }
        expect(errors).toEqual([]);
      } finally {
        await x.close();
        await y.close();
        for (const c of clients) await c.end({ timeout: 5 });
      }
    }, scale(120_000, 1_200_000));
  });
}
