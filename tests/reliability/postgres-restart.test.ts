/**
 * Issue #6.3/#6.4 on the real local server: stop it (fast shutdown) and start
 * it again under load, and crash it (immediate shutdown: no checkpoint, crash
 * recovery on start) in the middle of a stream of saveMany batches.
 *
 * Opt-in, because it stops the PostgreSQL server every other test (and anyone
 * else on the machine) uses: it runs only when AIMEMO_TEST_PG_CONTROL=1 and
 * AIMEMO_TEST_PG_URL points at 127.0.0.1 or localhost. Run it on its own (CI
 * does, after the other tests):
 *
 *   AIMEMO_TEST_PG_CONTROL=1 AIMEMO_TEST_PG_URL=postgres://root@127.0.0.1:5432/test \
 *     NODE_OPTIONS=--experimental-vm-modules npx jest tests/reliability/postgres-restart
 *
 * The server is always started again (in `finally`), and the test waits for
 * pg_isready. The cluster is `AIMEMO_TEST_PG_CLUSTER` ("15 main"), else the
 * only version under /etc/postgresql with cluster "main".
 * CI: 1 restart and 1 crash. `npm run test:stress`: 5 of each.
 */
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import postgres from 'postgres';
import { DatabaseUnavailableError, PostgresStore } from '../../src';
import { requireBuild } from '../helpers/migrations';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { BTREE_CHECK, eventually, prng, report, scale, seed, sleep, startChild, whenReady } from '../helpers/reliability';
import { tempDir } from '../helpers/temp';

const ROUNDS = scale(1, 5);
const CONNECT_TIMEOUT = 3;
const local = PG_URL ? ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(PG_URL).hostname) : false;
const optedIn = process.env.AIMEMO_TEST_PG_CONTROL === '1';

function cluster(): [string, string] {
  const given = process.env.AIMEMO_TEST_PG_CLUSTER;
  if (given) return given.split(/\s+/) as [string, string];
  const versions = fs.readdirSync('/etc/postgresql').filter((v) => fs.existsSync(`/etc/postgresql/${v}/main`));
  if (versions.length !== 1) throw new Error(`set AIMEMO_TEST_PG_CLUSTER ("<version> <name>"); found versions ${versions.join(', ') || 'none'}`);
  return [versions[0], 'main'];
}

