import { beforeAll, describe, expect, it } from '@jest/globals';
import { FIXTURE_MEMORIES } from '../../fixtures/memories';
import { JUNK_QUERIES, QUERY_CASES } from '../../fixtures/queries';
import { uniqueNamespace } from '../../helpers/temp';
import type { StoreHarness } from '../harness';
import { useStore } from './use-store';

/**
 * The same table on every backend: this is what makes "the same query returns
 * the same memories on SQLite and on PostgreSQL" a tested fact.
 */
export function paritySuite(h: StoreHarness): void {
  describe(`${h.name}#search syntax`, () => {
    const store = useStore(h);
    const ns = uniqueNamespace('parity');
    beforeAll(async () => {
      await store().saveMany(FIXTURE_MEMORIES.map((m) => ({ ...m, namespace: ns })));
    });

    it.each(QUERY_CASES)('$query (mode $mode, tags $tags) finds $expected', async ({ query, mode, tags, expected }) => {
      const results = await store().search(query, { namespace: ns, mode, tags, limit: 20 });
      expect(results.map((r) => r.id).sort()).toEqual([...expected].sort());
    });

    it.each(JUNK_QUERIES.map((q) => [JSON.stringify(q).slice(0, 60), q]))('never raises on %s', async (_label, query) => {
      for (const mode of ['all', 'any'] as const) {
        const results = await store().search(query, { namespace: ns, mode });
        expect(Array.isArray(results)).toBe(true);
      }
      expect(await store().count(ns)).toBe(FIXTURE_MEMORIES.length);
    });
  });
}
