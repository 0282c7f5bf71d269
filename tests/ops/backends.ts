/**
 * The real databases the operations tests run on, in the conformance style:
 * SQLite (a temp file), PostgreSQL on PGlite (always) and on the server named
 * by AIMEMO_TEST_PG_URL (a fresh database per test file; skipped, with the
 * reason printed, when the variable is unset, and a failure then under
 * AIMEMO_REQUIRE_PG=1, as in CI).
 */
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, test } from '@jest/globals';
import { drizzle } from 'drizzle-orm/pglite';
import { PostgresStore, SQLiteStore, type Memory, type SqlStore } from '../../src';
import { PG_URL, createPGlite, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/temp';

export interface Backend {
  /** As in the conformance suite: `SQLiteStore(file)`, `PostgresStore(PGlite)`, `PostgresStore(server)`. */
  name: string;
  dialect: 'sqlite' | 'postgres';
  /** A new store on this backend's database (every call shares it; tests use unique namespaces). */
  open(): Promise<SqlStore>;
  /** What the CLI's --db takes, when a child process can reach it (not PGlite). */
  url?: string;
}

/**
 * Registers setup and teardown for the backends and returns them. Call at the
 * top level of a test file. Without AIMEMO_TEST_PG_URL the server backend is
 * left out, and a skipped test says why.
 */
export function useBackends(label: string): { sqlite: Backend; postgres: Backend[] } {
  const tmp = tempDir(`ops-${label}`);
  const opened: SqlStore[] = [];
  const track = (store: SqlStore) => {
    opened.push(store);
    return store;
  };
  const sqliteFile = tmp.file('ops.db');
  const sqlite: Backend = { name: 'SQLiteStore(file)', dialect: 'sqlite', open: async () => track(new SQLiteStore(sqliteFile)), url: sqliteFile };

  let pglite: PGlite;
  const pgliteBackend: Backend = {
    name: 'PostgresStore(PGlite)',
    dialect: 'postgres',
    open: async () => track(new PostgresStore(drizzle({ client: pglite }))),
  };
  const postgres: Backend[] = [pgliteBackend];

  let server: TestDatabase | undefined;
  if (PG_URL) {
    postgres.push({
      name: 'PostgresStore(server)',
      dialect: 'postgres',
      open: async () => track(new PostgresStore(server!.url, { poolSize: 4, maxOverflow: 2 })),
      get url() {
        return server?.url;
      },
    });
  } else if (process.env.AIMEMO_REQUIRE_PG === '1') {
    test(`${label}: the PostgreSQL server tests run`, () => {
      throw new Error('AIMEMO_REQUIRE_PG=1 but AIMEMO_TEST_PG_URL is not set');
    });
  } else {
    // eslint-disable-next-line no-console
    console.warn(`${label}: PostgresStore(server) skipped, AIMEMO_TEST_PG_URL is not set (PGlite covers PostgreSQL instead)`);
    test.skip(`PostgresStore(server)#${label}: set AIMEMO_TEST_PG_URL to run`, () => undefined);
  }

  beforeAll(async () => {
    pglite = await createPGlite();
    if (PG_URL) server = await createTestDatabase(`ops_${label}`);
  }, 60_000);
  afterAll(async () => {
    for (const store of opened) await store.close().catch(() => undefined);
    await pglite?.close();
    await server?.drop();
    tmp.cleanup();
  });
  return { sqlite, postgres };
}

/** Memories that exercise every field: unicode, nested metadata (keys in any order), tags, old and new timestamps, expiry. */
export function sampleMemories(namespace: string, n: number, start = 0): Memory[] {
  return Array.from({ length: n }, (_, k): Memory => {
    const i = start + k;
    return {
      ...(i % 5 === 1 ? { expiresAt: new Date(Date.UTC(2090 + (i % 9), i % 12, 1, 0, 0, 0, i % 1000)) } : {}),
      id: `m-${String(i).padStart(6, '0')}`,
      namespace,
      content: i % 7 === 0 ? `Ünïcödé memory ${i}: café, 東京, emoji 🎉 and "quotes" \\ back\nslash` : `Memory ${i} about fastapi deploys and dark mode`,
      tags: i % 3 === 0 ? ['alpha', 'b{e}ta,"q"', `t${i % 5}`] : [],
      metadata: i % 2 === 0 ? { z: 1, a: { y: [1, 2.5, 'x'], b: null }, big: 12345678901234, flag: true } : {},
      timestamp: new Date(Date.UTC(1999 + (i % 30), i % 12, 1 + (i % 28), i % 24, i % 60, i % 60, i % 1000)),
    };
  });
}

/** A namespace's memories in a stable order, for comparing two stores. */
export async function snapshot(store: SqlStore, namespace: string) {
  const all = await store.getAllMemories(namespace);
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
