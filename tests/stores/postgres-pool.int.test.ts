/**
 * The counted pool of a PostgresStore opened from a URL, cross-checked against
 * the server's own view (pg_stat_activity). Needs a real server
 * (AIMEMO_TEST_PG_URL): PGlite has one connection and no pool.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import postgres from 'postgres';
import { PoolTimeoutError, PostgresStore } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';

const SLOW = 'SLOW:';
const suite = PG_URL ? describe : describe.skip;
if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('PostgresStore pool tests skipped: AIMEMO_TEST_PG_URL is not set (they need a real server)');
}

suite('PostgresStore#getPoolStatus (server)', () => {
  let db: TestDatabase;
  let admin: postgres.Sql;

  beforeAll(async () => {
    db = await createTestDatabase('pool');
    const setup = new PostgresStore(db.url);
    await setup.ready(); // migrate
    await setup.close();
    admin = postgres(db.url, { max: 1, onnotice: () => undefined });
    // Saves whose content starts with SLOW: hold their connection for 400 ms, inside the database.
    await admin.unsafe(`CREATE FUNCTION aimemo.test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.content LIKE '${SLOW}%' THEN PERFORM pg_sleep(0.4); END IF; RETURN NEW; END $$`);
    await admin.unsafe(`CREATE TRIGGER test_slow BEFORE INSERT ON aimemo.memories FOR EACH ROW EXECUTE FUNCTION aimemo.test_slow()`);
  });

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  /** Connections the server sees from AIMemo stores on this test database. */
  async function serverConnections(): Promise<number> {
    const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aimemo'`;
    return row.n as number;
  }

  async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('counts busy, overflow and idle connections, as the server sees them', async () => {
    const store = new PostgresStore(db.url, { poolSize: 2, maxOverflow: 1 });
    expect(store.getPoolStatus()).toEqual({ size: 0, overflow: 0, checkedIn: 0, checkedOut: 0 });
    await store.ready();
    expect(store.getPoolStatus()).toEqual({ size: 1, overflow: 0, checkedIn: 1, checkedOut: 0 });

    const saves = [1, 2, 3].map((i) => store.save({ content: `${SLOW} overflow ${i}`, namespace: 'pool' }));
    await eventually(async () => store.getPoolStatus().checkedOut === 3);
    expect(store.getPoolStatus()).toEqual({ size: 2, overflow: 1, checkedIn: 0, checkedOut: 3 });
    expect(await serverConnections()).toBe(3);
    await Promise.all(saves);

    // The overflow connection closed when it came back; two stay open and idle.
    expect(store.getPoolStatus()).toEqual({ size: 2, overflow: 0, checkedIn: 2, checkedOut: 0 });
    await eventually(async () => (await serverConnections()) === 2);
    await store.close();
    await eventually(async () => (await serverConnections()) === 0);
  });

  it('serves waiting callers in order', async () => {
    const store = new PostgresStore(db.url, { poolSize: 1, maxOverflow: 0 });
    await store.ready();
    const order: string[] = [];
    const first = store.save({ content: `${SLOW} holds the only connection`, namespace: 'fifo' }).then(() => order.push('slow'));
    await new Promise((r) => setTimeout(r, 50));
    const rest = ['a', 'b', 'c', 'd'].map((id) => store.save({ id, content: `quick ${id}`, namespace: 'fifo' }).then(() => order.push(id)));
    await Promise.all([first, ...rest]);
    expect(order).toEqual(['slow', 'a', 'b', 'c', 'd']);
    await store.close();
  });

  it('fails a caller that waits longer than poolTimeout, and keeps working', async () => {
    const store = new PostgresStore(db.url, { poolSize: 1, maxOverflow: 0, poolTimeout: 0.1 });
    await store.ready();
    const slow = store.save({ content: `${SLOW} longer than the timeout`, namespace: 'timeout' });
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const error = await store.count('timeout').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect((error as Error).message).toMatch(/poolTimeout \(0.1s\)/);
    expect(Date.now() - started).toBeLessThan(350);
    await slow;
    expect(await store.count('timeout')).toBe(1);
    expect(store.getPoolStatus()).toEqual({ size: 1, overflow: 0, checkedIn: 1, checkedOut: 0 });
    await store.close();
  });

  it('replaces connections older than poolRecycle', async () => {
    const store = new PostgresStore(db.url, { poolSize: 1, maxOverflow: 0, poolRecycle: 0.2 });
    const pids = async () =>
      (await admin`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aimemo'`).map((r) => r.pid as number);
    await store.count('recycle');
    const before = await pids();
    await new Promise((r) => setTimeout(r, 300));
    await store.count('recycle'); // returned after its time: closed, a new one opens on the next call
    await store.count('recycle');
    await eventually(async () => {
      const now = await pids();
      return now.length === 1 && now[0] !== before[0];
    });
    await store.close();
  });

  it('never opens more than poolSize + maxOverflow connections under load', async () => {
    const store = new PostgresStore(db.url, { poolSize: 3, maxOverflow: 2 });
    let peak = 0;
    const watch = setInterval(() => {
      const s = store.getPoolStatus();
      peak = Math.max(peak, s.size + s.overflow);
    }, 1);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 3 === 0 ? store.search('load test', { namespace: 'load', mode: 'any' }) : store.save({ content: `load test ${i}`, namespace: 'load' }),
      ),
    );
    clearInterval(watch);
    expect(peak).toBeLessThanOrEqual(5);
    expect(await store.count('load')).toBe(133);
    expect(store.getPoolStatus().checkedOut).toBe(0);
    expect(store.getPoolStatus().overflow).toBe(0);
    await store.close();
  });
});
