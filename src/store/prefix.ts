/**
 * Reads across a namespace path prefix (`namespacePrefix`, docs/namespaces.md):
 * the namespaces under it come from an index range (the repository's
 * `namespacesIn`), at most a bounded number of them, then each is read
 * exactly as a read of that one namespace would read it.
 *
 * Search ranks each namespace on its own statistics (its exact BM25 top-k,
 * search.ts) and merges the lists by score: scores are shares in [0, 1] of
 * the most the query can score in that namespace, so they compare across
 * namespaces. A namespace's own results keep their order.
 */
import { ValidationError } from '../errors';
import { pathRange } from '../namespaces/codec';
import type { QueryNode } from '../search/query';
import type { SearchResult } from '../types';
import type { MemoryRepository, SearchParams } from './repository';
import { searchAll, searchAny } from './search';

/** Namespaces searched at once on PostgreSQL (each search is a few round trips; the pool serves them in parallel). */
const PARALLEL_SEARCHES = 4;

/**
 * The namespaces under `prefix` that hold memories, in byte order; more than
 * `cap` of them is an error naming the option, before any of them is read.
 */
export async function namespacesUnder(repository: MemoryRepository, prefix: string[], cap: number | undefined, field: string, what: string, now: Date): Promise<string[]> {
  const found = await repository.namespacesIn(pathRange(prefix), cap === undefined ? undefined : cap + 1, now);
  if (cap !== undefined && found.length > cap) {
    throw new ValidationError(field, `must not span more than ${cap} namespaces in ${what} (narrow the prefix, or read its namespaces one by one)`, `more than ${cap}`);
  }
  return found;
}

/** Runs `fn` on every item, at most `parallel` at a time; results in the items' order. */
async function mapParallel<T, R>(items: T[], parallel: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}

/**
 * The best `limit` results across `namespaces`: each namespace's own top
 * `limit` (its exact ranking), merged by score, then the newer memory. Ties
 * keep the namespaces' byte order and each namespace's own order (a stable
 * sort of the lists concatenated in that order).
 */
export async function searchAcross(
  repository: MemoryRepository,
  tree: QueryNode,
  params: Omit<SearchParams, 'namespace'>,
  namespaces: string[],
): Promise<SearchResult[]> {
  const search = params.mode === 'all' ? searchAll : searchAny;
  const parallel = repository.dialect === 'postgres' ? PARALLEL_SEARCHES : 1;
  const lists = await mapParallel(namespaces, parallel, (namespace) => search(repository, tree, { ...params, namespace }));
  return lists
    .flat()
    .sort((a, b) => b.score - a.score || b.timestamp.getTime() - a.timestamp.getTime())
    .slice(0, params.limit);
}
