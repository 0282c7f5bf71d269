/**
 * Connections an app already has: the store runs on them, leaves their
 * settings alone and never closes them. And connections that cannot be made:
 * a typed error, no hang.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { desc, eq } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import * as fs from 'node:fs';
import postgres from 'postgres';
import { memories as pgMemories } from '../../drizzle/postgres';
import { memories as sqliteMemories } from '../../drizzle/sqlite';
import { AIMemoError, DatabaseUnavailableError, PostgresStore, SQLiteStore, ValidationError } from '../../src';
import { PG_URL, createPGlite, createTestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

const tmp = tempDir('connections');
afterAll(() => tmp.cleanup());

describe('SQLiteStore sources', () => {
  it('runs on an app\'s better-sqlite3 Database and leaves it open', async () => {
    const db = new Database(tmp.file('app.db'));
    db.exec('CREATE TABLE app_table (x INTEGER)'); // the app's own table is left alone
    const store = new SQLiteStore(db);
    await store.save({ content: 'from the app connection', namespace: 'app' });
    expect((await store.search('connection', { namespace: 'app' })).length).toBe(1);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT count(*) AS n FROM memories').get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'app_table'").get()).toEqual({ name: 'app_table' });
    db.close();
  });

  it('runs on an app\'s Drizzle database, whose queries can read the exported table', async () => {
    const client = new Database(':memory:');
    const appDb = drizzleSqlite({ client });
    const store = new SQLiteStore(appDb);
    await store.saveMany([
      { content: 'older', namespace: 'drz', timestamp: new Date(1000) },
      { content: 'newer', namespace: 'drz', timestamp: new Date(2000) },
    ]);
    const rows = appDb.select().from(sqliteMemories).where(eq(sqliteMemories.namespace, 'drz')).orderBy(desc(sqliteMemories.timestamp)).all();
    expect(rows.map((r) => r.content)).toEqual(['newer', 'older']);
    expect(rows[0].timestamp).toEqual(new Date(2000));
    await store.close();
    expect(client.open).toBe(true);
    client.close();
  });

  it('accepts file: URLs and opens files in WAL mode', async () => {
    const file = tmp.file('wal.db');
    const store = new SQLiteStore(`file:${file}`);
    await store.save({ content: 'wal' });
    expect(store.client!.pragma('journal_mode', { simple: true })).toBe('wal');
    await store.close();
    expect(fs.existsSync(file)).toBe(true);
  });

  it('reports a file it cannot open as DatabaseUnavailableError, and can retry', async () => {
    const store = new SQLiteStore(tmp.file('missing-dir/x.db'));
    await expect(store.count()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    fs.mkdirSync(tmp.file('missing-dir'));
    expect(await store.count()).toBe(0); // the next call starts again
    await store.close();
  });

  it('reports a file that is not a database as DatabaseUnavailableError', async () => {
    fs.writeFileSync(tmp.file('not-a.db'), 'this is not an SQLite file, just text that is long enough '.repeat(20));
    const store = new SQLiteStore(tmp.file('not-a.db'));
    const error = await store.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/SQLITE_NOTADB/);
    await store.close();
  });

  it.each([[''], [42], [{}], [null]])('refuses %p as a source', (source) => {
    expect(() => new SQLiteStore(source as never)).toThrow(ValidationError);
  });
});

describe('PostgresStore sources', () => {
  it('runs on a PGlite instance and on a Drizzle PGlite database, leaving them open', async () => {
    const pglite = await createPGlite();
    const viaInstance = new PostgresStore(pglite);
    await viaInstance.save({ content: 'saved through the instance', namespace: 'pgl' });
    await viaInstance.close();
    const appDb = drizzlePglite({ client: pglite });
    const viaDrizzle = new PostgresStore(appDb);
    expect(await viaDrizzle.count('pgl')).toBe(1);
    const rows = await appDb.select({ content: pgMemories.content }).from(pgMemories);
    expect(rows).toEqual([{ content: 'saved through the instance' }]);
    await viaDrizzle.close();
    expect(pglite.closed).toBe(false);
    expect(() => viaDrizzle.getPoolStatus()).toThrow(AIMemoError);
    await pglite.close();
  });

  it.each([['mysql://localhost/db'], ['not a url'], [42], [{}]])('refuses %p as a source', (source) => {
    expect(() => new PostgresStore(source as never)).toThrow(ValidationError);
  });

  it.each([
    [{ poolSize: 0 }, 'options.poolSize'],
    [{ maxOverflow: -1 }, 'options.maxOverflow'],
    [{ poolTimeout: Number.NaN }, 'options.poolTimeout'],
    [{ poolRecycle: -5 }, 'options.poolRecycle'],
  ])('refuses pool options %p', (options, field) => {
    expect(() => new PostgresStore('postgres://localhost/x', options)).toThrow(field);
  });

  it('fails fast with DatabaseUnavailableError when nothing listens, and closes cleanly', async () => {
    const store = new PostgresStore('postgres://nobody@127.0.0.1:1/none', { connectTimeout: 2 });
    const started = Date.now();
    await expect(store.count()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(store.getPoolStatus()).toEqual({ size: 0, overflow: 0, checkedIn: 0, checkedOut: 0 });
    await store.close();
  });
});

const server = PG_URL ? describe : describe.skip;
if (!PG_URL) console.warn('PostgresStore on an app\'s postgres.js client: skipped, AIMEMO_TEST_PG_URL is not set'); // eslint-disable-line no-console

server('PostgresStore on an app\'s postgres.js client (server)', () => {
  it('runs on the app\'s Sql without changing how the app\'s own queries parse, and leaves it open', async () => {
    const db = await createTestDatabase('conn');
    const sql = postgres(db.url, { max: 2, onnotice: () => undefined });
    try {
      const store = new PostgresStore(sql);
      await store.save({ content: 'through the app client', namespace: 'js', metadata: { k: ['v'] } });
      expect((await store.search('client', { namespace: 'js' }))[0].metadata).toEqual({ k: ['v'] });
      const [row] = await sql`SELECT now() AS at, '{"a":1}'::jsonb AS j, metadata FROM aimemo.memories`;
      expect(row.at).toBeInstanceOf(Date); // drizzle() would have made it a string
      expect(row.j).toEqual({ a: 1 });
      expect(row.metadata).toEqual({ k: ['v'] }); // stored as JSON, not as a JSON string
      expect(() => store.getPoolStatus()).toThrow(/connection the application passed in/);
      await store.close();
      expect((await sql`SELECT 1 AS one`)[0].one).toBe(1); // still open
      const appDb = drizzlePostgres({ client: sql });
      const viaDrizzle = new PostgresStore(appDb);
      expect(await viaDrizzle.count('js')).toBe(1);
      await viaDrizzle.close();
    } finally {
      await sql.end();
      await db.drop();
    }
  });

  it('reports a missing database as DatabaseUnavailableError', async () => {
    const url = new URL(PG_URL!);
    url.pathname = '/aimemo_database_that_does_not_exist';
    const store = new PostgresStore(url.toString());
    await expect(store.count()).rejects.toThrow(/does not exist/);
    await store.close();
  });

  it('honours sslmode in the URL', async () => {
    const admin = postgres(PG_URL!, { max: 1 });
    const [{ ssl }] = await admin`SHOW ssl`;
    const url = new URL(PG_URL!);
    url.searchParams.set('sslmode', 'require');
    const store = new PostgresStore(url.toString(), { connectTimeout: 5 });
    if (ssl === 'on') {
      expect(await store.count()).toBeGreaterThanOrEqual(0);
      // The store's idle connection, as the server sees it: encrypted.
      const rows = await admin`SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                               WHERE a.application_name = 'aimemo' AND a.datname = ${url.pathname.slice(1)}`;
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.ssl === true)).toBe(true);
    } else {
      // This server has no TLS: that the connection fails proves the store asked for it.
      // eslint-disable-next-line no-console
      console.warn('the test server has ssl = off: checked that sslmode=require is honoured (the TLS handshake is refused)');
      await expect(store.count()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    }
    await store.close();
    await admin.end();
  });
});
