/**
 * Rows are written (and locked) in key order, so concurrent writers never
 * deadlock (issue 11), while their save order (`seq`, migration
 * 0003_save-order) follows the caller's order: within one statement and
 * across the statements of a large saveMany, on PGlite and the server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { PostgresStore } from '../../src';
import { PG_URL, createPGlite, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { uniqueNamespace } from '../helpers/temp';

interface Backend {
  name: string;
  store: PostgresStore;
  idsBySeq(ns: string): Promise<string[]>;
}

const backends: Backend[] = [];
let pglite: PGlite;
let server: TestDatabase | undefined;
let raw: postgres.Sql | undefined;

beforeAll(async () => {
  pglite = await createPGlite();
  backends.push({
    name: 'PGlite',
    store: new PostgresStore(pglite),
    idsBySeq: async (ns) => (await pglite.query<{ id: string }>(`SELECT id FROM aimemo.memories WHERE namespace = $1 ORDER BY seq`, [ns])).rows.map((r) => r.id),
  });
  if (PG_URL) {
    server = await createTestDatabase('save_order');
    const sql = (raw = postgres(server.url, { max: 1, onnotice: () => undefined }));
    backends.push({
      name: 'PostgreSQL server',
      store: new PostgresStore(server.url, { poolSize: 2 }),
      idsBySeq: async (ns) => (await sql`SELECT id FROM aimemo.memories WHERE namespace = ${ns} ORDER BY seq`).map((r) => r.id as string),
    });
  }
}, 60_000);

afterAll(async () => {
  for (const b of backends) await b.store.close();
  await raw?.end({ timeout: 5 });
  await pglite?.close();
  await server?.drop();
});

describe('PostgresStore: save order follows the caller, locks follow the key', () => {
  it.each([10, 12_000])('a saveMany of %i memories in descending id order keeps that order in seq', async (n) => {
    for (const b of backends) {
      const ns = uniqueNamespace('order');
      const ids = Array.from({ length: n }, (_, i) => `m${String(n - i).padStart(6, '0')}`); // descending: the opposite of key order
      await b.store.saveMany(ids.map((id) => ({ id, namespace: ns, content: `memory ${id}`, timestamp: new Date(0) })));
      expect({ backend: b.name, inOrder: (await b.idsBySeq(ns)).join() === ids.join() }).toEqual({ backend: b.name, inOrder: true });
    }
  }, 60_000);
});
