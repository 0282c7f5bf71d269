/** LangGraph's store expectations on AIMemoStore over the PostgreSQL server (AIMEMO_TEST_PG_URL), a fresh database per file. */
import { test } from '@jest/globals';
import postgres from 'postgres';
import { PostgresStore } from '../../src';
import { PG_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { describeLangGraphStore } from './suite';

if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('AIMemoStore(server) suite skipped: AIMEMO_TEST_PG_URL is not set (PGlite covers PostgreSQL instead)');
  test.skip('AIMemoStore(server): set AIMEMO_TEST_PG_URL to run', () => undefined);
} else {
  let db: TestDatabase;
  describeLangGraphStore({
    name: 'AIMemoStore(server)',
    setup: async () => {
      db = await createTestDatabase('langgraph');
    },
    teardown: async () => {
      await db.drop();
    },
    create: async () => {
      const store = new PostgresStore(db.url, { poolSize: 2 });
      await store.ready();
      const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
      try {
        for (const table of ['memories', 'search_namespaces', 'search_terms', 'search_postings', 'search_log', 'search_pending']) await sql.unsafe(`DELETE FROM aimemo.${table}`);
      } finally {
        await sql.end();
      }
      return store;
    },
  });
}
