/**
 * Reading a namespace of any store in batches: through `iterate` when the
 * store has it (every built-in store: memory stays flat however large the
 * namespace), else through `getAllMemories`, cut into batches (a custom store
 * then holds one namespace in memory at a time).
 */
import type { Memory, MemoryStore } from '../types';

/** A store that can read a namespace in batches, as every `SqlStore` does. */
export interface BatchedMemoryStore extends MemoryStore {
  iterate(namespace: string, options?: { batchSize?: number }): AsyncIterable<Memory[]>;
}

/** True when the store reads namespaces in batches itself. */
export function hasIterate(store: MemoryStore): store is BatchedMemoryStore {
  return typeof (store as Partial<BatchedMemoryStore>).iterate === 'function';
}

/** The namespace's memories, at most `batchSize` at a time. */
export async function* batchesOf(store: MemoryStore, namespace: string, batchSize: number): AsyncGenerator<Memory[]> {
  if (hasIterate(store)) {
    yield* store.iterate(namespace, { batchSize });
    return;
  }
  const all = await store.getAllMemories(namespace);
  for (let i = 0; i < all.length; i += batchSize) yield all.slice(i, i + batchSize);
}

/** A store that fetches many memories by id at once, as every `SqlStore` does. */
export interface GetManyMemoryStore extends MemoryStore {
  getMany(ids: string[], namespace?: string): Promise<Memory[]>;
}

/** True when the store has `getMany`. */
export function hasGetMany(store: MemoryStore): store is GetManyMemoryStore {
  return typeof (store as Partial<GetManyMemoryStore>).getMany === 'function';
}

/** How many memories each namespace holds: one query on a built-in store. */
export async function countsOf(store: MemoryStore, namespaces: string[]): Promise<Map<string, number>> {
  const byNamespace = (store as { countByNamespace?: () => Promise<{ namespace: string; count: number }[]> }).countByNamespace;
  if (typeof byNamespace === 'function') {
    const all = new Map((await byNamespace.call(store)).map((r) => [r.namespace, r.count]));
    return new Map(namespaces.map((ns) => [ns, all.get(ns) ?? 0]));
  }
  return new Map(await Promise.all(namespaces.map(async (ns) => [ns, await store.count(ns)] as const)));
}