function ready(): boolean {
  const u = new URL(PG_URL!);
  try {
    execFileSync('pg_isready', ['-q', '-h', u.hostname.replace(/^\[|\]$/g, ''), '-p', u.port || '5432'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** pg_ctlcluster, asynchronously: a synchronous call would stall the callers being measured. */
async function pgctl(action: 'start' | 'stop', mode?: 'fast' | 'immediate'): Promise<void> {
  const [version, name] = cluster();
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', ...(mode ? ['-m', mode] : []), version, name, action], { timeout: 60_000 });
}

/** Starts the server if it is down and waits until it accepts connections. */
async function ensureStarted(): Promise<void> {
  if (!ready()) {
    try {
      await pgctl('start');
    } catch (error) {
      if (!ready()) throw error; // "already running" races are fine
    }
  }
  await eventually(ready, 60_000, 'pg_isready');
}

/** Stops the server, runs `whileDown`, and always starts it again. */
async function outage<T>(mode: 'fast' | 'immediate', whileDown: () => Promise<T>): Promise<T> {
  try {
    await pgctl('stop', mode);
    return await whileDown();
  } finally {
    await ensureStarted();
  }
}

/** A short-lived admin connection (a restart closes long-lived ones). */
async function query<T>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (!PG_URL || !local || !optedIn) {
  const why = !PG_URL ? 'AIMEMO_TEST_PG_URL is not set' : !local ? 'AIMEMO_TEST_PG_URL is not a local server' : 'AIMEMO_TEST_PG_CONTROL=1 is not set';
  // eslint-disable-next-line no-console
  console.warn(`PostgreSQL restart/crash tests skipped: ${why} (they stop and start the local server; the proxy tests in postgres-outage.test.ts cover outages meanwhile)`);
  test.skip(`PostgreSQL server restart and crash: ${why}`, () => undefined);
} else {
  describe('PostgresStore: the local server stopped, crashed and started again', () => {
    let db: TestDatabase;
    const tmp = tempDir('reliability-restart');

    beforeAll(async () => {
      await ensureStarted();
      db = await createTestDatabase('restart');
      await query(db.url, 'CREATE EXTENSION IF NOT EXISTS amcheck');
    }, 90_000);

    afterAll(async () => {
      await ensureStarted();
      await db?.drop();
      tmp.cleanup();
    }, 90_000);

    it(`stopped under load and started again (${ROUNDS}×): DatabaseUnavailableError while down, within connectTimeout; the same store recovers`, async () => {
      const store = new PostgresStore(db.url, { poolSize: 3, maxOverflow: 2, connectTimeout: CONNECT_TIMEOUT });
      await store.ready();
      const unexpected: string[] = [];
      const acknowledged = new Set<string>();
      let slowest = 0;
      let failed = 0;
      let stop = false;
      const callers = Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; !stop; i++) {
          const id = `c${c}-${i}`;
          const started = Date.now();
          try {
            if (i % 2) await store.search('restart', { namespace: 'restart', mode: 'any' });
            else {
              await store.save({ id, namespace: 'restart', content: `saved around a restart ${id}` });
              acknowledged.add(id);
            }
          } catch (error) {
            failed++;
            if (!(error instanceof DatabaseUnavailableError)) unexpected.push(`${(error as Error).name}: ${(error as Error).message}`);
            await sleep(50);
          }
          slowest = Math.max(slowest, Date.now() - started);
        }
      });
      for (let round = 0; round < ROUNDS; round++) {
        await sleep(500);
        await outage('fast', async () => {
          const started = Date.now();
          const error = await store.count('restart').catch((e: unknown) => e);
          expect(error).toBeInstanceOf(DatabaseUnavailableError);
          expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT * 1000);
          await sleep(500);
        });
        // Back: the same store serves calls again without being recreated.
        await eventually(async () => (await store.count('restart').then(() => true, () => false)), 15_000, 'the store to recover');
      }
      await sleep(500);
      stop = true;
      await Promise.all(callers);
      const ids = new Set((await query<{ id: string }>(db.url, `SELECT id FROM aimemo.memories WHERE namespace = 'restart'`)).map((r) => r.id));
      expect([...acknowledged].filter((id) => !ids.has(id))).toEqual([]);
      expect(unexpected).toEqual([]);
      expect(slowest).toBeLessThan(CONNECT_TIMEOUT * 1000 + 2000);
      expect(store.getPoolStatus()).toMatchObject({ checkedOut: 0, overflow: 0 });
      await store.close();
      report('postgres server restarts', { restarts: ROUNDS, rowsAcknowledged: acknowledged.size, lost: 0, failedCalls: failed, slowestCallMs: slowest, unexpectedErrors: unexpected.length });
    }, scale(120_000, 600_000));

    it(`crashed (immediate shutdown) during saveMany batches (${ROUNDS}×): every acknowledged batch is there, every batch all or nothing, indexes check out`, async () => {
      requireBuild();
      const runSeed = seed();
      const rand = prng(runSeed);
      const progressFile = tmp.file('progress.log');
      let next = 0;
      const outcome = { rolledBack: 0, committed: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const child = startChild('batch-writer', ['postgres', db.url, progressFile, String(next), String(runSeed + round), '4000']);
        await whenReady(child);
        const lines = () => fs.readFileSync(progressFile, 'utf8').split('\n');
        const doneBefore = lines().filter((l) => l.startsWith('done ')).length;
        await eventually(() => lines().filter((l) => l.startsWith('done ')).length >= doneBefore + 1 + Math.floor(rand() * 3), 60_000, 'batches');
        await sleep(rand() * 100);
        await outage('immediate', async () => {
          const exit = await child.output; // the writer sees its connection die and stops
          expect(exit.code).toBe(1);
        });

        const started = new Map<number, number>();
        const done = new Set<number>();
        for (const line of lines()) {
          const [kind, b, size] = line.split(' ');
          if (kind === 'start') started.set(Number(b), Number(size));
          if (kind === 'done') done.add(Number(b));
        }
        const errorLines = lines().filter((l) => l.startsWith('error '));
        for (const line of errorLines) expect(line).toMatch(/DatabaseUnavailableError/);
        const counts = new Map<number, number>();
        for (const { id } of await query<{ id: string }>(db.url, `SELECT id FROM aimemo.memories WHERE namespace = 'crash'`)) {
          const b = Number(/^b(\d+)-/.exec(id)![1]);
          counts.set(b, (counts.get(b) ?? 0) + 1);
        }
        for (const [b, size] of started) {
          const n = counts.get(b) ?? 0;
          if (done.has(b)) expect({ batch: b, rows: n }).toEqual({ batch: b, rows: size });
          else expect({ batch: b, allOrNothing: n === 0 || n === size }).toEqual({ batch: b, allOrNothing: true });
          if (b >= next && !done.has(b)) outcome[n === 0 ? 'rolledBack' : 'committed']++;
        }
        await query(db.url, BTREE_CHECK); // amcheck on every B-tree index of the schema
        const [fts] = await query<{ n: number; fts: number }>(
          db.url,
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE search_vector @@ to_tsquery('english', 'crash'))::int AS fts FROM aimemo.memories WHERE namespace = 'crash'`,
        );
        expect(fts.fts).toBe(fts.n);
        next = Math.max(-1, ...started.keys()) + 1;
      }
      const store = new PostgresStore(db.url, { poolSize: 2 });
      await store.save({ id: 'after', namespace: 'crash', content: 'saved after the crash recovery' });
      expect((await store.search('after crash recovery', { namespace: 'crash' })).map((m) => m.id)).toEqual(['after']);
      const rows = await store.count('crash');
      await store.close();
      report('postgres server crashes', { seed: runSeed, crashes: ROUNDS, rows, inFlightRolledBack: outcome.rolledBack, inFlightCommitted: outcome.committed, halfWrittenBatches: 0, lostAcknowledged: 0 });
    }, scale(120_000, 600_000));
  });
}
