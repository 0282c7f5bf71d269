/**
 * Issue #6.4: PostgreSQL unreachable at start, hung, or going away in the
 * middle of a run. Every call fails with DatabaseUnavailableError within the
 * connect timeout (no hang), and the same store recovers by itself once the
 * server is reachable again.
 *
 * The server is cut off with a TCP proxy run in-process on 127.0.0.1 (refuse
 * new connections and reset the open ones, or accept and never answer), which
 * leaves the shared server alone. postgres-restart.test.ts stops and starts
 * the real local server instead (opt-in: AIMEMO_TEST_PG_CONTROL=1).
 *
 * Needs a server to proxy to (AIMEMO_TEST_PG_URL). CI: 2 outages under load.
 * `npm run test:stress`: 20.
 */
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import * as net from 'node:net';
import postgres from 'postgres';
import { DatabaseUnavailableError, PostgresStore } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { TcpProxy, eventually, report, scale, sleep } from '../helpers/reliability';

const OUTAGES = scale(2, 20);
const CONNECT_TIMEOUT = 2; // seconds

/** A port nothing listens on: bound once by us, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `call`, returning its error (or 'ok') and how long it took. */
async function timed(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await call().then(
    () => 'ok',
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('PostgreSQL outage tests skipped: AIMEMO_TEST_PG_URL is not set (they proxy to a real server)');
  test.skip('PostgreSQL outages: set AIMEMO_TEST_PG_URL to run', () => undefined);
} else {
  describe('PostgresStore: the server unreachable, hung, or going away', () => {
    let db: TestDatabase;
    let admin: postgres.Sql;
    const stores: PostgresStore[] = [];
    const proxies: TcpProxy[] = [];
    const open = (url: string, options = {}) => {
      const store = new PostgresStore(url, { connectTimeout: CONNECT_TIMEOUT, ...options });
      stores.push(store);
      return store;
    };
    const proxy = async (options?: { listening?: boolean }) => {
      const p = await TcpProxy.start(db.url, options);
      proxies.push(p);
      return p;
    };

    beforeAll(async () => {
      db = await createTestDatabase('outage');
      admin = postgres(db.url, { max: 1, onnotice: () => undefined });
      const setup = new PostgresStore(db.url);
      await setup.ready();
      await setup.close();
    });

    afterAll(async () => {
      for (const store of stores) await store.close().catch(() => undefined);
      for (const p of proxies) await p.close();
      await admin?.end({ timeout: 5 });
      await db?.drop();
    });

    it('a closed port: every call fails at once with DatabaseUnavailableError naming host and port, never the password', async () => {
      const port = await closedPort();
      const url = new URL(db.url);
      url.port = String(port);
      url.password = 'hunter2-secret';
      const store = open(url.toString());
      for (const call of [() => store.ready(), () => store.save({ content: 'never written' }), () => store.search('anything')]) {
        const { error, ms } = await timed(call);
        expect(error).toBeInstanceOf(DatabaseUnavailableError);
        expect((error as Error).message).toContain(`127.0.0.1:${port}`);
        expect((error as Error).message).toMatch(/ECONNREFUSED/);
        expect((error as Error).message).not.toContain('hunter2');
        expect(ms).toBeLessThan(CONNECT_TIMEOUT * 1000);
      }
      expect(store.getPoolStatus()).toEqual({ size: 0, overflow: 0, checkedIn: 0, checkedOut: 0 });
    });

    it('unreachable at start, the store starts by itself once the server is there', async () => {
      const p = await proxy({ listening: false });
      const store = open(p.url(db.url), { poolSize: 2, maxOverflow: 1 });
      const first = await timed(() => store.save({ id: 'early', namespace: 'start', content: 'saved before the server was there' }));
      expect(first.error).toBeInstanceOf(DatabaseUnavailableError);
      expect(first.ms).toBeLessThan(CONNECT_TIMEOUT * 1000);
      await p.restore();
      await store.save({ id: 'late', namespace: 'start', content: 'saved once the server was there' });
      expect((await store.list({ namespace: 'start' })).map((m) => m.id)).toEqual(['late']);
      expect(store.getPoolStatus()).toMatchObject({ checkedOut: 0, overflow: 0 });
      await store.close();
    });

    it('a server that accepts connections but never answers: DatabaseUnavailableError within connectTimeout, then recovery', async () => {
      const p = await proxy();
      await p.silence();
      const store = open(p.url(db.url), { poolSize: 2, maxOverflow: 0 });
      const results = await Promise.all([timed(() => store.count('hung')), timed(() => store.search('hung', { namespace: 'hung' }))]);
      for (const { error, ms } of results) {
        expect(error).toBeInstanceOf(DatabaseUnavailableError);
        expect((error as Error).message).toMatch(/CONNECT_TIMEOUT/);
        expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT * 1000 - 100);
        expect(ms).toBeLessThan(CONNECT_TIMEOUT * 1000 + 1500);
      }
      expect(store.getPoolStatus()).toEqual({ size: 0, overflow: 0, checkedIn: 0, checkedOut: 0 });
      await p.speak();
      expect(await store.count('hung')).toBe(0);
      await store.close();
    }, 30_000);

    it('counts no connection that the server or the network closed: idle ones leave the pool at once', async () => {
      const p = await proxy();
      const store = open(p.url(db.url), { poolSize: 3, maxOverflow: 0 });
      await Promise.all([1, 2, 3].map((i) => store.save({ id: `i${i}`, namespace: 'idle', content: `idle connection ${i}` })));
      expect(store.getPoolStatus()).toEqual({ size: 3, overflow: 0, checkedIn: 3, checkedOut: 0 });
      await p.cut();
      await eventually(() => store.getPoolStatus().checkedIn === 0, 2000, 'the closed connections to leave the pool');
      expect(store.getPoolStatus()).toEqual({ size: 0, overflow: 0, checkedIn: 0, checkedOut: 0 });
      await p.restore();
      expect(await store.count('idle')).toBe(3);
      expect(store.getPoolStatus()).toEqual({ size: 1, overflow: 0, checkedIn: 1, checkedOut: 0 });
      await store.close();
    });

    it(
      `the server going away under load and coming back (${OUTAGES} times): only DatabaseUnavailableError while it is away, none hangs, the same store recovers, no connection leaked`,
      async () => {
        const p = await proxy();
        const store = open(p.url(db.url), { poolSize: 3, maxOverflow: 2 });
        await store.ready();
        let saved = 0;
        let failed = 0;
        let slowest = 0;
        const unexpected: string[] = [];
        const acknowledged = new Set<string>();
        let stop = false;
        let phase: 'up' | 'down' = 'up';
        // Ten callers keep saving (alone and in batches) and searching throughout.
        const callers = Array.from({ length: 10 }, async (_, c) => {
          for (let i = 0; !stop; i++) {
            const id = `c${c}-${i}`;
            const call =
              i % 3 === 2
                ? () => store.saveMany(Array.from({ length: 20 }, (_, k) => ({ id: `${id}-${k}`, namespace: 'outage', content: `batch ${id} outage word` })))
                : i % 3 === 1
                  ? () => store.search('outage word', { namespace: 'outage', mode: 'any', limit: 3 })
                  : () => store.save({ id, namespace: 'outage', content: `single ${id} outage word` });
            const seenIn = phase;
            const { error, ms } = await timed(call);
            slowest = Math.max(slowest, ms);
            if (error === 'ok') {
              saved++;
              if (i % 3 === 2) for (let k = 0; k < 20; k++) acknowledged.add(`${id}-${k}`);
              if (i % 3 === 0) acknowledged.add(id);
            } else {
              failed++;
              if (!(error instanceof DatabaseUnavailableError)) unexpected.push(`${(error as Error).name}: ${(error as Error).message}`);
              if (seenIn === 'up' && phase === 'up') unexpected.push(`failed while the server was up: ${(error as Error).message}`);
              await sleep(20); // a caller backs off a little, as an app would
            }
          }
        });

        for (let outage = 0; outage < OUTAGES; outage++) {
          await sleep(300);
          phase = 'down';
          await p.cut(); // in-flight queries lose their connection; new ones are refused
          await sleep(400);
          const during = await timed(() => store.count('outage'));
          expect(during.error).toBeInstanceOf(DatabaseUnavailableError);
          expect(during.ms).toBeLessThan(CONNECT_TIMEOUT * 1000);
          await p.restore();
          await sleep(100);
          phase = 'up';
        }
        await sleep(300);
        stop = true;
        await Promise.all(callers);

        // Back up: the same store works, every acknowledged write is there, batches are whole.
        expect(unexpected).toEqual([]);
        expect(slowest).toBeLessThan(CONNECT_TIMEOUT * 1000 + 1000);
        const ids = new Set((await admin`SELECT id FROM aimemo.memories WHERE namespace = 'outage'`).map((r) => r.id as string));
        expect([...acknowledged].filter((id) => !ids.has(id))).toEqual([]);
        const perBatch = new Map<string, number>();
        for (const id of ids) {
          const m = /^(c\d+-\d+)-\d+$/.exec(id);
          if (m) perBatch.set(m[1], (perBatch.get(m[1]) ?? 0) + 1);
        }
        expect([...perBatch.values()].filter((n) => n !== 20)).toEqual([]);
        await store.save({ id: 'after', namespace: 'outage', content: 'after every outage' });
        expect(store.getPoolStatus()).toMatchObject({ checkedOut: 0, overflow: 0 });
        await eventually(
          async () => {
            const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aimemo'`;
            return row.n === store.getPoolStatus().checkedIn;
          },
          5000,
          'pg_stat_activity to agree with the pool',
        );
        await store.close();
        report('postgres outages (proxy)', { outages: OUTAGES, succeededCalls: saved, failedCalls: failed, rowsAcknowledged: acknowledged.size, slowestCallMs: slowest, unexpectedErrors: unexpected.length, halfWrittenBatches: 0 });
      },
      scale(60_000, 300_000),
    );
  });
}
