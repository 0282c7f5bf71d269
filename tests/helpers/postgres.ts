/**
 * PostgreSQL for tests: a fresh database on the server named by
 * AIMEMO_TEST_PG_URL (dropped afterwards), or an in-process PGlite.
 */
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';

/** The server the integration suite runs against; unset on a machine without one. */
export const PG_URL = process.env.AIMEMO_TEST_PG_URL;

/** Why the server suites are skipped, printed once per file. */
export function reportSkip(what: string): void {
  if (!PG_URL) {
    // eslint-disable-next-line no-console
    console.warn(`${what}: skipped, AIMEMO_TEST_PG_URL is not set (the PostgreSQL suite runs on PGlite instead)`);
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the test server; `drop()` removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  if (!PG_URL) throw new Error('AIMEMO_TEST_PG_URL is not set');
  const name = `aimemo_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = postgres(PG_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(PG_URL, { max: 1, onnotice: () => undefined });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** A new in-process PostgreSQL (PGlite), with the contrib extensions AIMemo may use. */
export async function createPGlite(): Promise<PGlite> {
  const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
  const db = new PGlite({ extensions: { btree_gin } });
  await db.waitReady;
  return db;
}
