/**
 * The conformance suite on a real PostgreSQL server: AIMEMO_TEST_PG_URL names
 * it (CI: postgres://root@127.0.0.1:5432/test), and every run gets a fresh
 * database that is dropped afterwards. Without the variable the file is
 * skipped with its reason printed, unless AIMEMO_REQUIRE_PG=1 (CI), where
 * that is a failure.
 */
import postgres from 'postgres';
import { test } from '@jest/globals';
import { PostgresStore, type SqlStore } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import type { StoreHarness } from './harness';
import { PG_POISON, PG_POISON_SQL } from './postgres-poison';
import { describeMemoryStore } from './suite';

if (!PG_URL && process.env.AIMEMO_REQUIRE_PG === '1') {
  test('the PostgreSQL server suite runs', () => {
    throw new Error('AIMEMO_REQUIRE_PG=1 but AIMEMO_TEST_PG_URL is not set');
  });
} else if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('PostgresStore(server) suite skipped: AIMEMO_TEST_PG_URL is not set (PGlite covers PostgreSQL instead)');
  test.skip('PostgresStore(server): set AIMEMO_TEST_PG_URL to run', () => undefined);
} else {
  let db: TestDatabase;
  const harness: StoreHarness = {
    name: 'PostgresStore(server)',
    setup: async () => {
      db = await createTestDatabase('conformance');
    },
    teardown: async () => {
      await db.drop();
    },
    create: async () => new PostgresStore(db.url, { poolSize: 3, maxOverflow: 2 }),
    destroy: (store) => store.close(),
    poison: async (store) => {
      await (store as SqlStore).ready();
      const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
      try {
        for (const statement of PG_POISON_SQL) await sql.unsafe(statement);
      } finally {
        await sql.end();
      }
      return PG_POISON;
    },
  };
  describeMemoryStore(harness);
}
