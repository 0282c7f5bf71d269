import type { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { PostgresStore, type SqlStore } from '../../src';
import { PG_URL, createPGlite } from '../helpers/postgres';
import type { StoreHarness } from './harness';
import { PG_POISON, PG_POISON_SQL } from './postgres-poison';
import { describeMemoryStore } from './suite';

if (!PG_URL) {
  // eslint-disable-next-line no-console
  console.warn('PostgreSQL suite: AIMEMO_TEST_PG_URL is not set, so PostgreSQL is tested on PGlite (embedded PostgreSQL) only');
}

let pglite: PGlite;
const harness: StoreHarness = {
  name: 'PostgresStore(PGlite)',
  setup: async () => {
    pglite = await createPGlite();
  },
  teardown: async () => {
    await pglite.close();
  },
  // The app's own Drizzle database: the store must not close it.
  create: async () => new PostgresStore(drizzle({ client: pglite })),
  destroy: (store) => store.close(),
  poison: async (store) => {
    await (store as SqlStore).ready();
    for (const statement of PG_POISON_SQL) await pglite.exec(statement);
    return PG_POISON;
  },
  limitations: {
    leadingBom: 'PGlite 0.5 decodes text results with a default TextDecoder, which drops a U+FEFF at the start of a value (the database stores it; the value read back lacks it)',
  },
};
describeMemoryStore(harness);
