/**
 * Issue 11, item 13, for the operations: a backup, an export, a checksum or a
 * transfer reading a store that is being closed settles with its result or
 * StoreClosedError, never a TypeError from a torn-down connection (on main:
 * `Cannot read properties of undefined (reading 'client')` / `('use')`).
 */
import { describe, expect, it } from '@jest/globals';
import { SQLiteStore, StoreClosedError, checksumNamespace, exportJsonl, transfer, type SqlStore } from '../../src';
import { tempDir, uniqueNamespace } from '../helpers/temp';
import { sampleMemories, useBackends } from './backends';

const { sqlite, postgres } = useBackends('closing');
const tmp = tempDir('closing-files');
let n = 0;

/** Runs `op` on a store holding `rows` memories, closes the store at once, and returns how `op` settled. */
async function raceClose(open: () => Promise<SqlStore>, rows: number, op: (store: SqlStore, ns: string) => Promise<unknown>): Promise<unknown> {
  const store = await open();
  const ns = uniqueNamespace('closing');
  await store.saveMany(sampleMemories(ns, rows));
  const pending = op(store, ns).then(
    () => 'ok',
    (e: unknown) => e,
  );
  await store.close();
  return pending;
}

const OPERATIONS: [string, (store: SqlStore, ns: string) => Promise<unknown>][] = [
  ['exportJsonl', (store, ns) => exportJsonl(store, tmp.file(`export-${++n}.jsonl`), { namespaces: [ns], batchSize: 10 })],
  ['checksumNamespace', (store, ns) => checksumNamespace(store, ns, { batchSize: 10 })],
  ['transfer from it', async (store, ns) => {
    const to = new SQLiteStore(':memory:');
    try {
      return await transfer(store, to, { namespaces: [ns], batchSize: 10 });
    } finally {
      await to.close();
    }
  }],
];

describe('operations on a store that is being closed', () => {
  for (const backend of [sqlite, ...postgres]) {
    it.each(OPERATIONS)(`${backend.name}: %s settles with its result or StoreClosedError`, async (_what, op) => {
      const outcome = await raceClose(() => backend.open(), 200, op);
      if (outcome !== 'ok') expect(outcome).toBeInstanceOf(StoreClosedError);
    });
  }

  it('SQLite: a backup in flight settles with its result or StoreClosedError', async () => {
    const outcome = await raceClose(() => sqlite.open(), 2000, (store) => (store as SQLiteStore).backup(tmp.file(`backup-${++n}.db`)));
    if (outcome !== 'ok') expect(outcome).toBeInstanceOf(StoreClosedError);
  });
});
