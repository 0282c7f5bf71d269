/** LangGraph's store expectations on AIMemoStore over PostgreSQL in process (PGlite): one PGlite, a fresh schema per test. */
import type { PGlite } from '@electric-sql/pglite';
import { PostgresStore } from '../../src';
import { createPGlite } from '../helpers/postgres';
import { describeLangGraphStore } from './suite';

let pglite: PGlite;
describeLangGraphStore({
  name: 'AIMemoStore(PGlite)',
  setup: async () => {
    pglite = await createPGlite();
  },
  teardown: async () => {
    await pglite.close();
  },
  // Every test starts empty, as LangGraph's do: the previous test's rows go (the schema stays, migrated once).
  create: async () => {
    const store = new PostgresStore(pglite);
    await store.ready();
    for (const table of ['memories', 'search_namespaces', 'search_terms', 'search_postings', 'search_log', 'search_pending']) await pglite.exec(`DELETE FROM aimemo.${table}`);
    return store;
  },
});
