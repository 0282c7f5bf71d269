import { afterAll, beforeAll } from '@jest/globals';
import type { MemoryStore } from '../../../src';
import type { StoreHarness } from '../harness';

/** One store for the enclosing describe block, closed afterwards. */
export function useStore(h: StoreHarness): () => MemoryStore {
  let store: MemoryStore | undefined;
  beforeAll(async () => {
    store = await h.create();
  });
  afterAll(async () => {
    if (store) await h.destroy(store);
  });
  return () => {
    if (!store) throw new Error('store not created yet');
    return store;
  };
}
