/**
 * Issue 11, item 17 and the query timeout: every call settles within its
 * timeouts, whatever is at the other end.
 *
 * Peers that are not PostgreSQL, as fake servers on 127.0.0.1: one that
 * accepts and stays silent, one that answers HTTP 400 and closes (a wrong
 * port, a proxy), one that closes at once, one that sends random bytes, an
 * SSH banner, a length no message has, a SCRAM exchange it never started
 * (which made postgres.js reject a promise nobody catches: the host process
 * died), and one that completes the startup and then never answers. On main
 * the HTTP and closing peers made postgres.js reconnect for ever (6,500
 * connections in 10 s) and the call never settled. Each runs in a child
 * process (so a crash shows as an exit code) with connectTimeout 2 s: every
 * call must fail with DatabaseUnavailableError within it, over at most a
 * couple of connections.
 *
 * With a server (AIMEMO_TEST_PG_URL): `statementTimeout` cancels a statement
 * that waits on a lock (QueryTimeoutError, and the connection stays usable),
 * fails a call whose server goes silent mid-query (QueryTimeoutError, 2 s
 * after the limit), and leaves migrations and optimize() alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import postgres from 'postgres';
import { PostgresStore, QueryTimeoutError } from '../../src';
import { requireBuild } from '../helpers/migrations';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { TcpProxy, report, startChild } from '../helpers/reliability';

const CONNECT_TIMEOUT = 2; // seconds

/** What a fake peer does with each connection. */
const PEERS: [string, (socket: net.Socket) => void][] = [
  ['accepts and stays silent', (s) => s.on('data', () => undefined)],
  ['answers HTTP 400 and closes', (s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'))],
  ['closes at once', (s) => s.destroy()],
  ['sends random bytes', (s) => s.on('data', () => s.write(randomBytes(512)))],
  ['sends random bytes first, then closes', (s) => s.end(randomBytes(64))],
  ['sends an SSH banner', (s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')],
  ['sends a message of 2 GB', (s) => s.once('data', () => s.write(Buffer.from([0x52, 0x7f, 0xff, 0xff, 0xff])))],
  ['continues a SCRAM exchange it never started', (s) => s.once('data', () => s.write(Buffer.from('R\0\0\0\x0b\0\0\0\x0bbad', 'latin1')))],
  ['asks for a SCRAM proof of 2^31 iterations', (s) => {
    s.once('data', () => {
      s.write(Buffer.concat([Buffer.from('R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0', 'latin1')]));
      s.once('data', () => {
        const body = Buffer.from('r=abcdef,s=c2FsdA==,i=2147483647');
        const head = Buffer.alloc(9);
        head.write('R', 0, 'latin1');
        head.writeUInt32BE(8 + body.length, 1);
        head.writeUInt32BE(11, 5);
        s.write(Buffer.concat([head, body]));
      });
    });
  }],
  ['completes the startup, then never answers', (s) => {
    s.once('data', () => {
      // AuthenticationOk, then ReadyForQuery (idle): then silence.
      s.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49]));
      s.on('data', () => undefined);
    });
  }],
];

interface Outcome {
  call: string;
  name: string;
  code: string | null;
  ms: number;
}

describe('PostgresStore against peers that are not PostgreSQL', () => {
  const servers: net.Server[] = [];
  afterAll(async () => {
    for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each(PEERS)('a peer that %s: every call fails with DatabaseUnavailableError within connectTimeout, the process lives', async (what, behave) => {
    requireBuild();
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      behave(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const child = startChild('peer-client', [`postgres://user:secret-password@127.0.0.1:${port}/db`, String(CONNECT_TIMEOUT)]);
    const exit = await child.output;
    for (const socket of sockets) socket.destroy();
    expect({ code: exit.code, stderr: exit.stderr }).toEqual({ code: 0, stderr: '' });
    const outcomes = JSON.parse(exit.stdout.trim()) as (Outcome & { message?: string })[];
    for (const o of outcomes.filter((x) => x.call !== 'close')) {
      expect({ call: o.call, name: o.name }).toEqual({ call: o.call, name: 'DatabaseUnavailableError' });
      expect(o.ms).toBeLessThan(CONNECT_TIMEOUT * 1000 + 1500);
      expect(o.message).not.toContain('secret-password');
    }
    expect(outcomes.find((o) => o.call === 'close')?.name).toBe('ok');
    expect(connections).toBeLessThanOrEqual(4); // at most a try per pooled slot: never a reconnect storm
    report(`peer that ${what}`, { connections, slowestMs: Math.max(...outcomes.map((o) => o.ms)), codes: [...new Set(outcomes.map((o) => o.code))].join(',') });
  }, 30_000);
});

const describeServer = PG_URL ? describe : describe.skip;

describeServer('statementTimeout (PostgreSQL server)', () => {
  let db: TestDatabase;
  let admin: postgres.Sql;
  const stores: PostgresStore[] = [];
  const proxies: TcpProxy[] = [];
  const open = (url: string, options: ConstructorParameters<typeof PostgresStore>[1] = {}) => {
    const store = new PostgresStore(url, options);
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    db = await createTestDatabase('stmt_timeout');
    admin = postgres(db.url, { max: 1, onnotice: () => undefined });
    const setup = open(db.url);
    await setup.save({ id: 'locked', namespace: 'timeout', content: 'a memory another session holds a lock on' });
  });
  afterAll(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    for (const proxy of proxies) await proxy.close();
    await admin?.end({ timeout: 5 });
    await db?.drop();
  });

  /** Holds a row lock in another session until the returned function is called. */
  async function holdLock(): Promise<() => Promise<void>> {
    const reserved = await admin.reserve();
    await reserved`BEGIN`;
    await reserved`SELECT 1 FROM aimemo.memories WHERE namespace = 'timeout' AND id = 'locked' FOR UPDATE`;
    return async () => {
      await reserved`ROLLBACK`;
      reserved.release();
    };
  }

  for (const pooler of ['none', 'transaction'] as const) {
    it(`cancels a statement that waits on a lock, with QueryTimeoutError (pooler '${pooler}'); the store keeps working`, async () => {
      const store = open(db.url, { statementTimeout: 1, pooler, poolSize: 1, maxOverflow: 0 });
      await store.ready();
      const release = await holdLock();
      try {
        const started = Date.now();
        const error = await store.save({ id: 'locked', namespace: 'timeout', content: 'blocked' }).catch((e: unknown) => e);
        const ms = Date.now() - started;
        expect(error).toBeInstanceOf(QueryTimeoutError);
        expect((error as QueryTimeoutError).timeoutSeconds).toBe(1);
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(ms).toBeLessThan(2_900); // the server's own timeout, before the silence check would fire
      } finally {
        await release();
      }
      expect((await store.get('locked', 'timeout'))?.content).toBe('a memory another session holds a lock on');
      await store.save({ id: 'after', namespace: 'timeout', content: 'saved after the timeout' });
      expect(store.getPoolStatus()).toMatchObject({ size: 1, checkedOut: 0 });
    });
  }

  it('fails a call whose server goes silent mid-query, 2 s after statementTimeout, and opens a new connection next', async () => {
    const proxy = await TcpProxy.start(db.url);
    proxies.push(proxy);
    const store = open(proxy.url(db.url), { statementTimeout: 1, connectTimeout: 3, poolSize: 1, maxOverflow: 0 });
    await store.count('timeout');
    proxy.freeze();
    const started = Date.now();
    const error = await store.count('timeout').catch((e: unknown) => e);
    const ms = Date.now() - started;
    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect(ms).toBeGreaterThanOrEqual(2_900);
    expect(ms).toBeLessThan(5_000);
    proxy.thaw();
    expect(await store.count('timeout')).toBeGreaterThan(0);
    report('statementTimeout, silent server', { statementTimeout: 1, failedAfterMs: ms });
  });

  it('leaves migrations and optimize() unbounded', async () => {
    const fresh = await createTestDatabase('stmt_timeout_fresh');
    try {
      const store = open(fresh.url, { statementTimeout: 0.001 }); // 1 ms: no migration or VACUUM fits
      await store.ready();
      const { steps } = await store.optimize({ vacuum: true }); // index backfill and fold, then VACUUMs
      expect(steps.filter((s) => s.step.startsWith('VACUUM')).length).toBeGreaterThan(0);
      const check = postgres(fresh.url, { max: 1, onnotice: () => undefined });
      try {
        const [row] = await check`SELECT count(*)::int AS n FROM aimemo.__aimemo_migrations`;
        expect(row.n).toBeGreaterThan(0);
      } finally {
        await check.end({ timeout: 5 });
      }
    } finally {
      await fresh.drop();
    }
  });

});
