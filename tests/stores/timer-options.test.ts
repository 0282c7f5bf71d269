/**
 * Issue 11, item 8: timer options are checked against what a timer can hold.
 * Node's timers take at most 2^31-1 ms (about 24.8 days); a longer delay
 * fires after 1 ms. On main `poolTimeout: 3e6` made a caller time out after
 * 1 ms and `connectTimeout: 3e6` failed every connect at once. Now every
 * time option is a number of seconds from its minimum to 2,147,483, and a
 * value at the maximum really waits.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import postgres from 'postgres';
import { PostgresStore, SQLiteStore, ValidationError } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';

const URL_ = 'postgres://user:pw@127.0.0.1:1/db'; // never connected to: the checks run in the constructor
const MAX_SECONDS = 2_147_483;

describe('PostgresStore time options', () => {
  const seconds = ['poolTimeout', 'poolRecycle', 'connectTimeout', 'statementTimeout'] as const;
  it.each(seconds.flatMap((key) => [3e6, MAX_SECONDS + 1, -1, NaN, Infinity, '5', null].map((value) => [key, value] as const)))(
    '%s: %p is refused with ValidationError naming it',
    (key, value) => {
      expect(() => new PostgresStore(URL_, { [key]: value } as never)).toThrow(ValidationError);
      expect(() => new PostgresStore(URL_, { [key]: value } as never)).toThrow(new RegExp(`^options\\.${key} must be a number of seconds from \\d+ to 2,147,483`));
    },
  );

  it.each(seconds)('%s: 2,147,483 seconds (the most a timer holds) is accepted', (key) => {
    expect(() => new PostgresStore(URL_, { [key]: MAX_SECONDS })).not.toThrow();
  });

  it('refuses a connectTimeout below 1 s, and pool sizes that are not whole numbers in range', () => {
    expect(() => new PostgresStore(URL_, { connectTimeout: 0.5 })).toThrow(/options.connectTimeout/);
    for (const poolSize of [0, 1.5, 10_001, '2']) expect(() => new PostgresStore(URL_, { poolSize } as never)).toThrow(/options.poolSize/);
    expect(() => new PostgresStore(URL_, { maxOverflow: -1 })).toThrow(/options.maxOverflow/);
  });

  it("refuses a pooler that is not 'none' or 'transaction', and options it does not know", () => {
    expect(() => new PostgresStore(URL_, { pooler: 'session' } as never)).toThrow(/options.pooler/);
    expect(() => new PostgresStore(URL_, { pool_size: 3 } as never)).toThrow(/options.pool_size is not an option here/);
    expect(() => new PostgresStore(URL_, 'poolSize=3' as never)).toThrow(/^options must be an object/);
  });
});

describe('SQLiteStore busyTimeout', () => {
  it.each([2 ** 31, 1e12, -1, 1.5, NaN, '5000'])('refuses %p', (busyTimeout) => {
    expect(() => new SQLiteStore(':memory:', { busyTimeout } as never)).toThrow(/^options\.busyTimeout must be an integer of milliseconds from 0 to 2,147,483,647/);
  });

  it('accepts 2^31-1 ms', async () => {
    const store = new SQLiteStore(':memory:', { busyTimeout: 2 ** 31 - 1 });
    expect(await store.count()).toBe(0);
    await store.close();
  });
});

const describeServer = PG_URL ? describe : describe.skip;

describeServer('a poolTimeout at the maximum really waits (PostgreSQL server)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('timers');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a caller waits for the one busy connection instead of timing out after 1 ms', async () => {
    const store = new PostgresStore(db.url, { poolSize: 1, maxOverflow: 0, poolTimeout: MAX_SECONDS });
    const admin = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      await store.save({ id: 'held', namespace: 't', content: 'a row another session locks' });
      const reserved = await admin.reserve();
      await reserved`BEGIN`;
      await reserved`SELECT 1 FROM aimemo.memories WHERE id = 'held' FOR UPDATE`;
      const blocked = store.save({ id: 'held', namespace: 't', content: 'waits for the lock' }); // holds the only connection
      await new Promise((resolve) => setTimeout(resolve, 100));
      const waiting = store.count('t'); // must wait in line for that connection
      await new Promise((resolve) => setTimeout(resolve, 300));
      await reserved`ROLLBACK`;
      reserved.release();
      await blocked;
      expect(await waiting).toBe(1);
    } finally {
      await store.close();
      await admin.end({ timeout: 5 });
    }
  });
});
