import { SQLiteStore, type MemoryStore } from '../../src';
import { tempDir } from '../helpers/temp';
import type { StoreHarness } from './harness';
import { describeMemoryStore } from './suite';

const POISON = 'POISON: the database refuses this row';

/** A trigger that makes SQLite itself abort the statement inserting POISON. */
async function poison(store: MemoryStore): Promise<string> {
  const s = store as SQLiteStore;
  await s.ready();
  s.client!.exec(`CREATE TRIGGER IF NOT EXISTS test_poison BEFORE INSERT ON memories
    WHEN new.content = '${POISON}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
  return POISON;
}

const memory: StoreHarness = {
  name: 'SQLiteStore(:memory:)',
  create: async () => new SQLiteStore(':memory:'),
  destroy: (store) => store.close(),
  poison,
};
describeMemoryStore(memory);

const tmp = tempDir('conformance');
let files = 0;
const file: StoreHarness = {
  name: 'SQLiteStore(file)',
  // A fresh file per suite, so table stats count only that suite's rows.
  create: async () => new SQLiteStore(tmp.file(`store-${++files}.db`)),
  destroy: (store) => store.close(),
  teardown: async () => tmp.cleanup(),
  poison,
};
describeMemoryStore(file);
