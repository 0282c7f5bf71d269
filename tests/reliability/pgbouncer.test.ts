/**
 * Issue 11, item 14: the store through a connection pooler, as Supabase, Neon
 * and most managed hosts put in front of PostgreSQL. A real PgBouncer
 * (Debian's package; `.ci/run` installs it) runs in transaction mode on a
 * free 127.0.0.1 port, with its default `ignore_startup_parameters` (none).
 *
 * On main every connect failed: `08P01: unsupported startup parameter: jit`
 * (the session settings travelled as startup parameters). Now the store
 * sends none a pooler could refuse; with `pooler: 'transaction'` prepared
 * statements are off (PgBouncer 1.18 keeps none) and `statementTimeout` is
 * set inside each call's own transaction: it holds through the pooler
 * (QueryTimeoutError on a lock wait) and never leaks into the server
 * connections other clients get.
 *
 * Skipped, with the reason printed, when pgbouncer is not installed or
 * AIMEMO_TEST_PG_URL is not set.
 */
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import postgres from 'postgres';
import { PostgresStore, QueryTimeoutError } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { eventually, report } from '../helpers/reliability';
import { tempDir, uniqueNamespace } from '../helpers/temp';

const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'].find((p) => fs.existsSync(p));

/** Why the test cannot run here, or undefined. */
function skipReason(): string | undefined {
  if (!PG_URL) return 'AIMEMO_TEST_PG_URL is not set';
  if (!PGBOUNCER) return 'pgbouncer is not installed (apt-get install -y pgbouncer; .ci/run does)';
  // PgBouncer refuses to run as root; as root it needs a user to switch to (-u).
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root and there is no postgres user for pgbouncer -u';
  return undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const reason = skipReason();
if (reason) {
  // eslint-disable-next-line no-console
  console.warn(`PgBouncer tests skipped: ${reason}`);
  test.skip(`PgBouncer in transaction mode: ${reason}`, () => undefined);
} else {
  describe('PostgresStore through PgBouncer in transaction mode', () => {
    const tmp = tempDir('pgbouncer');
    let db: TestDatabase;
    let bouncer: ChildProcess;
    let log = '';
    let url = '';
    const stores: PostgresStore[] = [];
    const open = (options: ConstructorParameters<typeof PostgresStore>[1]) => {
      const store = new PostgresStore(url, options);
      stores.push(store);
      return store;
    };

    beforeAll(async () => {
      db = await createTestDatabase('pgbouncer');
      const server = new URL(PG_URL!);
      const port = await freePort();
      const user = decodeURIComponent(server.username || 'root');
      fs.chmodSync(tmp.dir, 0o777); // pgbouncer -u postgres writes its log here
      fs.writeFileSync(tmp.file('users.txt'), `"${user}" ""\n`);
      fs.writeFileSync(
        tmp.file('pgbouncer.ini'),
        [
          '[databases]',
          `* = host=${server.hostname} port=${server.port || 5432}`,
          '[pgbouncer]',
          'listen_addr = 127.0.0.1',
          `listen_port = ${port}`,
          'auth_type = trust',
          `auth_file = ${tmp.file('users.txt')}`,
          'pool_mode = transaction',
          'default_pool_size = 3',
          'max_client_conn = 200',
          `logfile = ${tmp.file('pgbouncer.log')}`,
          'unix_socket_dir =',
          // ignore_startup_parameters: left at its default (none), as PgBouncer ships
        ].join('\n'),
      );
      for (const f of ['users.txt', 'pgbouncer.ini']) fs.chmodSync(tmp.file(f), 0o644);
      const args = process.getuid?.() === 0 ? ['-u', 'postgres', tmp.file('pgbouncer.ini')] : [tmp.file('pgbouncer.ini')];
      bouncer = spawn(PGBOUNCER!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      bouncer.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      bouncer.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const through = new URL(db.url);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      url = through.toString();
      await eventually(
        () =>
          new Promise<boolean>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => {
              s.destroy();
              resolve(true);
            });
            s.on('error', () => resolve(false));
          }),
        10_000,
        `pgbouncer listening (${log})`,
      );
    }, 60_000);

    afterAll(async () => {
      for (const store of stores) await store.close().catch(() => undefined);
      if (bouncer && bouncer.exitCode === null) {
        bouncer.kill('SIGTERM');
        await new Promise((resolve) => bouncer.once('exit', resolve));
      }
      await db?.drop();
      tmp.cleanup();
    });

    it('connects with the default options: no startup parameter PgBouncer would refuse', async () => {
      const store = open({ connectTimeout: 5 });
      const ns = uniqueNamespace('bouncer-default');
      await store.save({ namespace: ns, content: 'saved through pgbouncer with default options' });
      expect((await store.search('pgbouncer default', { namespace: ns })).length).toBe(1);
    });

    it("with pooler: 'transaction', every operation works under concurrency, large batches included", async () => {
      const store = open({ pooler: 'transaction', statementTimeout: 10, poolSize: 6, maxOverflow: 2 });
      const ns = uniqueNamespace('bouncer');
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.save({ id: `m${i}`, namespace: ns, content: `memory ${i} about apples and pears` })));
      const searches = await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.search(i % 2 ? 'apples pears' : 'apples', { namespace: ns, mode: i % 2 ? 'any' : 'all', limit: 100 })),
      );
      expect(searches.every((hits) => hits.length === 40)).toBe(true);
      await store.saveMany(Array.from({ length: 7_000 }, (_, i) => ({ id: `big${i}`, namespace: ns, content: `bulk memory ${i}` })));
      expect(await store.count(ns)).toBe(7_040);
      expect((await store.getMany(['m1', 'big6999'], ns)).length).toBe(2);
      expect(await store.clear(ns)).toBe(7_040);
      await store.optimize();
    }, 60_000);

    it("keeps statementTimeout through the pooler (QueryTimeoutError on a lock wait), and it never leaks to other clients' server connections", async () => {
      const store = open({ pooler: 'transaction', statementTimeout: 1, poolSize: 2 });
      const ns = uniqueNamespace('bouncer-timeout');
      await store.save({ id: 'locked', namespace: ns, content: 'held by another session' });
      const direct = postgres(db.url, { max: 1, onnotice: () => undefined });
      const other = postgres(url, { max: 1, prepare: false, onnotice: () => undefined });
      try {
        const reserved = await direct.reserve();
        await reserved`BEGIN`;
        await reserved`SELECT 1 FROM aimemo.memories WHERE id = 'locked' FOR UPDATE`;
        const errors = await Promise.all(
          Array.from({ length: 3 }, () => store.save({ id: 'locked', namespace: ns, content: 'blocked' }).catch((e: unknown) => e)),
        );
        await reserved`ROLLBACK`;
        reserved.release();
        for (const e of errors) expect(e).toBeInstanceOf(QueryTimeoutError);
        // Another client of the pooler, on whichever server connections it gets: the server's default, never the store's 1 s.
        const seen = new Set<string>();
        for (let i = 0; i < 20; i++) seen.add(((await other`SHOW statement_timeout`) as unknown as { statement_timeout: string }[])[0].statement_timeout);
        expect([...seen]).toEqual(['0']);
        report('pgbouncer transaction mode', { timeouts: errors.length, otherClientsSaw: [...seen].join(',') });
      } finally {
        await other.end({ timeout: 5 });
        await direct.end({ timeout: 5 });
      }
    }, 60_000);
  });
}
