/**
 * Timestamps round-trip exactly on PostgreSQL, whatever the session's time
 * zone: years 1-99 (which `new Date('0050-06-15 12:30:00+00')` reads as 1950)
 * and old dates that a named time zone writes with a local-mean-time offset
 * (`1850-01-01 00:53:28+00:53:28`, Invalid Date for `new Date`). PGlite always,
 * a server when AIMEMO_TEST_PG_URL is set; SQLite stores milliseconds and is
 * covered by the conformance suite.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { parsePgTimestamp } from '../../drizzle/postgres';
import { PostgresStore } from '../../src';
import { PG_URL, createPGlite, createTestDatabase, type TestDatabase } from '../helpers/postgres';

const MOMENTS = [
  '0001-01-01T00:00:00.000Z',
  '0050-06-15T12:30:00.500Z',
  '0099-12-31T23:59:59.999Z',
  '0100-01-01T00:00:00.000Z',
  '1000-03-01T08:00:00.000Z',
  '1850-01-01T00:00:00.000Z',
  '1969-12-31T23:59:59.999Z',
  '2024-02-29T12:00:00.001Z',
  '9999-12-31T23:59:59.999Z',
];
const ZONES = ['UTC', 'Europe/Berlin', 'America/St_Johns', 'Asia/Kolkata', 'Pacific/Chatham'];

async function roundTrip(store: PostgresStore, zone: string): Promise<string[]> {
  const ns = `ts-${zone}`;
  await store.saveMany(MOMENTS.map((iso, i) => ({ id: `t${i}`, namespace: ns, content: `moment number ${i}`, timestamp: new Date(iso) })));
  const got = await store.get('t0', ns);
  const listed = await store.list({ namespace: ns });
  const found = await store.search('moment', { namespace: ns, limit: 100, mode: 'any' });
  expect(got?.timestamp.toISOString()).toBe(MOMENTS[0]);
  expect(found.map((m) => m.timestamp.toISOString()).sort()).toEqual([...MOMENTS].sort());
  return listed.map((m) => m.timestamp.toISOString());
}

describe('parsePgTimestamp', () => {
  it.each([
    ['0001-01-01 00:00:00+00', '0001-01-01T00:00:00.000Z'],
    ['0050-06-15 12:30:00.5+00', '0050-06-15T12:30:00.500Z'],
    ['1850-01-01 00:53:28+00:53:28', '1850-01-01T00:00:00.000Z'],
    ['2024-06-01 02:00:00.123456+02', '2024-06-01T00:00:00.123Z'],
    ['2024-06-01 02:00:00-03:30', '2024-06-01T05:30:00.000Z'],
    ['2024-06-01 02:00:00', '2024-06-01T02:00:00.000Z'],
    ['0001-01-01 00:00:00+00 BC', '0000-01-01T00:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parsePgTimestamp(text).toISOString()).toBe(iso);
  });
});

describe('PostgresStore timestamps in any session time zone: PGlite', () => {
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = await createPGlite();
  }, 30_000);
  afterAll(async () => {
    await pglite.close();
  });

  it.each(ZONES)('round-trip exactly in %s', async (zone) => {
    await pglite.exec(`SET TIME ZONE '${zone}'`);
    const store = new PostgresStore(pglite);
    expect(await roundTrip(store, zone)).toEqual([...MOMENTS].reverse());
    await store.close();
  });
});

(PG_URL ? describe : describe.skip)('PostgresStore timestamps in any session time zone: server', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('timestamps');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each(ZONES)('round-trip exactly with the database time zone %s', async (zone) => {
    const admin = postgres(db.url, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`ALTER DATABASE "${new URL(db.url).pathname.slice(1)}" SET timezone = '${zone}'`);
    await admin.end();
    const owned = new PostgresStore(db.url, { poolSize: 1 });
    expect(await roundTrip(owned, `${zone}-owned`)).toEqual([...MOMENTS].reverse());
    await owned.close();
  });
});
